"""Pieces shared by every tab: period filter, KPI card, messages and number formats."""

from __future__ import annotations

from decimal import Decimal

import dash_bootstrap_components as dbc
from dash import dcc, html


def format_count(value: int) -> str:
    return f"{value:,}"


def format_usd(value: Decimal) -> str:
    """Money at the edge: exact decimal in, dollars and cents out (half-up, like an invoice)."""
    cents = Decimal(value).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    return f"${cents:,.2f}"


def format_change(current: float, previous: float, up_is_good: bool = True) -> tuple[str, str]:
    """Text and Bootstrap colour for the change against the previous period; costs pass up_is_good=False."""
    if previous == 0:
        return ("new", "text-muted") if current else ("no change", "text-muted")
    change = (float(current) - float(previous)) / float(previous) * 100
    if abs(change) < 0.05:
        return "0.0%", "text-muted"
    good, bad = ("text-success", "text-danger") if up_is_good else ("text-danger", "text-success")
    arrow, colour = ("▲", good) if change > 0 else ("▼", bad)
    return f"{arrow} {abs(change):,.1f}%", colour


def kpi_card(title: str, value: str, change: tuple[str, str], card_id: str, note: str | None = None) -> dbc.Card:
    text, colour = change
    lines = [
        html.Div(title, className="text-muted small text-uppercase"),
        html.Div(value, className="fs-3 fw-semibold", id=f"{card_id}-value"),
        html.Div([html.Span(text, className=colour, id=f"{card_id}-change"), " vs previous period"], className="small"),
    ]
    if note:
        lines.append(html.Div(note, className="small text-muted"))
    return dbc.Card(dbc.CardBody(lines), id=card_id, className="h-100")


def format_percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def message(text: str, colour: str = "warning") -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="my-2")


def section(title: str, body, subtitle: str | None = None) -> dbc.Card:
    """A titled card around a chart or table."""
    header = [html.Div(title, className="fw-semibold")]
    if subtitle:
        header.append(html.Div(subtitle, className="text-muted small"))
    return dbc.Card([dbc.CardHeader(header, className="bg-body"), dbc.CardBody(body)], className="h-100")


def loading_graph(graph_id: str, height: int = 260) -> dcc.Loading:
    """A chart area with a spinner while its callback runs."""
    graph = dcc.Graph(id=graph_id, config={"displaylogo": False, "responsive": True}, style={"height": f"{height}px"})
    return dcc.Loading(graph, type="dot")


def number_column(field: str, header: str, **extra) -> dict:
    """An AG Grid column sorted on the number and shown as the server formatted it (`<field>_text`)."""
    return {
        "field": field,
        "headerName": header,
        "type": "rightAligned",
        "valueFormatter": {"function": f"params.data.{field}_text"},
        "sortingOrder": ["desc", "asc", None],
        "flex": 1,
        "minWidth": 100,
        **extra,
    }
