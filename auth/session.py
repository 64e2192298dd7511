"""Who is asking: Flask-Login sessions backed by server-side session rows, or an API token."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Flask, Request, current_app, request
from flask_login import AnonymousUserMixin, LoginManager, current_user

from auth.store import AccountRow, Store, utcnow

VIEWER_ROLES = ("admin", "manager")
_TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Account:
    """The signed-in account. `get_id` is the session id, so revoking the row ends the session."""

    row: AccountRow
    sid: str | None = None
    via_token: bool = False

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str | None:
        return self.sid

    @property
    def email(self) -> str:
        return self.row.email

    @property
    def role(self) -> str:
        return self.row.role

    @property
    def user_id(self) -> str:
        return self.row.user_id

    @property
    def may_view(self) -> bool:
        return self.role in VIEWER_ROLES and not self.row.disabled


class Anonymous(AnonymousUserMixin):
    email = ""
    role = ""
    may_view = False


def store() -> Store:
    return current_app.extensions["telemetry_store"]


def current_account() -> Account | Anonymous:
    return current_user._get_current_object()


def init_app(app: Flask) -> None:
    manager = LoginManager(app)
    manager.session_protection = "strong"
    manager.anonymous_user = Anonymous
    manager.user_loader(load_session)
    manager.request_loader(load_token)


def load_session(sid: str) -> Account | None:
    """The account behind a session cookie, unless revoked, disabled, idle or too old."""
    found = store().session(sid)
    if found is None or found.revoked or found.account.disabled:
        return None
    now = utcnow()
    idle = dt.timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    lifetime = dt.timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    if now - found.last_seen > idle or now - found.created_at > lifetime:
        store().revoke_session(sid)
        return None
    if now - found.last_seen > _TOUCH_EVERY:
        store().touch_session(sid)
    return Account(found.account, sid=sid)


def load_token(req: Request) -> Account | None:
    """`Authorization: Bearer tlm_…` for the JSON API: the owner's role and scope, audited."""
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = store().account_by_token(token.strip())
    if row is None or row.disabled:
        store().audit("?", "token_rejected", {"path": req.path}, request.remote_addr)
        return None
    store().audit(row.email, "token_use", {"path": req.path, "query": req.query_string.decode()}, request.remote_addr)
    return Account(row, via_token=True)


def audit(action: str, detail: dict) -> None:
    """Append to the audit log as the signed-in account, from this request's address."""
    store().audit(current_account().email or "?", action, detail, request.remote_addr)
