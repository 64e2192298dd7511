"""Who is asking: Flask-Login sessions backed by server-side session rows, or an API token."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass

from flask import Flask, Request, current_app, request, session
from flask_login import AnonymousUserMixin, LoginManager, current_user, login_user

from auth.store import AccountRow, SessionRow, Store, utcnow
from queries import directory

VIEWER_ROLES = ("admin", "manager")
_TOUCH_EVERY = dt.timedelta(minutes=1)
_REJECTED_TOKEN_AUDIT_EVERY = dt.timedelta(minutes=1)
_FINGERPRINT = "_fingerprint"  # key in the (signed) session cookie
SSO_SESSION = "_oidc_id_token"  # key in the session cookie of a sign-in by the provider: its ID token


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
    # "Strong" session protection is done in load_session, not by Flask-Login: its fingerprint believes
    # X-Forwarded-For from anyone, and it would refuse a token request over an unrelated cookie.
    manager.session_protection = None
    manager.anonymous_user = Anonymous
    manager.user_loader(load_session)
    manager.request_loader(load_token)


def session_fingerprint() -> str:
    """Where a session may be used from: the client's address (as ProxyFix vouched for it, and only
    with TRUSTED_PROXIES) and its User-Agent, hashed. A spoofed X-Forwarded-For changes nothing."""
    seen = f"{request.remote_addr}|{request.headers.get('User-Agent', '')}"
    return hashlib.sha512(seen.encode("utf-8", "replace")).hexdigest()


def sign_in(account: Account) -> None:
    """Start a session for an account, pinned to this client's fingerprint."""
    login_user(account)
    session[_FINGERPRINT] = session_fingerprint()


def address_key(address: str | None) -> str:
    """The client an address stands for: an IPv4 address, or an IPv6 /64 (what one host is given)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return (address or "?")[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def presents_token(req: Request) -> bool:
    """An `Authorization: Bearer …` request is authenticated by that token alone, never by a cookie."""
    scheme, _, _token = req.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer"


def refusal(row: AccountRow, sso: bool = False) -> str | None:
    """Why an account may not be signed in, whatever the way: disabled here, or its person left (`active` false
    in `users.parquet`); by single sign-on, also a person not in the directory at all. (A password account
    with no directory row still signs in, as before the directory is imported.) The file is read again once
    it changes."""
    if row.disabled:
        return "disabled"
    person = directory.user_by_email(row.email)
    if person is None:
        return "not_in_directory" if sso else None
    if not person["active"]:
        return "left"
    return None


def load_session(sid: str) -> Account | None:
    """The account behind a session cookie, unless revoked, disabled, gone from the directory, idle or too old."""
    if presents_token(request):
        return None  # Flask-Login then asks load_token, and only it
    if session.get(_FINGERPRINT) != session_fingerprint():
        return None  # the cookie was issued to another address or browser: replayed, or stale
    found = store().session(sid)
    if found is None or found.revoked or found.account.disabled:
        return None
    if refusal(found.account, sso=SSO_SESSION in session):
        store().revoke_session(sid)  # the person left: the session ends, as disable-user ends it
        return None
    now = utcnow()
    if _expired(found, now):
        store().revoke_session(sid)
        return None
    if now - found.last_seen > _TOUCH_EVERY:
        store().touch_session(sid)
    return Account(found.account, sid=sid)


def _expired(found: SessionRow, now: dt.datetime) -> bool:
    idle = dt.timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    lifetime = dt.timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    return now - found.last_seen > idle or now - found.created_at > lifetime


def session_ended(sid: str) -> bool:
    """Whether a session is over (unknown, revoked, its account disabled, idle or too old): its report jobs stop."""
    found = store().session(sid)
    return found is None or found.revoked or found.account.disabled or _expired(found, utcnow())


def load_token(req: Request) -> Account | None:
    """`Authorization: Bearer tlm_…` for the JSON API: the owner's role and scope, audited."""
    if not presents_token(req):
        return None
    token = req.headers["Authorization"].partition(" ")[2].strip()
    row = store().account_by_token(token) if token else None
    if row is None or refusal(row):
        if token:  # anyone can send these: one entry per address a minute
            key = f"address:{address_key(req.remote_addr)}"
            detail = {"path": req.path[:200]}
            store().audit_once(key, "?", "token_rejected", detail, req.remote_addr, _REJECTED_TOKEN_AUDIT_EVERY)
        return None
    store().audit(row.email, "token_use", {"path": req.path, "query": req.query_string.decode()}, request.remote_addr)
    return Account(row, via_token=True)


def audit(action: str, detail: dict) -> None:
    """Append to the audit log as the signed-in account, from this request's address."""
    store().audit(current_account().email or "?", action, detail, request.remote_addr)
