"""Pieces shared by every tab: period filter, KPI card, messages and number formats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dash_bootstrap_components as dbc
from dash import dcc, html


def format_count(value: int) -> str:
    return f"{value:,}"


def format_usd(value: Decimal) -> str:
    """Money at the edge: exact decimal in, dollars and cents out (half-up, like an invoice)."""
    cents = Decimal(value).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    return f"${cents:,.2f}"


def format_change(current: float, previous: float) -> tuple[str, str]:
    """Text and Bootstrap colour for the change against the previous period."""
    if previous == 0:
        return ("new", "text-muted") if current else ("no change", "text-muted")
    change = (float(current) - float(previous)) / float(previous) * 100
    if abs(change) < 0.05:
        return "0.0%", "text-muted"
    arrow, colour = ("▲", "text-success") if change > 0 else ("▼", "text-danger")
    return f"{arrow} {abs(change):.1f}%", colour


def kpi_card(title: str, value: str, change: tuple[str, str], card_id: str) -> dbc.Card:
    text, colour = change
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(title, className="text-muted small text-uppercase"),
                html.Div(value, className="fs-3 fw-semibold", id=f"{card_id}-value"),
                html.Div([html.Span(text, className=colour), " vs previous period"], className="small"),
            ]
        ),
        id=card_id,
        className="h-100",
    )


def message(text: str, colour: str = "warning") -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="my-2")


def period_filter(start_id: str, end_id: str, teams_id: str, start: dt.date, end: dt.date) -> dbc.Row:
    """Date range and team filter; team options are filled by the server from the viewer's scope."""
    return dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("From", html_for=start_id, className="small mb-0"),
                    dcc.Input(
                        id=start_id, type="date", value=start.isoformat(), className="form-control", debounce=True
                    ),
                ],
                md=2,
            ),
            dbc.Col(
                [
                    dbc.Label("To", html_for=end_id, className="small mb-0"),
                    dcc.Input(id=end_id, type="date", value=end.isoformat(), className="form-control", debounce=True),
                ],
                md=2,
            ),
            dbc.Col(
                [
                    dbc.Label("Teams", html_for=teams_id, className="small mb-0"),
                    dcc.Dropdown(id=teams_id, multi=True, placeholder="All teams in your scope"),
                ],
                md=5,
            ),
        ],
        className="g-3 mb-3 align-items-end",
    )
