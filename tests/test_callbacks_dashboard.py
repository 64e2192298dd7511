"""Dashboard and filter-bar callbacks called as plain functions; numbers worked out from tests/org.py."""

from __future__ import annotations

import datetime as dt

import pytest
from dash import no_update

from callbacks import dashboard, shell
from layouts import ids
from queries import adoption
from tests.conftest import read_only_app
from tests.figures import as_figure

WEEK = {"start": "2026-03-02", "end": "2026-03-08"}
NEXT_WEEK = {"start": "2026-03-09", "end": "2026-03-15"}
TODAY = dt.date(2026, 12, 6)

app = pytest.fixture(read_only_app, name="app")  # one app for the module: its tests only read


def card_values(row) -> dict[str, tuple[str, str]]:
    """{card id: (value, change)} from the KPI row's component tree."""
    found = {}
    for col in row.children:
        card = col.children
        body = card.children.children
        found[card.id] = (body[1].children, body[2].children[0].children)
    return found


def notes(row) -> dict[str, str | None]:
    """{card id: the line under its change}."""
    lines = {col.children.id: col.children.children.children for col in row.children}
    return {card: body[3].children if len(body) > 3 else None for card, body in lines.items()}


def compared(row) -> dict[str, str]:
    """{card id: what its change compares}."""
    return {col.children.id: col.children.children.children[2].children[2].children for col in row.children}


def test_kpis_for_an_admin(signed_in):
    with signed_in("admin"):
        note, row = dashboard.update_kpis(WEEK, TODAY)
    assert note is None
    # The week before (23 Feb - 1 Mar) starts before the first event (e0, 25 Feb): no honest change to show.
    assert card_values(row) == {
        "dashboard-kpi-interactions": ("6", "no data before 25 Feb 2026"),
        "dashboard-kpi-active-users": ("4", "no data before 25 Feb 2026"),
        "dashboard-kpi-stickiness": ("20.8%", "no data before 25 Feb 2026"),  # 5 / 24 (test_stickiness_...)
        "dashboard-kpi-cost": ("$3.72", "no data before 25 Feb 2026"),
        "dashboard-kpi-adoption": ("57.1%", "no data before 25 Feb 2026"),  # 4 of the 7 people
    }
    assert set(compared(row).values()) == {"to compare with 23 Feb – 1 Mar 2026"}


def test_kpis_against_the_week_before(signed_in):
    with signed_in("admin"):
        _note, row = dashboard.update_kpis(NEXT_WEEK, TODAY)
    # 9-15 March: e7, e8 by u5 for $1.20; 2-8 March: 6 interactions by 4 people for $3.723334
    assert card_values(row) == {
        "dashboard-kpi-interactions": ("2", "▼ 66.7%"),
        "dashboard-kpi-active-users": ("1", "▼ 75.0%"),
        "dashboard-kpi-stickiness": ("3.6%", "▼ 17.3 pp"),  # 1 / 28 against 5 / 24: points
        "dashboard-kpi-cost": ("$1.20", "▼ 67.8%"),  # 1.2 / 3.723334 - 1
        "dashboard-kpi-adoption": ("14.3%", "▼ 42.9 pp"),  # 1 of 7 against 4 of 7: points, not -75 %
    }
    assert set(compared(row).values()) == {"vs 2 Mar – 8 Mar 2026"}


def test_kpis_of_a_period_that_reaches_today_compare_the_days_before_today(signed_in):
    with signed_in("admin"):
        _note, row = dashboard.update_kpis(NEXT_WEEK, dt.date(2026, 3, 10))
        _note, today_only = dashboard.update_kpis({"start": "2026-03-10", "end": "2026-03-10"}, dt.date(2026, 3, 10))
    # The values are the period's (e7 and e8 on the 9th); the changes compare 9 March with 2 March (e1, e2):
    # 2 interactions by 1 person both days, $1.20 against $0.35.
    assert card_values(row) == {
        "dashboard-kpi-interactions": ("2", "0.0%"),
        "dashboard-kpi-active-users": ("1", "0.0%"),
        "dashboard-kpi-stickiness": ("12.5%", "▼ 75.0 pp"),  # 9-10 March: 1 / 8; 9 March 1 / 4 against 2 March 1 / 1
        "dashboard-kpi-cost": ("$1.20", "▲ 242.9%"),
        "dashboard-kpi-adoption": ("14.3%", "0.0 pp"),
    }
    assert set(compared(row).values()) == {"up to yesterday vs 2 Mar 2026 (today is partial)"}
    assert card_values(today_only)["dashboard-kpi-interactions"] == ("0", "no complete day yet")
    assert card_values(today_only)["dashboard-kpi-stickiness"] == ("—", "no complete day yet")  # nobody yet today
    assert set(compared(today_only).values()) == {"to compare (today is partial)"}


def test_every_kpi_has_its_definition(signed_in):
    with signed_in("admin"):
        _note, row = dashboard.update_kpis(NEXT_WEEK, TODAY)
    tips = {}
    for col in row.children:
        heading = col.children.children.children[0].children
        badge = heading[1]
        assert (badge.tabIndex, badge.role) == (0, "button")
        tips[heading[0]] = badge.to_plotly_json()["props"]["data-tip"]  # shown on hover and focus (assets/tips.js)
    assert list(tips) == ["Total interactions", "Active users", "Stickiness", "Cost (USD)", "Active share"]
    assert tips["Stickiness"].startswith(adoption.DEFINITIONS["stickiness"])  # the Adoption tab's, docs/metrics.md
    assert "28 days" in tips["Stickiness"] and "percentage points" in tips["Stickiness"]
    assert "Not the Users tab's “Adopted”" in tips["Active share"]
    assert "percentage points" in tips["Active share"]
    assert all(tip.endswith("with the same weekdays a week earlier.") for tip in tips.values())


def test_kpis_for_a_manager_count_only_their_teams(signed_in):
    with signed_in("manager"):
        _note, row = dashboard.update_kpis(WEEK)
    values = card_values(row)
    assert values["dashboard-kpi-interactions"][0] == "5"
    assert values["dashboard-kpi-active-users"][0] == "3"
    assert values["dashboard-kpi-cost"][0] == "$1.72"
    assert values["dashboard-kpi-stickiness"][0] == "21.1%"  # without Lee's 4 March: 4 / 19 (test_stickiness_...)
    assert values["dashboard-kpi-adoption"][0] == "60.0%"  # u2, u4, u5 of the 5 people in Engineering and Sales


def test_stickiness_beside_active_users_for_a_period_a_manager_and_its_change_in_points(signed_in):
    # The tiny org in UTC (tests/org.py). 2-8 March, people active per day: Mia 2nd; Sam and Max 3rd; Lee 4th;
    # nobody 5th-7th; Mia 8th: 1+2+1+0+0+0+1 = 5. In the 28 days ending on each day: Mia (25 Feb, 2 Mar) on the
    # 2nd; Mia, Sam, Max on the 3rd; and Lee from the 4th: 1+3+4+4+4+4+4 = 24. Stickiness 5/7 / 24/7 = 20.8 %.
    with signed_in("admin"):
        _note, week = dashboard.update_kpis(WEEK, TODAY)
        _note, next_week = dashboard.update_kpis(NEXT_WEEK, TODAY)
        # 8 March alone: Mia of the 4 active in the 28 days up to it; 1 March, a week before, nobody
        _note, sunday = dashboard.update_kpis({"start": "2026-03-08", "end": "2026-03-08"}, TODAY)
        # 16-22 March: nobody active (Sam's 9 March is in the week before)
        _note, later = dashboard.update_kpis({"start": "2026-03-16", "end": "2026-03-22"}, TODAY)
    assert card_values(week)["dashboard-kpi-stickiness"] == ("20.8%", "no data before 25 Feb 2026")
    assert notes(week)["dashboard-kpi-stickiness"] == "Daily 0.7 / monthly 3.4 active people, on average"
    # 9-15 March: Sam on the 9th, 1; the four still in every day's 28 days, 4 × 7 = 28: 1/28 = 3.6 %, against the
    # 20.8 % of 2-8 March: 17.3 points down (not a relative -83 %)
    assert card_values(next_week)["dashboard-kpi-stickiness"] == ("3.6%", "▼ 17.3 pp")
    assert compared(next_week)["dashboard-kpi-stickiness"] == "vs 2 Mar – 8 Mar 2026"
    assert card_values(sunday)["dashboard-kpi-stickiness"] == ("25.0%", "new")
    assert card_values(later)["dashboard-kpi-stickiness"] == ("—", "nobody active")
    assert notes(later)["dashboard-kpi-stickiness"] == "Nobody active in the period"
    # Max's teams (Engineering, Sales: two teams, so counted from the day sets, not a rollup row): Lee's 4 March
    # is not theirs. 2-8 March: 1+2+0+0+0+0+1 = 4 a day; 1+3+3+3+3+3+3 = 19 in the 28 days: 4/19 = 21.1 %.
    # 9-15 March: Sam on the 9th, and Mia, Sam, Max in every 28 days: 1/21 = 4.8 %, 16.3 points below 21.1 %.
    with signed_in("manager"):
        _note, week = dashboard.update_kpis(WEEK, TODAY)
        _note, next_week = dashboard.update_kpis(NEXT_WEEK, TODAY)
    assert card_values(week)["dashboard-kpi-stickiness"] == ("21.1%", "no data before 25 Feb 2026")
    assert notes(week)["dashboard-kpi-stickiness"] == "Daily 0.6 / monthly 2.7 active people, on average"
    assert card_values(next_week)["dashboard-kpi-stickiness"] == ("4.8%", "▼ 16.3 pp")
    # Lee's one team (a rollup row of `active_windows`): Lee on 4 March, in the 28 days from then: 1/5 = 20.0 %
    with signed_in("legal_manager"):
        _note, week = dashboard.update_kpis(WEEK, TODAY)
    assert card_values(week)["dashboard-kpi-stickiness"] == ("20.0%", "no data before 4 Mar 2026")  # in Legal


def test_kpis_for_an_empty_period_and_a_backwards_one(signed_in):
    with signed_in("admin"):
        note, row = dashboard.update_kpis({"start": "2025-01-01", "end": "2025-01-31"}, TODAY)
        assert note.children == "No interactions in this period. Data start on 25 Feb 2026."
        assert card_values(row)["dashboard-kpi-cost"] == ("$0.00", "no data before 25 Feb 2026")
        assert card_values(row)["dashboard-kpi-stickiness"] == ("—", "no data before 25 Feb 2026")  # not 0 % or NaN
        assert notes(row)["dashboard-kpi-stickiness"] == "Nobody active in the period"
        note, row = dashboard.update_kpis({"start": "2026-03-08", "end": "2026-03-01"})
    assert row is None
    assert note.children == "The period ends (2026-03-01) before it starts (2026-03-08)."


def test_trend_has_every_day_and_the_previous_period(signed_in):
    with signed_in("admin"):
        fig = as_figure(dashboard.update_trend(WEEK, TODAY))
    traces = {trace.name: trace for trace in fig.data}
    assert list(traces["Interactions"].y) == [2, 2, 1, 0, 0, 0, 1]
    # 23 Feb - 1 Mar, a week earlier; nothing is known before e0 on 25 Feb, so no line there
    previous = traces["Interactions (23 Feb – 1 Mar 2026: same weekdays a week earlier, no data before 25 Feb 2026)"]
    assert list(previous.y) == [None, None, 1, 0, 0, 0, 0]
    assert list(traces["Active users"].y) == [1, 2, 1, 0, 0, 0, 1]


def test_the_trend_lines_up_weekdays(signed_in):
    eight_days = {"start": "2026-03-03", "end": "2026-03-10"}  # Tuesday to Tuesday: two weeks back, not eight days
    with signed_in("admin"):
        fig = as_figure(dashboard.update_trend(eight_days, TODAY))
    previous = next(t for t in fig.data if t.name.startswith("Interactions (17 Feb – 24 Feb 2026: same weekdays"))
    days = [dt.datetime.strptime(d, "%d %b %Y").date() for d in previous.customdata]  # as format_day writes them
    assert [d.weekday() for d in days] == [x.weekday() for x in fig.data[1].x]
    assert previous.name.endswith("2 weeks earlier, no data before 25 Feb 2026)")
    assert list(previous.y) == [None] * 8  # all before the first data


def test_the_bucket_still_filling_is_dotted_hatched_and_labelled(signed_in):
    with signed_in("admin"):
        trend = as_figure(dashboard.update_trend(NEXT_WEEK, dt.date(2026, 3, 9)))
        _total, cost = dashboard.update_cost(NEXT_WEEK, dt.date(2026, 3, 9))
        _total, over = dashboard.update_cost(NEXT_WEEK, TODAY)
    main = next(t for t in trend.data if t.name == "Interactions")
    assert list(main.y) == [None, 0, 0, 0, 0, 0, 0]  # today's 2 are not drawn as a finished day
    so_far = next(t for t in trend.data if t.name == "Interactions (today so far)")
    assert (list(so_far.y), so_far.marker.symbol) == ([2], "circle-open")
    assert [a.text for a in trend.layout.annotations] == ["today so far"]
    cost = as_figure(cost)
    assert list(cost.data[0].marker.pattern.shape) == ["/", "", "", "", "", "", ""]
    assert cost.data[0].customdata[0] == "$1.20 (today so far)"
    assert [a.text for a in cost.layout.annotations] == ["today so far"]
    assert as_figure(over).data[0].marker.pattern.shape is None  # a period that is over: nothing unfinished


def test_the_week_still_filling_is_labelled(signed_in):
    weeks = {"start": "2026-02-25", "end": "2026-06-30"}  # 126 days: weekly
    with signed_in("admin"):
        trend = as_figure(dashboard.update_trend(weeks, dt.date(2026, 3, 11)))
    assert [a.text for a in trend.layout.annotations] == ["this week so far"]
    assert trend.layout.annotations[0].x == dt.date(2026, 3, 9)  # the week of Monday 9 March
    assert trend.layout.annotations[0].y == 2


def test_trend_says_when_there_is_nothing(signed_in):
    with signed_in("idle_manager"):
        fig = as_figure(dashboard.update_trend(WEEK, TODAY))
    assert fig.layout.annotations[0].text == "No interactions in this period"


def test_cost_total_and_per_day(signed_in):
    with signed_in("admin"):
        total, fig = dashboard.update_cost(WEEK)
    fig = as_figure(fig)
    assert total == "$3.72"
    assert list(fig.data[0].customdata) == ["$0.35", "$1.33", "$2.00", "$0.00", "$0.00", "$0.00", "$0.04"]


def test_top_agents_and_teams(signed_in):
    with signed_in("admin"):
        agents, agents_title = dashboard.update_top_agents(WEEK)
        teams, teams_title = dashboard.update_top_teams(WEEK)
    agents, teams = as_figure(agents), as_figure(teams)
    assert (list(agents.data[0].y), list(agents.data[0].x)) == (["Drafting", "Code Helper"], [2, 4])
    assert (list(teams.data[0].y), list(teams.data[0].x)) == (["Sales", "Legal", "Engineering"], [1, 1, 4])
    # a click on a bar filters to its key (customdata[0]), as on the Analytics tab
    assert [point[0] for point in agents.data[0].customdata] == ["a_draft", "a_code"]
    assert [point[0] for point in teams.data[0].customdata] == ["t_sales", "t_legal", "t_eng"]
    # three teams are not a "Top 5": the title says how many there are
    assert (agents_title, teams_title) == ("Agents by interactions (2)", "Teams by interactions (3)")


def test_top_title_says_top_5_only_when_there_are_more():
    assert dashboard.top_title("teams", 6) == "Top 5 teams by interactions"
    assert dashboard.top_title("teams", 5) == "Teams by interactions (5)"
    assert dashboard.top_title("agents", 1) == "Agents by interactions (1)"


def test_manager_with_two_teams_gets_no_top_5(signed_in):
    with signed_in("manager"):
        teams, title = dashboard.update_top_teams(WEEK)
    assert title == "Teams by interactions (2)"
    assert sorted(as_figure(teams).data[0].y) == ["Engineering", "Sales"]


def test_filter_bar_follows_the_url(signed_in):
    today = dt.date(2026, 3, 8)
    with signed_in("admin"):
        outputs = shell.controls_from_search("?start=2026-03-02&end=2026-03-08&teams=t_eng", today, "UTC")
        assert outputs == (no_update, "last_7", "2026-03-02", "2026-03-08", ["t_eng"], [], None)
        assert shell.controls_from_search("", today, "UTC")[1:4] == ("last_30", "2026-02-07", "2026-03-08")
        # "All time" starts at the first day with data: e0 on 25 February
        assert shell.controls_from_search("?start=2026-02-25&end=2026-03-08", today, "UTC")[1] == "all"
        bad = shell.controls_from_search("?start=2026-03-08&end=2026-03-01", today, "UTC")
    assert bad[1] == "custom" and "before it starts" in bad[-1].children


def test_choosing_a_preset_writes_the_url_and_keeps_other_keys(signed_in):
    today = dt.date(2026, 3, 18)
    with signed_in("admin"):
        out = shell.search_from_controls(
            ids.FILTER_PRESET, "?start=2026-03-02&end=2026-03-08&grain=week", ("mtd", None, None, ["t_eng"], []),
            today, "UTC",
        )  # fmt: skip
        assert out[:4] == ("?start=2026-03-01&end=2026-03-18&grain=week&teams=t_eng", "mtd", "2026-03-01", "2026-03-18")
        out = shell.search_from_controls(
            ids.FILTER_RANGE, "", ("mtd", "2026-02-01", "2026-02-28", None, None), today, "UTC"
        )
    assert out[:2] == ("?start=2026-02-01&end=2026-02-28", "last_month")


def test_team_options_and_scope_label_for_a_manager(signed_in):
    with signed_in("manager"):
        teams, agents = shell.update_filter_options("/telemetry")
        user, scope = shell.update_user_label("/telemetry")
    assert [t["label"] for t in teams] == ["Engineering", "Sales"]
    assert [a["value"] for a in agents] == ["a_code", "a_draft"]
    assert (user, scope) == ("manager@test.example · Manager", "Your teams: Engineering, Sales")


def test_ids_a_link_asks_for_that_the_viewer_cannot_see_stay_marked_and_explained(signed_in):
    with signed_in("manager"):
        teams, agents, note = shell.link_filters(["t_legal", "t_sales"], ["a_gone", "a_code"])
        assert shell.link_filters(["t_sales"], ["a_code"])[2] is None
    assert [t["label"] for t in teams] == ["Engineering", "Sales", "t_legal (not available)"]
    assert agents[-1] == {"label": "a_gone (not available)", "value": "a_gone"}
    assert note.children == (
        "Not every filter in this link can apply: team t_legal is not among the teams you can see; agent a_gone "
        "is not in the directory. It matches no data here; remove it from the filter above."
    )


def test_on_billing_without_dates_the_bar_shows_the_current_billing_period(signed_in):
    with signed_in("admin"):
        outputs = shell.controls_from_search("", dt.date(2026, 3, 18), "UTC", "/telemetry/billing")
    assert outputs[1:4] == ("custom", "2026-03-01", "2026-03-31")


def test_charts_carry_the_house_template(signed_in):
    import plotly.io as pio

    with signed_in("admin"):
        fig = as_figure(dashboard.update_trend(WEEK))
    template = fig.to_plotly_json()["layout"]["template"]
    assert template == pio.templates["telemetry"].to_plotly_json()
    white = pio.templates["plotly_white"].to_plotly_json()
    assert template["data"] == white["data"] and template["layout"]["plot_bgcolor"] == white["layout"]["plot_bgcolor"]
    assert template["layout"]["colorway"][:2] == ["#0072B2", "#E69F00"]  # Okabe-Ito, colour-blind safe


def test_the_trend_legend_names_what_is_compared_in_a_few_words(signed_in):
    """The legend's entries stay short whatever the period (the lines behind are one entry, their dates in
    their hover), so it keeps to three rows on a phone."""
    with signed_in("admin"):
        fig = as_figure(dashboard.update_trend({"start": "2026-01-01", "end": "2026-03-08"}, TODAY))
    entries = [t.name for t in fig.data if t.showlegend is not False]
    assert entries == ["Interactions", "Active users", "Same days 3 months earlier"]
    assert all(len(entry) <= 30 for entry in entries)
    behind = [t for t in fig.data if t.legendgroup == "compared" and t.x != (None,)]
    assert [t.name for t in behind] == [
        "Interactions (1 Oct – 8 Dec 2025: same days 3 months earlier, no data before 25 Feb 2026)",
        "Active users (1 Oct – 8 Dec 2025: same days 3 months earlier, no data before 25 Feb 2026)",
    ]
