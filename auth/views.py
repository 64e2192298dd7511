"""The login form (a plain HTML page, not Dash) and logout."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Blueprint, current_app, make_response, redirect, render_template, request, session
from flask_login import logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from auth.passwords import verify_password
from auth.session import Account, address_key, current_account, sign_in, store
from auth.store import LoginAttempt

bp = Blueprint("auth", __name__, template_folder="templates")

INVALID = "Invalid email or password."
MAX_EMAIL = 320  # 64 + "@" + 255: the longest address; longer ones are refused before anything is stored
THROTTLE_AUDIT_EVERY = dt.timedelta(minutes=1)  # one login_throttled entry per key a minute
ACCESS_NOTICE = (
    "This section is available only to Admin and Manager roles. "
    "To request access, contact your organization administrator."
)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=MAX_EMAIL)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no '//' or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/telemetry"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return "/telemetry"
    return target


def pair_key(email: str, address: str) -> str:
    """The throttle key of one account tried from one client."""
    return f"account:{email.lower()}|address:{address_key(address)}"


def begin_attempt(email: str, address: str) -> LoginAttempt:
    """Throttle, then count this attempt as a failure until the password proves right.

    Limits are per (account, client) and per client, never per account alone: anyone can send
    failures for a guessable email, so a per-account limit (or a ceiling an attacker with many
    addresses can reach; an IPv6 /56 is 256 clients) would let a stranger lock the owner out.
    Guessing from many addresses is slowed per address instead, and audited (login_failed)."""
    config = current_app.config
    limits = {
        pair_key(email, address): config["LOGIN_MAX_FAILURES"],
        f"address:{address_key(address)}": config["LOGIN_MAX_FAILURES"] * 4,
    }
    return store().begin_login_attempt(limits, dt.timedelta(seconds=config["LOGIN_LOCK_SECONDS"]))


def access_notice_page(status: int = 403):
    return make_response(render_template("access_notice.html", notice=ACCESS_NOTICE), status)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if request.method == "GET":
        return render_template("login.html", form=form, error=None, next_url=next_url)
    # The form first (cheap, and nothing is written for a request without a valid token and fields).
    if not form.validate_on_submit():
        return render_template(
            "login.html", form=form, error="The form expired or was incomplete; please try again.", next_url=next_url
        ), 400
    email = (form.email.data or "").strip()[:MAX_EMAIL]
    address = request.remote_addr or "?"
    attempt = begin_attempt(email, address)
    if attempt.wait:
        store().audit_once(attempt.blocked_by or "?", email, "login_throttled", {}, address, THROTTLE_AUDIT_EVERY)
        response = make_response(
            render_template("login.html", form=form, error="Too many attempts. Try again later.", next_url=next_url),
            429,
        )
        response.headers["Retry-After"] = str(attempt.wait)
        return response
    row = store().account_by_email(email)
    if not verify_password(row.password_hash if row else None, form.password.data or ""):
        store().audit(email, "login_failed", {}, address)  # the attempt's rows stay, as the failure
        return render_template("login.html", form=form, error=INVALID, next_url=next_url), 401
    store().forget_login_attempt(attempt, pair_key(email, address))
    if row.disabled:
        store().audit(email, "login_disabled", {}, address)
        return access_notice_page()
    session.clear()  # a fresh session at login, nothing carried over from before
    sign_in(Account(row, sid=store().open_session(row.id)))
    store().audit(row.email, "login", {"role": row.role}, address)
    return redirect(next_url)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """GET asks (a link from anywhere must not sign anyone out); POST, from our pages only, signs out.

    The gate lets only signed-in accounts this far, and refuses a POST from another site's page.
    """
    if request.method == "GET":
        return render_template("logout.html", email=current_account().email)
    account = current_account()
    if getattr(account, "sid", None):
        store().revoke_session(account.sid)
        store().audit(account.email, "logout", {}, request.remote_addr)
    logout_user()
    session.clear()
    return redirect("/login")
