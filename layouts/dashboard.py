"""Dashboard tab: headline numbers for the chosen period."""

from __future__ import annotations

import dash
from dash import dcc, html
from flask import current_app

from layouts import ids
from layouts._components import period_filter
from queries.period import PeriodError, last_days, parse_date

dash.register_page(__name__, path="/telemetry", name="Dashboard", title="Telemetry · Dashboard")

DEFAULT_DAYS = 30


def layout(start: str | None = None, end: str | None = None, **_query: str) -> html.Div:
    default = last_days(DEFAULT_DAYS, current_app.config["ORG_TIMEZONE"])
    try:
        chosen_start = parse_date(start, "start") if start else default.start
        chosen_end = parse_date(end, "end") if end else default.end
    except PeriodError:
        chosen_start, chosen_end = default.start, default.end
    return html.Div(
        [
            period_filter(ids.DASHBOARD_START, ids.DASHBOARD_END, ids.DASHBOARD_TEAMS, chosen_start, chosen_end),
            html.Div(id=ids.DASHBOARD_MESSAGE),
            dcc.Loading(html.Div(id=ids.DASHBOARD_KPIS), type="dot"),
        ]
    )
