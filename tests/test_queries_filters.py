"""One value for what is asked: the same text gives the same Filters by every way in, with one parser."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from callbacks import dashboard, report
from callbacks._common import page_filters
from queries import usage
from queries.filters import (
    Filters,
    default_grain,
    default_period,
    parse_filters,
    parse_period_text,
    period_text,
    query_from_search,
)
from queries.period import Period, PeriodError
from queries.scope import Scope

PROJECT = Path(__file__).resolve().parents[1]
SEARCH = "?start=2026-03-02&end=2026-03-08&teams=t_eng"
BACKWARDS = "?start=2026-03-08&end=2026-03-01"
BACKWARDS_MESSAGE = "The period ends (2026-03-01) before it starts (2026-03-08)."


@pytest.fixture
def asked(monkeypatch) -> list[Filters]:
    """Every Filters the summary question is asked with (it still answers)."""
    seen: list[Filters] = []
    real = usage.summary

    def summary(filters: Filters):
        seen.append(filters)
        return real(filters)

    monkeypatch.setattr(usage, "summary", summary)
    return seen


def test_the_same_text_gives_the_same_filters_by_every_way_in(app, client, auth, runner, signed_in, asked, tmp_path):
    tz = app.config["ORG_TIMEZONE"]
    first = []  # where each way in starts asking (a report also asks about the previous period)
    with signed_in("admin"):
        first.append(len(asked))
        dashboard.update_kpis(query_from_search(SEARCH))  # the page URL
        first.append(len(asked))
        ticket = report.prepare_ticket(["summary"], "shown", "auto", "xlsx", SEARCH)[0]  # the report dialog
        report.generate_report(lambda _progress: None, 1, ticket)
    auth.login("admin")
    first.append(len(asked))
    assert client.get(f"/api/v1/summary{SEARCH}").status_code == 200  # the API
    first.append(len(asked))
    args = ["report", "--start", "2026-03-02", "--end", "2026-03-08", "--teams", "t_eng", "--points", "summary"]
    result = runner.invoke(args=[*args, "--out", str(tmp_path / "r.xlsx")])  # the report command
    assert result.exit_code == 0, result.output
    from_url, from_dialog, from_api, from_cli = (asked[i] for i in first)

    expected = Filters(
        Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8), tz),
        Scope.organization().narrow(teams=["t_eng"]),
        "day",
        teams=("t_eng",),
    )
    assert from_url == from_api == from_dialog == from_cli == expected


def test_a_backwards_period_gets_the_same_message_by_every_way_in(app, client, auth, runner, signed_in, tmp_path):
    with signed_in("admin"), pytest.raises(PeriodError) as from_url:
        page_filters(query_from_search(BACKWARDS))
    assert str(from_url.value) == BACKWARDS_MESSAGE
    with signed_in("admin"):
        reason = report.prepare_ticket(["summary"], "shown", "auto", "xlsx", BACKWARDS)[2]
    assert reason == BACKWARDS_MESSAGE
    auth.login("admin")
    response = client.get(f"/api/v1/summary{BACKWARDS}")
    assert (response.status_code, response.get_json()) == (400, {"error": BACKWARDS_MESSAGE, "parameter": "end"})
    args = ["report", "--start", "2026-03-08", "--end", "2026-03-01", "--points", "summary", "--out", "x.xlsx"]
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and BACKWARDS_MESSAGE in result.output and "--end" in result.output


def test_without_dates_a_page_shows_the_default_period_and_only_the_api_and_command_need_them():
    today = dt.date(2026, 3, 18)
    assert default_period("UTC", today) == Period(dt.date(2026, 2, 17), today, "UTC")  # the last 30 days
    assert default_period("UTC", today, billing_anchor=1) == Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), "UTC")
    page = parse_filters({}, Scope.organization(), "UTC", default=default_period("UTC", today))
    assert page.period == default_period("UTC", today)
    with pytest.raises(PeriodError, match=r"^Missing start date; use YYYY-MM-DD\.$") as missing:
        parse_filters({}, Scope.organization(), "UTC")
    assert missing.value.field == "start"


@pytest.mark.parametrize(("days", "grain"), [(1, "day"), (92, "day"), (93, "week"), (366, "week"), (367, "month")])
def test_the_default_grain_fits_the_period(days, grain):
    start = dt.date(2025, 1, 1)
    period = Period(start, start + dt.timedelta(days=days - 1))
    assert default_grain(period) == grain
    assert Filters.asking(period, Scope.organization()).grain == grain
    asked = {"start": str(period.start), "end": str(period.end)}
    assert parse_filters(asked, Scope.organization(), "UTC").grain == grain


def test_an_asked_grain_wins_and_a_tab_without_a_grain_control_ignores_it():
    query = {"start": "2026-03-02", "end": "2026-03-08", "grain": "month"}
    assert parse_filters(query, Scope.organization(), "UTC").grain == "month"
    assert parse_filters({**query, "grain": "hour"}, Scope.organization(), "UTC", read_grain=False).grain == "day"
    with pytest.raises(PeriodError, match=r"^Unknown grain 'hour'; use one of day, week, month\.$") as bad:
        parse_filters({**query, "grain": "hour"}, Scope.organization(), "UTC")
    assert bad.value.field == "grain"
    with pytest.raises(PeriodError, match="Unknown grain"):
        Filters(Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8)), Scope.organization(), "hour")


def test_the_cross_filter_narrows_the_viewers_scope_and_never_widens_it():
    managers = Scope.teams({"t_eng", "t_sales"})
    week = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8))
    filters = parse_filters({"start": "2026-03-02", "end": "2026-03-08", "teams": "t_eng,t_legal", "agents": "a_code"},
                            managers, "UTC")  # fmt: skip
    assert (filters.teams, filters.agents) == (("t_eng", "t_legal"), ("a_code",))
    assert (filters.scope.team_ids, filters.scope.agent_ids) == ({"t_eng"}, {"a_code"})
    assert filters.period == week


def test_params_are_the_period_the_scope_and_the_grain():
    week = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8), "Europe/Paris")
    scope = Scope.teams({"t_eng"})
    filters = Filters.asking(week, scope)
    units = {"period_units": week.units("period"), "grain_units": week.units("day")}
    assert filters.params(by="team") == {**week.params(), **scope.params(), "grain": "day", **units, "by": "team"}
    previous = filters.for_period(week.previous())
    assert (previous.period, previous.scope, previous.grain) == (week.previous(), scope, "day")


def test_a_period_as_text_reads_back():
    period = Period(dt.date(2026, 2, 15), dt.date(2026, 3, 14), "UTC")
    assert period_text(period) == "2026-02-15/2026-03-14"
    assert parse_period_text(period_text(period), "UTC") == period
    with pytest.raises(PeriodError, match="not a date"):
        parse_period_text("2026-02-15/soon", "UTC")


def test_the_report_dialogs_billing_periods_are_periods_as_text(signed_in):
    with signed_in("admin"):
        options, _value = report.update_period_options(True, SEARCH)
        billing = [o for o in options if o["label"].startswith("Billing period")]
        chosen = report.chosen_filters(billing[0]["value"], "week", SEARCH, "UTC")
    assert chosen.period == parse_period_text(billing[0]["value"], "UTC")
    assert (chosen.grain, chosen.teams) == ("week", ())


def test_dates_are_parsed_in_one_place():
    """Request text becomes a date only in queries/filters.py (the one parser); everything else calls it."""
    parsers = re.compile(r"\bfromisoformat\(|\bstrptime\(")
    found = sorted(
        str(path.relative_to(PROJECT))
        for package in ("api", "callbacks", "layouts", "queries", "reports")
        for path in (PROJECT / package).rglob("*.py")
        if parsers.search(path.read_text())
    )
    assert found == ["queries/filters.py"]
