"""Budgets and alerts: spend limits per organization, team and agent, and notices that arrive once."""

from __future__ import annotations

import click
from flask import Flask

from alerts import cli
from alerts.store import AlertStore


def init_app(app: Flask, serving: bool = False) -> None:
    """The store and the commands; in a serving process with TELEMETRY_ALERTS_EVERY set, the checker thread."""
    app.extensions["telemetry_alerts"] = AlertStore(app.config["ACCOUNTS_DB"])
    for command in cli.COMMANDS:
        app.cli.add_command(command)
    # Not in a `flask …` command (it runs inside a click context): those end, a server keeps checking.
    if serving and app.config["ALERTS_EVERY_SECONDS"] > 0 and click.get_current_context(silent=True) is None:
        from alerts.schedule import Checker

        Checker(app, app.config["ALERTS_EVERY_SECONDS"]).start()
