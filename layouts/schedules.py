"""Schedules page: the scheduled reports a person may change (an Admin: everyone's), with their last and next
runs; Send now, Pause/Resume, Edit and Delete on each. The rows come from callbacks/schedules.py."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts._schedule_form import schedule_fields, scope_note
from reports.request import FORMATS
from reports.tables import POINTS


def _editor() -> dbc.Modal:
    """Edit: the data points, format, period, cadence, time and recipients (the teams and agents stay)."""
    points = dbc.Checklist(
        id=ids.SCHEDULES_EDITOR_POINTS, options=[{"label": title, "value": key} for key, (title, _b) in POINTS.items()],
        value=[], style={"columnCount": 2},
    )  # fmt: skip
    fmt = dbc.RadioItems(
        id=ids.SCHEDULES_EDITOR_FORMAT, options=[{"label": v, "value": k} for k, v in FORMATS.items()], value="pdf"
    )
    body = dbc.ModalBody(
        [
            scope_note(ids.SCHEDULES_EDITOR_SCOPE),
            html.Div(
                [dbc.Label("Data points", html_for=ids.SCHEDULES_EDITOR_POINTS, className="fw-semibold mb-1"), points],
                className="mb-2",
            ),  # fmt: skip
            html.Div(
                [dbc.Label("Format", html_for=ids.SCHEDULES_EDITOR_FORMAT, className="fw-semibold mb-1"), fmt],
                className="mb-2",
            ),  # fmt: skip
            *schedule_fields(
                ids.SCHEDULES_EDITOR_PERIOD,
                ids.SCHEDULES_EDITOR_CADENCE,
                ids.SCHEDULES_EDITOR_AT,
                ids.SCHEDULES_EDITOR_TO,
            ),  # fmt: skip
            html.Div(id=ids.SCHEDULES_EDITOR_FEEDBACK, role="alert", className="small text-danger"),
        ]
    )
    footer = dbc.ModalFooter(
        [
            dbc.Button("Cancel", id=ids.SCHEDULES_EDITOR_CANCEL, color="secondary", outline=True),
            dbc.Button("Save changes", id=ids.SCHEDULES_EDITOR_SAVE, color="primary"),
        ]
    )
    header = dbc.ModalHeader(dbc.ModalTitle("Edit schedule", id=ids.SCHEDULES_EDITOR_TITLE))
    return dbc.Modal([header, body, footer], id=ids.SCHEDULES_EDITOR, labelledby=ids.SCHEDULES_EDITOR_TITLE,
                     is_open=False, size="lg", backdrop="static")  # fmt: skip


def _confirm() -> dbc.Modal:
    title = "Delete schedule?"
    footer = dbc.ModalFooter(
        [
            dbc.Button("Keep it", id=ids.SCHEDULES_CONFIRM_CANCEL, color="secondary", outline=True),
            dbc.Button("Delete", id=ids.SCHEDULES_CONFIRM_DELETE, color="danger"),
        ]
    )
    return dbc.Modal(
        [dbc.ModalHeader(dbc.ModalTitle(title)), dbc.ModalBody(id=ids.SCHEDULES_CONFIRM_TEXT), footer],
        id=ids.SCHEDULES_CONFIRM, is_open=False, backdrop="static",
    )  # fmt: skip


def layout(**query: str) -> html.Div:
    intro = html.P(
        [
            "Reports sent by email on a cadence, each made in its owner's scope at every run. Add one from ",
            html.Strong("Generate Report › Schedule…"),
            " on any tab.",
        ],
        className="text-muted",
    )
    return html.Div(
        [
            html.H1("Scheduled reports", className="h4"),
            intro,
            dcc.Store(id=ids.SCHEDULES_QUERY, data=query),
            dcc.Store(id=ids.SCHEDULES_PENDING),
            dcc.Store(id=ids.SCHEDULES_EDITOR_ID),
            html.Div(id=ids.SCHEDULES_FEEDBACK, role="status"),
            dcc.Loading(html.Div(id=ids.SCHEDULES_TABLE), type="dot"),
            _editor(),
            _confirm(),
        ],
        id="schedules-page",
    )
