"""Billing callbacks called as plain functions, `today` fixed; numbers worked out from tests/org.py.

The data folder is the tiny org plus the awkward April of test_queries_billing (February and March
are the tiny org's own: February e0 $0.05, March e1..e8 $4.923334).
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from decimal import Decimal

import plotly
import pytest
from dash import no_update

from callbacks import billing as cb
from callbacks import billing_period as period_cb
from data.demo import write_demo
from tests import dash_payloads as dp
from tests.conftest import ACCOUNTS, make_app
from tests.figures import as_figure
from tests.org import write_org, write_rolled_up
from tests.test_access import dependencies
from tests.test_queries_billing import write_awkward_events

TODAY = dt.date(2026, 11, 25)  # current billing period with anchor 1: 1-30 November 2026, no data
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
APRIL = {"start": "2026-04-01", "end": "2026-04-30"}
BACKWARDS = {"start": "2026-03-31", "end": "2026-03-01"}
BACKWARDS_TEXT = "The period ends (2026-03-01) before it starts (2026-03-31)."


@pytest.fixture(scope="module")
def app(tmp_path_factory, password_hash):
    """One app for the module, on the org with April's awkward events: its tests only read (`anchor_15` and
    the anchor-31 test put the anchor back)."""
    folder = tmp_path_factory.mktemp("billing") / "data"
    write_rolled_up(folder, write_org, write_awkward_events)
    return make_app(folder, password_hash)


@pytest.fixture
def anchor_15(app):
    app.config["BILLING_ANCHOR_DAY"] = 15
    yield
    app.config["BILLING_ANCHOR_DAY"] = 1


def walk(component):
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from walk(child)


def tips(component) -> dict[str, str]:
    """Each "i" by id, and the definition its tooltip shows (layouts/_components.py `info_tip`)."""
    props = (part.to_plotly_json()["props"] for part in walk(component))
    return {p["id"]: p["data-tip"] for p in props if "data-tip" in p}


def text(component) -> str:
    """All the text a component shows, its children's included."""
    if isinstance(component, str | int | float):
        return str(component)
    children = getattr(component, "children", None)
    if children is None:
        return ""
    return "".join(text(child) for child in (children if isinstance(children, list | tuple) else [children]))


def by_id(tree) -> dict[str, str]:
    """{id: shown text} for every component with an id."""
    return {c.id: text(c) for c in walk(tree) if getattr(c, "id", None)}


def everything(*outputs) -> str:
    """Every output as the browser would receive it, for "never shows" checks."""
    plain = [o.to_plotly_json() if hasattr(o, "to_plotly_json") else o for o in outputs]
    return json.dumps(plain, cls=plotly.utils.PlotlyJSONEncoder)


def grid_outputs(answer: tuple) -> tuple:
    """A breakdown's figure, its table's rows and its total row (`{"total": row}`, or {} without rows) as the table
    (layouts/_components.py `plain_table`, put in once in view) shows them: each field's value and its text."""
    figure, table = answer
    spec = json.loads(table.to_plotly_json()["props"]["data-table"])
    fields = [column["field"] for column in spec["columns"]]

    def row(cells: list) -> dict:
        return {field: cell[1] for field, cell in zip(fields, cells, strict=True)} | {
            f"{field}_text": cell[0] for field, cell in zip(fields, cells, strict=True)
        }

    return figure, [row(r["cells"]) for r in spec["rows"]], {"total": row(spec["total"])} if "total" in spec else {}


def cents(texts) -> Decimal:
    return sum((Decimal(t.replace("$", "").replace(",", "")) for t in texts), Decimal(0))


# --- The selector and the URL -----------------------------------------------------------------------


def test_options_list_periods_with_data_and_the_current_one(signed_in):
    with signed_in("admin"):
        options, value, note = period_cb.update_period_options({}, TODAY)
    assert [o["label"] for o in options] == [
        "1 Nov – 30 Nov 2026 (current)",
        "1 Apr – 30 Apr 2026",
        "1 Mar – 31 Mar 2026",
        "1 Feb – 28 Feb 2026",
    ]
    assert options[0]["value"] == value == "2026-11-01/2026-11-30"  # no dates in the URL: the current period
    assert note == "30 days · today is day 25 of 30 · this tab opens on the current billing period"


def test_options_with_anchor_15(signed_in, anchor_15):
    with signed_in("admin"):
        options, value, note = period_cb.update_period_options({}, dt.date(2026, 4, 10))
    assert [o["label"] for o in options] == ["15 Mar – 14 Apr 2026 (current)", "15 Feb – 14 Mar 2026"]
    assert value == "2026-03-15/2026-04-14"
    assert note.startswith("31 days · today is day 27 of 31")


def test_options_with_anchor_31_follow_the_month_ends(signed_in, app):
    """Anchor 31 in 2026: 31 Jan, then 28 Feb (no 31st), then 31 Mar; the data start on 25 Feb."""
    app.config["BILLING_ANCHOR_DAY"] = 31
    try:
        with signed_in("admin"):
            options, value, note = period_cb.update_period_options({}, dt.date(2026, 4, 10))
    finally:
        app.config["BILLING_ANCHOR_DAY"] = 1
    assert [o["label"] for o in options] == [
        "31 Mar – 29 Apr 2026 (current)",
        "28 Feb – 30 Mar 2026",
        "31 Jan – 27 Feb 2026",
    ]
    assert value == "2026-03-31/2026-04-29"
    assert note.startswith("30 days · today is day 11 of 30")


def test_the_selector_names_the_urls_period_or_shows_the_placeholder(signed_in):
    with signed_in("admin"):
        assert period_cb.update_period_options(MARCH, TODAY)[1:] == ("2026-03-01/2026-03-31", "31 days")
        options, value, note = period_cb.update_period_options({"start": "2026-03-02", "end": "2026-03-08"}, TODAY)
        assert (value, note) == ("2026-03-02/2026-03-08", "Showing 2 Mar – 8 Mar 2026 (7 days) from the dates above.")
        assert options[0] == {"label": "2 Mar – 8 Mar 2026 (custom dates)", "value": "2026-03-02/2026-03-08"}
        assert period_cb.update_url("2026-03-02/2026-03-08", "?start=2026-03-02&end=2026-03-08", TODAY) is no_update
        options, value, note = period_cb.update_period_options(BACKWARDS, TODAY)
    assert (len(options), value, note) == (4, None, "")


def test_a_manager_with_no_team_still_gets_the_current_period(signed_in):
    with signed_in("idle_manager"):
        options, value, _note = period_cb.update_period_options({}, TODAY)
    assert options == [{"label": "1 Nov – 30 Nov 2026 (current)", "value": "2026-11-01/2026-11-30"}]
    assert value == "2026-11-01/2026-11-30"


def test_choosing_a_period_writes_its_dates_and_keeps_the_other_keys(signed_in):
    with signed_in("admin"):
        chosen = period_cb.update_url("2026-02-01/2026-02-28", "?start=2026-03-01&end=2026-03-31&teams=t_eng", TODAY)
        assert chosen == "?start=2026-02-01&end=2026-02-28&teams=t_eng"
        assert period_cb.update_url("2026-02-01/2026-02-28", "", TODAY) == "?start=2026-02-01&end=2026-02-28"
        # A bad period in the URL is replaced by the one picked.
        assert period_cb.update_url("2026-02-01/2026-02-28", "?start=2026-03-31&end=2026-03-01", TODAY) == (
            "?start=2026-02-01&end=2026-02-28"
        )


def test_the_url_is_left_alone_when_it_already_shows_the_period(signed_in):
    with signed_in("admin"):
        assert period_cb.update_url("2026-03-01/2026-03-31", "?start=2026-03-01&end=2026-03-31", TODAY) is no_update
        # No dates in the URL means the current period: setting the selector to it writes nothing,
        # so the back button is never trapped.
        assert period_cb.update_url("2026-11-01/2026-11-30", "", TODAY) is no_update
        assert period_cb.update_url("2026-11-01/2026-11-30", "?teams=t_eng", TODAY) is no_update
        for value in (None, "", "2026-02-02/2026-02-28", "nonsense", "x/y", "2026-03-31/2026-03-01"):
            assert period_cb.update_url(value, "?start=2026-03-01&end=2026-03-31", TODAY) is no_update, value


# --- Cards ------------------------------------------------------------------------------------------


def test_a_closed_period_against_the_previous_one(signed_in):
    with signed_in("admin"):
        note, row = cb.update_summary(MARCH, TODAY)
    shown = by_id(row)
    assert note is None
    assert shown["billing-kpi-total"].startswith("Organization totali$4.921 Mar – 31 Mar 2026")  # "i": its definition
    assert shown["billing-kpi-total-value"] == "$4.92"
    assert shown["billing-kpi-total"].endswith("Closed billing period")
    assert shown["billing-kpi-average-value"] == "$0.16"  # 4.923334 / 31
    assert shown["billing-kpi-previous"] == "Previous billing periodi$0.051 Feb – 28 Feb 2026"
    assert shown["billing-kpi-change-value"] == "+$4.87"  # $4.92 - $0.05, as shown
    assert shown["billing-kpi-change-percent"] == "no data before 25 Feb 2026"  # not ▲ 9,740 % from e0 alone


def test_the_current_period_is_projected_anchor_15(signed_in, anchor_15):
    # Today 10 April, anchor 15: 15 Mar - 14 Apr, day 27 of 31. To date: the awkward April, 2.004999.
    # Run rate: 3-9 April hold the same 2.004999, / 7 = 0.286428.../day; nothing spent yet today, so today
    # and the 4 days after it: 2.004999 + 5 × 2.004999 / 7 = 3.437141 -> $3.44. Previous period
    # 15 Feb - 14 Mar: e0..e8 = 4.973334.
    with signed_in("admin"):
        note, row = cb.update_summary({}, dt.date(2026, 4, 10))
    shown = by_id(row)
    assert note is None
    assert shown["billing-kpi-total-value"] == "$2.00"
    assert "Month to date: day 27 of 31" in shown["billing-kpi-total"]
    assert shown["billing-kpi-projected-value"] == "$3.44"
    assert "by 14 Apr 2026" in shown["billing-kpi-projected"]
    assert tips(row)["billing-projected-info"] == (
        "Projected = cost to date ($2.00, 27 days including today so far) + the mean daily cost of the last 7 "
        "complete days (3 Apr – 9 Apr 2026: $2.00 ÷ 7 = $0.29/day) for the rest of today (a full day at that rate, "
        "less what today has cost so far) and the 4 days left after today. "
        "Days without use count as $0. An estimate, not an invoice."
    )
    assert shown["billing-kpi-previous-value"] == "$4.97"
    assert "15 Feb – 14 Mar 2026" in shown["billing-kpi-previous"]
    assert shown["billing-kpi-change"].startswith("Projected vs previousi−$1.53")
    assert shown["billing-kpi-change-percent"] == "no data before 25 Feb 2026"  # 15 Feb - 14 Mar: not ▼ 30.8 %
    # So far against the same 27 days of the previous period (15 Feb - 13 Mar, e0..e8 too): 2.00 - 4.97
    assert (shown["billing-kpi-so-far-delta"], shown["billing-kpi-so-far-percent"]) == (
        "−$2.97",
        "no data before 25 Feb 2026",
    )


def test_a_manager_sees_the_total_of_their_teams_only(signed_in):
    with signed_in("manager"):
        outputs = [
            *cb.update_summary(MARCH, TODAY),
            *grid_outputs(cb.update_teams(MARCH, TODAY)),
            *grid_outputs(cb.update_agents(MARCH, TODAY)),
            cb.update_models(MARCH, TODAY),
            cb.update_daily(MARCH, TODAY),
            *period_cb.update_period_options(MARCH, TODAY),
        ]
    shown = by_id(outputs[1])
    assert shown["billing-kpi-total"].startswith("Total for your teamsi$2.92")  # e1-e4, e6-e8
    assert shown["billing-kpi-previous-value"] == "$0.05"  # e0 is Engineering's
    _figure, rows, options = outputs[2:5]
    assert [(r["label"], r["cost_text"], r["share_text"]) for r in rows] == [
        ("Sales", "$2.20", "75.3%"),
        ("Engineering", "$0.72", "24.7%"),
    ]
    assert options["total"]["cost_text"] == "$2.92"
    assert "Legal" not in everything(*outputs)
    assert "t_legal" not in everything(*outputs)


def test_a_manager_cannot_widen_the_scope_through_the_callback_endpoint(app, client, auth):
    deps = dependencies(app)
    auth.login("manager")
    teams = dp.find(deps, "billing-team-table-part.data")
    own = dp.post(client, dp.payload(teams, {"billing-query.data": MARCH})).get_data(as_text=True)
    assert "Sales" in own and "Legal" not in own
    forged = {"billing-query.data": {**MARCH, "teams": "t_legal"}}
    response = dp.post(client, dp.payload(teams, forged)).get_data(as_text=True)
    assert "Legal" not in response and "$2.00" not in response
    kpis = dp.post(client, dp.payload(dp.find(deps, "billing-kpis"), forged)).get_data(as_text=True)
    assert "$0.00" in kpis and "Legal" not in kpis


def test_nothing_to_show_and_a_bad_period_say_so(signed_in):
    with signed_in("idle_manager"):
        note, row = cb.update_summary(MARCH, TODAY)
        figure, rows, options = grid_outputs(cb.update_teams(MARCH, TODAY))
        figure = as_figure(figure)
        daily = as_figure(cb.update_daily(MARCH, TODAY))
    assert note.children == "No cost in this period (1 Mar – 31 Mar 2026). There are no data in your scope yet."
    assert by_id(row)["billing-kpi-total"].startswith("Total for your teamsi$0.00")
    assert figure.layout.annotations[0].text == daily.layout.annotations[0].text == "No cost in this period"
    assert rows == [] and "total" not in options
    with signed_in("admin"):
        note, row = cb.update_summary(BACKWARDS, TODAY)
        figures = [as_figure(cb.update_daily(BACKWARDS, TODAY)), as_figure(cb.update_models(BACKWARDS, TODAY))]
        figure, rows, _options = grid_outputs(cb.update_agents(BACKWARDS, TODAY))
        figure = as_figure(figure)
    assert (note.children, row) == (BACKWARDS_TEXT, None)
    assert [f.layout.annotations[0].text for f in [*figures, figure]] == [BACKWARDS_TEXT] * 3
    assert rows == []


# --- Breakdowns: cents that add up --------------------------------------------------------------------


def test_awkward_april_every_breakdown_adds_up_to_the_total_shown(signed_in):
    with signed_in("admin"):
        _note, row = cb.update_summary(APRIL, TODAY)
        _fig, teams, team_options = grid_outputs(cb.update_teams(APRIL, TODAY))
        _fig, agents, agent_options = grid_outputs(cb.update_agents(APRIL, TODAY))
        models = as_figure(cb.update_models(APRIL, TODAY))
        daily = as_figure(cb.update_daily(APRIL, TODAY))
    assert by_id(row)["billing-kpi-total-value"] == "$2.00"  # 2.004999
    assert [(r["label"], r["cost_text"]) for r in teams] == [
        ("Engineering", "$0.67"),
        ("Legal", "$0.67"),
        ("Sales", "$0.66"),
    ]  # each team's 0.668333 alone would round to $0.67, three of them to $2.01
    assert [r["share_text"] for r in teams] == ["33.3%"] * 3
    assert [(r["label"], r["cost_text"]) for r in agents] == [("Code Helper", "$1.33"), ("Drafting", "$0.67")]
    assert (
        team_options["total"]["cost_text"]
        == agent_options["total"]["cost_text"]
        == "$2.00"
    )
    assert [t.split(" · ")[0] for t in models.data[0].text] == ["$0.66", "$0.67", "$0.67"]  # smallest at the bottom
    assert cents(models.data[0].text[i].split(" · ")[0] for i in range(3)) == Decimal("2.00")
    shown_days = {x.isoformat(): c for x, c in zip(daily.data[0].x, daily.data[0].customdata, strict=True)}
    assert (shown_days["2026-04-06"], shown_days["2026-04-07"]) == ("$1.17", "$0.83")
    assert cents(daily.data[0].customdata) == Decimal("2.00")
    assert len(daily.data) == 1  # a closed period has no projection line


def test_the_current_period_chart_has_the_run_rate_for_the_days_left(signed_in, anchor_15):
    with signed_in("admin"):
        daily = as_figure(cb.update_daily({}, dt.date(2026, 4, 10)))
    bars, projected = daily.data
    assert len(bars.x) == 31 and cents(bars.customdata) == Decimal("2.00")
    assert [d.isoformat() for d in projected.x] == ["2026-04-11", "2026-04-12", "2026-04-13", "2026-04-14"]
    assert set(projected.y) == {0.29}
    assert projected.name == "Projected at $0.29/day"


def test_every_card_has_its_definition(signed_in):
    with signed_in("admin"):
        _note, closed = cb.update_summary(MARCH, TODAY)
        _note, custom = cb.update_summary({"start": "2026-03-03", "end": "2026-03-10"}, TODAY)
    assert list(tips(closed)) == [f"billing-kpi-{card}-info" for card in ("total", "average", "previous", "change")]
    assert tips(closed)["billing-kpi-previous-info"] == "What the whole billing period before this one cost."
    shown = by_id(custom)
    assert shown["billing-kpi-previous"] == "Previous: same weekdays 2 weeks earlieri$0.0017 Feb – 24 Feb 2026"
    said = "What the same days earlier cost: the same weekdays 2 weeks earlier."
    assert tips(custom)["billing-kpi-previous-info"] == said
    with signed_in("admin"):
        _note, april = cb.update_summary({"start": "2026-04-01", "end": "2026-04-30"}, TODAY)
    assert by_id(april)["billing-kpi-change-percent"] == "▼ 59.3%"  # the awkward April, $2.00, against March, $4.92


def test_todays_bar_is_hatched_and_labelled_as_still_filling(signed_in, anchor_15):
    with signed_in("admin"):
        daily = as_figure(cb.update_daily({}, dt.date(2026, 4, 10)))
        closed = as_figure(cb.update_daily(MARCH, TODAY))
    bars = daily.data[0]
    days = [d.isoformat() for d in bars.x]
    shapes = list(bars.marker.pattern.shape)
    assert [days[i] for i, shape in enumerate(shapes) if shape] == ["2026-04-10"]
    assert bars.hovertemplate[days.index("2026-04-10")].endswith("(today so far)<extra></extra>")
    assert bars.hovertemplate[days.index("2026-04-09")].endswith("%{customdata}<extra></extra>")
    assert [(a.text, a.x) for a in daily.layout.annotations] == [("today so far", dt.date(2026, 4, 10))]
    assert closed.data[0].marker.pattern.shape is None and not closed.layout.annotations


def test_bar_charts_fold_the_smallest_into_other():
    import polars as pl

    frame = pl.DataFrame(
        {
            "label": [f"Agent {i:02d}" for i in range(20)],
            "cost_cents": [Decimal(20 - i) for i in range(20)],
            "share": [(20 - i) / 210 for i in range(20)],
        },
        schema={"label": pl.String, "cost_cents": pl.Decimal(38, 2), "share": pl.Float64},
    )
    bars = as_figure(cb.bar_figure(frame, "#000")).data[0]
    assert len(bars.y) == 15 and bars.y[0] == "Other (6)"
    assert bars.x[0] == 1 + 2 + 3 + 4 + 5 + 6  # the six smallest
    assert bars.text[-1] == "$20.00 · 9.5%"


def test_formats():
    assert cb.format_signed_usd(Decimal("1234.5")) == "+$1,234.50"
    assert cb.format_signed_usd(Decimal("-0.05")) == "−$0.05"
    assert cb.format_signed_usd(Decimal("0.004")) == "$0.00"
    assert cb.cost_change(Decimal("2"), Decimal("0")) == ("new", "text-muted")
    assert cb.cost_change(Decimal("0"), Decimal("0")) == ("no change", "text-muted")
    assert cb.cost_change(Decimal("0.9"), Decimal("1")) == ("▼ 10.0%", "text-success")
    assert [cb.format_share(s) for s in (None, 0.0, 0.0004, 0.1234, 1.0)] == [
        "0.0%",
        "0.0%",
        "<0.1%",
        "12.3%",
        "100.0%",
    ]


# --- A demo organization: the cents on screen add up in every period ----------------------------------


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, password_hash):
    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder, users=60, days=40, seed=7, end=dt.date(2026, 3, 20))
    return make_app(folder, password_hash)


@contextmanager
def admin_of(app):
    from flask_login import login_user

    from auth.session import Account

    store = app.extensions["telemetry_store"]
    row = store.account_by_email(ACCOUNTS["admin"][0])
    with app.test_request_context("/_dash-update-component", method="POST"):
        login_user(Account(row, sid=store.open_session(row.id)))
        yield


@pytest.mark.parametrize("anchor", [1, 15])
def test_demo_every_period_adds_up_on_screen(demo_app, anchor):
    demo_app.config["BILLING_ANCHOR_DAY"] = anchor
    today = dt.date(2026, 3, 18)  # inside the data, so the current period is projected too
    with admin_of(demo_app):
        options, _value, _note = period_cb.update_period_options({}, today)
        assert len(options) == {1: 2, 15: 3}[anchor]
        for option in options:
            start, end = option["value"].split("/")
            query = {"start": start, "end": end}
            total = by_id(cb.update_summary(query, today)[1])["billing-kpi-total-value"]
            _fig, teams, team_options = grid_outputs(cb.update_teams(query, today))
            _fig, agents, agent_options = grid_outputs(cb.update_agents(query, today))
            daily = as_figure(cb.update_daily(query, today))
            models = as_figure(cb.update_models(query, today))
            assert cents(r["cost_text"] for r in teams) == cents([total]), option
            assert cents(r["cost_text"] for r in agents) == cents([total]), option
            assert team_options["total"]["cost_text"] == total
            assert agent_options["total"]["cost_text"] == total
            assert cents(daily.data[0].customdata) == cents([total]), option
            assert cents(t.split(" · ")[0] for t in models.data[0].text) == cents([total]), option
    demo_app.config["BILLING_ANCHOR_DAY"] = 1
