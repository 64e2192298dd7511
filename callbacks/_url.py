"""Choices made on a page that the URL keeps (a link reproduces the view)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import dash
from dash import ClientsideFunction, Input, Output, State

from layouts import ids


def keep_in_url(app: dash.Dash, store: str, writers: Iterable[tuple[Callable, Input]]) -> None:
    """Each writer turns its trigger and the URL's query string into the new query string.

    The new one goes into a store of the page, not the shell's location: a callback whose output is
    outside the page would fire, with nothing clicked, each time the page is drawn (one request per
    writer). The browser then passes it on to the location (assets: `passSearchOn`).
    """
    search = State(ids.SHELL_LOCATION, "search")
    for writer, trigger in writers:
        app.callback(Output(store, "data", allow_duplicate=True), trigger, search, prevent_initial_call=True)(writer)
    app.clientside_callback(
        ClientsideFunction("telemetry", "passSearchOn"),
        Output(ids.SHELL_LOCATION, "search", allow_duplicate=True),
        Input(store, "data"),
        prevent_initial_call=True,
    )
