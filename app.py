"""Telemetry: usage and cost analytics for an AI-agent platform. `create_app()` builds it."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dash
from flask import Flask, Response, redirect, request

import api
import auth
import callbacks
import data.cli
import queries
import reports
from callbacks._errors import show_callback_error
from layouts.shell import shell
from queries.period import known_timezone

DEFAULTS = {
    "DATA_DIR": "data",
    "ORG_TIMEZONE": "UTC",
    "BILLING_ANCHOR_DAY": 1,
    "DUCKDB_THREADS": 2,
    "SESSION_IDLE_MINUTES": 60,
    "SESSION_MAX_HOURS": 12,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_SECONDS": 900,
    "TRUSTED_PROXIES": 0,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "telemetry_session",
    "PREFERRED_URL_SCHEME": "http",
    "MAX_CONTENT_LENGTH": 1024 * 1024,  # request bodies; the OTLP receiver has its own OTLP_MAX_BYTES
    "CALLBACK_CACHE_MB": 64,  # the tabs' outputs kept per scope and data version (callbacks/_memo.py); 0: off
}
# A thread back from DuckDB or numpy (which run without Python's lock) waits up to this long for the lock
# while another thread builds a figure: 1 ms instead of CPython's 5 ms. Measured at 100M events, a tab's
# callbacks sent at once: median 30-day Analytics 123 to 110 ms, Users 126 to 107 ms.
GIL_SWITCH_SECONDS = 0.001

# Environment variable -> config key, with the type it is read as.
ENVIRONMENT = {
    "TELEMETRY_DATA_DIR": ("DATA_DIR", str),
    "ORG_TIMEZONE": ("ORG_TIMEZONE", str),
    "BILLING_ANCHOR_DAY": ("BILLING_ANCHOR_DAY", int),
    "SECRET_KEY": ("SECRET_KEY", str),
    "TELEMETRY_ACCOUNTS_DB": ("ACCOUNTS_DB", str),
    "TELEMETRY_TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
    "TELEMETRY_SECURE_COOKIES": ("SESSION_COOKIE_SECURE", lambda v: v.lower() in ("1", "true")),
    "TELEMETRY_INGEST_TOKEN": ("INGEST_TOKEN", str),
    "TELEMETRY_TEAM_ATTRIBUTE": ("TEAM_ATTRIBUTE", str),
    "TELEMETRY_COMPACT_AFTER_FILES": ("COMPACT_AFTER_FILES", int),
    "TELEMETRY_CALLBACK_CACHE_MB": ("CALLBACK_CACHE_MB", float),
    "TELEMETRY_DUCKDB_THREADS": ("DUCKDB_THREADS", int),
}


class ConfigError(RuntimeError):
    """A setting the app cannot start with; the message says which and why."""


def create_app(test_config: dict | None = None, with_dash: bool = True) -> Flask:
    """The server; `with_dash=False` gives the data and account layers only (for background jobs)."""
    server = Flask(__name__)
    server.config.update(DEFAULTS)
    server.config.update(_from_environment())
    server.config.update(test_config or {})
    _finish_config(server)

    server.before_request(_root_to_dashboard)  # before the gate, so / always lands on the Dashboard
    queries.init_app(server)
    data.cli.init_app(server)
    auth.init_app(server)
    api.init_app(server)
    reports.init_app(server)
    if with_dash:
        sys.setswitchinterval(GIL_SWITCH_SECONDS)  # for the process serving requests, not for CLI jobs
        _add_dash(server)
    return server


def _add_dash(server: Flask) -> None:
    dash_app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder="layouts",
        title="Telemetry",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        on_error=show_callback_error,
    )
    dash_app.layout = shell
    callbacks.register_all(dash_app)
    auth.init_dash(server, dash_app)
    _finish_dash_setup(server)


def _finish_dash_setup(server: Flask) -> None:
    """Dash completes its set-up on the first request, unguarded against threads; do it now, alone."""
    with server.test_request_context("/_favicon.ico"):
        server.preprocess_request()


def _root_to_dashboard() -> Response | None:
    """`/` is Dash's index route; the Dashboard tab lives at /telemetry (a public contract)."""
    if request.path == "/":
        query = request.query_string.decode()
        return redirect("/telemetry" + (f"?{query}" if query else ""))
    return None


def _from_environment() -> dict:
    found = {}
    for variable, (key, kind) in ENVIRONMENT.items():
        raw = os.environ.get(variable)
        if raw is None or raw == "":
            continue
        try:
            found[key] = kind(raw)
        except ValueError:
            raise ConfigError(f"{variable}={raw!r} is not valid.") from None
    return found


def _finish_config(server: Flask) -> None:
    config = server.config
    config["DATA_DIR"] = Path(config["DATA_DIR"]).resolve()
    if not known_timezone(config["ORG_TIMEZONE"]):
        # Checked against DuckDB too, which converts every query: `localtime` passes Python's check alone.
        raise ConfigError(
            f"ORG_TIMEZONE={config['ORG_TIMEZONE']!r} is not a known time zone; use an IANA name like Europe/Paris."
        )
    if not 1 <= int(config["BILLING_ANCHOR_DAY"]) <= 31:
        raise ConfigError("BILLING_ANCHOR_DAY must be a day of the month from 1 to 31.")
    config.setdefault("ACCOUNTS_DB", str(config["DATA_DIR"] / "telemetry.sqlite"))
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _persistent_secret(config["DATA_DIR"])


def _persistent_secret(data_dir: Path) -> str:
    """A random key kept in the data folder, so sessions survive restarts and span workers."""
    path = data_dir / ".secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".secret_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(draft, path)  # atomic: the first worker to get here wins, the rest read its key
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
