"""Dashboard tab: is usage growing, who uses it, what it costs, at a glance."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts._components import chart_menu, chart_section, graph_in_view, loading_graph, section

TOP_HEIGHT = 260  # a top-5 chart's (callbacks/dashboard.py draws it)


def _top(things: str, graph_id: str, title_id: str) -> dbc.Card:
    """A top-5 card; its title says how many bars it holds when the viewer's scope has no more (a callback). Below
    the fold (under the KPIs and the trend), so drawn once in view."""
    chart = graph_in_view(graph_id, TOP_HEIGHT)
    return section(f"Top 5 {things} by interactions", chart, "Click a bar to filter to it", chart=graph_id,
                   title_id=title_id)  # fmt: skip


def layout(**query: str) -> html.Div:
    cost = dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Div("Cost in period", className="text-muted small text-uppercase"),
                        chart_menu(ids.DASHBOARD_COST_DAILY, "Cost in period"),
                    ],
                    className="d-flex justify-content-between align-items-start",
                ),
                dcc.Loading(html.Div(id=ids.DASHBOARD_COST_TOTAL, className="fs-3 fw-semibold"), type="dot"),
                loading_graph(ids.DASHBOARD_COST_DAILY, height=220),
            ]
        ),
        className="h-100",
    )
    return html.Div(
        [
            html.H1("Dashboard", className="visually-hidden"),  # the tab pills name it for the eye
            dcc.Store(id=ids.DASHBOARD_QUERY, data=query),
            dcc.Store(id=ids.DASHBOARD_NEW_SEARCH),
            html.Div(id=ids.DASHBOARD_MESSAGE),
            dcc.Loading(html.Div(id=ids.DASHBOARD_KPIS, className="mb-3"), type="dot"),
            dbc.Row(
                [
                    dbc.Col(chart_section("Usage trend", ids.DASHBOARD_TREND, 340), lg=8),
                    dbc.Col(cost, lg=4),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(_top("agents", ids.DASHBOARD_TOP_AGENTS, ids.DASHBOARD_TOP_AGENTS_TITLE), lg=6),
                    dbc.Col(_top("teams", ids.DASHBOARD_TOP_TEAMS, ids.DASHBOARD_TOP_TEAMS_TITLE), lg=6),
                ],
                className="g-3",
            ),
        ]
    )
