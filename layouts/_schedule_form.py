"""A schedule's fields: relative period, cadence, local time and recipients. In the Generate Report dialog
("Schedule…") and the Schedules page's Edit dialog; components only, the server checks what is sent."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from layouts import ids
from reports.schedules import PERIODS, WEEKDAYS

DEFAULT_PERIOD = "last_week"
DEFAULT_CADENCE = "weekly:mon"
DEFAULT_AT = "08:00"
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def period_label(key: str) -> str:
    """Last week: the last whole week, Monday to Sunday (reports/schedules.py names and says each)."""
    return f"{key.replace('_', ' ').capitalize()}: {PERIODS[key]}"


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def cadence_label(text: str) -> str:
    """daily, weekly:mon, monthly:31 in words."""
    every, _, day = text.partition(":")
    if every == "weekly":
        return f"Every {DAY_NAMES[WEEKDAYS.index(day)]}"
    if every == "monthly":
        last = " (or the month's last day)" if int(day) > 28 else ""
        return f"Monthly on the {_ordinal(int(day))}{last}"
    return "Every day"


def cadence_options() -> list[dict]:
    """One list: every day, each weekday, each day of the month (the value is the cadence as the CLI takes it)."""
    values = ["daily", *(f"weekly:{day}" for day in WEEKDAYS), *(f"monthly:{day}" for day in range(1, 32))]
    return [{"label": cadence_label(value), "value": value} for value in values]


def _field(label: str, control, width: int, help_text: str | None = None) -> dbc.Col:
    parts = [dbc.Label(label, html_for=control.id, className="fw-semibold mb-1"), control]
    if help_text:
        parts.append(dbc.FormText(help_text))
    return dbc.Col(parts, md=width)


def schedule_fields(period_id: str, cadence_id: str, at_id: str, to_id: str) -> list:
    """The period, cadence and time on one row, the recipients below."""
    period = dbc.Select(
        id=period_id, value=DEFAULT_PERIOD, options=[{"label": period_label(key), "value": key} for key in PERIODS]
    )
    cadence = dbc.Select(id=cadence_id, value=DEFAULT_CADENCE, options=cadence_options())
    at = dbc.Input(id=at_id, value=DEFAULT_AT, type="text", inputMode="numeric", maxLength=5, placeholder="08:00")
    to = dbc.Textarea(id=to_id, rows=2, placeholder="board@example.com, cfo@example.com")
    return [
        dbc.Row(
            [
                _field("Period of each report", period, 6),
                _field("Send", cadence, 4),
                _field("At (HH:MM)", at, 2),
            ],
            className="g-2 mb-2",
        ),
        dbc.Row(_field("Send to", to, 12, "Email addresses, separated by commas or new lines."), className="mb-2"),
    ]


def scope_note(note_id: str) -> html.Div:
    """What the schedule's report covers and the time zone of its times (filled by the callback)."""
    return html.Div(id=note_id, className="small text-muted mb-2")


def dialog_section() -> dbc.Collapse:
    """The Generate Report dialog's "Schedule…": its data points and format (above) sent on a cadence."""
    save = dbc.Button("Save schedule", id=ids.REPORT_SCHEDULE_SAVE, color="primary", className="mt-1")
    body = dbc.CardBody(
        [
            html.H2("Send this report by email on a schedule", className="h6"),
            scope_note(ids.REPORT_SCHEDULE_SCOPE),
            *schedule_fields(
                ids.REPORT_SCHEDULE_PERIOD, ids.REPORT_SCHEDULE_CADENCE, ids.REPORT_SCHEDULE_AT, ids.REPORT_SCHEDULE_TO
            ),  # fmt: skip
            save,
            html.Div(id=ids.REPORT_SCHEDULE_FEEDBACK, role="status", className="small mt-2"),
        ]
    )
    return dbc.Collapse(dbc.Card(body, className="bg-body-tertiary"), id=ids.REPORT_SCHEDULE_SECTION, is_open=False)
