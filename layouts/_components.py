"""Pieces shared by every tab: period filter, KPI card, messages and number formats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dash_bootstrap_components as dbc
from dash import dcc, html

# One date style on every tab, "3 Mar 2026": these strftime patterns read the same in Python, Polars,
# Plotly's axes and hovers (d3-time-format), so cards, grids and charts all take them from here.
DAY = "%-d %b %Y"
DAY_TIME = "%-d %b %Y %H:%M"
DAY_TICK = "%-d %b"  # an axis of days: the year is in the hover
DAY_HOVER = "%a %-d %b %Y"
WEEK_HOVER = "Week of %-d %b %Y"
MONTH = "%b %Y"
MONTH_HOVER = "%B %Y"


def format_count(value: int) -> str:
    return f"{value:,}"


def format_day(day: dt.date) -> str:
    """A local date as every tab writes it: 3 Mar 2026."""
    return day.strftime(DAY)


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
    return dbc.Card([dbc.CardHeader(header, className="bg-white"), dbc.CardBody(body)], className="h-100")


def loading_graph(graph_id: str, height: int = 260) -> dcc.Loading:
    """A chart area with a spinner while its callback runs."""
    graph = dcc.Graph(id=graph_id, config={"displaylogo": False, "responsive": True}, style={"height": f"{height}px"})
    return dcc.Loading(graph, type="dot")


def grid_overlays(empty: str) -> dict:
    """AG Grid options for the product's own loading and empty texts instead of AG Grid's "No Rows To Show".
    Text, not AG Grid's HTML templates: dash-ag-grid refuses those (they are markup it would evaluate), and
    AG Grid reads these once, when the grid starts; what depends on the period is said beside the grid."""
    return {"localeText": {"loadingOoo": "Loading…", "noRowsToShow": empty}}


def loading_placeholder(height: int | None = None) -> html.Div:
    """What a table's place says while it loads, instead of a blank card (dcc.Loading's dots alone, small
    and pale in the middle of an empty card, read as nothing there)."""
    return html.Div(
        [html.Span(className="spinner-border spinner-border-sm me-2", **{"aria-hidden": "true"}), "Loading…"],
        className="d-flex align-items-center justify-content-center text-secondary telemetry-loading",
        style={"height": f"{height}px"} if height else {},
        role="status",
    )


def loading_table(table) -> dcc.Loading:
    """A grid or table that says "Loading…" while its callback runs, from the first paint on."""
    return dcc.Loading(table, custom_spinner=loading_placeholder())


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
