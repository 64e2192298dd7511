"""Query tests on the tiny org (tests/org.py); every expected number is worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from queries import directory, usage
from queries.filters import Filters, parse_grain, parse_period
from queries.period import Period, PeriodError
from queries.scope import Scope
from tests.conftest import read_only_app

ORG = Scope.organization()
MAX = Scope.teams({"t_eng", "t_sales"})
LEGAL = Scope.teams({"t_legal"})
NOBODY = Scope.teams(())
NY = "America/New_York"


def week(tz: str = "UTC") -> Period:
    return Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8), tz)


def totals(period: Period, scope: Scope) -> tuple:
    row = usage.summary(Filters.asking(period, scope)).row(0, named=True)
    return row["interactions"], row["active_users"], row["cost_usd"], row["errors"]


# One app for the module: its tests only read. A result cache of each test's own (`results`): the tests ask in UTC and
# in New York, the folder's rollups are rebuilt for the zone asked, and an answer kept is keyed by its SQL's
# parameters, which for some questions do not hold the zone.
app = pytest.fixture(read_only_app, name="app")


@pytest.fixture(autouse=True)
def _context(app, results):
    with app.app_context():
        yield


def test_summary_utc_week():
    # e1..e6 fall on 2 to 8 March UTC; users u4, u5, u2, u3; e2 is the one error.
    assert totals(week(), ORG) == (6, 4, Decimal("3.723334"), 1)


def test_summary_new_york_week_crosses_dst():
    # Local 2-8 March is 05:00Z on the 2nd to 04:00Z on the 9th (EDT from the 8th):
    # e7 (23:30 local on the 8th) is in, e8 (00:30 local on the 9th) is out.
    assert totals(week(NY), ORG) == (7, 4, Decimal("4.223334"), 1)


def test_summary_by_scope():
    assert totals(week(), MAX) == (5, 3, Decimal("1.723334"), 1)
    assert totals(week(), LEGAL) == (1, 1, Decimal("2.000000"), 0)


def test_a_scope_with_no_teams_sees_nothing():
    assert totals(week(), NOBODY) == (0, 0, Decimal("0"), 0)


def test_empty_period():
    assert totals(Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31)), ORG) == (0, 0, Decimal("0"), 0)


def test_previous_period_is_the_week_before():
    before = week().previous()
    assert (before.start, before.end) == (dt.date(2026, 2, 23), dt.date(2026, 3, 1))
    assert totals(before, ORG) == (1, 1, Decimal("0.050000"), 0)


def test_daily_in_new_york_has_every_local_day():
    frame = usage.interactions_over_time(Filters.asking(week(NY), ORG, "day"))
    counts = dict(zip(frame["label"], frame["interactions"], strict=False))
    assert counts == {
        "2026-03-02": 2,
        "2026-03-03": 3,  # e3, e4 (18:30 local) and e5 (21:00 local on the 3rd, UTC date the 4th)
        "2026-03-04": 0,
        "2026-03-05": 0,
        "2026-03-06": 0,
        "2026-03-07": 0,
        "2026-03-08": 2,  # e6 at 01:30 EST, e7 at 23:30 EDT
    }


def test_daily_in_utc():
    frame = usage.interactions_over_time(Filters.asking(week(), ORG, "day"))
    counts = {label: n for label, n in zip(frame["label"], frame["interactions"], strict=False) if n}
    assert counts == {"2026-03-02": 2, "2026-03-03": 2, "2026-03-04": 1, "2026-03-08": 1}


def test_weekly_and_monthly_buckets():
    weekly = usage.interactions_over_time(Filters.asking(week(), ORG, "week"))
    assert weekly.select("label", "interactions", "active_users").rows() == [("2026-03-02", 6, 4)]
    month = Period(dt.date(2026, 2, 1), dt.date(2026, 3, 31))
    monthly = usage.interactions_over_time(Filters.asking(month, ORG, "month"))
    assert monthly.select("label", "interactions").rows() == [("2026-02-01", 1), ("2026-03-01", 8)]
    assert monthly["cost_usd"].sum() == Decimal("4.973334")


def test_by_team():
    frame = usage.interactions_by_key(Filters.asking(week(), ORG), "team")
    assert frame.select("key", "label", "interactions", "active_users", "cost_usd").rows() == [
        ("t_eng", "Engineering", 4, 2, Decimal("0.723333")),
        ("t_legal", "Legal", 1, 1, Decimal("2.000000")),
        ("t_sales", "Sales", 1, 1, Decimal("1.000001")),
    ]


def test_by_agent_within_a_managers_scope():
    frame = usage.interactions_by_key(Filters.asking(week(), MAX), "agent")
    assert frame.select("key", "label", "interactions", "active_users", "cost_usd").rows() == [
        ("a_code", "Code Helper", 4, 2, Decimal("1.390001")),
        ("a_draft", "Drafting", 1, 1, Decimal("0.333333")),
    ]


def test_by_user():
    frame = usage.interactions_by_key(Filters.asking(week(), LEGAL), "user")
    assert frame.select("key", "label", "interactions").rows() == [("u3", "Lee Legal", 1)]


def test_breakdowns_add_up_to_the_summary():
    total = totals(week(NY), ORG)[2]
    for by in ("team", "agent", "user"):
        assert usage.interactions_by_key(Filters.asking(week(NY), ORG), by)["cost_usd"].sum() == total
    assert usage.interactions_over_time(Filters.asking(week(NY), ORG, "day"))["cost_usd"].sum() == total


def test_unknown_breakdown_is_refused():
    with pytest.raises(ValueError, match="Unknown breakdown"):
        usage.interactions_by_key(Filters.asking(week(), ORG), "model; drop table x")
    with pytest.raises(PeriodError, match="Unknown grain"):
        parse_grain("hour")


def test_directory_questions():
    assert directory.managed_team_ids("u2") == ["t_eng", "t_sales"]
    assert directory.managed_team_ids("u7") == []
    assert directory.user_by_email("MEMBER@test.example")["user_id"] == "u4"
    assert directory.user_by_email("nobody@test.example") is None
    assert directory.teams_in_scope(MAX).rows() == [("t_eng", "Engineering", 4), ("t_sales", "Sales", 1)]


def test_period_parsing_errors_are_clear():
    with pytest.raises(PeriodError, match="ends .* before it starts"):
        parse_period("2026-03-08", "2026-03-01", "UTC")
    with pytest.raises(PeriodError, match="not a date"):
        parse_period("2026-02-30", "2026-03-01", "UTC")
    with pytest.raises(PeriodError, match="Missing start"):
        parse_period("", "2026-03-01", "UTC")


def test_scope_narrowing_never_widens():
    assert MAX.narrow(["t_legal"]).team_ids == frozenset()
    assert MAX.narrow(["t_eng", "t_legal"]).team_ids == frozenset({"t_eng"})
    assert MAX.narrow(None) == MAX
    assert ORG.narrow(["t_legal"]).team_ids == frozenset({"t_legal"})
