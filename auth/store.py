"""Accounts, server-side sessions, API tokens, login failures and the audit log, in SQLite."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROLES = ("admin", "manager", "member")
# The password hash of an account made by single sign-on: no argon2 hash, so no password ever verifies.
NO_PASSWORD = "!sso"

SCHEMA = """
create table if not exists accounts (
    id integer primary key,
    email text not null unique collate nocase,
    user_id text not null,
    role text not null check (role in ('admin', 'manager', 'member')),
    password_hash text not null,
    disabled integer not null default 0,
    created_at text not null
);
create table if not exists sessions (
    sid_hash text primary key,
    account_id integer not null references accounts(id),
    created_at text not null,
    last_seen text not null,
    revoked integer not null default 0
);
create index if not exists sessions_account on sessions(account_id);
create table if not exists api_tokens (
    id integer primary key,
    account_id integer not null references accounts(id),
    token_hash text not null unique,
    created_at text not null,
    last_used_at text,
    revoked integer not null default 0
);
create table if not exists login_failures (key text not null, at text not null);
create index if not exists login_failures_key on login_failures(key, at);
create index if not exists login_failures_at on login_failures(at);
create table if not exists audit (
    id integer primary key,
    at text not null,
    actor text not null,
    action text not null,
    detail text not null,
    remote_addr text
);
create index if not exists audit_action_at on audit(action, at);
"""


@dataclass(frozen=True)
class AccountRow:
    id: int
    email: str
    user_id: str
    role: str
    password_hash: str
    disabled: bool


@dataclass(frozen=True)
class LoginAttempt:
    """A login attempt let through (its rows in login_failures), or refused for `wait` seconds."""

    rowids: tuple[int, ...] = ()
    wait: int = 0
    blocked_by: str | None = None


@dataclass(frozen=True)
class SessionRow:
    account: AccountRow
    created_at: dt.datetime
    last_seen: dt.datetime
    revoked: bool


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    """Fixed-width ISO text, so stored times compare as strings in their order."""
    return moment.isoformat(timespec="microseconds")


def _digest(secret: str) -> str:
    """Session ids and tokens are 256-bit random, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._readers = threading.local()  # each thread's kept connection for `_read`
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
            db.execute("pragma journal_mode = wal")
            db.execute("pragma foreign_keys = on")
            db.execute("begin immediate")
            try:
                yield db
            except BaseException:
                db.execute("rollback")
                raise
            db.execute("commit")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """For one SELECT on the path of every request: no write lock (`begin immediate` would make
        concurrent requests queue for it, and wait in SQLite's busy handler); a single statement is its
        own consistent read, and sees every commit made before it (autocommit, WAL). The connection is
        kept per thread: opening one and reading the schema again cost 0.5 ms of a 1.5 ms warm request."""
        db = getattr(self._readers, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            self._readers.db = db
        yield db

    # Accounts

    def create_account(self, email: str, user_id: str, role: str, password_hash: str) -> int:
        if role not in ROLES:
            raise ValueError(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
        with self._tx() as db:
            cur = db.execute(
                "insert into accounts (email, user_id, role, password_hash, created_at) values (?, ?, ?, ?, ?)",
                (email, user_id, role, password_hash, utcnow().isoformat()),
            )
            return int(cur.lastrowid)

    def account_by_email(self, email: str) -> AccountRow | None:
        with self._tx() as db:
            row = db.execute(
                "select id, email, user_id, role, password_hash, disabled from accounts where email = ?",
                (email.strip(),),
            ).fetchone()
        return AccountRow(*row[:5], bool(row[5])) if row else None

    def sso_account(self, email: str, user_id: str, role: str) -> AccountRow:
        """The account of a person signing in by SSO, made (with no password) or given the directory's user
        and role, which decide at each sign-in."""
        if role not in ROLES:
            raise ValueError(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
        with self._tx() as db:
            db.execute(
                "insert into accounts (email, user_id, role, password_hash, created_at) values (?, ?, ?, ?, ?)"
                " on conflict (email) do update set user_id = excluded.user_id, role = excluded.role",
                (email, user_id, role, NO_PASSWORD, utcnow().isoformat()),
            )
            row = db.execute(
                "select id, email, user_id, role, password_hash, disabled from accounts where email = ?", (email,)
            ).fetchone()
        return AccountRow(*row[:5], bool(row[5]))

    def count_accounts(self) -> int:
        with self._tx() as db:
            return db.execute("select count(*) from accounts").fetchone()[0]

    def set_password_hash(self, account_id: int, password_hash: str) -> None:
        """A new password also ends every session the account had."""
        with self._tx() as db:
            db.execute("update accounts set password_hash = ? where id = ?", (password_hash, account_id))
            db.execute("update sessions set revoked = 1 where account_id = ?", (account_id,))

    def set_disabled(self, account_id: int, disabled: bool = True) -> None:
        with self._tx() as db:
            db.execute("update accounts set disabled = ? where id = ?", (int(disabled), account_id))
            if disabled:
                db.execute("update sessions set revoked = 1 where account_id = ?", (account_id,))
                db.execute("update api_tokens set revoked = 1 where account_id = ?", (account_id,))

    # Sessions

    def open_session(self, account_id: int) -> str:
        sid = secrets.token_urlsafe(32)
        now = utcnow().isoformat()
        with self._tx() as db:
            db.execute(
                "insert into sessions (sid_hash, account_id, created_at, last_seen) values (?, ?, ?, ?)",
                (_digest(sid), account_id, now, now),
            )
        return sid

    def session(self, sid: str) -> SessionRow | None:
        with self._read() as db:
            row = db.execute(
                "select a.id, a.email, a.user_id, a.role, a.password_hash, a.disabled,"
                " s.created_at, s.last_seen, s.revoked"
                " from sessions s join accounts a on a.id = s.account_id where s.sid_hash = ?",
                (_digest(sid),),
            ).fetchone()
        if row is None:
            return None
        account = AccountRow(*row[:5], bool(row[5]))
        return SessionRow(account, dt.datetime.fromisoformat(row[6]), dt.datetime.fromisoformat(row[7]), bool(row[8]))

    def touch_session(self, sid: str) -> None:
        with self._tx() as db:
            db.execute("update sessions set last_seen = ? where sid_hash = ?", (utcnow().isoformat(), _digest(sid)))

    def revoke_session(self, sid: str) -> None:
        with self._tx() as db:
            db.execute("update sessions set revoked = 1 where sid_hash = ?", (_digest(sid),))

    # API tokens

    def create_token(self, account_id: int) -> str:
        token = "tlm_" + secrets.token_urlsafe(32)
        with self._tx() as db:
            db.execute(
                "insert into api_tokens (account_id, token_hash, created_at) values (?, ?, ?)",
                (account_id, _digest(token), utcnow().isoformat()),
            )
        return token

    def account_by_token(self, token: str) -> AccountRow | None:
        with self._tx() as db:
            row = db.execute(
                "select a.id, a.email, a.user_id, a.role, a.password_hash, a.disabled from api_tokens t"
                " join accounts a on a.id = t.account_id where t.token_hash = ? and t.revoked = 0",
                (_digest(token),),
            ).fetchone()
            if row:
                db.execute(
                    "update api_tokens set last_used_at = ? where token_hash = ?",
                    (utcnow().isoformat(), _digest(token)),
                )
        return AccountRow(*row[:5], bool(row[5])) if row else None

    def revoke_tokens(self, account_id: int) -> int:
        with self._tx() as db:
            cur = db.execute("update api_tokens set revoked = 1 where account_id = ? and revoked = 0", (account_id,))
            return cur.rowcount

    # Login throttling: attempts per key ("account:…|address:…", "address:…") within a window

    def begin_login_attempt(self, limits: dict[str, int], window: dt.timedelta) -> LoginAttempt:
        """Check every key's count and record the attempt in one transaction, before the password is
        verified, so concurrent guesses cannot all pass the check. Rows older than the window go."""
        now = utcnow()
        since = _stamp(now - window)
        with self._tx() as db:
            db.execute("delete from login_failures where at <= ?", (since,))
            wait, blocked_by = 0, None
            for key, limit in limits.items():
                count, oldest = db.execute(
                    "select count(*), min(at) from login_failures where key = ? and at > ?", (key, since)
                ).fetchone()
                if count >= limit and oldest is not None:
                    seconds = int((dt.datetime.fromisoformat(oldest) + window - now).total_seconds()) + 1
                    if seconds > wait:
                        wait, blocked_by = seconds, key
            if wait:
                return LoginAttempt(wait=wait, blocked_by=blocked_by)
            stamp = _stamp(now)
            rowids = tuple(
                db.execute("insert into login_failures (key, at) values (?, ?)", (key, stamp)).lastrowid
                for key in limits
            )
        return LoginAttempt(rowids=rowids)

    def forget_login_attempt(self, attempt: LoginAttempt, *clear_keys: str) -> None:
        """After a right password: the attempt was no failure, and the keys' earlier failures are cleared."""
        with self._tx() as db:
            db.executemany("delete from login_failures where rowid = ?", [(rowid,) for rowid in attempt.rowids])
            db.executemany("delete from login_failures where key = ?", [(key,) for key in clear_keys])

    # Audit log

    def audit(self, actor: str, action: str, detail: dict, remote_addr: str | None) -> None:
        with self._tx() as db:
            self._append_audit(db, actor, action, detail, remote_addr)

    def audit_once(
        self, key: str, actor: str, action: str, detail: dict, remote_addr: str | None, every: dt.timedelta
    ) -> bool:
        """Append unless an entry with this action and key (kept in the detail) is younger than `every`:
        what strangers can repeat at will (throttled logins, rejected tokens) is written once a while."""
        since = _stamp(utcnow() - every)
        with self._tx() as db:
            recent = db.execute(
                "select 1 from audit where action = ? and at > ? and json_extract(detail, '$.key') = ? limit 1",
                (action, since, key),
            ).fetchone()
            if recent:
                return False
            self._append_audit(db, actor, action, {**detail, "key": key}, remote_addr)
        return True

    @staticmethod
    def _append_audit(db: sqlite3.Connection, actor: str, action: str, detail: dict, remote_addr: str | None) -> None:
        db.execute(
            "insert into audit (at, actor, action, detail, remote_addr) values (?, ?, ?, ?, ?)",
            (_stamp(utcnow()), actor, action, json.dumps(detail, sort_keys=True, default=str), remote_addr),
        )

    def audit_entries(self, limit: int = 100) -> list[dict]:
        with self._tx() as db:
            rows = db.execute(
                "select at, actor, action, detail, remote_addr from audit order by id desc limit ?", (limit,)
            ).fetchall()
        return [
            {"at": at, "actor": actor, "action": action, "detail": json.loads(detail), "remote_addr": addr}
            for at, actor, action, detail, addr in rows
        ]
