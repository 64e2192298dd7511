"""`run_schedules`: send every scheduled report due as of a moment, once per schedule and due time.

Each schedule's latest due time at or before `now` is claimed (reports/schedule_store.py); a run missed while
nothing ran (the server down, cron stopped) is sent when the runner comes back, once, marked late; older
missed ones are not sent again. The report is made by the dialog's and the CLI's code (reports/build.py) in
the owner's scope as it is at the run: an owner who may no longer export stops the schedule, a manager who
lost a team gets the narrower report, and the owner is told either way.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import socket
import threading
from dataclasses import dataclass

from flask import current_app

from alerts import mail
from auth.scope import scope_for
from auth.session import store as accounts
from auth.store import AccountRow, utcnow
from queries.filters import default_grain
from reports import schedule_links
from reports.build import report_for_account, scope_label
from reports.html import display
from reports.request import ReportError, ReportRequest
from reports.schedule_store import Run, Schedule, ScheduleStore
from reports.schedules import Cadence, report_period
from reports.tables import build_table

MAX_ATTEMPTS = 5
logger = logging.getLogger(__name__)


@dataclass
class RunResult:
    sent: int = 0
    late: int = 0
    stopped: int = 0
    failed: int = 0


def schedule_store() -> ScheduleStore:
    return current_app.extensions["telemetry_schedules"]


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def next_run(schedule: Schedule, now: dt.datetime) -> dt.datetime | None:
    if schedule.status != "active":
        return None
    return Cadence.parse(schedule.cadence, schedule.at).next_due(now, current_app.config["ORG_TIMEZONE"])


def run_schedules(now: dt.datetime) -> RunResult:
    """Send what is due as of `now` (UTC) and not sent before, by this or another runner (in the app context)."""
    config, store, result = current_app.config, schedule_store(), RunResult()
    tz, worker = config["ORG_TIMEZONE"], _worker()
    lease = dt.timedelta(seconds=config["ALERTS_LEASE_SECONDS"])
    for schedule in store.schedules():
        due = Cadence.parse(schedule.cadence, schedule.at).last_due(now, tz)
        if schedule.status != "active" or due is None or due < schedule.active_since:
            continue
        late = now - due > dt.timedelta(seconds=config["SCHEDULES_LATE_SECONDS"])
        run = store.claim(schedule.id, due, late, worker, now, lease, MAX_ATTEMPTS)
        if run is not None:
            outcome = deliver(schedule, run, worker, now)
            result.stopped += outcome == "stopped"
            result.failed += outcome == "failed"
            result.sent += outcome == "sent"
            result.late += outcome == "sent" and run.late
    return result


def send_now(schedule: Schedule, now: dt.datetime) -> str:
    """Send one schedule's report as if due at `now` (paused or not): sent, stopped, failed or retry."""
    config, worker = current_app.config, _worker()
    lease = dt.timedelta(seconds=config["ALERTS_LEASE_SECONDS"])
    run = schedule_store().claim(schedule.id, now, False, worker, now, lease, MAX_ATTEMPTS)
    # not retried: its due time is now, which no later round looks for; the person who asked is told at once
    return deliver(schedule, run, worker, now, retries=False) if run else "busy"


def _may_export(account: AccountRow | None) -> str | None:
    """Why the owner's schedule stops, or None while they may export."""
    if account is None:
        return "the owner's account no longer exists"
    if account.disabled or account.role not in ("admin", "manager"):
        return "the owner's account may no longer export reports"
    return None


def deliver(schedule: Schedule, run: Run, worker: str, now: dt.datetime, retries: bool = True) -> str:
    """Make and send one run's report: sent, stopped, failed, or retry."""
    store, config = schedule_store(), current_app.config
    account = accounts().account_by_email(schedule.owner)
    tz = config["ORG_TIMEZONE"]
    period = report_period(schedule.period, run.due_at, tz, config["BILLING_ANCHOR_DAY"])
    ask = ReportRequest(period.start, period.end, schedule.points, schedule.format, default_grain(period),
                        schedule.teams, schedule.agents)  # fmt: skip
    reason = _may_export(account)
    if reason is None:
        filters = ask.filters(scope_for(account.role, account.user_id), tz)
        allowed = filters.scope.team_ids  # None: every team
        lost = sorted(set(schedule.teams) - allowed) if allowed is not None else []
        if allowed is not None and not allowed:
            reason = "none of its teams is in the owner's scope any more"
    if reason:
        store.finish(run.id, worker, "stopped", reason)
        store.set_status(schedule.id, "stopped", reason)
        accounts().audit("scheduler", "schedule_stopped", {"schedule": schedule.id, "reason": reason}, None)
        _tell_owner(schedule, f"Your scheduled report {schedule.id} has stopped",
                    f"Telemetry stopped your scheduled report {schedule.id}: {reason}. Nothing was sent.")  # fmt: skip
        return "stopped"
    try:
        report = report_for_account(ask, account)
        summary = build_table("summary", filters)
        link = None
        if len(report.content) > config["SCHEDULES_ATTACH_MAX_BYTES"]:
            link = schedule_links.keep(run.id, report, utcnow())
        message = _message(schedule, run, period, scope_label(filters.scope), summary, lost, link)
        if link is None:
            message.add_attachment(report.content, *report.mimetype.split("/", 1), filename=report.filename)
        mail.send(mail.SmtpSettings.from_config(config), message)
    except (mail.MailError, ReportError) as error:
        return _failed(schedule, run, worker, str(error), now, retries)
    store.finish(run.id, worker, "sent", "late" if run.late else "")
    accounts().audit("scheduler", "schedule_delivery", {
        "schedule": schedule.id, "owner": schedule.owner, "due": run.due_at.isoformat(), "late": run.late,
        "to": ",".join(schedule.recipients), "file": report.filename, "bytes": len(report.content),
        "narrowed_from": ",".join(lost)}, None)  # fmt: skip
    if lost:
        _tell_owner(schedule, f"Your scheduled report {schedule.id} was narrowed",
                    f"Your scheduled report {schedule.id} no longer holds team(s) {', '.join(lost)}: they are not "
                    "in your scope any more.")  # fmt: skip
    return "sent"


def _failed(schedule: Schedule, run: Run, worker: str, error: str, now: dt.datetime, retries: bool = True) -> str:
    retry = None
    if retries and run.attempts < MAX_ATTEMPTS:
        retry = now + dt.timedelta(seconds=current_app.config["ALERTS_RETRY_SECONDS"] * 2 ** (run.attempts - 1))
    schedule_store().finish(run.id, worker, "pending" if retry else "failed", error, retry)
    detail = {"schedule": schedule.id, "due": run.due_at.isoformat(), "failed": error[:200], "retry": bool(retry)}
    accounts().audit("scheduler", "schedule_delivery", detail, None)
    logger.warning("Scheduled report %s (due %s) failed: %s", schedule.id, run.due_at, error)
    return "retry" if retry else "failed"


def _message(schedule: Schedule, run: Run, period, scope_text: str, summary, lost: list[str],
             link: tuple[str, dt.datetime] | None):  # fmt: skip
    """The email: the period's KPIs as text and HTML, the late or narrowed notice, the key of the run."""
    settings = mail.SmtpSettings.from_config(current_app.config)
    label = f"{period.start.isoformat()} to {period.end.isoformat()}"
    subject = f"Telemetry report: {label}" + (" (late)" if run.late else "")
    lines = [f"{scope_text} · {label} ({current_app.config['ORG_TIMEZONE']})"]
    if run.late:
        lines.append(f"Late: this report was due at {run.due_at:%Y-%m-%d %H:%M} UTC; the scheduler was not running.")
    if lost:
        lines.append(f"Narrowed: team(s) {', '.join(lost)} are no longer in the owner's scope.")
    kpis = [(row["metric"], display(row["value"], row["unit"]), row["change"])
            for row in summary.frame.iter_rows(named=True)]  # fmt: skip
    text = "\n".join(lines + [""] + [f"{m}: {v} ({c})" for m, v, c in kpis])
    rows = "".join(f"<tr><td>{html.escape(m)}</td><td>{html.escape(v)}</td><td>{html.escape(c)}</td></tr>"
                   for m, v, c in kpis)  # fmt: skip
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    page = (f"{body}<table><tr><th>Metric</th><th>Value</th><th>Change</th></tr>{rows}</table>"
            f"<p>{_where(link, as_html=True)} Scheduled by {html.escape(schedule.owner)}.</p>")  # fmt: skip
    text += f"\n\n{_where(link, as_html=False)} Scheduled by {schedule.owner}."
    key = f"schedule:{schedule.id}:{run.due_at.isoformat()}"
    return mail.build_message(settings, ", ".join(schedule.recipients), subject, text, page, key)


def _where(link: tuple[str, dt.datetime] | None, as_html: bool) -> str:
    """Where the file is: attached, or behind the signed link (until it expires)."""
    if link is None:
        return "The full report is attached."
    url, expires = link
    shown = f'<a href="{html.escape(url)}">{html.escape(url)}</a>' if as_html else url
    return f"The full report is too large to attach; download it until {expires:%Y-%m-%d %H:%M} UTC: {shown}"


def _tell_owner(schedule: Schedule, subject: str, text: str) -> None:
    """Best effort: a notice to the owner's address (no SMTP, or a refused address, is logged, not raised)."""
    try:
        settings = mail.SmtpSettings.from_config(current_app.config)
        key = f"schedule-notice:{schedule.id}:{subject}"
        mail.send(settings, mail.build_message(settings, schedule.owner, subject, text, f"<p>{html.escape(text)}</p>",
                                               key))  # fmt: skip
    except mail.MailError as error:
        logger.warning("Could not tell %s: %s", schedule.owner, error)
