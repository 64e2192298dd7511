"""Single sign-on with the organization's OpenID Connect provider: authorization code with PKCE, by Authlib.

The provider only proves who is signing in (a verified email in an ID token it signed for us); whether they
may, and with which role, the directory decides as for a password (auth/views.py finishes both sign-ins).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, request, session, url_for
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from auth.session import SSO_SESSION

_EXTENSION = "telemetry_oidc"
SCOPES = "openid email profile"
NEXT_KEY = "_oidc_next"  # in the signed session cookie: where to go once signed in
ID_TOKEN_KEY = SSO_SESSION  # in the signed session cookie: the hint for RP-initiated logout, and the mark of SSO
LEEWAY_SECONDS = 60  # clock skew allowed on the ID token's exp and iat


class SignInRefused(Exception):
    """A sign-in refused: `reason` goes to the audit log, `message` to the person."""

    def __init__(self, reason: str, message: str, email: str = "?", status: int = 403) -> None:
        super().__init__(reason)
        self.reason, self.message, self.email, self.status = reason, message, email, status


class ProviderUnavailable(Exception):
    """The provider did not answer (down, unreachable, or not answering as a provider)."""


@dataclass(frozen=True)
class Identity:
    """What a verified ID token says: the email, the role its groups map to (only with a mapping), the token."""

    email: str
    mapped_role: str | None
    id_token: str


def configured() -> bool:
    return bool(current_app.config.get("OIDC_ISSUER"))


def provider_name() -> str:
    return current_app.config["OIDC_PROVIDER_NAME"]


def init_app(app: Flask) -> None:
    """Register the provider with Authlib; its metadata are discovered from the issuer at first use."""
    if not app.config.get("OIDC_ISSUER"):
        return
    issuer = app.config["OIDC_ISSUER"].rstrip("/")
    oauth = OAuth(app)
    oauth.register(
        "oidc",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPES,
            "code_challenge_method": "S256",  # PKCE
            "default_timeout": app.config["OIDC_TIMEOUT_SECONDS"],
        },
    )
    app.extensions[_EXTENSION] = oauth


def _client():
    return current_app.extensions[_EXTENSION].create_client("oidc")


def _issuer() -> str:
    return current_app.config["OIDC_ISSUER"].rstrip("/")


def metadata() -> dict:
    """The provider's discovered metadata (fetched once per process), checked to be the configured issuer's."""
    try:
        found = _client().load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(str(error)) from error
    if str(found.get("issuer", "")).rstrip("/") != _issuer():
        # OpenID Connect Discovery 4.3: metadata naming another issuer must not be used.
        found.pop("_loaded_at", None)  # fetched again next time
        raise ProviderUnavailable(f"the discovery document names issuer {found.get('issuer')!r}")
    return found


def authorization_redirect(next_url: str) -> Response:
    """Send the browser to the provider; state, nonce and the PKCE verifier stay in this session."""
    metadata()
    session[NEXT_KEY] = next_url
    try:
        return _client().authorize_redirect(url_for("auth.sso_callback", _external=True))
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(str(error)) from error


def verified_identity() -> Identity:
    """The provider's answer at the callback, verified: state, then the code exchanged (with the PKCE
    verifier), then the ID token's signature (the provider's published keys), iss, aud, exp and nonce,
    then a verified email in an allowed domain."""
    if request.args.get("error"):
        error = request.args["error"][:64]
        raise SignInRefused(f"provider:{error}", f"{provider_name()} did not sign you in ({error}).", status=400)
    config = current_app.config
    claims_options = {
        "iss": {"essential": True, "value": metadata()["issuer"]},
        "aud": {"essential": True, "value": config["OIDC_CLIENT_ID"]},
    }
    try:
        token = _client().authorize_access_token(claims_options=claims_options, leeway=LEEWAY_SECONDS)
    except MismatchingStateError as error:
        message = "This sign-in was not started here, or was used already; please sign in again."
        raise SignInRefused("state", message, status=400) from error
    except OAuthError as error:
        message = f"{provider_name()} refused the sign-in ({error.error}); please sign in again."
        raise SignInRefused(f"token:{error.error}", message, status=400) from error
    except JoseError as error:
        message = f"The answer from {provider_name()} could not be verified; please sign in again."
        raise SignInRefused(f"id_token:{error.error}", message, status=400) from error
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(str(error)) from error
    claims = token.get("userinfo")
    if not claims:  # Authlib checks an ID token only when there is one: without it nobody is proven
        raise SignInRefused("id_token:missing", f"{provider_name()} sent no ID token.", status=400)
    email = _verified_email(claims)
    return Identity(email, _mapped_role(claims), token["id_token"])


def _verified_email(claims: dict) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SignInRefused("no_email", f"{provider_name()} sent no email address.")
    email = email.strip()
    # Some providers send the flag as text: only a true flag counts.
    if claims.get("email_verified") not in (True, "true"):
        message = f"{provider_name()} has not verified the email {email}; only verified emails may sign in."
        raise SignInRefused("email_not_verified", message, email)
    domains = allowed_domains()
    if domains and email.rpartition("@")[2].lower() not in domains:
        raise SignInRefused("domain", f"{email} is not in a domain allowed to sign in here.", email)
    return email


def allowed_domains() -> frozenset[str]:
    text = current_app.config.get("OIDC_ALLOWED_DOMAINS") or ""
    return frozenset(part.strip().lower().lstrip("@") for part in text.split(",") if part.strip())


def _groups(setting: str) -> frozenset[str]:
    return frozenset(part.strip() for part in (current_app.config.get(setting) or "").split(",") if part.strip())


def _mapped_role(claims: dict) -> str | None:
    """With OIDC_GROUPS_CLAIM set (an admin's explicit choice), the role its groups map to; else None,
    and the directory's role counts. Groups that map to nothing give no access."""
    claim = current_app.config.get("OIDC_GROUPS_CLAIM")
    if not claim:
        return None
    value = claims.get(claim) or []
    held = {value} if isinstance(value, str) else {str(group) for group in value if group is not None}
    if held & _groups("OIDC_ADMIN_GROUPS"):
        return "admin"
    if held & _groups("OIDC_MANAGER_GROUPS"):
        return "manager"
    return "member"


def logout_url(id_token: str | None) -> str | None:
    """Where to end the provider's session too (RP-initiated logout), when it publishes an end_session_endpoint;
    it sends the browser back to our login page."""
    if not configured() or not id_token:
        return None
    try:
        if not metadata().get("end_session_endpoint"):
            return None
    except ProviderUnavailable:
        return None  # signed out here all the same
    back = url_for("auth.login", _external=True)
    found = _client().create_logout_url(
        post_logout_redirect_uri=back, id_token_hint=id_token, client_id=current_app.config["OIDC_CLIENT_ID"]
    )
    return found["url"]


def form_targets() -> list[str]:
    """Origins our forms may be redirected to (the CSP's form-action): the provider's sign-in and sign-out
    pages, whose addresses the metadata give (the issuer's own origin until they are known)."""
    if not configured():
        return []
    known = _client().server_metadata  # never fetched here: a response header waits for no provider
    urls = [_issuer(), known.get("authorization_endpoint"), known.get("end_session_endpoint")]
    origins = []
    for url in urls:
        if url:
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in origins:
                origins.append(origin)
    return origins
