"""Dashboard and filter-bar callbacks called as plain functions; numbers worked out from tests/org.py."""

from __future__ import annotations

import datetime as dt

from dash import no_update

from callbacks import dashboard, shell
from layouts import ids
from tests.figures import as_figure

WEEK = {"start": "2026-03-02", "end": "2026-03-08"}


def card_values(row) -> dict[str, tuple[str, str]]:
    """{card id: (value, change)} from the KPI row's component tree."""
    found = {}
    for col in row.children:
        card = col.children
        body = card.children.children
        found[card.id] = (body[1].children, body[2].children[0].children)
    return found


def test_kpis_for_an_admin(signed_in):
    with signed_in("admin"):
        note, row = dashboard.update_kpis(WEEK)
    assert note is None
    assert card_values(row) == {
        # previous week (23 Feb - 1 Mar): e0 only, 1 interaction by 1 user for $0.05
        "dashboard-kpi-interactions": ("6", "▲ 500.0%"),
        "dashboard-kpi-active-users": ("4", "▲ 300.0%"),
        "dashboard-kpi-cost": ("$3.72", "▲ 7,346.7%"),  # 3.723334 / 0.05 - 1
        "dashboard-kpi-adoption": ("57.1%", "▲ 300.0%"),  # 4 of the 7 people, against 1 of 7
    }


def test_kpis_for_a_manager_count_only_their_teams(signed_in):
    with signed_in("manager"):
        _note, row = dashboard.update_kpis(WEEK)
    values = card_values(row)
    assert values["dashboard-kpi-interactions"][0] == "5"
    assert values["dashboard-kpi-active-users"][0] == "3"
    assert values["dashboard-kpi-cost"][0] == "$1.72"
    assert values["dashboard-kpi-adoption"][0] == "60.0%"  # u2, u4, u5 of the 5 people in Engineering and Sales


def test_kpis_for_an_empty_period_and_a_backwards_one(signed_in):
    with signed_in("admin"):
        note, row = dashboard.update_kpis({"start": "2025-01-01", "end": "2025-01-31"})
        assert note.children == "No interactions in this period. Data start on 25 Feb 2026."
        assert card_values(row)["dashboard-kpi-cost"] == ("$0.00", "no change")
        note, row = dashboard.update_kpis({"start": "2026-03-08", "end": "2026-03-01"})
    assert row is None
    assert note.children == "The period ends (2026-03-01) before it starts (2026-03-08)."


def test_trend_has_every_day_and_the_previous_period(signed_in):
    with signed_in("admin"):
        fig = as_figure(dashboard.update_trend(WEEK))
    traces = {trace.name: trace for trace in fig.data}
    assert list(traces["Interactions"].y) == [2, 2, 1, 0, 0, 0, 1]
    assert list(traces["Interactions (previous period)"].y) == [0, 0, 1, 0, 0, 0, 0]  # e0 on 25 Feb
    assert list(traces["Active users"].y) == [1, 2, 1, 0, 0, 0, 1]


def test_trend_says_when_there_is_nothing(signed_in):
    with signed_in("idle_manager"):
        fig = as_figure(dashboard.update_trend(WEEK))
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
