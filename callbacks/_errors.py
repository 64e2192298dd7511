"""When a callback fails unexpectedly: log it, and tell the person instead of leaving a blank frame."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import set_props
from flask import current_app

from layouts import ids
from queries.db import DataFolderError

MESSAGE = (
    "Part of this page could not be loaded. The error has been logged; try again, or choose another period. "
    "If it keeps happening, tell your administrator."
)


def show_callback_error(error: Exception) -> None:
    """Dash's `on_error`: the failed callback's outputs stay as they were; this alert says why.

    A file of the data folder that cannot be read is named (every page would fail the same way until
    someone replaces or removes it); anything else gets the general message, the details go to the log.
    """
    current_app.logger.error("callback failed: %r", error, exc_info=error)
    text = f"{error}. Tell your administrator." if isinstance(error, DataFolderError) else MESSAGE
    set_props(ids.SHELL_ERROR, {"children": dbc.Alert(text, color="danger", dismissable=True, className="my-2")})
