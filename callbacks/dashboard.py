"""Dashboard tab: the URL's filters in; KPI cards, usage trend, cost and top agents out."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import ClientsideFunction, Input, Output, State

from callbacks._common import empty_period, page_filters
from callbacks._figures import (
    AGENT_COLOUR,
    COST_COLOUR,
    NO_INTERACTIONS,
    TEAM_COLOUR,
    USERS_COLOUR,
    Figure,
    count_axis,
    count_ticks,
    date_axis,
    figure,
    message_figure,
    money_axis,
    title,
)
from callbacks._tab import register_tab
from callbacks.analytics import update_search_from_agent_click, update_search_from_team_click
from layouts import ids
from layouts._components import (
    format_change,
    format_count,
    format_day,
    format_percent,
    format_usd,
    kpi_card,
    message,
)
from queries import usage
from queries.period import PeriodError

TOP = 5


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def update_kpis(query: dict | None) -> tuple:
    """Interactions, active users, cost and adoption, each against the previous period."""
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return message(str(error), "danger"), None
    period = filters.period
    previous = filters.for_period(period.previous())
    now = usage.summary(filters).row(0, named=True)
    before = usage.summary(previous).row(0, named=True)
    adopted_now = usage.adoption(filters).row(0, named=True)
    adopted_before = usage.adoption(previous).row(0, named=True)
    adoption_now = _ratio(adopted_now["active_users"], adopted_now["users_with_access"])
    adoption_before = _ratio(adopted_before["active_users"], adopted_before["users_with_access"])
    cards = [
        kpi_card("Total interactions", format_count(now["interactions"]),
                 format_change(now["interactions"], before["interactions"]), "dashboard-kpi-interactions"),
        kpi_card("Active users", format_count(now["active_users"]),
                 format_change(now["active_users"], before["active_users"]), "dashboard-kpi-active-users"),
        kpi_card("Cost (USD)", format_usd(now["cost_usd"]),
                 format_change(now["cost_usd"], before["cost_usd"], up_is_good=False), "dashboard-kpi-cost"),
        kpi_card("Adoption", format_percent(adoption_now), format_change(adoption_now, adoption_before),
                 "dashboard-kpi-adoption",
                 f"{adopted_now['active_users']:,} of {adopted_now['users_with_access']:,} people with access"),
    ]  # fmt: skip
    row = dbc.Row([dbc.Col(card, md=6, xl=3) for card in cards], className="g-3")
    note = None if now["interactions"] else message(empty_period(filters), "info")
    return note, row


def trend_figure(current: pl.DataFrame, previous: pl.DataFrame, grain: str) -> Figure:
    """Interactions and active users per bucket, with the previous period faint behind them."""
    traces = []
    x = current["key"].to_list()
    prev_dates = [format_day(d) for d in previous["key"].to_list()][: len(x)]
    for column, name, axis, colour in (("interactions", "Interactions", "y", AGENT_COLOUR),
                                       ("active_users", "Active users", "y2", USERS_COLOUR)):  # fmt: skip
        traces.append({
            "type": "scatter", "x": x[: len(prev_dates)], "y": previous[column].to_list()[: len(x)],
            "name": f"{name} (previous period)", "yaxis": axis, "mode": "lines",
            "line": {"width": 1.5, "dash": "dot", "color": colour}, "opacity": 0.35, "customdata": prev_dates,
            "hovertemplate": "%{y:,} on %{customdata}<extra>" + name + " (previous)</extra>",
        })  # fmt: skip
        traces.append({
            "type": "scatter", "x": x, "y": current[column].to_list(), "name": name, "yaxis": axis,
            "mode": "lines+markers", "line": {"width": 2.5, "color": colour}, "marker": {"size": 4},
            "hovertemplate": "%{y:,}<extra>" + name + "</extra>",
        })  # fmt: skip
    x_title = {"week": "Week starting", "month": "Month"}.get(grain)
    xaxis = date_axis(grain) if x_title is None else {"title": title(x_title), **date_axis(grain)}
    return figure(
        traces,
        340,
        xaxis=xaxis,
        yaxis=count_axis(max(current["interactions"].max(), previous["interactions"].max()), "Interactions"),
        yaxis2={
            **count_axis(max(current["active_users"].max(), previous["active_users"].max()), "Active users"),
            "overlaying": "y", "side": "right", "showgrid": False, "tickmode": "auto",
        },
        legend={"orientation": "h", "y": -0.22},
    )  # fmt: skip


def update_trend(query: dict | None) -> Figure:
    try:
        filters = page_filters(query)  # the grain that fits the period: this tab has no grain control
    except PeriodError as error:
        return message_figure(str(error))
    current = usage.interactions_over_time(filters)
    if current["interactions"].sum() == 0:
        return message_figure(NO_INTERACTIONS)
    previous = usage.interactions_over_time(filters.for_period(filters.period.previous()))
    return trend_figure(current, previous, filters.grain)


def cost_figure(frame: pl.DataFrame, grain: str) -> Figure:
    bars = {
        "type": "bar",
        "x": frame["key"].to_list(),
        "y": [float(v) for v in frame["cost_usd"]],
        "customdata": [format_usd(v) for v in frame["cost_usd"]],
        "hovertemplate": "%{x}: %{customdata}<extra></extra>",
        "marker": {"color": COST_COLOUR},
    }
    return figure([bars], 220, xaxis=date_axis(grain), yaxis=money_axis(float(frame["cost_usd"].max())),
                  showlegend=False, margin={"t": 8})  # fmt: skip


def update_cost(query: dict | None) -> tuple:
    """Total cost of the period and a small bar chart of cost per day (or week/month)."""
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return "—", message_figure(str(error), 220)
    frame = usage.interactions_over_time(filters)
    total = frame["cost_usd"].sum()
    if frame["interactions"].sum() == 0:
        return format_usd(total), message_figure(NO_INTERACTIONS, 220)
    return format_usd(total), cost_figure(frame, filters.grain)


def top_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The keys a top chart draws (and its CSV holds): the five with the most interactions."""
    return frame.head(TOP)


def top_title(things: str, count: int) -> str:
    """A top-5 card's title: "Top 5" only when there are more than five (a manager of two teams: "(2)")."""
    return f"Top {TOP} {things} by interactions" if count > TOP else f"{things.capitalize()} by interactions ({count})"


def top_figure(frame: pl.DataFrame, colour: str) -> Figure:
    """The five keys with the most interactions, largest on top; customdata[0] is the key a click filters to."""
    top = top_rows(frame).reverse()
    bars = {
        "type": "bar",
        "x": top["interactions"].to_list(),
        "y": top["label"].to_list(),
        "orientation": "h",
        "text": [format_count(v) for v in top["interactions"]],
        "textposition": "auto",
        "customdata": [[k, u, format_usd(c)] for k, u, c in zip(top["key"], top["active_users"], top["cost_usd"],
                                                                 strict=True)],
        "hovertemplate": "%{y}: %{x:,} interactions, %{customdata[1]:,} users, %{customdata[2]}<extra></extra>",
        "marker": {"color": colour},
    }  # fmt: skip
    # Room for five bars, so two are not two slabs (as on the Analytics tab).
    slots = {"range": [top.height - 0.5 - max(top.height, TOP), top.height - 0.5]}
    xaxis = {"title": title("Interactions"), **count_ticks(top["interactions"].max())}
    return figure([bars], 260, hovermode="closest", showlegend=False, margin={"l": 160, "t": 8}, xaxis=xaxis,
                  yaxis=slots)  # fmt: skip


def _top(by: str, query: dict | None) -> tuple[Figure, str]:
    things = f"{by}s"
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return message_figure(str(error), 260), top_title(things, TOP + 1)
    frame = usage.interactions_by_key(filters, by)
    if frame.is_empty():
        return message_figure(NO_INTERACTIONS, 260), top_title(things, TOP + 1)
    return top_figure(frame, AGENT_COLOUR if by == "agent" else TEAM_COLOUR), top_title(things, frame.height)


def update_top_agents(query: dict | None) -> tuple[Figure, str]:
    return _top("agent", query)


def update_top_teams(query: dict | None) -> tuple[Figure, str]:
    return _top("team", query)


def register_callbacks(app: dash.Dash) -> None:
    register_tab(app, Input(ids.DASHBOARD_QUERY, "data"), [
        ((Output(ids.DASHBOARD_MESSAGE, "children"), Output(ids.DASHBOARD_KPIS, "children")), update_kpis),
        ((Output(ids.DASHBOARD_TREND, "figure"),), update_trend),
        ((Output(ids.DASHBOARD_COST_TOTAL, "children"), Output(ids.DASHBOARD_COST_DAILY, "figure")), update_cost),
        ((Output(ids.DASHBOARD_TOP_AGENTS, "figure"), Output(ids.DASHBOARD_TOP_AGENTS_TITLE, "children")),
         update_top_agents),
        ((Output(ids.DASHBOARD_TOP_TEAMS, "figure"), Output(ids.DASHBOARD_TOP_TEAMS_TITLE, "children")),
         update_top_teams),
    ])  # fmt: skip
    # A click on a bar (or its label or value: assets/charts.js) filters to it, as on the Analytics tab;
    # into a store of this page, as there, so that drawing the page sends no request for them.
    search = State(ids.SHELL_LOCATION, "search")
    for writer, chart in ((update_search_from_agent_click, ids.DASHBOARD_TOP_AGENTS),
                          (update_search_from_team_click, ids.DASHBOARD_TOP_TEAMS)):  # fmt: skip
        app.callback(
            Output(ids.DASHBOARD_NEW_SEARCH, "data", allow_duplicate=True),
            Input(chart, "clickData"),
            search,
            prevent_initial_call=True,
        )(writer)
    app.clientside_callback(
        ClientsideFunction("telemetry", "passSearchOn"),
        Output(ids.SHELL_LOCATION, "search", allow_duplicate=True),
        Input(ids.DASHBOARD_NEW_SEARCH, "data"),
        prevent_initial_call=True,
    )
