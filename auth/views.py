"""The login form (a plain HTML page, not Dash) and logout."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Blueprint, current_app, make_response, redirect, render_template, request, session
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from auth.passwords import verify_password
from auth.session import Account, current_account, store
from auth.store import utcnow

bp = Blueprint("auth", __name__, template_folder="templates")

INVALID = "Invalid email or password."
ACCESS_NOTICE = (
    "This section is available only to Admin and Manager roles. "
    "To request access, contact your organization administrator."
)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no '//' or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/telemetry"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return "/telemetry"
    return target


def throttled_for(email: str, address: str) -> int:
    """Seconds to wait before another try, or 0: failures per account and per address."""
    config = current_app.config
    window = dt.timedelta(seconds=config["LOGIN_LOCK_SECONDS"])
    since = utcnow() - window
    limits = (
        (f"account:{email.lower()}", config["LOGIN_MAX_FAILURES"]),
        (f"address:{address}", config["LOGIN_MAX_FAILURES"] * 4),
    )
    wait = 0
    for key, limit in limits:
        count, oldest = store().failures_since(key, since)
        if count >= limit and oldest is not None:
            wait = max(wait, int((oldest + window - utcnow()).total_seconds()) + 1)
    return wait


def access_notice_page(status: int = 403):
    return make_response(render_template("access_notice.html", notice=ACCESS_NOTICE), status)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if request.method == "GET":
        return render_template("login.html", form=form, error=None, next_url=next_url)
    email = (form.email.data or "").strip()
    address = request.remote_addr or "?"
    wait = throttled_for(email, address)
    if wait:
        store().audit(email or "?", "login_throttled", {}, address)
        response = make_response(
            render_template("login.html", form=form, error="Too many attempts. Try again later.", next_url=next_url),
            429,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    if not form.validate_on_submit():
        return render_template(
            "login.html", form=form, error="The form expired or was incomplete; please try again.", next_url=next_url
        ), 400
    row = store().account_by_email(email)
    if not verify_password(row.password_hash if row else None, form.password.data or ""):
        store().record_failure(f"account:{email.lower()}", f"address:{address}")
        store().audit(email, "login_failed", {}, address)
        return render_template("login.html", form=form, error=INVALID, next_url=next_url), 401
    store().clear_failures(f"account:{email.lower()}")
    if row.disabled:
        store().audit(email, "login_disabled", {}, address)
        return access_notice_page()
    session.clear()  # a fresh session at login, nothing carried over from before
    login_user(Account(row, sid=store().open_session(row.id)))
    store().audit(row.email, "login", {"role": row.role}, address)
    return redirect(next_url)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    account = current_account()
    if getattr(account, "sid", None):
        store().revoke_session(account.sid)
        store().audit(account.email, "logout", {}, request.remote_addr)
    logout_user()
    session.clear()
    return redirect("/login")
