"""Scheduled report commands: `flask --app app schedule-add|-edit|-list|-pause|-send|-remove|run-schedules`.

A schedule belongs to an account that may export (an admin or a manager) and is made in its scope at every
run. Everything is checked before anything is stored; every change is audited.
"""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import with_appcontext

from auth.cli import printable
from auth.session import store as accounts
from auth.store import AccountRow, utcnow
from queries.filters import parse_instant
from queries.period import PeriodError
from reports import schedule_changes as changes
from reports.request import FORMATS
from reports.schedule_run import next_run, run_schedules, schedule_store
from reports.schedules import CADENCE_HELP, PERIODS
from reports.tables import POINTS


def _owner(email: str) -> AccountRow:
    try:
        return changes.may_own(accounts().account_by_email(email), email)
    except changes.ScheduleError as error:
        raise click.ClickException(str(error)) from None


def _moment(text: str | None) -> dt.datetime:
    """--now as an aware UTC instant (a time without an offset is UTC); the clock when not given."""
    if not text:
        return utcnow()
    try:
        return parse_instant(text, "--now")
    except PeriodError as error:
        raise click.ClickException(str(error)) from None


def _refused(error: changes.ScheduleError) -> click.ClickException:
    return click.ClickException(f"--{error.field}: {error}" if error.field else str(error))


def _first_run(schedule_id: int, choices: changes.Choices, now: dt.datetime) -> str:
    first = choices.cadence.next_due(now, current_app.config["ORG_TIMEZONE"])
    return (f"Schedule {schedule_id}: {choices.period} as {choices.format}, {choices.cadence.text} at {choices.at},"
            f" to {', '.join(choices.recipients)}; first run {first:%Y-%m-%d %H:%M} UTC.")  # fmt: skip


@click.command("schedule-add")
@click.option("--as", "as_email", required=True, help="The owner: the report is made in this account's scope.")
@click.option("--points", required=True, help=f"Comma-separated: {', '.join(POINTS)}.")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="pdf", show_default=True)
@click.option("--period", required=True, help=f"One of {', '.join(PERIODS)}.")
@click.option("--cadence", required=True, help=CADENCE_HELP)
@click.option("--at", "at", default="08:00", show_default=True, help="Local time (ORG_TIMEZONE), HH:MM.")
@click.option("--to", "to", required=True, help="Comma-separated email addresses.")
@click.option("--teams", default="", help="Comma-separated team ids to narrow to (in the owner's scope).")
@click.option("--agents", default="", help="Comma-separated agent ids to narrow to.")
@click.option("--now", "now_text", default=None, hidden=True, help="Made at this instant (tests).")
@with_appcontext
def schedule_add_command(as_email, points, fmt, period, cadence, at, to, teams, agents, now_text) -> None:
    """Send a report by email on a cadence: the same report as the Generate Report dialog's."""
    account = _owner(as_email)
    try:
        choices = changes.check_choices(account, points.split(","), fmt, teams, agents, period, cadence, at, to)
    except changes.ScheduleError as error:
        raise _refused(error) from None
    now = _moment(now_text)
    schedule_id = changes.add(account, choices, now)
    click.echo(_first_run(schedule_id, choices, now))


@click.command("schedule-edit")
@click.argument("schedule_id", type=int)
@click.option("--as", "as_email", required=True, help="The owner, or an admin.")
@click.option("--points", default=None, help=f"Comma-separated: {', '.join(POINTS)}.")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default=None)
@click.option("--period", default=None, help=f"One of {', '.join(PERIODS)}.")
@click.option("--cadence", default=None, help=CADENCE_HELP)
@click.option("--at", "at", default=None, help="Local time (ORG_TIMEZONE), HH:MM.")
@click.option("--to", "to", default=None, help="Comma-separated email addresses (all of them: they replace the list).")
@click.option("--teams", default=None, help="Comma-separated team ids (in the owner's scope); '' for all of them.")
@click.option("--agents", default=None, help="Comma-separated agent ids; '' for all.")
@click.option("--now", "now_text", default=None, hidden=True, help="As of this instant (tests).")
@with_appcontext
def schedule_edit_command(schedule_id, as_email, points, fmt, period, cadence, at, to, teams, agents,
                          now_text) -> None:  # fmt: skip
    """Change what a schedule sends, when or to whom; what is not given stays. A new cadence or time counts from
    now (a run due before is not sent)."""
    account, schedule = _own(schedule_id, as_email)
    try:
        owner = changes.may_own(accounts().account_by_email(schedule.owner), schedule.owner)
        choices = changes.check_choices(
            owner,
            points.split(",") if points is not None else schedule.points,
            fmt or schedule.format,
            teams if teams is not None else schedule.teams,
            agents if agents is not None else schedule.agents,
            period or schedule.period,
            cadence or schedule.cadence,
            at or schedule.at,
            to if to is not None else schedule.recipients,
        )
    except changes.ScheduleError as error:
        raise _refused(error) from None
    changed = changes.edit(account, schedule, choices, _moment(now_text))
    if not changed:
        click.echo(f"Schedule {schedule_id}: nothing to change.")
        return
    click.echo(f"Changed {', '.join(changed)}. " + _first_run(schedule_id, choices, _moment(now_text)))


@click.command("schedule-list")
@click.option("--as", "as_email", default=None, help="Only this account's schedules (an admin: everyone's).")
@with_appcontext
def schedule_list_command(as_email: str | None) -> None:
    """Every schedule: id, status, owner, cadence, period, format, recipients, last run and next run (UTC)."""
    owner = None
    if as_email:
        account = _owner(as_email)
        owner = None if account.role == "admin" else account.email
    store, now = schedule_store(), utcnow()
    last = store.last_runs()
    for s in store.schedules(owner):
        run = last.get(s.id)
        ran = f"{run.due_at:%Y-%m-%d %H:%M} {run.status}{' late' if run.late else ''}" if run else "never"
        upcoming = next_run(s, now)
        nxt = f"{upcoming:%Y-%m-%d %H:%M}" if upcoming else "-"
        click.echo(printable(f"{s.id:<4} {s.status:<7} {s.owner:<28} {s.cadence}@{s.at:<6} {s.period:<20} "
                             f"{s.format:<4} {','.join(s.points)} to {','.join(s.recipients)}; last: {ran}; "
                             f"next: {nxt}{'; ' + s.note if s.note else ''}"))  # fmt: skip


@click.command("schedule-remove")
@click.option("--id", "schedule_id", required=True, type=int)
@click.option("--as", "as_email", required=True, help="The owner, or an admin.")
@with_appcontext
def schedule_remove_command(schedule_id: int, as_email: str) -> None:
    """Delete a schedule (its runs go with it; the audit log keeps its deliveries)."""
    account, schedule = _own(schedule_id, as_email)
    changes.remove(account, schedule)
    click.echo(f"Removed schedule {schedule_id}.")


def _own(schedule_id: int, as_email: str):
    """The schedule, if `as_email` owns it or is an admin (an account that may export either way)."""
    account = _owner(as_email)
    try:
        return account, changes.owned(account, schedule_id)
    except changes.ScheduleError as error:
        raise click.ClickException(str(error)) from None


@click.command("schedule-pause")
@click.option("--id", "schedule_id", required=True, type=int)
@click.option("--as", "as_email", required=True, help="The owner, or an admin.")
@click.option("--resume", is_flag=True, help="Run it again from its next due time (nothing missed is sent).")
@click.option("--now", "now_text", default=None, hidden=True, help="As of this instant (tests).")
@with_appcontext
def schedule_pause_command(schedule_id: int, as_email: str, resume: bool, now_text: str | None) -> None:
    """Pause a schedule, or resume it (a stopped one too: its owner's access is checked again at each run)."""
    account, schedule = _own(schedule_id, as_email)
    status = changes.pause(account, schedule, resume, _moment(now_text))
    click.echo(f"Schedule {schedule_id} is {status}.")


@click.command("schedule-send")
@click.option("--id", "schedule_id", required=True, type=int)
@click.option("--as", "as_email", required=True, help="The owner, or an admin.")
@click.option("--now", "now_text", default=None, hidden=True, help="As of this instant (tests).")
@with_appcontext
def schedule_send_command(schedule_id: int, as_email: str, now_text: str | None) -> None:
    """Send a schedule's report now ("Send now"), over its period as of now, in its owner's scope."""
    account, schedule = _own(schedule_id, as_email)
    outcome = changes.send(account, schedule, _moment(now_text))
    if outcome != "sent":
        raise click.ClickException(f"Schedule {schedule_id}: {outcome}; see schedule-list.")
    click.echo(f"Sent schedule {schedule_id} to {', '.join(schedule.recipients)}.")


@click.command("run-schedules")
@click.option("--now", "now_text", default=None, help="As of this ISO date and time (UTC unless it has an offset).")
@with_appcontext
def run_schedules_command(now_text: str | None) -> None:
    """Send every scheduled report due and not sent yet (idempotent: run it from cron every few minutes)."""
    result = run_schedules(_moment(now_text))
    click.echo(f"{result.sent} sent ({result.late} late), {result.stopped} stopped, {result.failed} failed.")


COMMANDS = (
    schedule_add_command,
    schedule_edit_command,
    schedule_list_command,
    schedule_pause_command,
    schedule_send_command,
    schedule_remove_command,
    run_schedules_command,
)
