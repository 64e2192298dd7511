"""One gate over the whole server: deny by default, open only the login page and static files."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from dash.exceptions import DependencyException
from flask import Flask, Response, current_app, jsonify, redirect, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException, NotFound

from auth.views import access_notice_page

# Files that hold no data: the login page's and Dash's own scripts and styles.
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/static/")
SIGN_IN_PATHS = ("/login", "/login/sso", "/login/sso/callback")  # the last two: single sign-on (auth/oidc.py)
PUBLIC_PATHS = (*SIGN_IN_PATHS, "/_favicon.ico", "/favicon.ico")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Machine endpoints (path -> view) that check their own token instead of a session: api/otlp.py.
# They also enforce their own body size (OTLP_MAX_BYTES), above the app-wide MAX_CONTENT_LENGTH.
TOKEN_PATHS = {"/v1/traces": "otlp.traces"}
_NO_APP_LIMIT = 2**63 - 1  # request.max_content_length cannot be reset to None per request
# Dash callbacks and the JSON API take CALLBACK_MAX_BYTES at most: a real callback body is a few KB
# (the largest, the Users grid's block request with a filter on every column, about 2.4 KB; a filter of
# hundreds of teams and agents goes in twice, as the URL and as the dropdowns' values), so a bigger one
# is not from our pages and would only cost time and memory to read and parse.
CAPPED_PATHS = ("/_dash-update-component",)
CAPPED_PREFIXES = ("/api/",)
LOGOUT_PATH = "/logout"
HSTS = "max-age=31536000"


# Links that carry their own signature, for people without an account: scheduled reports too large to
# attach (reports/schedule_links.py), each one file, expiring.
SIGNED_PREFIXES = ("/scheduled-reports/",)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or path.startswith(SIGNED_PREFIXES)


def is_page(path: str) -> bool:
    """Routes a person opens in the browser: they redirect to login rather than answer 401."""
    return path == "/" or path == "/telemetry" or path.startswith("/telemetry/")


def same_origin() -> bool:
    """Whether an unsafe request comes from one of our own pages (Origin, else Referer)."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def gate() -> Response | None:
    path = request.path
    if path in TOKEN_PATHS:
        # The view refuses anything without its token; with no token configured it is not registered.
        if TOKEN_PATHS[path] not in current_app.view_functions:
            return _deny(404, "not found")
        if request.method != "POST":
            # Only the receiver answers here: never Dash's catch-all page (it names Python's and Dash's versions).
            answer = _deny(405, "method not allowed; send POST with the ingest token")
            answer.headers["Allow"] = "POST"
            return answer
        request.max_content_length = _NO_APP_LIMIT
        return None
    if path in CAPPED_PATHS or path.startswith(CAPPED_PREFIXES):
        limit = int(current_app.config["CALLBACK_MAX_BYTES"])
        if _body_over(limit):
            return _deny(413, f"request body over {limit:,} bytes")
    # The login form carries its own CSRF token; everything else unsafe must come from our pages,
    # unless an API token (never sent by a browser on its own) authenticated the request.
    cross_site = request.method in UNSAFE_METHODS and not same_origin() and not _via_token()
    if cross_site and path != "/login":
        return _deny(403, "cross-site request refused")
    if is_public(path):
        return None
    if path == LOGOUT_PATH:
        # Any signed-in account may sign out (the view asks first on GET); strangers have nothing to end.
        return None if current_user.is_authenticated else redirect("/login")
    if not current_user.is_authenticated:
        if is_page(path) and request.method == "GET":
            query = f"?{request.query_string.decode()}" if request.query_string else ""
            return redirect(f"/login?next={quote(path + query, safe='/')}")
        return _deny(401, "authentication required")
    if not current_user.may_view:
        return access_notice_page() if is_page(path) else _deny(403, "forbidden")
    return None


def _body_over(limit: int) -> bool:
    """Whether the body is over `limit` bytes; one sent without Content-Length is read up to one byte past."""
    if request.content_length is not None:
        request.max_content_length = limit
        return request.content_length > limit
    # Werkzeug cuts such a stream at max_content_length without saying so: read one byte more to know.
    request.max_content_length = limit + 1
    return len(request.get_data(cache=True)) > limit


def _via_token() -> bool:
    return bool(getattr(current_user, "via_token", False))


def _deny(status: int, reason: str) -> Response:
    response = jsonify({"error": reason})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="telemetry"'
    return response


def security_headers(response: Response, csp: str) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = csp
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers["Strict-Transport-Security"] = HSTS  # served over HTTPS: browsers keep to it
    if not is_public(request.path) or request.path in SIGN_IN_PATHS:
        headers["Cache-Control"] = "no-store"
    return response


def content_security_policy(script_hashes: list[str], form_targets: Sequence[str] = ()) -> str:
    # Plotly and Dash components set inline styles; scripts are only ours, by file or by hash.
    scripts = " ".join(["'self'", *script_hashes])  # Dash gives them quoted: 'sha256-…'
    # Browsers also hold a form's redirects to form-action: signing in and out by SSO end at the provider.
    forms = " ".join(["'self'", *form_targets])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action {forms}",
            "frame-ancestors 'none'",
        ]
    )


def generic_error(error: Exception) -> Response:
    """Never a traceback: the status and a short reason, as JSON or a plain page."""
    status = error.code if isinstance(error, HTTPException) and error.code else 500
    reason = error.name if isinstance(error, HTTPException) else "Internal Server Error"
    if is_page(request.path) and request.method == "GET":
        return Response(
            f"<!doctype html><title>{status}</title><h1>{status} {reason}</h1>", status, mimetype="text/html"
        )
    return _deny(status, reason.lower())


def init_app(app: Flask) -> None:
    app.before_request(gate)
    app.register_error_handler(HTTPException, generic_error)
    app.register_error_handler(Exception, _unexpected)
    app.register_error_handler(DependencyException, _unknown_dash_file)


def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return generic_error(error)
    current_app.logger.exception("unhandled error on %s", request.path)
    return generic_error(error)


def _unknown_dash_file(error: DependencyException) -> Response:
    """Dash raises this for a file it does not serve: a plain 404 then, nothing logged."""
    if request.path.startswith("/_dash-component-suites/"):
        return generic_error(NotFound())
    return _unexpected(error)
