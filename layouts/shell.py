"""The frame around every tab: breadcrumb, tab navigation and the page container."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids

TABS = (
    ("dashboard", "Dashboard", "/telemetry"),
    ("analytics", "Analytics", "/telemetry/analytics"),
    ("users", "Users", "/telemetry/users"),
    ("billing", "Billing", "/telemetry/billing"),
)


def _nav() -> dbc.Nav:
    links = [
        dbc.NavItem(dbc.NavLink(label, href=path, id=ids.NAV_LINKS[slug], active="exact")) for slug, label, path in TABS
    ]
    return dbc.Nav(links, pills=True, id=ids.SHELL_NAV, className="mb-3")


def shell() -> html.Div:
    """Built per request (Dash calls it), so nothing user-specific is baked in at start-up."""
    header = html.Div(
        [
            html.Div(
                [html.Span("Settings", className="text-muted"), html.Span(" › "), html.Strong("Telemetry")],
                className="fs-5",
            ),
            html.Div(
                [
                    html.Span(id=ids.SHELL_USER, className="me-3 text-muted small"),
                    html.A("Log out", href="/logout", className="btn btn-outline-secondary btn-sm"),
                ]
            ),
        ],
        className="d-flex justify-content-between align-items-center py-3 border-bottom mb-3",
    )
    return dbc.Container(
        [dcc.Location(id=ids.SHELL_LOCATION), header, _nav(), dash.page_container],
        fluid=True,
        className="px-4",
    )
