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


def format_point_change(current: float, previous: float) -> tuple[str, str]:
    """Text and colour for the change of a rate (a share of 0..1), in percentage points: 74.4% -> 75.6%
    is "▲ 1.2 pp", not a relative 1.7%."""
    points = (float(current) - float(previous)) * 100
    if abs(points) < 0.05:
        return "0.0 pp", "text-muted"
    arrow, colour = ("▲", "text-success") if points > 0 else ("▼", "text-danger")
    return f"{arrow} {abs(points):,.1f} pp", colour


def info_tip(element_id: str, name: str, definition: str) -> list:
    """An "i" that shows `definition` on hover and on keyboard focus (a tab stop, read out as its name)."""
    badge = html.Span(
        "i", id=element_id, tabIndex=0, role="button",
        className="badge rounded-pill text-bg-primary text-lowercase ms-1",
        style={"cursor": "help", "fontFamily": "Georgia, serif", "fontStyle": "italic"},
        **{"aria-label": f"What {name} means"},
    )  # fmt: skip
    tooltip = dbc.Tooltip(definition, target=element_id, placement="bottom", id=f"{element_id}-text",
                          style={"--bs-tooltip-max-width": "340px", "textAlign": "left"})  # fmt: skip
    return [badge, tooltip]


def kpi_card(
    title: str,
    value: str,
    change: tuple[str, str],
    card_id: str,
    note: str | None = None,
    compared: str = "vs previous period",
    definition: str | None = None,
) -> dbc.Card:
    """A KPI: title (with its definition behind an "i"), value, its change and what that compares."""
    text, colour = change
    heading = [title, *info_tip(f"{card_id}-info", title, definition)] if definition else title
    lines = [
        html.Div(heading, className="text-muted small text-uppercase"),
        html.Div(value, className="fs-3 fw-semibold", id=f"{card_id}-value"),
        html.Div([html.Span(text, className=colour, id=f"{card_id}-change"), " ",
                  html.Span(compared, id=f"{card_id}-compared")], className="small"),
    ]  # fmt: skip
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
    return dbc.Card([dbc.CardHeader(header, className="bg-white"), dbc.CardBody(body)], className="h-100")


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
