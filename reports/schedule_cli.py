"""Scheduled report commands: `flask --app app schedule-add|schedule-list|schedule-remove|run-schedules`.

A schedule belongs to an account that may export (an admin or a manager) and is made in its scope at every
run. Everything is checked before anything is stored; every change is audited.
"""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import with_appcontext

from alerts.rules import check_email
from auth.cli import printable
from auth.scope import scope_for
from auth.session import store as accounts
from auth.store import AccountRow, utcnow
from queries import directory
from queries.filters import parse_ids, parse_instant
from queries.period import PeriodError
from reports.build import check_may_export
from reports.request import FORMATS, ReportError, ReportRequest
from reports.schedule_run import next_run, run_schedules, schedule_store, send_now
from reports.schedules import CADENCE_HELP, PERIODS, Cadence, check_period
from reports.tables import POINTS

MAX_RECIPIENTS = 50


def _owner(email: str) -> AccountRow:
    account = accounts().account_by_email(email)
    if account is None:
        raise click.ClickException(f"No account with email {email!r}.")
    try:
        check_may_export(account)
    except ReportError as error:
        raise click.ClickException(f"{email}: {error}") from None
    return account


def _moment(text: str | None) -> dt.datetime:
    """--now as an aware UTC instant (a time without an offset is UTC); the clock when not given."""
    if not text:
        return utcnow()
    try:
        return parse_instant(text, "--now")
    except PeriodError as error:
        raise click.ClickException(str(error)) from None


def _recipients(text: str) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(check_email(item) for item in text.split(",") if item.strip()))
    if not found:
        raise ValueError("Give at least one address to send the report to.")
    if len(found) > MAX_RECIPIENTS:
        raise ValueError(f"At most {MAX_RECIPIENTS} addresses per schedule.")
    return found


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
    viewer = scope_for(account.role, account.user_id)
    try:
        chosen = tuple(p.strip() for p in points.split(",") if p.strip())
        team_ids, agent_ids = parse_ids(teams, "teams"), parse_ids(agents, "agents")
        today = dt.date.today()
        ReportRequest(today, today, chosen, fmt, "day", team_ids, agent_ids)  # checks the points and format
        check_period(period)
        every = Cadence.parse(cadence, at)
        recipients = _recipients(to)
        unknown = directory.unknown_ids(viewer, team_ids, agent_ids)
        if unknown:
            raise ValueError(f"--{unknown[0]}: {unknown[1]}")
    except (ValueError, PeriodError) as error:
        raise click.ClickException(str(error)) from None
    at_text = every.at.strftime("%H:%M")
    now = _moment(now_text)
    schedule_id = schedule_store().add(account.email, chosen, fmt, team_ids, agent_ids, period, every.text, at_text,
                                       recipients, now)  # fmt: skip
    accounts().audit(account.email, "schedule_add", {
        "schedule": schedule_id, "points": ",".join(chosen), "format": fmt, "period": period,
        "cadence": every.text, "at": at_text, "to": ",".join(recipients), "teams": ",".join(team_ids),
        "agents": ",".join(agent_ids)}, None)  # fmt: skip
    first = every.next_due(now, current_app.config["ORG_TIMEZONE"])
    click.echo(f"Schedule {schedule_id}: {period} as {fmt}, {every.text} at {at_text}, to {', '.join(recipients)};"
               f" first run {first:%Y-%m-%d %H:%M} UTC.")  # fmt: skip


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
    schedule_store().remove(schedule_id)
    accounts().audit(account.email, "schedule_remove", {"schedule": schedule_id, "owner": schedule.owner}, None)
    click.echo(f"Removed schedule {schedule_id}.")


def _own(schedule_id: int, as_email: str):
    """The schedule, if `as_email` owns it or is an admin (an account that may export either way)."""
    account = _owner(as_email)
    schedule = schedule_store().schedule(schedule_id)
    if schedule is None or (account.role != "admin" and schedule.owner != account.email):
        raise click.ClickException(f"No schedule {schedule_id} of yours.")
    return account, schedule


@click.command("schedule-pause")
@click.option("--id", "schedule_id", required=True, type=int)
@click.option("--as", "as_email", required=True, help="The owner, or an admin.")
@click.option("--resume", is_flag=True, help="Run it again from its next due time (nothing missed is sent).")
@click.option("--now", "now_text", default=None, hidden=True, help="As of this instant (tests).")
@with_appcontext
def schedule_pause_command(schedule_id: int, as_email: str, resume: bool, now_text: str | None) -> None:
    """Pause a schedule, or resume it (a stopped one too: its owner's access is checked again at each run)."""
    account, schedule = _own(schedule_id, as_email)
    status = "active" if resume else "paused"
    schedule_store().set_status(schedule_id, status, since=_moment(now_text) if resume else None)
    accounts().audit(account.email, "schedule_resume" if resume else "schedule_pause",
                     {"schedule": schedule_id, "owner": schedule.owner, "was": schedule.status}, None)  # fmt: skip
    click.echo(f"Schedule {schedule_id} is {status}.")


@click.command("schedule-send")
@click.option("--id", "schedule_id", required=True, type=int)
@click.option("--as", "as_email", required=True, help="The owner, or an admin.")
@click.option("--now", "now_text", default=None, hidden=True, help="As of this instant (tests).")
@with_appcontext
def schedule_send_command(schedule_id: int, as_email: str, now_text: str | None) -> None:
    """Send a schedule's report now ("Send now"), over its period as of now, in its owner's scope."""
    account, schedule = _own(schedule_id, as_email)
    accounts().audit(account.email, "schedule_send", {"schedule": schedule_id, "owner": schedule.owner}, None)
    outcome = send_now(schedule, _moment(now_text))
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
    schedule_list_command,
    schedule_pause_command,
    schedule_send_command,
    schedule_remove_command,
    run_schedules_command,
)
