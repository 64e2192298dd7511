"""Callback wiring, one module per page; `register_all` is called by the app factory."""

from __future__ import annotations

from collections.abc import Callable

import dash
from flask import Flask

from callbacks import (
    adoption,
    analytics,
    billing,
    budgets,
    charts,
    dashboard,
    report,
    report_schedule,
    schedules,
    shell,
    users,
)
from callbacks._figures import use_house_template
from callbacks._tab import with_tab_data


def register_all(app: dash.Dash, make_app: Callable[..., Flask]) -> None:
    """Every page's callbacks; `make_app` is the app factory, for the report jobs' own processes."""
    use_house_template()
    shell.register_callbacks(app)
    dashboard.register_callbacks(app)
    analytics.register_callbacks(app)
    users.register_callbacks(app)
    adoption.register_callbacks(app)
    billing.register_callbacks(app)
    budgets.register_callbacks(app)
    report.register_callbacks(app, make_app)
    charts.register_callbacks(app)
    schedules.register_callbacks(app)
    report_schedule.register_callbacks(app)
    with_tab_data(dash.page_registry)  # after the tabs registered their parts
