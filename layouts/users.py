"""Users tab. Its content arrives with its own issue; the route is a public contract already."""

from __future__ import annotations

import dash
from dash import html

dash.register_page(__name__, path="/telemetry/users", name="Users", title="Telemetry · Users")


def layout(**_query: str) -> html.Div:
    return html.Div(html.P("Users", className="text-muted"), id="users-page")
