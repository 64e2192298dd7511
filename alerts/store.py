"""Budgets, alert channels, the alerts raised and their deliveries (the outbox), in the accounts' SQLite file.

Money is kept as the exact decimal text it was given (`Decimal(text)` reads it back), never as a float.
The outbox is what makes an alert arrive once: an alert's key is unique (budget, period and threshold;
or team/agent and day), its deliveries are made in the same transaction as the alert, one per channel,
and a delivery is claimed in a transaction (`begin immediate`) with a lease before it is sent.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from auth.store import Store, utcnow

SCHEMA = """
create table if not exists budgets (
    id integer primary key,
    scope_kind text not null check (scope_kind in ('org', 'team', 'agent')),
    scope_id text not null default '',
    cadence text not null check (cadence in ('billing', 'month')),
    amount_usd text not null,
    created_at text not null,
    updated_at text not null,
    unique (scope_kind, scope_id, cadence)
);
create table if not exists alert_channels (
    id integer primary key,
    kind text not null check (kind in ('email', 'webhook')),
    target text not null,
    format text not null default '',
    secret text not null default '',
    scope_kind text not null check (scope_kind in ('org', 'team', 'agent')),
    scope_id text not null default '',
    created_by text not null,
    created_at text not null,
    unique (kind, target, scope_kind, scope_id)
);
create table if not exists alerts (
    id integer primary key,
    key text not null unique,
    kind text not null,
    scope_kind text not null,
    scope_id text not null default '',
    detail text not null,
    raised_at text not null
);
create table if not exists alert_deliveries (
    id integer primary key,
    alert_id integer not null references alerts(id),
    channel_id integer not null,
    status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed')),
    attempts integer not null default 0,
    next_attempt_at text not null,
    lease_until text,
    claimed_by text,
    sent_at text,
    error text,
    unique (alert_id, channel_id)
);
create index if not exists alert_deliveries_due on alert_deliveries(status, next_attempt_at);
create table if not exists alert_version (id integer primary key check (id = 1), n integer not null);
insert or ignore into alert_version values (1, 0);
"""
SCOPE_KINDS = ("org", "team", "agent")
CADENCES = ("billing", "month")


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Budget:
    id: int
    scope_kind: str
    scope_id: str  # "" for the organization
    cadence: str
    amount_usd: Decimal

    @property
    def scope(self) -> str:
        return "org" if self.scope_kind == "org" else f"{self.scope_kind}:{self.scope_id}"


@dataclass(frozen=True)
class Channel:
    id: int
    kind: str  # email or webhook
    target: str  # the address or the URL (never shown in full: `shown`)
    format: str  # webhook: slack, teams or generic
    secret: str  # webhook: the HMAC key
    scope_kind: str
    scope_id: str

    @property
    def scope(self) -> str:
        return "org" if self.scope_kind == "org" else f"{self.scope_kind}:{self.scope_id}"

    def receives(self, scope_kind: str, scope_id: str) -> bool:
        """An organization channel hears every alert; a team's or agent's only those about it."""
        return self.scope_kind == "org" or (self.scope_kind, self.scope_id) == (scope_kind, scope_id)


@dataclass(frozen=True)
class Alert:
    """What the checker found: its key makes it once per budget, amount, period and threshold (or per day)."""

    key: str
    kind: str  # threshold, projected or anomaly
    scope_kind: str
    scope_id: str
    detail: dict  # subject, text, html, link and the figures (JSON)


@dataclass(frozen=True)
class Delivery:
    id: int
    attempts: int
    alert: Alert
    channel: Channel | None  # None: the channel was removed since


def _bump(db: sqlite3.Connection) -> None:
    db.execute("update alert_version set n = n + 1")


class AlertStore(Store):
    """The accounts' Store (its transactions and audit log) with the alerts' tables."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.executescript(SCHEMA)

    # Budgets

    def set_budget(self, scope_kind: str, scope_id: str, cadence: str, amount: Decimal) -> tuple[Budget, str | None]:
        """Create or change the budget of a scope and cadence; returns it and the amount it had before."""
        now = _stamp(utcnow())
        with self._tx() as db:
            old = db.execute(
                "select amount_usd from budgets where scope_kind = ? and scope_id = ? and cadence = ?",
                (scope_kind, scope_id, cadence),
            ).fetchone()
            db.execute(
                "insert into budgets (scope_kind, scope_id, cadence, amount_usd, created_at, updated_at)"
                " values (?, ?, ?, ?, ?, ?) on conflict (scope_kind, scope_id, cadence)"
                " do update set amount_usd = excluded.amount_usd, updated_at = excluded.updated_at",
                (scope_kind, scope_id, cadence, str(amount), now, now),
            )
            _bump(db)
            row = db.execute(
                "select id from budgets where scope_kind = ? and scope_id = ? and cadence = ?",
                (scope_kind, scope_id, cadence),
            ).fetchone()
        return Budget(row[0], scope_kind, scope_id, cadence, amount), (old[0] if old else None)

    def budgets(self) -> list[Budget]:
        with self._tx() as db:
            rows = db.execute(
                "select id, scope_kind, scope_id, cadence, amount_usd from budgets order by scope_kind <> 'org',"
                " scope_kind, scope_id, cadence"
            ).fetchall()
        return [Budget(i, kind, sid, cadence, Decimal(amount)) for i, kind, sid, cadence, amount in rows]

    def remove_budget(self, scope_kind: str, scope_id: str, cadence: str | None) -> int:
        with self._tx() as db:
            cur = db.execute(
                "delete from budgets where scope_kind = ? and scope_id = ? and (? is null or cadence = ?)",
                (scope_kind, scope_id, cadence, cadence),
            )
            _bump(db)
            return cur.rowcount

    # Channels

    def add_channel(self, kind: str, target: str, fmt: str, secret: str, scope_kind: str, scope_id: str,
                    created_by: str) -> int | None:  # fmt: skip
        """The new channel's id, or None if the same one exists already."""
        with self._tx() as db:
            cur = db.execute(
                "insert or ignore into alert_channels (kind, target, format, secret, scope_kind, scope_id,"
                " created_by, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, target, fmt, secret, scope_kind, scope_id, created_by, _stamp(utcnow())),
            )
            _bump(db)
            return int(cur.lastrowid) if cur.rowcount else None

    def channels(self) -> list[Channel]:
        with self._tx() as db:
            rows = db.execute(
                "select id, kind, target, format, secret, scope_kind, scope_id from alert_channels order by id"
            ).fetchall()
        return [Channel(*row) for row in rows]

    def remove_channel(self, channel_id: int) -> int:
        with self._tx() as db:
            _bump(db)
            return db.execute("delete from alert_channels where id = ?", (channel_id,)).rowcount

    # Alerts and the outbox

    def raise_alert(self, alert: Alert, channels: list[Channel], now: dt.datetime) -> bool:
        """Record the alert and one delivery per channel that hears it, in one transaction; False if the alert
        was raised before (by this or another process), in which case nothing is added."""
        with self._tx() as db:
            cur = db.execute(
                "insert or ignore into alerts (key, kind, scope_kind, scope_id, detail, raised_at)"
                " values (?, ?, ?, ?, ?, ?)",
                (alert.key, alert.kind, alert.scope_kind, alert.scope_id, json.dumps(alert.detail, default=str),
                 _stamp(now)),
            )  # fmt: skip
            if not cur.rowcount:
                return False
            alert_id = cur.lastrowid
            _bump(db)
            db.executemany(
                "insert into alert_deliveries (alert_id, channel_id, next_attempt_at) values (?, ?, ?)",
                [(alert_id, c.id, _stamp(now)) for c in channels if c.receives(alert.scope_kind, alert.scope_id)],
            )
        return True

    def claim(self, worker: str, now: dt.datetime, lease: dt.timedelta) -> Delivery | None:
        """The next delivery due, taken by `worker` until `now + lease`: a pending one whose time has come, or
        one whose sender stopped (crashed, killed) before marking it, once its lease is over."""
        stamp = _stamp(now)
        with self._tx() as db:
            row = db.execute(
                "update alert_deliveries set status = 'sending', attempts = attempts + 1, lease_until = ?,"
                " claimed_by = ? where id = (select id from alert_deliveries where"
                " (status = 'pending' and next_attempt_at <= ?) or (status = 'sending' and lease_until <= ?)"
                " order by id limit 1) returning id, attempts, alert_id, channel_id",
                (_stamp(now + lease), worker, stamp, stamp),
            ).fetchone()
            if row is None:
                return None
            delivery_id, attempts, alert_id, channel_id = row
            key, kind, scope_kind, scope_id, detail = db.execute(
                "select key, kind, scope_kind, scope_id, detail from alerts where id = ?", (alert_id,)
            ).fetchone()
            channel = db.execute(
                "select id, kind, target, format, secret, scope_kind, scope_id from alert_channels where id = ?",
                (channel_id,),
            ).fetchone()
        alert = Alert(key, kind, scope_kind, scope_id, json.loads(detail))
        return Delivery(delivery_id, attempts, alert, Channel(*channel) if channel else None)

    def mark_sent(self, delivery_id: int, worker: str, now: dt.datetime) -> None:
        with self._tx() as db:
            db.execute(
                "update alert_deliveries set status = 'sent', sent_at = ?, error = null, lease_until = null"
                " where id = ? and claimed_by = ?",
                (_stamp(now), delivery_id, worker),
            )
            _bump(db)

    def mark_failed(self, delivery_id: int, worker: str, error: str, retry_at: dt.datetime | None) -> None:
        """A failed attempt: tried again from `retry_at`, or given up (None)."""
        with self._tx() as db:
            db.execute(
                "update alert_deliveries set status = ?, error = ?, lease_until = null, next_attempt_at ="
                " coalesce(?, next_attempt_at) where id = ? and claimed_by = ? and status = 'sending'",
                ("pending" if retry_at else "failed", error[:500], retry_at and _stamp(retry_at), delivery_id,
                 worker),
            )  # fmt: skip
            _bump(db)

    def version(self) -> int:
        """A number that changes with every change of budgets, channels, alerts or deliveries (kept outputs)."""
        with self._read() as db:
            return db.execute("select n from alert_version").fetchone()[0]

    def deliveries(self, limit: int = 200) -> list[dict]:
        """The newest deliveries with their alert and channel, for the list in the app and the CLI."""
        with self._tx() as db:
            rows = db.execute(
                "select a.raised_at, a.kind, a.scope_kind, a.scope_id, a.detail, c.kind, c.target, d.status,"
                " d.attempts, d.sent_at, d.error from alert_deliveries d join alerts a on a.id = d.alert_id"
                " left join alert_channels c on c.id = d.channel_id order by d.id desc limit ?",
                (limit,),
            ).fetchall()
        keys = ("raised_at", "kind", "scope_kind", "scope_id", "detail", "channel_kind", "target", "status",
                "attempts", "sent_at", "error")  # fmt: skip
        found = [dict(zip(keys, row, strict=True)) for row in rows]
        for entry in found:
            entry["detail"] = json.loads(entry["detail"])
        return found
