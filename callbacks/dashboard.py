"""Dashboard tab: period and team filter in, KPI cards out."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output
from flask import current_app

from auth.scope import current_scope
from layouts import ids
from layouts._components import format_change, format_count, format_usd, kpi_card, message
from queries import directory, usage
from queries.period import PeriodError, parse_period


def update_team_options(_start: str | None) -> list[dict]:
    """Only the teams the viewer may see; the server decides, not the browser."""
    teams = directory.teams_in_scope(current_scope())
    return [{"label": row["name"], "value": row["team_id"]} for row in teams.iter_rows(named=True)]


def update_kpis(start: str | None, end: str | None, teams: list[str] | None) -> tuple:
    try:
        period = parse_period(start, end, current_app.config["ORG_TIMEZONE"])
    except PeriodError as error:
        return message(str(error)), None
    scope = current_scope().narrow(teams)
    now = usage.summary(period, scope).row(0, named=True)
    before = usage.summary(period.previous(), scope).row(0, named=True)
    cards = [
        ("Total interactions", format_count(now["interactions"]), "interactions", "dashboard-kpi-interactions"),
        ("Active users", format_count(now["active_users"]), "active_users", "dashboard-kpi-active-users"),
        ("Cost (USD)", format_usd(now["cost_usd"]), "cost_usd", "dashboard-kpi-cost"),
    ]
    row = dbc.Row(
        [
            dbc.Col(kpi_card(title, value, format_change(now[key], before[key]), card_id), md=4)
            for title, value, key, card_id in cards
        ],
        className="g-3",
    )
    note = None if now["interactions"] else message("No interactions in this period.", "info")
    return note, row


def register_callbacks(app: dash.Dash) -> None:
    app.callback(Output(ids.DASHBOARD_TEAMS, "options"), Input(ids.DASHBOARD_START, "id"))(update_team_options)
    app.callback(
        Output(ids.DASHBOARD_MESSAGE, "children"),
        Output(ids.DASHBOARD_KPIS, "children"),
        Input(ids.DASHBOARD_START, "value"),
        Input(ids.DASHBOARD_END, "value"),
        Input(ids.DASHBOARD_TEAMS, "value"),
    )(update_kpis)
