"""Report schedules and their runs, in the accounts' SQLite file (beside the budgets' outbox).

A run is sent once per schedule and due time: its key (schedule, due time) is unique, and it is claimed in
a transaction (`begin immediate`) with a lease, as the alerts' deliveries are (alerts/store.py): a second
runner finds it taken; a runner that stopped mid-send leaves a lease that expires, and the run is sent
again then (with the same Message-ID).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from auth.store import Store, utcnow
from queries.filters import parse_instant

SCHEMA = """
create table if not exists report_schedules (
    id integer primary key,
    owner text not null,
    points text not null,
    format text not null,
    teams text not null default '',
    agents text not null default '',
    period text not null,
    cadence text not null,
    at text not null,
    recipients text not null,
    status text not null default 'active' check (status in ('active', 'paused', 'stopped')),
    note text not null default '',
    active_since text not null  -- made or last resumed: runs due before are not sent
);
create table if not exists report_schedule_runs (
    id integer primary key,
    schedule_id integer not null,
    due_at text not null,
    late integer not null default 0,
    status text not null check (status in ('pending', 'sending', 'sent', 'failed', 'stopped')),
    attempts integer not null default 1,
    next_attempt_at text,
    lease_until text,
    claimed_by text,
    finished_at text,
    detail text not null default '',
    unique (schedule_id, due_at)
);
"""


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _split(text: str) -> tuple[str, ...]:
    return tuple(item for item in text.split(",") if item)


@dataclass(frozen=True)
class Schedule:
    id: int
    owner: str  # the account's email: the report is made in its scope at every run
    points: tuple[str, ...]
    format: str
    teams: tuple[str, ...]
    agents: tuple[str, ...]
    period: str
    cadence: str  # daily, weekly:mon, monthly:1 (reports/schedules.py Cadence)
    at: str  # HH:MM local to ORG_TIMEZONE
    recipients: tuple[str, ...]
    status: str  # active, paused or stopped (its owner may no longer export)
    note: str
    active_since: dt.datetime  # made or last resumed: runs due before it are not sent


@dataclass(frozen=True)
class Run:
    id: int
    schedule_id: int
    due_at: dt.datetime
    late: bool
    status: str
    attempts: int
    finished_at: str | None
    detail: str


def _schedule(row: tuple) -> Schedule:
    i, owner, points, fmt, teams, agents, period, cadence, at, to, status, note, since = row
    return Schedule(i, owner, _split(points), fmt, _split(teams), _split(agents), period, cadence, at, _split(to),
                    status, note, parse_instant(since, "active_since"))  # fmt: skip


def _run(row: tuple) -> Run:
    i, schedule_id, due, late, status, attempts, finished, detail = row
    return Run(i, schedule_id, parse_instant(due, "due_at"), bool(late), status, attempts, finished, detail)


class ScheduleStore(Store):
    """The accounts' Store (its transactions and audit log) with the schedules' tables."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.executescript(SCHEMA)

    def add(self, owner: str, points: tuple[str, ...], fmt: str, teams: tuple[str, ...], agents: tuple[str, ...],
            period: str, cadence: str, at: str, recipients: tuple[str, ...], now: dt.datetime) -> int:  # fmt: skip
        with self._tx() as db:
            cur = db.execute(
                "insert into report_schedules (owner, points, format, teams, agents, period, cadence, at, recipients,"
                " status, note, active_since) values"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', '', ?)",
                (owner, ",".join(points), fmt, ",".join(teams), ",".join(agents), period, cadence, at,
                 ",".join(recipients), _stamp(now)),
            )  # fmt: skip
            return int(cur.lastrowid)

    def update(self, schedule_id: int, points: tuple[str, ...], fmt: str, teams: tuple[str, ...],
               agents: tuple[str, ...], period: str, cadence: str, at: str, recipients: tuple[str, ...],
               since: dt.datetime | None = None) -> bool:  # fmt: skip
        """Change what a schedule sends, when and to whom; `since`: the runs due before it are not sent."""
        with self._tx() as db:
            cur = db.execute(
                "update report_schedules set points = ?, format = ?, teams = ?, agents = ?, period = ?, cadence = ?,"
                " at = ?, recipients = ?, active_since = coalesce(?, active_since) where id = ?",
                (",".join(points), fmt, ",".join(teams), ",".join(agents), period, cadence, at, ",".join(recipients),
                 since and _stamp(since), schedule_id),
            )  # fmt: skip
            return bool(cur.rowcount)

    def schedules(self, owner: str | None = None) -> list[Schedule]:
        """Every schedule, or one owner's, oldest first."""
        with self._tx() as db:
            rows = db.execute(
                "select id, owner, points, format, teams, agents, period, cadence, at, recipients, status, note,"
                " active_since from report_schedules where ? is null or owner = ? order by id",
                (owner, owner),
            ).fetchall()
        return [_schedule(row) for row in rows]

    def schedule(self, schedule_id: int) -> Schedule | None:
        with self._tx() as db:
            row = db.execute(
                "select id, owner, points, format, teams, agents, period, cadence, at, recipients, status, note,"
                " active_since from report_schedules where id = ?",
                (schedule_id,),
            ).fetchone()
        return _schedule(row) if row else None

    def remove(self, schedule_id: int) -> bool:
        with self._tx() as db:
            db.execute("delete from report_schedule_runs where schedule_id = ?", (schedule_id,))
            return bool(db.execute("delete from report_schedules where id = ?", (schedule_id,)).rowcount)

    def set_status(self, schedule_id: int, status: str, note: str = "", since: dt.datetime | None = None) -> None:
        """Pause, stop or resume; resumed `since` a moment, the runs due while it was not active are not sent."""
        with self._tx() as db:
            db.execute(
                "update report_schedules set status = ?, note = ?, active_since = coalesce(?, active_since)"
                " where id = ?",
                (status, note, since and _stamp(since), schedule_id),
            )

    def claim(self, schedule_id: int, due: dt.datetime, late: bool, worker: str, now: dt.datetime,
              lease: dt.timedelta, max_attempts: int) -> Run | None:  # fmt: skip
        """The run of `schedule_id` due at `due`, taken by `worker` until `now + lease`: new, due to be tried
        again, or left by a runner that stopped before marking it; None if another has it or it is done."""
        stamp, until = _stamp(now), _stamp(now + lease)
        with self._tx() as db:
            row = db.execute(
                "insert into report_schedule_runs (schedule_id, due_at, late, status, lease_until, claimed_by)"
                " values (?, ?, ?, 'sending', ?, ?) on conflict do nothing"
                " returning id, schedule_id, due_at, late, status, attempts, finished_at, detail",
                (schedule_id, _stamp(due), int(late), until, worker),
            ).fetchone()
            if row is None:
                row = db.execute(
                    "update report_schedule_runs set status = 'sending', attempts = attempts + 1, lease_until = ?,"
                    " claimed_by = ? where schedule_id = ? and due_at = ? and attempts < ? and"
                    " ((status = 'pending' and next_attempt_at <= ?) or (status = 'sending' and lease_until <= ?))"
                    " returning id, schedule_id, due_at, late, status, attempts, finished_at, detail",
                    (until, worker, schedule_id, _stamp(due), max_attempts, stamp, stamp),
                ).fetchone()
        return _run(row) if row else None

    def finish(self, run_id: int, worker: str, status: str, detail: str, retry_at: dt.datetime | None = None) -> None:
        """The run's outcome: sent, stopped, failed (given up), or pending again from `retry_at`."""
        with self._tx() as db:
            db.execute(
                "update report_schedule_runs set status = ?, detail = ?, finished_at = ?, next_attempt_at = ?,"
                " lease_until = null where id = ? and claimed_by = ? and status = 'sending'",
                (status, detail[:500], _stamp(utcnow()), retry_at and _stamp(retry_at), run_id, worker),
            )

    def last_runs(self) -> dict[int, Run]:
        """Each schedule's latest run."""
        with self._tx() as db:
            rows = db.execute(
                "select id, schedule_id, due_at, late, status, attempts, finished_at, detail from report_schedule_runs"
                " where id in"
                " (select max(id) from report_schedule_runs group by schedule_id)"
            ).fetchall()
        return {run.schedule_id: run for run in map(_run, rows)}

    def runs(self, schedule_id: int) -> list[Run]:
        with self._tx() as db:
            rows = db.execute(
                "select id, schedule_id, due_at, late, status, attempts, finished_at, detail from report_schedule_runs"
                " where schedule_id = ? order by id",
                (schedule_id,),
            ).fetchall()
        return [_run(row) for row in rows]
