"""What every tab's callbacks share: the URL's filters, in the viewer's scope."""

from __future__ import annotations

import functools
from collections.abc import Callable

from dash import ClientsideFunction, Input, Output, State
from flask import current_app

from auth.scope import current_scope
from layouts import ids
from layouts._components import format_day, graph
from queries import usage
from queries.filters import Filters, default_period, parse_filters
from queries.period import Period


def org_timezone() -> str:
    return current_app.config["ORG_TIMEZONE"]


def page_filters(query: dict | None, default: Period | None = None, read_grain: bool = False) -> Filters:
    """Filters from the page's query (untrusted), in the viewer's scope, decided on the server.

    Without dates the period is `default` (else the one every tab opens on); only a tab with a grain
    control reads `grain` from the URL. Raises PeriodError (its message is for the user) when the period
    is malformed or backwards, or the query is not what a page sends (not a mapping, ids that are not
    text): the browser is not trusted.
    """
    tz = org_timezone()
    return parse_filters(query or {}, current_scope(), tz, default=default or default_period(tz), read_grain=read_grain)


def empty_period(filters: Filters, nothing: str = "No interactions in this period.") -> str:
    """What a tab says for a period with nothing in it, and where its data are (they may start later)."""
    bounds = usage.data_bounds(filters.scope, filters.period.tz).row(0, named=True)
    first, last = bounds["first_day"], bounds["last_day"]
    if first is None:
        return f"{nothing} There are no data in your scope yet."
    if filters.period.end < first:
        return f"{nothing} Data start on {format_day(first)}."
    if filters.period.start > last:
        return f"{nothing} The latest data are from {format_day(last)}."
    return nothing


def register_in_view(app, place_id: str) -> None:
    """Put a place's part (layouts._components.in_view) in once the place is in view, in the browser."""
    app.clientside_callback(
        ClientsideFunction("inView", "show"),
        Output(place_id, "children"),
        Input(ids.in_view_store(place_id), "data"),
        State(place_id, "id"),
    )


def in_view_chart(update: Callable, graph_id: str, height: int, at: int | None = None) -> Callable:
    """A tab's part for a chart drawn once in view (layouts._components.graph_in_view): `update`'s figure (its
    output `at`, when it answers several) as the whole chart, for the place's store; `update` stays as it is."""

    @functools.wraps(update)
    def part(*args):
        answer = update(*args)
        if at is None:
            return graph(graph_id, height, answer)
        return (*answer[:at], graph(graph_id, height, answer[at]), *answer[at + 1 :])

    part.__qualname__ = f"{update.__qualname__}.in_view"  # its own kept output (callbacks._memo keys by name)
    return part


def register_charts_in_view(app, *graph_ids: str) -> None:
    """Each chart's place filled once in view (`register_in_view`)."""
    for graph_id in graph_ids:
        register_in_view(app, ids.chart_place(graph_id))
