"""Callback wiring, one module per page; `register_all` is called by the app factory."""

from __future__ import annotations

import dash

from callbacks import dashboard, shell


def register_all(app: dash.Dash) -> None:
    shell.register_callbacks(app)
    dashboard.register_callbacks(app)
