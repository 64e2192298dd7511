"""Analytics callbacks called as plain functions (and once over HTTP); numbers worked out from tests/org.py.

The week 2026-03-02 .. 03-08 in UTC holds e1..e6: Code Helper e1 e2 e3 e6 (u4 u4 u5 u4; e2 failed;
$0.10 + $0.25 + $1.000001 + $0.04), Drafting e4 e5 (u2 u3; $0.333333 + $2). Engineering has e1 e2 e4 e6,
Sales e3, Legal e5. Manager Max (u2) sees Engineering and Sales only.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from dash import no_update
from flask_login import login_user
from plotly.colors import sample_colorscale

from auth.session import Account
from callbacks import analytics, crossfilter
from callbacks._figures import BLUES, OTHER_COLOUR
from layouts import ids
from tests import dash_payloads as dp
from tests.conftest import ACCOUNTS, make_app, read_only_app
from tests.figures import as_figure
from tests.test_access import dependencies

WEEK = {"start": "2026-03-02", "end": "2026-03-08"}
SEARCH = "?start=2026-03-02&end=2026-03-08"

app = pytest.fixture(read_only_app, name="app")  # one app for the module: its tests only read


def table_cells(table, *fields: str, part: int = 0) -> list[tuple]:
    """What the table (layouts/_components.py `plain_table`) holds per row and column: its text (part 0), the value
    it sorts on (1) or its tooltip (2)."""
    spec = json.loads(table.to_plotly_json()["props"]["data-table"])
    at = [[column["field"] for column in spec["columns"]].index(field) for field in fields]
    return [tuple(row["cells"][index][part] for index in at) for row in spec["rows"]]


def grid_rows(table, *fields: str) -> list[tuple]:
    """What the table shows: the formatted text of each column (the label as is)."""
    return table_cells(table, *fields)


def annotation(fig) -> str:
    return as_figure(fig).layout.annotations[0].text


# By agent


def test_agents_chart_and_grid(signed_in):
    with signed_in("admin"):
        fig, table = analytics.update_agents(WEEK)
        fig = as_figure(fig)
    bars = fig.data[0]
    assert (list(bars.y), list(bars.x)) == (["Drafting", "Code Helper"], [2, 4])  # largest on top
    assert [point[0] for point in bars.customdata] == ["a_draft", "a_code"]  # what a click puts in the URL
    assert table.id == ids.ANALYTICS_AGENT_GRID
    fields = ("label", "interactions", "active_users", "per_user", "error_rate", "latency", "tokens", "cost")
    assert grid_rows(table, *fields) == [
        ("Code Helper", "4", "2", "2.0", "25.0%", "0.9 s", "4,800", "$1.39"),
        ("Drafting", "2", "2", "1.0", "0.0%", "0.9 s", "2,400", "$2.33"),
    ]
    # The table sorts on the numbers, not on the text; the tooltip has the exact tokens.
    assert table_cells(table, "interactions", "cost", part=1) == [(4, 1.390001), (2, 2.333333)]
    assert table_cells(table, "tokens", part=2)[0] == ("4,800: 4,000 in · 800 out",)


def test_token_counts_are_compact():
    assert [analytics.format_tokens(n) for n in (4_800, 9_999, 182_150, 1_263_500_000, 3_456_789)] == [
        "4,800", "9,999", "182.2k", "1.26B", "3.46M",
    ]  # fmt: skip


def test_agents_for_a_manager(signed_in):
    with signed_in("manager"):
        _fig, table = analytics.update_agents(WEEK)
    # Drafting only through e4 (u2, Engineering); Legal's e5 is not theirs.
    assert grid_rows(table, "label", "interactions", "active_users", "cost") == [
        ("Code Helper", "4", "2", "$1.39"),
        ("Drafting", "1", "1", "$0.33"),
    ]


def test_unused_agents_stay_in_the_grid_but_not_in_the_chart(signed_in):
    with signed_in("admin"):
        fig, table = analytics.update_agents({"start": "2026-04-01", "end": "2026-04-30"})
        fig = as_figure(fig)
    # after the last data: the empty chart says where the data are
    said = annotation(fig).replace("<br>", " ")
    assert said == "No interactions in this period. The latest data are from 9 Mar 2026."
    assert grid_rows(table, "label", "interactions", "per_user", "error_rate", "latency", "cost") == [
        ("Code Helper", "0", "–", "–", "–", "$0.00"),
        ("Drafting", "0", "–", "–", "–", "$0.00"),
    ]


# By team


def test_teams_chart_and_grid(signed_in):
    with signed_in("admin"):
        fig, table = analytics.update_teams(WEEK)
        fig = as_figure(fig)
    bars = fig.data[0]
    assert list(bars.y) == ["Sales", "Legal", "Engineering"]
    assert list(bars.text) == ["16.7%", "16.7%", "66.7%"]  # 1, 1 and 4 of 6
    fields = ("label", "members", "active_users", "adoption", "interactions", "share", "per_member", "cost")
    assert grid_rows(table, *fields) == [
        ("Engineering", "4", "2", "50.0%", "4", "66.7%", "1.0", "$0.72"),
        ("Legal", "2", "1", "50.0%", "1", "16.7%", "0.5", "$2.00"),
        ("Sales", "1", "1", "100.0%", "1", "16.7%", "1.0", "$1.00"),
    ]


def test_a_team_without_interactions_is_listed(signed_in):
    with signed_in("admin"):
        _fig, table = analytics.update_teams({**WEEK, "agents": "a_draft"})
    # Drafting: e4 by u2 (Engineering, 1 of 4 members), e5 by u3 (Legal, 1 of 2); Sales none.
    assert grid_rows(table, "label", "active_users", "adoption", "interactions", "share", "per_member") == [
        ("Engineering", "1", "25.0%", "1", "50.0%", "0.2"),  # 1 / 4 = 0.25, shown to one decimal
        ("Legal", "1", "50.0%", "1", "50.0%", "0.5"),
        ("Sales", "0", "0.0%", "0", "0.0%", "0.0"),
    ]


def test_a_manager_never_sees_other_teams(signed_in):
    with signed_in("manager"):
        fig, table = analytics.update_teams(WEEK)
        fig = as_figure(fig)
        stacked = as_figure(analytics.update_over_time({**WEEK, "stack": "team", "grain": "week"}))
        forged = analytics.update_teams({**WEEK, "teams": "t_legal"})
        chips = crossfilter.update_chips({**WEEK, "teams": "t_legal"})
    assert list(fig.data[0].y) == ["Sales", "Engineering"]
    assert list(fig.data[0].text) == ["20.0%", "80.0%"]  # 1 and 4 of their 5
    assert grid_rows(table, "label", "interactions", "cost") == [("Engineering", "4", "$0.72"), ("Sales", "1", "$1.00")]
    assert [trace.name for trace in stacked.data] == ["Engineering", "Sales"]
    assert annotation(forged[0]) == "No interactions in this period"
    assert forged[1].children == "No teams in your scope."
    assert chips[1].children[1].children == "t_legal"  # the id they typed, never the team's name
    for output in (fig, table, stacked, *forged, chips):
        assert "Legal" not in str(output) and "Lee" not in str(output)


def test_an_idle_manager_sees_nothing(signed_in):
    with signed_in("idle_manager"):
        agents = analytics.update_agents(WEEK)
        teams = analytics.update_teams(WEEK)
        heatmap = analytics.update_heatmap(WEEK)
    assert annotation(agents[0]) == annotation(teams[0]) == annotation(heatmap) == "No interactions in this period"
    assert agents[1].children == "No interactions in this period. There are no data in your scope yet."
    assert "Code Helper" not in str(agents)


# Over time


def traces(fig) -> dict[str, list[int]]:
    return {trace.name: list(trace.y) for trace in fig.data}


def test_daily_stacked_by_agent(signed_in):
    with signed_in("admin"):
        fig = as_figure(analytics.update_over_time(WEEK))  # 7 days: the grain is day by default
    assert traces(fig) == {
        "Code Helper": [2, 1, 0, 0, 0, 0, 1],  # e1 e2 | e3 | e6
        "Drafting": [0, 1, 1, 0, 0, 0, 0],  # e4 (23:30 on the 3rd) | e5 (02:00 on the 4th)
    }
    assert fig.data[0].x[0] == dt.date(2026, 3, 2)
    assert fig.layout.barmode == "stack" and fig.layout.xaxis.title.text == "Day"


def test_weekly_and_monthly_by_team(signed_in):
    with signed_in("admin"):
        weekly = as_figure(analytics.update_over_time({**WEEK, "grain": "week", "stack": "team"}))
        spring = {"start": "2026-02-01", "end": "2026-03-31"}
        monthly = as_figure(analytics.update_over_time({**spring, "grain": "month", "stack": "team"}))
    assert traces(weekly) == {"Engineering": [4], "Legal": [1], "Sales": [1]}
    # February: e0 (Engineering); March: Engineering e1 e2 e4 e6, Sales e3 e7 e8, Legal e5.
    assert traces(monthly) == {"Engineering": [1, 4], "Sales": [0, 3], "Legal": [0, 1]}
    assert monthly.layout.xaxis.title.text == "Month"


def test_weeks_the_period_only_partly_covers_are_faint(signed_in):
    with signed_in("admin"):
        whole = as_figure(analytics.update_over_time({**WEEK, "grain": "week"}))
        part = as_figure(analytics.update_over_time({"start": "2026-03-04", "end": "2026-03-10", "grain": "week"}))
    assert list(whole.data[0].marker.opacity) == [1]
    # Wed 4 .. Tue 10 March: the weeks of 2 and 9 March are both cut; Code Helper has e6 then e7 e8.
    assert traces(part) == {"Code Helper": [1, 2], "Drafting": [1, 0]}
    assert list(part.data[0].marker.opacity) == [0.45, 0.45]
    assert part.data[0].customdata[0][2] == " (partly outside the period)"


def test_over_time_groups_the_rest_as_other(signed_in, monkeypatch):
    monkeypatch.setattr(analytics, "TOP_SERIES", 1)
    with signed_in("admin"):
        fig = as_figure(analytics.update_over_time({**WEEK, "stack": "team"}))
    assert traces(fig) == {"Engineering": [2, 1, 0, 0, 0, 0, 1], "Other": [0, 1, 1, 0, 0, 0, 0]}  # e3, e5
    assert fig.data[1].marker.color == OTHER_COLOUR


def test_over_time_messages(signed_in):
    with signed_in("admin"):
        bad_grain = analytics.update_over_time({**WEEK, "grain": "hour"})
        bad_stack = analytics.update_over_time({**WEEK, "stack": "user"})
        backwards = analytics.update_over_time({"start": "2026-03-08", "end": "2026-03-01"})
        empty = analytics.update_over_time({"start": "2025-01-01", "end": "2025-01-31"})
    assert annotation(bad_grain) == "Unknown grain 'hour'; use one of day, week, month."
    assert annotation(bad_stack) == "Unknown breakdown 'user'; use one of agent, team."
    assert annotation(backwards) == "The period ends (2026-03-01) before it starts (2026-03-08)."
    assert annotation(empty) == "No interactions in this period"


def test_a_bad_period_is_explained_everywhere_and_typed_markup_is_not_rendered(signed_in):
    with signed_in("admin"):
        agents = analytics.update_agents({"start": "2026-03-08", "end": "2026-03-01"})
        teams = analytics.update_teams({"start": "<b>x</b>", "end": "2026-03-01"})
        heatmap = analytics.update_heatmap({"start": "2026-03-08", "end": "2026-03-01"})
    assert annotation(agents[0]) == "The period ends (2026-03-01) before it<br>starts (2026-03-08)."  # wrapped
    assert agents[1].children == "The period ends (2026-03-01) before it starts (2026-03-08)."
    assert annotation(teams[0]) == "The start date '&lt;b&gt;x&lt;/b&gt;' is not a<br>date; use YYYY-MM-DD."
    assert teams[1].children == "The start date '<b>x</b>' is not a date; use YYYY-MM-DD."  # text, not markup
    assert annotation(heatmap) == "The period ends (2026-03-01) before it starts (2026-03-08)."


# Weekday x hour


def test_heatmap_in_utc(signed_in):
    with signed_in("admin"):
        fig = as_figure(analytics.update_heatmap(WEEK))
    z = fig.data[0].z
    busy = {(day, hour) for day in range(7) for hour in range(24) if z[day][hour]}
    # Mon 10:00 and 15:30, Tue 09:00 and 23:30, Wed 02:00, Sun 06:30 (weekday 0 = Monday)
    assert busy == {(0, 10), (0, 15), (1, 9), (1, 23), (2, 2), (6, 6)}
    assert list(fig.data[0].y) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert fig.layout.xaxis.title.text == "Hour of day (UTC)"


def test_heatmap_in_new_york_local_time(data_dir, password_hash):
    app = make_app(data_dir, password_hash, ORG_TIMEZONE="America/New_York")
    store = app.extensions["telemetry_store"]
    row = store.account_by_email(ACCOUNTS["admin"][0])
    with app.test_request_context("/_dash-update-component", method="POST"):
        login_user(Account(row, sid=store.open_session(row.id)))
        fig = as_figure(analytics.update_heatmap(WEEK))
    z = fig.data[0].z
    busy = {(day, hour) for day in range(7) for hour in range(24) if z[day][hour]}
    # e1 05:00 and e2 10:30 Mon, e3 04:00 e4 18:30 e5 21:00 Tue, e6 01:30 EST and e7 23:30 EDT Sun
    assert busy == {(0, 5), (0, 10), (1, 4), (1, 18), (1, 21), (6, 1), (6, 23)}
    assert fig.layout.xaxis.title.text == "Hour of day (America/New_York)"


def _contrast(one: str, other: str) -> float:
    lighter, darker = sorted((analytics._luminance(one), analytics._luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_every_heatmap_label_reads_at_4_5_to_1_on_its_cell():
    """Plotly's own labels were #444 on the mid blues (3k of 6k: 3.1:1); each label now has its colour."""
    hours = pl.DataFrame({"weekday": [day for day in range(1, 8) for _ in range(24)],
                          "hour": [hour for _ in range(7) for hour in range(24)]})  # fmt: skip
    frame = hours.with_columns(interactions=(pl.int_range(0, 168) * 37).cast(pl.Int64))  # 0 .. 6,179
    fig = as_figure(analytics.heatmap_figure(frame, "UTC"))
    cells, labels = fig.data
    top = max(max(row) for row in cells.z)
    shade = {(x, y): value / top for y, row in zip(cells.y, cells.z, strict=True)
             for x, value in zip(cells.x, row, strict=True)}  # fmt: skip
    assert len(labels.text) == 167  # every busy cell, none for the empty one
    for x, y, text, colour in zip(labels.x, labels.y, labels.text, labels.textfont.color, strict=True):
        cell = sample_colorscale(BLUES, [shade[(x, y)]])[0]
        white_or_black = "rgb(255, 255, 255)" if colour == "#ffffff" else "rgb(0, 0, 0)"
        assert _contrast(cell, white_or_black) >= 4.5, (x, y, text, cell, colour)
    assert labels.hoverinfo == "skip"


# Cross-filtering through the URL


def chip_texts(children) -> list[tuple[dict, str]]:
    return [(c.id, c.children[0] + c.children[1].children) for c in children if getattr(c, "id", None)]


def test_chips_name_the_filters(signed_in):
    with signed_in("admin"):
        chips = crossfilter.update_chips({**WEEK, "agents": "a_code", "teams": "t_eng"})
        none = crossfilter.update_chips(WEEK)
    assert chip_texts(chips) == [
        ({"type": ids.ANALYTICS_CHIP, "key": "teams", "value": "t_eng"}, "Team: Engineering"),
        ({"type": ids.ANALYTICS_CHIP, "key": "agents", "value": "a_code"}, "Agent: Code Helper"),
    ]
    assert chip_texts(none) == [] and "click an agent" in none[0].children


def test_clicks_write_the_url():
    agent_bar = {"points": [{"y": "Code Helper", "customdata": ["a_code", "2", "$1.39", "25.0%"]}]}
    team_bar = {"points": [{"y": "Engineering", "customdata": ["t_eng", "4", "2", "4", "50.0%"]}]}
    assert crossfilter.update_search_from_agent_click(agent_bar, SEARCH) == SEARCH + "&agents=a_code"
    assert crossfilter.update_search_from_team_click(team_bar, SEARCH + "&agents=a_code") == (
        SEARCH + "&agents=a_code&teams=t_eng"
    )
    assert crossfilter.update_search_from_agent_click(agent_bar, SEARCH + "&agents=a_code") is no_update
    assert crossfilter.update_search_from_agent_click({"points": []}, SEARCH) is no_update


def test_clicking_a_series_filters_by_what_the_chart_is_stacked_by():
    series = {"points": [{"customdata": ["t_sales", "$1.00"]}]}
    other = {"points": [{"customdata": ["other", "$2.00"]}]}
    by_team = SEARCH + "&stack=team"
    assert crossfilter.update_search_from_time_click(series, by_team) == by_team + "&teams=t_sales"
    agent = {"points": [{"customdata": ["a_draft", "$2.33"]}]}
    assert crossfilter.update_search_from_time_click(agent, SEARCH) == SEARCH + "&agents=a_draft"
    assert crossfilter.update_search_from_time_click(other, SEARCH) is no_update


def test_page_controls_write_the_url(app):
    with app.app_context():
        assert crossfilter.update_search_from_grain("week", SEARCH + "&agents=a_code") == (
            SEARCH + "&agents=a_code&grain=week"
        )
        assert crossfilter.update_search_from_stack("team", SEARCH + "&grain=week") == SEARCH + "&grain=week&stack=team"
        assert crossfilter.update_search_from_grain("week", SEARCH + "&grain=week") is no_update
        # defaults stay out of the URL, so opening the tab adds no history entry
        assert crossfilter.update_search_from_grain("day", SEARCH) is no_update
        assert crossfilter.update_search_from_stack("agent", SEARCH) is no_update
        assert crossfilter.update_search_from_stack("agent", SEARCH + "&stack=team") == SEARCH


def test_clearing_a_filter_keeps_the_rest():
    both = SEARCH + "&agents=a_code,a_draft&teams=t_eng"
    assert crossfilter.clear_filter(both, "agents", "a_code") == SEARCH + "&agents=a_draft&teams=t_eng"
    assert crossfilter.clear_filter(SEARCH + "&agents=a_code", "agents", "a_code") == SEARCH
    assert crossfilter.clear_filter(SEARCH + "&teams=t_eng", "teams", "t_eng") == SEARCH
    with pytest.raises(ValueError, match="Unknown filter"):
        crossfilter.clear_filter(both, "start", "2026-03-02")


# The page itself


def test_layout_takes_its_controls_from_the_url(signed_in):
    from layouts import analytics as page

    def control(tree, control_id):
        found = []

        def walk(node):
            if getattr(node, "id", None) == control_id:
                found.append(node)
            children = getattr(node, "children", None)
            for child in children if isinstance(children, list | tuple) else [children]:
                if child is not None and not isinstance(child, str):
                    walk(child)

        walk(tree)
        return found[0]

    with signed_in("admin"):
        chosen = page.layout(**WEEK, grain="month", stack="team")
        long = page.layout(start="2026-01-01", end="2026-06-30")
        broken = page.layout(start="2026-03-08", end="2026-03-01", grain="hour")
    assert control(chosen, ids.ANALYTICS_QUERY).data == {**WEEK, "grain": "month", "stack": "team"}
    assert (control(chosen, ids.ANALYTICS_GRAIN).value, control(chosen, ids.ANALYTICS_STACK).value) == ("month", "team")
    assert control(long, ids.ANALYTICS_GRAIN).value == "week"  # 181 days
    assert (control(broken, ids.ANALYTICS_GRAIN).value, control(broken, ids.ANALYTICS_STACK).value) == ("day", "agent")


def test_over_http_a_manager_gets_only_their_teams(app, client, auth):
    deps = dependencies(app)
    auth.login("manager")
    body = dp.payload(dp.find(deps, ids.ANALYTICS_TEAM_CHART), {f"{ids.ANALYTICS_QUERY}.data": WEEK})
    response = dp.post(client, body)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Engineering" in text and "$0.72" in text
    assert "Legal" not in text and "t_legal" not in text


def test_over_time_hatches_and_labels_the_bucket_still_filling(signed_in):
    two_weeks = {"start": "2026-03-02", "end": "2026-03-15"}
    with signed_in("admin"):
        daily = as_figure(analytics.update_over_time(two_weeks, dt.date(2026, 3, 9)))
        weekly = as_figure(analytics.update_over_time({**two_weeks, "grain": "week"}, dt.date(2026, 3, 11)))
        over = as_figure(analytics.update_over_time(two_weeks, dt.date(2026, 3, 16)))
    for trace in daily.data:  # each series' bar on 9 March
        shapes = list(trace.marker.pattern.shape)
        assert [trace.x[i] for i, shape in enumerate(shapes) if shape] == [dt.date(2026, 3, 9)]
        assert trace.customdata[shapes.index("/")][2] == " (today so far)"
    assert [(a.text, a.x, a.y) for a in daily.layout.annotations] == [("today so far", dt.date(2026, 3, 9), 2)]
    assert [(a.text, a.x) for a in weekly.layout.annotations] == [("this week so far", dt.date(2026, 3, 9))]
    assert all(trace.marker.pattern.shape is None for trace in over.data) and not over.layout.annotations
