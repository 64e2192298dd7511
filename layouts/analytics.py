"""Analytics tab: which agents and teams drive usage, how it moves over time and over the week."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app

from layouts import ids
from layouts._components import (
    chart_menu,
    graph_in_view,
    in_view,
    loading_graph,
    loading_placeholder,
    loading_table,
    section,
)
from queries.filters import asked_period, default_grain, default_period
from queries.period import GRAINS, PeriodError

GRAIN_LABELS = {"day": "Daily", "week": "Weekly", "month": "Monthly"}
STACK_LABELS = {"agent": "By agent", "team": "By team"}
CHART_HEIGHT = 340
HEATMAP_HEIGHT = 300


def _toggle(control_id: str, options: dict[str, str], value: str, label: str) -> html.Div:
    """A keyboard-reachable button group (radio inputs styled as buttons)."""
    radios = dbc.RadioItems(
        id=control_id,
        options=[{"label": text, "value": key} for key, text in options.items()],
        value=value,
        className="btn-group btn-group-sm",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-primary",
        labelCheckedClassName="active",
        # Each option sits in a .form-check with a 1.5em gutter for a radio dot that btn-check hides.
        labelStyle={"marginLeft": "-1.5em", "marginRight": "-1px", "borderRadius": 0},
    )
    return html.Div(radios, role="group", **{"aria-label": label})


def _initial_grain(query: dict) -> str:
    """The grain in the URL, else the one that fits the period's length (as the chart's callback does)."""
    if query.get("grain") in GRAINS:
        return query["grain"]
    tz = current_app.config["ORG_TIMEZONE"]
    try:
        return default_grain(asked_period(query, tz, default_period(tz)))
    except PeriodError:
        return "day"


def _table(table_id: str) -> dcc.Loading:
    """Where the callback puts the sortable table, or a message saying why there is none."""
    return loading_table(html.Div(in_view(table_id, loading_placeholder(CHART_HEIGHT), CHART_HEIGHT)))


def _chart_and_table(title: str, hint: str, chart_id: str, table_title: str, table_hint: str, table_id: str):
    return dbc.Row(
        [
            dbc.Col(section(title, loading_graph(chart_id, CHART_HEIGHT), hint, chart=chart_id), lg=4),
            dbc.Col(section(table_title, _table(table_id), table_hint), lg=8),
        ],
        className="g-3 mb-3",
    )


def _over_time(query: dict) -> dbc.Card:
    asked = query.get("stack")  # a list when the key is repeated: then the default, as for any unknown value
    stack = asked if isinstance(asked, str) and asked in STACK_LABELS else ids.ANALYTICS_DEFAULT_STACK
    title = html.Div(
        [
            html.Div("Interactions over time", className="fw-semibold"),
            html.Div("Top 5 and Other; click a series to filter the tab to it", className="text-muted small"),
        ]
    )
    controls = html.Div(
        [
            _toggle(ids.ANALYTICS_GRAIN, GRAIN_LABELS, _initial_grain(query), "Time grain"),
            _toggle(ids.ANALYTICS_STACK, STACK_LABELS, stack, "Stack by"),
            chart_menu(ids.ANALYTICS_OVER_TIME, "Interactions over time"),
        ],
        className="d-flex gap-3 flex-wrap",
    )
    return dbc.Card(
        [
            dbc.CardHeader(
                [title, controls],
                className="bg-body d-flex justify-content-between align-items-center flex-wrap gap-2",
            ),
            dbc.CardBody(graph_in_view(ids.ANALYTICS_OVER_TIME, CHART_HEIGHT)),  # below the fold
        ]
    )


def layout(**query: str) -> html.Div:
    return html.Div(
        [
            html.H1("Analytics", className="visually-hidden"),  # the tab pills name it for the eye
            dcc.Store(id=ids.ANALYTICS_QUERY, data=query),
            dcc.Store(id=ids.ANALYTICS_NEW_SEARCH),
            dcc.Store(id=ids.ANALYTICS_AGENT_ENTER),
            dcc.Store(id=ids.ANALYTICS_TEAM_ENTER),
            html.Div(id=ids.ANALYTICS_CHIPS, className="d-flex align-items-center flex-wrap gap-2 mb-3"),
            _chart_and_table(
                "Top agents by interactions", "Click a bar to filter the tab to that agent", ids.ANALYTICS_AGENT_CHART,
                "All agents", "Click a column header to sort, a name to filter to it", ids.ANALYTICS_AGENT_TABLE,
            ),
            _chart_and_table(
                "Share of interactions by team", "Click a bar to filter the tab to that team", ids.ANALYTICS_TEAM_CHART,
                "All teams", "Active share: active users out of the team's members", ids.ANALYTICS_TEAM_TABLE,
            ),
            dbc.Row(dbc.Col(_over_time(query)), className="g-3 mb-3"),
            dbc.Row(
                dbc.Col(
                    section("Activity by weekday and hour", graph_in_view(ids.ANALYTICS_HEATMAP, HEATMAP_HEIGHT),
                            "Interactions in the organization's local time", chart=ids.ANALYTICS_HEATMAP)
                ),
                className="g-3",
            ),
        ],
        id="analytics-page",
    )  # fmt: skip
