"""Generate Report's "Schedule…": the dialog's data points and format, and its teams and agents (the view on
screen when "As shown" is the period chosen), sent by email over a relative period on a cadence.

Saved in the signed-in person's name, checked and audited by the functions `schedule-add` uses
(reports/schedule_changes.py); a problem is said under the form and every field keeps what was typed.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, html, no_update
from flask import request

from auth.store import utcnow
from callbacks._common import org_timezone
from callbacks.report import SHOWN, chosen_filters
from callbacks.schedules import NOT_ALLOWED, local_time, scope_words, viewer
from layouts import ids
from layouts._schedule_form import cadence_label
from queries.period import PeriodError
from reports import schedule_changes as changes

SCHEDULES_PATH = "/telemetry/schedules"


def toggle_schedule_section(clicks: int | None, is_open: bool | None) -> bool:
    return not is_open if clicks else bool(is_open)


def _asked(choice: object, search: str | None, pathname: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The teams and agents of the dialog's report: the view's with "As shown", else none (the whole scope)."""
    if choice != SHOWN:
        return (), ()
    filters = chosen_filters(SHOWN, "auto", search, org_timezone(), pathname)
    return filters.teams, filters.agents


def update_schedule_scope(is_open: bool, choice: object, search: str | None, pathname: str | None = None) -> str:
    """What the schedule will send, in words, with the time zone of its time."""
    if not is_open:
        return no_update
    try:
        teams, agents = _asked(choice, search, pathname)
    except PeriodError:
        teams, agents = (), ()
    named = scope_words(teams, agents)
    covers = f"{named} (the view on screen)" if named else "everything you can see"
    return (f"Each report holds the data points and format chosen above, for {covers}, as your access allows at "
            f"each run. Times are local to {org_timezone()}.")  # fmt: skip


def save_schedule(clicks, points, fmt, choice, period, cadence, at, to, search, pathname=None) -> tuple:
    """Save the schedule in the signed-in person's name; what was saved and its first run, or what to fix."""
    if not clicks:
        return no_update, no_update
    owner = viewer()
    if owner is None:
        return html.Span(NOT_ALLOWED, className="text-danger"), no_update
    try:
        teams, agents = _asked(choice, search, pathname)
        choices = changes.check_choices(owner, points if isinstance(points, list) else [], _text(fmt), teams, agents,
                                        _text(period), _text(cadence), _text(at), _text(to))  # fmt: skip
    except (changes.ScheduleError, PeriodError) as error:
        return html.Span(str(error), className="text-danger"), no_update
    now = utcnow()
    schedule_id = changes.add(owner, choices, now, request.remote_addr)
    when = local_time(choices.cadence.next_due(now, org_timezone()))
    text = (f"Saved schedule {schedule_id}: {cadence_label(choices.cadence.text)} at {choices.at} to "
            f"{', '.join(choices.recipients)}; first report {when}. ")  # fmt: skip
    link = html.A("See Schedules", href=SCHEDULES_PATH, id="report-schedule-link")
    return html.Span([text, link], className="text-success"), schedule_id


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(ids.REPORT_SCHEDULE_SECTION, "is_open"),
        Input(ids.REPORT_SCHEDULE_OPEN, "n_clicks"),
        State(ids.REPORT_SCHEDULE_SECTION, "is_open"),
        prevent_initial_call=True,
    )(toggle_schedule_section)
    app.callback(
        Output(ids.REPORT_SCHEDULE_SCOPE, "children"),
        Input(ids.REPORT_SCHEDULE_SECTION, "is_open"),
        Input(ids.REPORT_PERIOD, "value"),
        State(ids.SHELL_LOCATION, "search"),
        State(ids.SHELL_LOCATION, "pathname"),
        prevent_initial_call=True,
    )(update_schedule_scope)
    app.callback(
        Output(ids.REPORT_SCHEDULE_FEEDBACK, "children"),
        Output(ids.REPORT_SCHEDULE_SAVED, "data"),
        Input(ids.REPORT_SCHEDULE_SAVE, "n_clicks"),
        State(ids.REPORT_POINTS, "value"),
        State(ids.REPORT_FORMAT, "value"),
        State(ids.REPORT_PERIOD, "value"),
        State(ids.REPORT_SCHEDULE_PERIOD, "value"),
        State(ids.REPORT_SCHEDULE_CADENCE, "value"),
        State(ids.REPORT_SCHEDULE_AT, "value"),
        State(ids.REPORT_SCHEDULE_TO, "value"),
        State(ids.SHELL_LOCATION, "search"),
        State(ids.SHELL_LOCATION, "pathname"),
        prevent_initial_call=True,
    )(save_schedule)
