"""The Generate Report dialog: data points, period, grain and format; Generate downloads the file."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts._schedule_form import dialog_section
from reports.request import FORMATS
from reports.tables import POINTS

DEFAULT_POINTS = ["summary", "usage_over_time", "by_agent", "by_team"]
GRAIN_CHOICES = {"auto": "Fits the period", "day": "Daily", "week": "Weekly", "month": "Monthly"}


def report_button() -> dbc.Button:
    return dbc.Button("Generate Report", id=ids.REPORT_OPEN, color="primary", size="sm", className="me-3")


def _field(label: str, control, control_id: str) -> html.Div:
    return html.Div([dbc.Label(label, html_for=control_id, className="fw-semibold mb-1"), control], className="mb-3")


def report_dialog() -> html.Div:
    points = dbc.Checklist(
        id=ids.REPORT_POINTS,
        options=[{"label": title, "value": key} for key, (title, _build) in POINTS.items()],
        value=DEFAULT_POINTS,
        className="report-points",
        style={"columnCount": 2},
    )
    period = dcc.Dropdown(id=ids.REPORT_PERIOD, clearable=False, searchable=False)
    grain = dbc.RadioItems(
        id=ids.REPORT_GRAIN, options=[{"label": v, "value": k} for k, v in GRAIN_CHOICES.items()], value="auto",
        inline=True,
    )  # fmt: skip
    fmt = dbc.RadioItems(
        id=ids.REPORT_FORMAT, options=[{"label": v, "value": k} for k, v in FORMATS.items()], value="xlsx",
    )  # fmt: skip
    body = dbc.ModalBody(
        [
            html.P("Choose the data points and the period, then Generate to download the file.",
                   className="text-muted"),
            _field("Data points", points, ids.REPORT_POINTS),
            _field("Period", period, ids.REPORT_PERIOD),
            _field("Time series grain", grain, ids.REPORT_GRAIN),
            _field("Format", fmt, ids.REPORT_FORMAT),
            html.Div(id=ids.REPORT_REASON, className="text-danger small mb-2"),
            dbc.Progress(id=ids.REPORT_PROGRESS, value=0, striped=True, animated=True, className="mb-1",
                         style={"visibility": "hidden"}),  # fmt: skip
            html.Div(id=ids.REPORT_STATUS, className="small text-muted"),
            dialog_section(),
        ]
    )
    footer = dbc.ModalFooter(
        [
            dbc.Button("Close", id=ids.REPORT_CLOSE, color="secondary", outline=True),
            # Danger, not warning: the warning outline is yellow on white (1.6:1), unreadable.
            dbc.Button("Cancel", id=ids.REPORT_CANCEL, color="danger", outline=True, style={"display": "none"}),
            dbc.Button("Schedule…", id=ids.REPORT_SCHEDULE_OPEN, color="secondary", outline=True),
            dbc.Button("Generate", id=ids.REPORT_GENERATE, color="primary", disabled=True),
        ]
    )
    return html.Div(
        [
            dbc.Modal([dbc.ModalHeader(dbc.ModalTitle("Generate Report", id=ids.REPORT_TITLE)), body, footer],
                      id=ids.REPORT_DIALOG, labelledby=ids.REPORT_TITLE, is_open=False, size="lg",
                      backdrop="static"),  # fmt: skip
            dcc.Store(id=ids.REPORT_TICKET),
            dcc.Download(id=ids.REPORT_DOWNLOAD),
            dcc.Store(id=ids.REPORT_SCHEDULE_SAVED),
        ]
    )
