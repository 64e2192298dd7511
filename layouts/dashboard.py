"""Dashboard tab: is usage growing, who uses it, what it costs, at a glance."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts._components import loading_graph, section

dash.register_page(__name__, path="/telemetry", name="Dashboard", title="Telemetry · Dashboard")


def layout(**query: str) -> html.Div:
    cost = dbc.Card(
        dbc.CardBody(
            [
                html.Div("Cost in period", className="text-muted small text-uppercase"),
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
            html.Div(id=ids.DASHBOARD_MESSAGE),
            dcc.Loading(html.Div(id=ids.DASHBOARD_KPIS, className="mb-3"), type="dot"),
            dbc.Row(
                [
                    dbc.Col(section("Usage trend", loading_graph(ids.DASHBOARD_TREND, height=340)), lg=8),
                    dbc.Col(cost, lg=4),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(section("Top 5 agents by interactions", loading_graph(ids.DASHBOARD_TOP_AGENTS)), lg=6),
                    dbc.Col(section("Top 5 teams by interactions", loading_graph(ids.DASHBOARD_TOP_TEAMS)), lg=6),
                ],
                className="g-3",
            ),
        ]
    )
