"""Pieces shared by every tab: period filter, KPI card, messages and number formats."""

from __future__ import annotations

import json
from decimal import Decimal

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from layouts import ids
from reports.chart_style import PLOTLY_CONFIG
from reports.formats import DAY, format_dates, format_day, no_data_before, point_change, relative_change  # noqa: F401 (shared)

# Every chart's Plotly config: no mode bar (reports/chart_style.py says why; its buttons also took most of
# a tab's tab stops). The card's menu (chart_menu) offers the PNG and the data instead.
GRAPH_CONFIG = {**PLOTLY_CONFIG, "responsive": True}

# One date style on every tab, "3 Mar 2026": these strftime patterns read the same in Python, Polars,
# Plotly's axes and hovers (d3-time-format), so cards, grids and charts all take them from here.
# DAY itself (and format_day) is in reports/formats.py, shared with the report files.
DAY_PICKER = "D MMM YYYY"  # DAY in the date range's tokens (Dash's, moment-style): it shows "3 Mar 2026"
DAY_TIME = "%-d %b %Y %H:%M"
DAY_TICK = "%-d %b"  # an axis of days: the year is in the hover
DAY_HOVER = "%a %-d %b %Y"
WEEK_HOVER = "Week of %-d %b %Y"
MONTH = "%b %Y"
MONTH_HOVER = "%B %Y"
TABLE_COLUMN = ("field", "header", "title", "sort")  # what the browser reads of a plain_table's column


def format_count(value: int) -> str:
    return f"{value:,}"


def format_usd(value: Decimal) -> str:
    """Money at the edge: exact decimal in, dollars and cents out (half-up, like an invoice)."""
    cents = Decimal(value).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    return f"${cents:,.2f}"


def format_change(current: float, previous: float, up_is_good: bool = True) -> tuple[str, str]:
    """Text and Bootstrap colour for the change against the previous period; costs pass up_is_good=False."""
    text, direction = relative_change(current, previous)
    if not direction:
        return text, "text-muted"
    good, bad = ("text-success", "text-danger") if up_is_good else ("text-danger", "text-success")
    return text, good if direction > 0 else bad


def format_point_change(current: float, previous: float) -> tuple[str, str]:
    """Text and colour for the change of a rate (a share of 0..1), in percentage points: 74.4% -> 75.6%
    is "▲ 1.2 pp", not a relative 1.7%."""
    text, direction = point_change(current, previous)
    return text, {1: "text-success", -1: "text-danger"}.get(direction, "text-muted")


def info_tip(element_id: str, name: str, definition: str, label: str | None = None) -> html.Span:
    """An "i" that shows `definition` on hover and on keyboard focus (a tab stop, read out as its name, "What
    <name> means" unless `label`): ONE component, whose tooltip the browser draws (assets/tips.js says why)."""
    return html.Span(
        "i", id=element_id, tabIndex=0, role="button",
        className="badge rounded-pill text-bg-primary text-lowercase ms-1 telemetry-tip",
        **{"aria-label": label or f"What {name} means", "data-tip": definition},
    )  # fmt: skip


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
    heading = [title, info_tip(f"{card_id}-info", title, definition)] if definition else title
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


def section(title: str, body, subtitle: str | None = None, chart: str | None = None, title_id: str | None = None):
    """A titled card around a chart or table; with `chart` (the graph's id), the chart's download menu."""
    header = [html.Div(title, className="fw-semibold", **({"id": title_id} if title_id else {}))]
    if subtitle:
        header.append(html.Div(subtitle, className="text-muted small"))
    if chart:
        header = [html.Div(header), chart_menu(chart, title)]
    header_class = "bg-body d-flex justify-content-between align-items-start gap-2" if chart else "bg-body"
    return dbc.Card([dbc.CardHeader(header, className=header_class), dbc.CardBody(body)], className="h-100")


def chart_section(
    title: str, graph_id: str, height: int = 260, subtitle: str | None = None, below_fold: bool = False
) -> dbc.Card:
    """A card of one chart, with its download menu; `below_fold`: drawn once in view (`graph_in_view`)."""
    body = graph_in_view(graph_id, height) if below_fold else loading_graph(graph_id, height)
    return section(title, body, subtitle, chart=graph_id)


def chart_menu(graph_id: str, title: str) -> html.Div:
    """A chart card's menu, the chart as a PNG (drawn in the browser) and its data as CSV (from the server): ONE
    component, which the browser makes a menu button (assets/charts.js says why)."""
    return html.Div(id={"type": ids.CHART_MENU, "chart": graph_id}, className="telemetry-chart-menu flex-shrink-0",
                    **{"data-chart": graph_id, "data-title": title})  # fmt: skip


def graph(graph_id: str, height: int = 260, figure: dict | None = None) -> dcc.Graph:
    """A chart of a tab: no mode bar, drawn to its card's width and `height` px high."""
    return dcc.Graph(id=graph_id, config=GRAPH_CONFIG, style={"height": f"{height}px"},
                     **({"figure": figure} if figure is not None else {}))  # fmt: skip


def loading_graph(graph_id: str, height: int = 260) -> dcc.Loading:
    """A chart area with a spinner while its callback runs, as high as its chart from the first drawing on: until
    dcc.Graph's script has come (a fresh load) the chart is not in the page, and the page below it was drawn that
    much higher, so a place below the fold could count as in view (assets/in_view.js) and the page jumped."""
    return dcc.Loading(graph(graph_id, height), type="dot", parent_style={"minHeight": f"{height}px"})


def graph_in_view(graph_id: str, height: int = 260) -> dcc.Loading:
    """A chart below the fold, drawn only once its place is in view, as the grids are (`in_view`): Plotly's
    drawing of the charts nobody had scrolled to was a large share of a tab switch. Its callback answers the
    whole chart, `graph(graph_id, height, figure)`, into the place's store (callbacks/_common.py `in_view_chart`)."""
    place = ids.chart_place(graph_id)
    return loading_table(html.Div(in_view(place, loading_placeholder(height), height)))


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
        className="d-flex align-items-center justify-content-center text-body-secondary telemetry-loading",
        style={"height": f"{height}px"} if height else {},
        role="status",
    )


def in_view(place_id: str, placeholder, height: int, part=None) -> list:
    """A place whose part (`part`, or one a callback puts into the store `in_view_store(place_id)`) is put in only
    once the place scrolls into view (assets/in_view.js says why); until then it shows `placeholder`."""
    place = html.Div(placeholder, id=place_id, className="telemetry-in-view", style={"minHeight": f"{height}px"})
    # a store's data is JSON: a component as Dash sends one (a callback's output is turned into it the same way)
    data = part.to_plotly_json() if isinstance(part, Component) else part
    return [place, dcc.Store(id=ids.in_view_store(place_id), data=data)]


def loading_table(table) -> dcc.Loading:
    """A grid or table that says "Loading…" while its callback runs, from the first paint on."""
    return dcc.Loading(table, custom_spinner=loading_placeholder())


def plain_table(
    table_id: str,
    caption: str,
    columns: list[dict],
    rows: list[dict],
    *,
    height: int,
    empty: str,
    store: str | None = None,
    total: dict | None = None,
) -> html.Div:
    """A small sortable table in ONE component, drawn by the browser (assets/tables.js says why).

    `columns`: dicts of `field`, `header`, and optionally `title` (the header's tooltip), `detail` (the field
    holding each cell's tooltip), `tone` (the field holding each cell's Bootstrap text colour class, or None)
    and `sort` (the column sorted on at first, from the largest). Each row holds its numbers to sort on and,
    beside each, the text to show (`<field>_text`; the first column shows its value). With `store`, a row's name
    is a button whose click or Enter puts `{"data": {"key": <row's key>}}` into it. `total`: a row of the same
    fields kept under the others whatever the order (a table's sum).
    """

    def entry(row: dict, column: dict, first: bool) -> list:
        field = column["field"]
        text = row[field] if first else row[f"{field}_text"]
        cell = [text, row[field], row[column["detail"]] if column.get("detail") else None]
        return [*cell, row[column["tone"]] or None] if column.get("tone") else cell

    spec = {
        "caption": caption,
        "height": height,
        "empty": empty,
        "store": store,
        "columns": [{key: column[key] for key in TABLE_COLUMN if column.get(key)} for column in columns],
        "rows": [{"key": row.get("key"),
                  "cells": [entry(row, column, not index) for index, column in enumerate(columns)]} for row in rows],
    }  # fmt: skip
    if total is not None:
        spec["total"] = [entry(total, column, not index) for index, column in enumerate(columns)]
    return html.Div(id=table_id, className="telemetry-table", **{"data-table": json.dumps(spec, separators=(",", ":"))})

