"""Schedules page: the schedules the viewer may change (an Admin: everyone's) and their actions.

Every action names a schedule by the id in the clicked button (or the dialog's store): the browser's word,
so each one is checked again here (`schedule_changes.owned`: the owner or an admin) and made, audited, by
the functions the commands use (reports/schedule_changes.py). A Manager never sees nor changes another
person's schedule, whatever id is sent.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dash
import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Input, Output, State, ctx, html, no_update
from flask import request

from auth.session import current_account
from auth.session import store as accounts
from auth.store import AccountRow, utcnow
from callbacks._common import org_timezone
from layouts import ids
from layouts._components import DAY_TIME
from layouts._schedule_form import cadence_label
from queries import directory
from queries.scope import Scope
from reports import schedule_changes as changes
from reports.request import FORMATS
from reports.schedule_run import next_run, schedule_store
from reports.schedule_store import Run, Schedule
from reports.tables import POINTS

NOT_ALLOWED = "Scheduled reports are available only to Admin and Manager roles."
RESULTS = {"sent": "Sent", "failed": "Failed", "pending": "Retrying", "sending": "Sending…", "stopped": "Stopped"}


def viewer() -> AccountRow | None:
    """The signed-in account, if it may have schedules (the gate lets only Admins and Managers in)."""
    account = current_account()
    row = getattr(account, "row", None)
    try:
        return changes.may_own(row)
    except changes.ScheduleError:
        return None


def local_time(moment: dt.datetime | None) -> str:
    return moment.astimezone(ZoneInfo(org_timezone())).strftime(DAY_TIME) if moment else "–"


def scope_words(teams: tuple[str, ...], agents: tuple[str, ...]) -> str:
    """ "teams Engineering, Sales; agents Drafting" by their directory names ("" for the owner's whole scope)."""
    team_names = dict(directory.teams_in_scope(Scope.organization()).select("team_id", "name").iter_rows())
    agent_names = dict(directory.agents().select("agent_id", "name").iter_rows())
    parts = [f"teams {', '.join(team_names.get(t, t) for t in teams)}"] if teams else []
    parts += [f"agents {', '.join(agent_names.get(a, a) for a in agents)}"] if agents else []
    return "; ".join(parts)


def report_text(schedule: Schedule) -> str:
    points = ", ".join(POINTS[p][0] if p in POINTS else p for p in schedule.points)
    scope = scope_words(schedule.teams, schedule.agents)
    return f"{points} · {FORMATS[schedule.format].split(' ')[0]}" + (f" · {scope}" if scope else "")


def result_text(schedule: Schedule, run: Run | None) -> str:
    if schedule.status == "stopped":
        return f"Stopped: {schedule.note}"
    if run is None:
        return "Not run yet"
    text = RESULTS.get(run.status, run.status) + (" late" if run.late and run.status == "sent" else "")
    return f"{text}: {run.detail}" if run.detail and run.status != "sent" else text


def _button(label: str, kind: str, schedule: Schedule, colour: str) -> html.Button:
    """A row's action; its accessible name says which schedule ("Send now, schedule 3")."""
    return html.Button(label, id={"type": kind, "schedule": schedule.id}, type="button",
                       className=f"btn btn-sm btn-outline-{colour} me-1 mb-1",
                       **{"aria-label": f"{label}, schedule {schedule.id}"})  # fmt: skip


def _row(schedule: Schedule, run: Run | None, now: dt.datetime, with_owner: bool) -> html.Tr:
    paused = schedule.status != "active"
    actions = [
        _button("Send now", ids.SCHEDULES_SEND, schedule, "primary"),
        _button("Resume" if paused else "Pause", ids.SCHEDULES_PAUSE, schedule, "secondary"),
        _button("Edit", ids.SCHEDULES_EDIT, schedule, "secondary"),
        _button("Delete", ids.SCHEDULES_DELETE, schedule, "danger"),
    ]
    cells = [
        html.Th(str(schedule.id), scope="row"),
        *([html.Td(schedule.owner, className="text-break", style={"minWidth": "12rem"})] if with_owner else []),
        html.Td(report_text(schedule)),
        html.Td(schedule.period.replace("_", " ").capitalize()),
        html.Td(f"{cadence_label(schedule.cadence)} at {schedule.at}"),
        # one address a line, broken inside only when one alone is wider than the column
        html.Td(
            [html.Div(address) for address in schedule.recipients], className="text-break", style={"minWidth": "14rem"}
        ),  # fmt: skip
        html.Td(schedule.status.capitalize()),
        html.Td(local_time(run.due_at) if run else "–"),
        html.Td(result_text(schedule, run), className="text-danger" if run and run.status == "failed" else ""),
        html.Td(local_time(next_run(schedule, now))),
        html.Td(actions, className="text-nowrap"),
    ]
    return html.Tr(cells, id=f"schedules-row-{schedule.id}")


def schedules_table(actor: AccountRow | None, now: dt.datetime | None = None):
    """The viewer's schedules (an Admin's: everyone's, with the owner), or why there are none."""
    if actor is None:
        return dbc.Alert(NOT_ALLOWED, color="warning")
    found = changes.visible(actor)
    if not found:
        return html.P("No scheduled reports yet.", className="text-muted", id="schedules-empty")
    with_owner, now, last = actor.role == "admin", now or utcnow(), schedule_store().last_runs()
    heads = ["ID", *(["Owner"] if with_owner else []), "Report", "Period", "When", "To", "Status", "Last run",
             "Last result", "Next run", "Actions"]  # fmt: skip
    head = html.Thead(html.Tr([html.Th(h, scope="col") for h in heads]))
    rows = [_row(s, last.get(s.id), now, with_owner) for s in found]
    caption = html.Caption(f"Times are local to {org_timezone()}.", className="small")
    return dbc.Table([caption, head, html.Tbody(rows)], size="sm", hover=True, responsive=True, id="schedules-list")


def update_schedules(_query: dict | None, _saved: int | None = None):
    """The list when the page opens, and again when the dialog saved one."""
    return schedules_table(viewer())


def told(text: str, colour: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, dismissable=True, className="my-2")


def _refused(actor: AccountRow | None, error: Exception) -> tuple:
    return schedules_table(actor), told(str(error), "danger")


def send_clicked(schedule_id: object) -> tuple:
    """Send now: the report over its period as of now, in the owner's scope; the list and what happened."""
    actor = viewer()
    try:
        schedule = changes.owned(actor, schedule_id) if actor else None
    except changes.ScheduleError as error:
        return _refused(actor, error)
    if schedule is None:
        return schedules_table(None), no_update
    outcome = changes.send(actor, schedule, utcnow(), request.remote_addr)
    if outcome == "sent":
        message, colour = f"Sent schedule {schedule.id} to {', '.join(schedule.recipients)}.", "success"
    elif outcome == "busy":
        message, colour = f"Schedule {schedule.id} is being sent already.", "info"
    else:
        why = changes.last_problem(schedule.id)
        message, colour = f"Schedule {schedule.id} was not sent: {why}", "danger"
    return schedules_table(actor), told(message, colour)


def pause_clicked(schedule_id: object) -> tuple:
    """Pause an active schedule; resume a paused or stopped one from its next due time."""
    actor = viewer()
    try:
        schedule = changes.owned(actor, schedule_id) if actor else None
    except changes.ScheduleError as error:
        return _refused(actor, error)
    if schedule is None:
        return schedules_table(None), no_update
    status = changes.pause(actor, schedule, schedule.status != "active", utcnow(), request.remote_addr)
    return schedules_table(actor), told(f"Schedule {schedule.id} is {status}.", "success")


def _clicked_id(kinds: tuple[str, ...]) -> object:
    """The schedule of the row button that was clicked (not one that just appeared), or None."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or trigger.get("type") not in kinds:
        return None
    if not any(item.get("value") for item in ctx.triggered):
        return None
    return trigger.get("schedule")


def row_action(_send: list, _pause: list) -> tuple:
    """Send now or Pause/Resume, by the clicked button."""
    schedule_id = _clicked_id((ids.SCHEDULES_SEND, ids.SCHEDULES_PAUSE))
    if schedule_id is None:
        return no_update, no_update
    if ctx.triggered_id["type"] == ids.SCHEDULES_SEND:
        return send_clicked(schedule_id)
    return pause_clicked(schedule_id)


def editor_values(schedule_id: object) -> tuple:
    """The Edit dialog for a schedule the viewer may change: open, its id, title, scope and fields."""
    actor = viewer()
    if actor is None:
        return (False, None, no_update, no_update, *(no_update,) * 6, "", told(NOT_ALLOWED, "warning"))
    try:
        s = changes.owned(actor, schedule_id)
    except changes.ScheduleError as error:
        return (False, None, no_update, no_update, *(no_update,) * 6, "", told(str(error), "danger"))
    scope = scope_words(s.teams, s.agents)
    note = (
        f"Owner: {s.owner}. Made in the owner's scope{f' ({scope})' if scope else ''}; times local to {org_timezone()}."
    )
    fields = (list(s.points), s.format, s.period, s.cadence, s.at, ", ".join(s.recipients))
    return (True, s.id, f"Edit schedule {s.id}", note, *fields, "", no_update)


def open_editor(_edit: list, _cancel: int | None) -> tuple:
    if ctx.triggered_id == ids.SCHEDULES_EDITOR_CANCEL:
        return (False, None, *(no_update,) * 9, no_update)
    schedule_id = _clicked_id((ids.SCHEDULES_EDIT,))
    if schedule_id is None:
        return (no_update,) * 12
    return editor_values(schedule_id)


def save_edit(clicks, schedule_id, points, fmt, period, cadence, at, to) -> tuple:
    """Save the Edit dialog: checked against the owner's scope, changed and audited as `schedule-edit` does;
    on a problem the dialog stays open with every field as typed, and says what to fix."""
    if not clicks:
        return (no_update,) * 4
    actor = viewer()
    try:
        schedule = changes.owned(actor, schedule_id) if actor else None
        if schedule is None:
            raise changes.ScheduleError(NOT_ALLOWED)
        owner = changes.may_own(accounts().account_by_email(schedule.owner), schedule.owner)
        choices = changes.check_choices(owner, points if isinstance(points, list) else [], _text(fmt),
                                        schedule.teams, schedule.agents, _text(period), _text(cadence), _text(at),
                                        _text(to))  # fmt: skip
    except changes.ScheduleError as error:
        return no_update, no_update, True, str(error)
    changed = changes.edit(actor, schedule, choices, utcnow(), request.remote_addr)
    text = f"Schedule {schedule.id}: changed {', '.join(changed)}." if changed else f"Schedule {schedule.id} unchanged."
    return schedules_table(actor), told(text, "success"), False, ""


def _text(value: object) -> str:
    """What the browser sent, if it is text (anything else is as good as nothing)."""
    return value if isinstance(value, str) else ""


def ask_delete(_delete: list, _cancel: int | None) -> tuple:
    """Delete asks first, naming the schedule; the id kept for the answer is checked again then."""
    if ctx.triggered_id == ids.SCHEDULES_CONFIRM_CANCEL:
        return False, None, no_update, no_update
    schedule_id = _clicked_id((ids.SCHEDULES_DELETE,))
    if schedule_id is None:
        return (no_update,) * 4
    actor = viewer()
    try:
        s = changes.owned(actor, schedule_id) if actor else None
    except changes.ScheduleError as error:
        return False, None, no_update, told(str(error), "danger")
    if s is None:
        return False, None, no_update, told(NOT_ALLOWED, "warning")
    text = (f"Schedule {s.id} ({cadence_label(s.cadence)} at {s.at} to {', '.join(s.recipients)}) stops and is "
            "deleted; its deliveries stay in the audit log.")  # fmt: skip
    return True, s.id, text, no_update


def confirm_delete(clicks: int | None, schedule_id: object) -> tuple:
    if not clicks:
        return (no_update,) * 3
    actor = viewer()
    try:
        schedule = changes.owned(actor, schedule_id) if actor else None
    except changes.ScheduleError as error:
        return (*_refused(actor, error), False)
    if schedule is None:
        return schedules_table(None), no_update, False
    changes.remove(actor, schedule, request.remote_addr)
    return schedules_table(actor), told(f"Deleted schedule {schedule.id}.", "success"), False


def _pattern(kind: str) -> dict:
    return {"type": kind, "schedule": ALL}


def register_callbacks(app: dash.Dash) -> None:
    app.clientside_callback(  # no filters on this page (assets/schedules.js)
        ClientsideFunction("telemetry", "filterBarStyle"),
        Output(ids.FILTER_BAR, "style"),
        Input(ids.SHELL_LOCATION, "pathname"),
    )
    app.callback(
        Output(ids.SCHEDULES_TABLE, "children"),
        Input(ids.SCHEDULES_QUERY, "data"),
        Input(ids.REPORT_SCHEDULE_SAVED, "data"),
    )(update_schedules)
    table, feedback = Output(ids.SCHEDULES_TABLE, "children", allow_duplicate=True), ids.SCHEDULES_FEEDBACK
    app.callback(
        table,
        Output(feedback, "children", allow_duplicate=True),
        Input(_pattern(ids.SCHEDULES_SEND), "n_clicks"),
        Input(_pattern(ids.SCHEDULES_PAUSE), "n_clicks"),
        prevent_initial_call=True,
    )(row_action)
    fields = (ids.SCHEDULES_EDITOR_POINTS, ids.SCHEDULES_EDITOR_FORMAT, ids.SCHEDULES_EDITOR_PERIOD,
              ids.SCHEDULES_EDITOR_CADENCE, ids.SCHEDULES_EDITOR_AT, ids.SCHEDULES_EDITOR_TO)  # fmt: skip
    props = ("value",) * 6
    app.callback(
        Output(ids.SCHEDULES_EDITOR, "is_open"),
        Output(ids.SCHEDULES_EDITOR_ID, "data"),
        Output(ids.SCHEDULES_EDITOR_TITLE, "children"),
        Output(ids.SCHEDULES_EDITOR_SCOPE, "children"),
        *[Output(field, prop) for field, prop in zip(fields, props, strict=True)],
        Output(ids.SCHEDULES_EDITOR_FEEDBACK, "children"),
        Output(feedback, "children", allow_duplicate=True),
        Input(_pattern(ids.SCHEDULES_EDIT), "n_clicks"),
        Input(ids.SCHEDULES_EDITOR_CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )(open_editor)
    app.callback(
        table,
        Output(feedback, "children", allow_duplicate=True),
        Output(ids.SCHEDULES_EDITOR, "is_open", allow_duplicate=True),
        Output(ids.SCHEDULES_EDITOR_FEEDBACK, "children", allow_duplicate=True),
        Input(ids.SCHEDULES_EDITOR_SAVE, "n_clicks"),
        State(ids.SCHEDULES_EDITOR_ID, "data"),
        *[State(field, "value") for field in fields],
        prevent_initial_call=True,
    )(save_edit)
    app.callback(
        Output(ids.SCHEDULES_CONFIRM, "is_open"),
        Output(ids.SCHEDULES_PENDING, "data"),
        Output(ids.SCHEDULES_CONFIRM_TEXT, "children"),
        Output(feedback, "children", allow_duplicate=True),
        Input(_pattern(ids.SCHEDULES_DELETE), "n_clicks"),
        Input(ids.SCHEDULES_CONFIRM_CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )(ask_delete)
    app.callback(
        table,
        Output(feedback, "children", allow_duplicate=True),
        Output(ids.SCHEDULES_CONFIRM, "is_open", allow_duplicate=True),
        Input(ids.SCHEDULES_CONFIRM_DELETE, "n_clicks"),
        State(ids.SCHEDULES_PENDING, "data"),
        prevent_initial_call=True,
    )(confirm_delete)
