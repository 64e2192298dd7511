"""The login form (a plain HTML page, not Dash) and logout."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlsplit

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, session
from flask_login import logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from auth import oidc
from auth.passwords import verify_password
from auth.session import Account, address_key, current_account, refusal, sign_in, store
from auth.store import ROLES, AccountRow, LoginAttempt
from queries import directory

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


class SsoForm(FlaskForm):
    """The "Sign in with …" button: only the CSRF token, as the password form has."""


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


def begin_attempt(email: str | None, address: str) -> LoginAttempt:
    """Throttle, then count this attempt as a failure until the password (or the provider) proves right.

    Limits are per (account, client) and per client, never per account alone: anyone can send
    failures for a guessable email, so a per-account limit (or a ceiling an attacker with many
    addresses can reach; an IPv6 /56 is 256 clients) would let a stranger lock the owner out.
    Guessing from many addresses is slowed per address instead, and audited (login_failed).
    A single sign-on learns the email only from the provider's answer: `email` None, per client only."""
    config = current_app.config
    limits = {f"address:{address_key(address)}": config["LOGIN_MAX_FAILURES"] * 4}
    if email is not None:
        limits = {pair_key(email, address): config["LOGIN_MAX_FAILURES"], **limits}
    return store().begin_login_attempt(limits, dt.timedelta(seconds=config["LOGIN_LOCK_SECONDS"]))


def password_allowed(email: str, row: AccountRow | None) -> bool:
    """Password sign-in is on, or off (PASSWORD_LOGIN=0) and this is the break-glass admin's account."""
    config = current_app.config
    if config["PASSWORD_LOGIN"]:
        return True
    break_glass = (config.get("BREAK_GLASS_ADMIN") or "").strip().lower()
    return bool(break_glass) and email.lower() == break_glass and row is not None and row.role == "admin"


def login_page(error: str | None = None, status: int = 200, form: LoginForm | None = None, next_url: str = "/"):
    """The sign-in page: "Sign in with <provider>" when single sign-on is set up, the password form when on
    (with it off, only at /login?break-glass=1, for the break-glass admin)."""
    show_password = current_app.config["PASSWORD_LOGIN"] or "break-glass" in request.args
    page = render_template(
        "login.html",
        form=form or LoginForm(),
        sso_form=SsoForm(),
        sso_name=oidc.provider_name() if oidc.configured() else None,
        show_password=show_password,
        break_glass=not current_app.config["PASSWORD_LOGIN"],
        error=error,
        next_url=next_url,
    )
    return make_response(page, status)


def throttled(attempt: LoginAttempt, email: str, address: str, form: LoginForm | None, next_url: str):
    store().audit_once(attempt.blocked_by or "?", email, "login_throttled", {}, address, THROTTLE_AUDIT_EVERY)
    response = login_page("Too many attempts. Try again later.", 429, form, next_url)
    response.headers["Retry-After"] = str(attempt.wait)
    return response


def finish_sign_in(row: AccountRow, attempt: LoginAttempt, address: str, next_url: str, via: dict):
    """The one end of every sign-in, by password or by the provider: failures cleared, a fresh session
    pinned to this client, the audit entry."""
    store().forget_login_attempt(attempt, pair_key(row.email, address))
    session.clear()  # a fresh session at login, nothing carried over from before
    sign_in(Account(row, sid=store().open_session(row.id)))
    store().audit(row.email, "login", {"role": row.role, **via}, address)
    return redirect(next_url)


def access_notice_page(status: int = 403):
    return make_response(render_template("access_notice.html", notice=ACCESS_NOTICE), status)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if request.method == "GET":
        return login_page(form=form, next_url=next_url)
    # The form first (cheap, and nothing is written for a request without a valid token and fields).
    if not form.validate_on_submit():
        return login_page("The form expired or was incomplete; please try again.", 400, form, next_url)
    email = (form.email.data or "").strip()[:MAX_EMAIL]
    address = request.remote_addr or "?"
    attempt = begin_attempt(email, address)
    if attempt.wait:
        return throttled(attempt, email, address, form, next_url)
    row = store().account_by_email(email)
    allowed = password_allowed(email, row)
    # With password sign-in off, every account but the break-glass admin's fails as a wrong password does,
    # after the same hashing: the answer does not tell which email is the break-glass one.
    if not verify_password(row.password_hash if row and allowed else None, form.password.data or ""):
        if allowed:
            store().audit(email, "login_failed", {}, address)  # the attempt's rows stay, as the failure
        else:
            store().audit(email, "login_refused", {"via": "password", "reason": "password_login_off"}, address)
        return login_page(INVALID, 401, form, next_url)
    reason = refusal(row)
    if reason:
        store().forget_login_attempt(attempt, pair_key(email, address))
        if reason == "disabled":
            store().audit(email, "login_disabled", {}, address)
        else:
            store().audit(email, "login_refused", {"via": "password", "reason": reason}, address)
        return access_notice_page()
    return finish_sign_in(row, attempt, address, next_url, {})


@bp.route("/login/sso", methods=["GET", "POST"])
def sso_start():
    """The "Sign in with …" button: off to the provider, with state, nonce and PKCE kept in this session.
    A GET (a link) starts nothing: the login page, where the button is."""
    if not oidc.configured():
        abort(404)
    next_url = safe_next(request.args.get("next"))
    if request.method == "GET":
        return redirect(f"/login?next={quote(next_url, safe='/')}")
    if not SsoForm().validate_on_submit():
        return login_page("The form expired; please try again.", 400, next_url=next_url)
    try:
        return oidc.authorization_redirect(next_url)
    except oidc.ProviderUnavailable as error:
        return provider_unavailable(error, next_url)


@bp.route("/login/sso/callback")
def sso_callback():
    """Where the provider sends the browser back: verify its answer, then let the directory decide."""
    if not oidc.configured():
        abort(404)
    next_url = safe_next(session.get(oidc.NEXT_KEY))
    address = request.remote_addr or "?"
    attempt = begin_attempt(None, address)
    if attempt.wait:
        return throttled(attempt, "?", address, None, next_url)
    try:
        identity = oidc.verified_identity()
        row = sso_account(identity)
    except oidc.ProviderUnavailable as error:
        store().forget_login_attempt(attempt)  # the provider's fault, not the client's
        return provider_unavailable(error, next_url)
    except oidc.SignInRefused as refused:
        store().audit(refused.email, "login_refused", {"via": "sso", "reason": refused.reason}, address)
        return login_page(refused.message, refused.status, next_url=next_url)
    response = finish_sign_in(row, attempt, address, next_url, {"via": "sso"})
    session[oidc.ID_TOKEN_KEY] = identity.id_token  # after finish_sign_in's clear: for RP-initiated logout
    return response


def sso_account(identity: oidc.Identity) -> AccountRow:
    """The directory decides: a person in users.parquet with this email, still with the company, not disabled
    here; their role the directory's (or the provider's groups', only where an admin mapped them)."""
    email = identity.email
    person = directory.user_by_email(email)
    if person is None:
        message = f"{email} is not in the organization's directory; ask your administrator for access."
        raise oidc.SignInRefused("not_in_directory", message, email)
    if not person["active"]:
        raise oidc.SignInRefused("left", f"{email} is no longer active in the organization's directory.", email)
    found = store().account_by_email(person["email"])
    if found is not None and found.disabled:
        message = "This account is disabled. To request access, contact your organization administrator."
        raise oidc.SignInRefused("disabled", message, email)
    role = identity.mapped_role or person["role"]
    if role not in ROLES:
        raise oidc.SignInRefused("role", f"The directory gives {email} no known role ({role!r}).", email)
    return store().sso_account(person["email"], person["user_id"], role)


def provider_unavailable(error: Exception, next_url: str):
    current_app.logger.warning("single sign-on: the identity provider did not answer: %s", error)
    store().audit("?", "login_refused", {"via": "sso", "reason": "provider_unavailable"}, request.remote_addr)
    message = f"{oidc.provider_name()} cannot be reached just now; please try again in a few minutes."
    if current_app.config["PASSWORD_LOGIN"]:
        message += " You can also sign in with your password."
    return login_page(message, 503, next_url=next_url)


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
    # Signed in by the provider: end its session too, where it supports RP-initiated logout.
    provider_logout = oidc.logout_url(session.get(oidc.ID_TOKEN_KEY))
    logout_user()
    session.clear()
    return redirect(provider_logout or "/login")
