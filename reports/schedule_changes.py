"""Every change to a schedule, checked and audited once: for the commands (reports/schedule_cli.py) and the
Schedules page and the Generate Report dialog (callbacks/schedules.py).

Who may act: the owner, or an admin; a schedule of someone else is refused as one that does not exist.
What is saved is checked against the owner's scope (the report is made in it at every run), whoever edits.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from alerts.rules import check_email
from auth.scope import scope_for
from auth.session import store as accounts
from auth.store import AccountRow
from queries import directory
from queries.filters import parse_ids
from queries.period import PeriodError
from reports.build import check_may_export
from reports.request import ReportError, ReportRequest
from reports.schedule_run import schedule_store, send_now
from reports.schedule_store import Schedule
from reports.schedules import Cadence, check_period

MAX_RECIPIENTS = 50
_SEPARATORS = re.compile(r"[,;\s]+")  # commas as the command line takes them; a pasted list's ; and new lines


class ScheduleError(ValueError):
    """A change that cannot be made; the message is for the person. `field` names the option when known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Choices:
    """What a schedule sends, over which period, when and to whom: checked, as stored."""

    points: tuple[str, ...]
    format: str
    teams: tuple[str, ...]
    agents: tuple[str, ...]
    period: str
    cadence: Cadence
    recipients: tuple[str, ...]

    @property
    def at(self) -> str:
        return self.cadence.at.strftime("%H:%M")

    def detail(self) -> dict:
        """As the audit log keeps it."""
        return {"points": ",".join(self.points), "format": self.format, "period": self.period,
                "cadence": self.cadence.text, "at": self.at, "to": ",".join(self.recipients),
                "teams": ",".join(self.teams), "agents": ",".join(self.agents)}  # fmt: skip

    @classmethod
    def of(cls, schedule: Schedule) -> Choices:
        cadence = Cadence.parse(schedule.cadence, schedule.at)
        return cls(schedule.points, schedule.format, schedule.teams, schedule.agents, schedule.period, cadence,
                   schedule.recipients)  # fmt: skip


def may_own(account: AccountRow | None, email: str = "") -> AccountRow:
    """The account, if it may own schedules (an admin or a manager, not disabled)."""
    if account is None:
        raise ScheduleError(f"No account with email {email!r}.")
    try:
        check_may_export(account)
    except ReportError as error:
        raise ScheduleError(f"{account.email}: {error}") from None
    return account


def recipients(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """Addresses from a comma-separated text (or a pasted list), each checked, without repeats."""
    items = _SEPARATORS.split(text or "") if isinstance(text, str | None) else list(text)
    found = tuple(dict.fromkeys(check_email(item) for item in items if item and item.strip()))
    if not found:
        raise ScheduleError("Give at least one address to send the report to.")
    if len(found) > MAX_RECIPIENTS:
        raise ScheduleError(f"At most {MAX_RECIPIENTS} addresses per schedule.")
    return found


def check_choices(owner: AccountRow, points: Iterable[str], fmt: str, teams: object, agents: object, period: str,
                  cadence: str, at: str, to: str | Iterable[str] | None) -> Choices:  # fmt: skip
    """The choices, checked as one: ScheduleError (a ValueError) with the first problem, nothing saved."""
    try:
        chosen = tuple(p.strip() for p in points if isinstance(p, str) and p.strip())
        team_ids, agent_ids = parse_ids(teams, "teams"), parse_ids(agents, "agents")
        today = dt.date.today()
        ReportRequest(today, today, chosen, fmt, "day", team_ids, agent_ids)  # checks the points and format
        check_period(period)
        every = Cadence.parse(cadence, at)
        addresses = recipients(to)
    except ScheduleError:
        raise
    except (ValueError, PeriodError) as error:
        raise ScheduleError(str(error)) from None
    unknown = directory.unknown_ids(scope_for(owner.role, owner.user_id), team_ids, agent_ids)
    if unknown:
        raise ScheduleError(unknown[1], unknown[0])
    return Choices(chosen, fmt, team_ids, agent_ids, period, every, addresses)


def owned(actor: AccountRow, schedule_id: object) -> Schedule:
    """The schedule, if `actor` owns it or is an admin; anyone else's is answered as one that does not exist."""
    schedule = schedule_store().schedule(schedule_id) if type(schedule_id) is int else None  # not True, nor text
    if schedule is None or (actor.role != "admin" and schedule.owner != actor.email):
        raise ScheduleError(f"No schedule {schedule_id} of yours.")
    return schedule


def visible(actor: AccountRow) -> list[Schedule]:
    """The schedules `actor` may see and change: an admin's everyone's, anyone else's their own."""
    return schedule_store().schedules(None if actor.role == "admin" else actor.email)


def _audit(actor: AccountRow, action: str, detail: dict, address: str | None) -> None:
    accounts().audit(actor.email, action, detail, address)


def add(owner: AccountRow, choices: Choices, now: dt.datetime, address: str | None = None) -> int:
    """A new schedule of `owner` (the signed-in person, or the command's --as); audited."""
    c = choices
    schedule_id = schedule_store().add(owner.email, c.points, c.format, c.teams, c.agents, c.period, c.cadence.text,
                                       c.at, c.recipients, now)  # fmt: skip
    _audit(owner, "schedule_add", {"schedule": schedule_id, **c.detail()}, address)
    return schedule_id


def edit(actor: AccountRow, schedule: Schedule, choices: Choices, now: dt.datetime, address: str | None = None) -> list:
    """Change a schedule; the fields changed, audited. A new cadence or time counts from `now`: an edit never
    sends a run that was due before it."""
    before, after = Choices.of(schedule).detail(), choices.detail()
    changed = [key for key in after if after[key] != before[key]]
    retimed = {"cadence", "at"} & set(changed)
    c = choices
    schedule_store().update(schedule.id, c.points, c.format, c.teams, c.agents, c.period, c.cadence.text, c.at,
                            c.recipients, since=now if retimed else None)  # fmt: skip
    if changed:
        detail = {"schedule": schedule.id, "owner": schedule.owner, **{key: after[key] for key in changed}}
        _audit(actor, "schedule_edit", detail, address)
    return changed


def pause(actor: AccountRow, schedule: Schedule, resume: bool, now: dt.datetime, address: str | None = None) -> str:
    """Pause, or resume from the next due time (a stopped one too: the owner's access is checked at each run)."""
    status = "active" if resume else "paused"
    schedule_store().set_status(schedule.id, status, since=now if resume else None)
    _audit(actor, "schedule_resume" if resume else "schedule_pause",
           {"schedule": schedule.id, "owner": schedule.owner, "was": schedule.status}, address)  # fmt: skip
    return status


def remove(actor: AccountRow, schedule: Schedule, address: str | None = None) -> None:
    """Delete a schedule (its runs go with it; the audit log keeps its deliveries)."""
    schedule_store().remove(schedule.id)
    _audit(actor, "schedule_remove", {"schedule": schedule.id, "owner": schedule.owner}, address)


def send(actor: AccountRow, schedule: Schedule, now: dt.datetime, address: str | None = None) -> str:
    """Send now: the period as of now, in the owner's scope; sent, stopped, failed, retry or busy."""
    _audit(actor, "schedule_send", {"schedule": schedule.id, "owner": schedule.owner}, address)
    return send_now(schedule, now)


def last_problem(schedule_id: int) -> str:
    """Why the schedule's latest run was not sent, as its run says."""
    runs = schedule_store().runs(schedule_id)
    return runs[-1].detail if runs else ""
