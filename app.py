"""Telemetry: usage and cost analytics for an AI-agent platform. `create_app()` builds it."""

from __future__ import annotations

import gzip
import os
import secrets
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import click
import dash
from authlib.common.security import is_secure_transport
from dash._hooks import HooksManager
from flask import Flask, Response, redirect, request
from gunicorn.errors import AppImportError

import alerts
import api
import auth
import callbacks
import data.cli
import queries
import reports
from callbacks._errors import show_callback_error
from callbacks.shell import first_layout
from data import schema
from data.clickhouse import ClickHouseError
from data.clickhouse.http import server as clickhouse_server
from layouts import adoption, analytics, billing, dashboard, schedules, users
from queries.period import known_timezone

DEFAULTS = {
    "DATA_DIR": "var",  # not "data": that is the package data/, and emptying the data folder must not touch code
    "ORG_TIMEZONE": "UTC",
    "BILLING_ANCHOR_DAY": 1,
    "DUCKDB_THREADS": 2,
    "BACKEND": "duckdb",  # TELEMETRY_BACKEND: duckdb (Parquet, the default), chdb or clickhouse (docs/clickhouse.md)
    "CLICKHOUSE_DATABASE": "telemetry",  # the organization's database on the ClickHouse backend (docs/clickhouse.md)
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
    "CALLBACK_MAX_BYTES": 64 * 1024,  # tighter, for Dash callbacks and /api/ (auth/gate.py)
    "REPORT_MAX_JOBS": 2,  # report jobs running at once, all workers together (reports/jobs.py); one an account
    "ROLLUP_REBUILD_WAIT": 10.0,  # seconds a question waits for a rebuild of stale rollups before the notice
    "PASSWORD_LOGIN": True,  # off (PASSWORD_LOGIN=0): only the break-glass admin signs in with a password
    "OIDC_PROVIDER_NAME": "SSO",  # "Sign in with SSO" unless named
    "OIDC_TIMEOUT_SECONDS": 10,  # each request to the identity provider (discovery, keys, token)
    # Budgets and alerts (alerts/): links in alerts point at PUBLIC_URL; the checker thread runs in a serving
    # process every ALERTS_EVERY_SECONDS (0: not at all; `make run` sets it); a claimed delivery whose sender
    # stopped is sent again after ALERTS_LEASE_SECONDS; a failed one is retried after ALERTS_RETRY_SECONDS × 2^n.
    "PUBLIC_URL": "http://127.0.0.1:8050",
    "SMTP_PORT": 587,
    "SMTP_STARTTLS": True,
    "WEBHOOK_ALLOW_LOCAL": False,
    "WEBHOOK_TIMEOUT": 10.0,
    "ALERTS_EVERY_SECONDS": 0,
    "ALERTS_LEASE_SECONDS": 300,
    "ALERTS_RETRY_SECONDS": 30,
    # Scheduled reports (reports/schedule_run.py) use the alerts' SMTP, lease and retry settings; a run sent
    # more than SCHEDULES_LATE_SECONDS after its due time (the runner was not running) is marked late; a serving
    # process sends what is due every SCHEDULES_EVERY_SECONDS (0: not at all, cron runs `run-schedules`).
    "SCHEDULES_LATE_SECONDS": 900,
    "SCHEDULES_EVERY_SECONDS": 0,
    # A report larger than this is not attached: the email links to it, kept on the server, for SCHEDULES_LINK_DAYS.
    "SCHEDULES_ATTACH_MAX_BYTES": 10_000_000,
    "SCHEDULES_LINK_DAYS": 7,
}
# A thread back from DuckDB or numpy (which run without Python's lock) waits up to this long for the lock
# while another thread builds a figure: 1 ms instead of CPython's 5 ms. Measured at 100M events, a tab's
# callbacks sent at once: median 30-day Analytics 123 to 110 ms, Users 126 to 107 ms.
GIL_SWITCH_SECONDS = 0.001

# Each tab's page: the layout module, its address and its name (the tab's label and the window's title).
PAGES = (
    (dashboard, "/telemetry", "Dashboard"),
    (analytics, "/telemetry/analytics", "Analytics"),
    (users, "/telemetry/users", "Users"),
    (adoption, "/telemetry/adoption", "Adoption"),
    (billing, "/telemetry/billing", "Billing"),
    (schedules, "/telemetry/schedules", "Schedules"),
)

# The charts' plotly.js: its "cartesian" bundle (scatter, bar, heatmap and the other 2-D traces: every chart the
# tabs draw), 1.5 MB against the full bundle's 4.8 MB that dcc.Graph loads by itself; the same plotly.js version
# as the installed plotly package (tests/test_app.py checks it), so the charts are drawn by the same code. Kept
# gzipped with its licence in vendor/; to refresh it after a plotly upgrade: `npm pack
# plotly.js-cartesian-dist-min@<version>`, then `gzip -9n -c package/plotly-cartesian.min.js >
# vendor/plotly-cartesian-<version>.min.js.gz`. Served with the version in its name, so browsers keep it.
PLOTLY_VERSION = "4.1.1"
ASSETS = Path(__file__).resolve().parent / "assets"  # Dash's assets folder (its default)
PLOTLY_BUNDLE = Path(__file__).resolve().parent / "vendor" / f"plotly-cartesian-{PLOTLY_VERSION}.min.js.gz"
PLOTLY_URL = f"/static/plotly-cartesian-{PLOTLY_VERSION}.min.js"
YEAR_SECONDS = 31536000  # how long browsers keep a file whose URL changes with it
# What the tabs need once their answer is in: fetched with the page's own scripts rather than one after the
# other when the first chart, date range, dropdown and grid appear (dash-renderer, dcc and AG Grid load them
# lazily; AG Grid's 0.87 MB chunk was otherwise asked for only once the first grid was drawn).
DCC_CHUNKS = ("graph", "dropdown", "datepicker")
PRELOADED = (
    PLOTLY_URL,
    *(f"/_dash-component-suites/dash/dcc/async-{name}.js" for name in DCC_CHUNKS),
    "/_dash-component-suites/dash_ag_grid/async-community.js",
)
PRELOADS = "\n        ".join(f'<link rel="preload" href="{url}" as="script">' for url in PRELOADED)

# Dash's own page with the language named (screen readers pick their voice from it), and the preloads.
INDEX_STRING = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
        PRELOADS
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>""".replace("PRELOADS", PRELOADS)


class Setting(NamedTuple):
    """How a setting's text is read, which values are allowed, and how to say so."""

    read: Callable[[str], Any]  # raises ValueError for text that is not of the type
    ok: Callable[[Any], bool]
    allowed: str  # "use ..." in the one-line message
    problem: str = "is not valid"


def _whole(low: int, high: int) -> Setting:
    def ok(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

    return Setting(int, ok, f"a whole number from {low} to {high}")


def _number(low: float, high: float, allowed: str) -> Setting:
    def ok(value: Any) -> bool:  # false for NaN and infinities too
        return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high

    return Setting(float, ok, allowed)


_FLAG_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _flag(text: str) -> bool:
    try:
        return _FLAG_WORDS[text.strip().lower()]
    except KeyError:
        raise ValueError(text) from None


TEXT = Setting(str, lambda v: isinstance(v, str | Path) and str(v).strip() != "", "some text")
FLAG = Setting(_flag, lambda v: isinstance(v, bool), "1, true, yes, on or 0, false, no, off")
TIMEZONE = Setting(str, known_timezone, "an IANA name like Europe/Paris", "is not a known time zone")
MEGABYTES = _number(0, 2**20, "a number of MiB from 0 (off) to 1048576")
# The provider's address: HTTPS, or plain HTTP on this machine only (a provider in a test).
ISSUER = Setting(str, lambda v: isinstance(v, str) and is_secure_transport(v), "an https:// URL", "is not an HTTPS URL")

# Environment variable -> config key, with how it is read and checked (at start, in _finish_config).
ENVIRONMENT = {
    "TELEMETRY_DATA_DIR": ("DATA_DIR", TEXT),
    "ORG_TIMEZONE": ("ORG_TIMEZONE", TIMEZONE),
    "BILLING_ANCHOR_DAY": ("BILLING_ANCHOR_DAY", _whole(1, 31)),
    "SECRET_KEY": ("SECRET_KEY", TEXT),
    "TELEMETRY_ACCOUNTS_DB": ("ACCOUNTS_DB", TEXT),
    "TELEMETRY_TRUSTED_PROXIES": ("TRUSTED_PROXIES", _whole(0, 10)),
    "TELEMETRY_SECURE_COOKIES": ("SESSION_COOKIE_SECURE", FLAG),
    "TELEMETRY_INGEST_TOKEN": ("INGEST_TOKEN", TEXT),
    "TELEMETRY_TEAM_ATTRIBUTE": ("TEAM_ATTRIBUTE", TEXT),
    "TELEMETRY_COMPACT_AFTER_FILES": ("COMPACT_AFTER_FILES", _whole(1, 1000)),
    "TELEMETRY_DUCKDB_THREADS": ("DUCKDB_THREADS", _whole(1, 256)),
    "TELEMETRY_BACKEND": (
        "BACKEND",
        Setting(str, lambda v: v in ("duckdb", "chdb", "clickhouse"), "duckdb, chdb or clickhouse"),
    ),
    "CHDB_PATH": ("CHDB_PATH", TEXT),  # the chDB engine's data folder (docs/clickhouse.md)
    # a ClickHouse server's HTTP interface, and its password if not in the URL: text, so that no check's message
    # repeats them (_check_clickhouse reads the URL)
    "CLICKHOUSE_URL": ("CLICKHOUSE_URL", TEXT),
    "CLICKHOUSE_PASSWORD": ("CLICKHOUSE_PASSWORD", TEXT),
    "CLICKHOUSE_DATABASE": ("CLICKHOUSE_DATABASE", TEXT),
    "TELEMETRY_REPORT_MAX_JOBS": ("REPORT_MAX_JOBS", _whole(1, 64)),
    "TELEMETRY_ROLLUP_REBUILD_WAIT": ("ROLLUP_REBUILD_WAIT", _number(0, 3600, "a number of seconds from 0 to 3600")),
    # A seat's price per person per month (USD): what the seats to reclaim cost (docs/metrics.md).
    "SEAT_COST_USD": ("SEAT_COST_USD", _number(0, 1_000_000, "a price in USD per person per month from 0 to 1000000")),
    # Single sign-on (auth/oidc.py); checked together in _check_sign_in.
    "OIDC_ISSUER": ("OIDC_ISSUER", ISSUER),
    "OIDC_CLIENT_ID": ("OIDC_CLIENT_ID", TEXT),
    "OIDC_CLIENT_SECRET": ("OIDC_CLIENT_SECRET", TEXT),
    "OIDC_PROVIDER_NAME": ("OIDC_PROVIDER_NAME", TEXT),
    "OIDC_ALLOWED_DOMAINS": ("OIDC_ALLOWED_DOMAINS", TEXT),
    "OIDC_GROUPS_CLAIM": ("OIDC_GROUPS_CLAIM", TEXT),
    "OIDC_ADMIN_GROUPS": ("OIDC_ADMIN_GROUPS", TEXT),
    "OIDC_MANAGER_GROUPS": ("OIDC_MANAGER_GROUPS", TEXT),
    "PASSWORD_LOGIN": ("PASSWORD_LOGIN", FLAG),
    "BREAK_GLASS_ADMIN": ("BREAK_GLASS_ADMIN", TEXT),
    "TELEMETRY_PUBLIC_URL": ("PUBLIC_URL", TEXT),
    "TELEMETRY_ALERTS_EVERY": ("ALERTS_EVERY_SECONDS", _whole(0, 86400)),
    "TELEMETRY_WEBHOOK_ALLOW_LOCAL": ("WEBHOOK_ALLOW_LOCAL", FLAG),
    "TELEMETRY_SCHEDULES_EVERY": ("SCHEDULES_EVERY_SECONDS", _whole(0, 86400)),
    "SMTP_HOST": ("SMTP_HOST", TEXT),
    "SMTP_PORT": ("SMTP_PORT", _whole(1, 65535)),
    "SMTP_USER": ("SMTP_USER", TEXT),
    "SMTP_PASSWORD": ("SMTP_PASSWORD", TEXT),
    "SMTP_STARTTLS": ("SMTP_STARTTLS", FLAG),
    "SMTP_FROM": ("SMTP_FROM", TEXT),
}
# Read by the process's one result cache itself (queries/cache.py: answers and the tabs' outputs, made at first
# use); checked here.
PROCESS_ENVIRONMENT = {"TELEMETRY_CACHE_MB": MEGABYTES}
# Config keys with no variable of their own (set through create_app's test_config), checked too.
CONFIG_ONLY = {
    "OTLP_MAX_BYTES": _whole(1, 2**31),
    "CALLBACK_MAX_BYTES": _whole(1024, 2**24),
    "OIDC_TIMEOUT_SECONDS": _number(0.1, 300, "a number of seconds from 0.1 to 300"),
    "ALERTS_LEASE_SECONDS": _number(0, 86400, "seconds from 0 to 86400"),
    "ALERTS_RETRY_SECONDS": _number(0, 86400, "seconds from 0 to 86400"),
    "SCHEDULES_LATE_SECONDS": _number(0, 86400, "seconds from 0 to 86400"),
    "SCHEDULES_ATTACH_MAX_BYTES": _whole(0, 2**31),
    "SCHEDULES_LINK_DAYS": _number(0.001, 366, "days from 0.001 to 366"),
    "WEBHOOK_TIMEOUT": _number(0.01, 600, "seconds from 0.01 to 600"),
}


class ConfigError(click.ClickException, AppImportError, RuntimeError):
    """A setting the app cannot start with; the message, one line, says which, its value and what is allowed.

    Shown without a traceback: `flask` prints a ClickException as `Error: <message>`, a gunicorn worker
    prints an AppImportError's message and the server stops ("App failed to load"), and gunicorn
    with --preload prints a RuntimeError as `Error: <message>`.
    """


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
    reports.init_app(server, serving=with_dash)
    alerts.init_app(server, serving=with_dash)
    if with_dash:
        sys.setswitchinterval(GIL_SWITCH_SECONDS)  # for the process serving requests, not for CLI jobs
        _add_dash(server)
    return server


def _add_dash(server: Flask) -> None:
    dash_app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder="",  # the pages are registered below: Dash's search of a folder compiles them again per app
        title="Telemetry",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        on_error=show_callback_error,
        index_string=INDEX_STRING,
    )
    # Each Dash() looks through every installed package's entry points for `dash_hooks` plugins; Dash's flag for
    # doing that once per process is never set (dash 4.4), so it is set here once the first app has looked: the
    # plugins a process can load are those installed when it started, as for any import.
    HooksManager._registered = True
    dash_app.layout = first_layout  # the frame, with the page its address asks for (callbacks/shell.py)
    for module, path, name in PAGES:
        dash.register_page(module.__name__, path=path, name=name, title=f"Telemetry · {name}", layout=module.layout)
    server.add_url_rule(PLOTLY_URL, "plotly_bundle", _plotly_bundle)
    server.after_request(_assets_kept)
    callbacks.register_all(dash_app, create_app)
    auth.init_dash(server, dash_app)
    _finish_dash_setup(server)


def _finish_dash_setup(server: Flask) -> None:
    """Dash completes its set-up on the first request, unguarded against threads; do it now, alone."""
    with server.test_request_context("/_favicon.ico"):
        server.preprocess_request()


@cache
def _plotly_gzipped() -> bytes:
    return PLOTLY_BUNDLE.read_bytes()


def _plotly_bundle() -> Response:
    """The charts' plotly.js, gzipped as kept when the browser takes it so (every browser does)."""
    body = _plotly_gzipped()
    response = Response(mimetype="text/javascript")
    if "gzip" in request.accept_encodings:
        response.headers["Content-Encoding"] = "gzip"
    else:
        body = gzip.decompress(body)
    response.set_data(body)
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = f"public, max-age={YEAR_SECONDS}, immutable"  # the version is in the URL
    return response


def _assets_kept(response: Response) -> Response:
    """Dash names each asset with its file's time (`/assets/x.js?m=<mtime>`): a changed file is a new URL, so
    browsers may keep one for good. Flask's default made a fresh load ask again for each of the 15 (scripts
    that hold up the page's start). Kept only when `m` is the served file's own time: a host still serving an
    older file (a deploy under way on another) does not make browsers keep that one for the new name."""
    if request.path.startswith("/assets/") and response.status_code == 200 and "m" in request.args:
        served = ASSETS / request.path.removeprefix("/assets/")
        if request.args["m"] == str(served.stat().st_mtime):  # Dash's `m`: the float's str
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = YEAR_SECONDS
            response.cache_control.immutable = True
    return response


def _root_to_dashboard() -> Response | None:
    """`/` is Dash's index route; the Dashboard tab lives at /telemetry (a public contract)."""
    if request.path == "/":
        query = request.query_string.decode()
        return redirect("/telemetry" + (f"?{query}" if query else ""))
    return None


def _from_environment() -> dict:
    """The settings found in the environment, as text: _finish_config reads and checks them."""
    found = {}
    for variable, (key, _setting) in ENVIRONMENT.items():
        raw = os.environ.get(variable)
        if raw is not None and raw != "":
            found[key] = raw
    return found


def _checked(name: str, value: Any, setting: Setting | Callable[[str], Any]) -> Any:
    """The value as its type, or a ConfigError naming the setting, the value and what is allowed."""
    if not isinstance(setting, Setting):  # a bare type: read it, no range
        setting = Setting(setting, lambda _value: True, "a value of the right type")
    try:
        typed = setting.read(value) if isinstance(value, str) else value
        ok = setting.ok(typed)
    except (ValueError, TypeError, OverflowError):
        ok = False
    if not ok:
        raise ConfigError(f"{name}={value!r} {setting.problem}; use {setting.allowed}.")
    return typed


def _finish_config(server: Flask) -> None:
    config = server.config
    for variable, (key, setting) in ENVIRONMENT.items():
        if config.get(key) not in (None, ""):  # unset: its default, or made below
            config[key] = _checked(variable, config[key], setting)
    for variable, setting in PROCESS_ENVIRONMENT.items():
        if os.environ.get(variable):
            _checked(variable, os.environ[variable], setting)
    for key, setting in CONFIG_ONLY.items():
        if config.get(key) is not None:
            config[key] = _checked(key, config[key], setting)
    config["DATA_DIR"] = Path(config["DATA_DIR"]).resolve()
    _outside_the_code("TELEMETRY_DATA_DIR", config["DATA_DIR"])
    config.setdefault("ACCOUNTS_DB", str(config["DATA_DIR"] / "telemetry.sqlite"))
    _make_folder("TELEMETRY_DATA_DIR", config["DATA_DIR"], config["DATA_DIR"])
    _make_folder("TELEMETRY_ACCOUNTS_DB", Path(config["ACCOUNTS_DB"]), Path(config["ACCOUNTS_DB"]).parent)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _persistent_secret(config["DATA_DIR"])
    _check_sign_in(config)
    _check_clickhouse(config)


def _check_clickhouse(config: dict) -> None:
    """TELEMETRY_BACKEND=clickhouse needs a readable CLICKHOUSE_URL (the message never repeats the URL: it may
    hold the password)."""
    if config.get("BACKEND") != "clickhouse" and not config.get("CLICKHOUSE_URL"):
        return
    if not config.get("CLICKHOUSE_URL"):
        raise ConfigError("TELEMETRY_BACKEND=clickhouse needs CLICKHOUSE_URL: http(s)://USER@HOST:PORT/DATABASE.")
    try:
        clickhouse_server(config["CLICKHOUSE_URL"], config.get("CLICKHOUSE_PASSWORD"))
    except ClickHouseError as error:
        raise ConfigError(str(error)) from None


def _check_sign_in(config: dict) -> None:
    """Single sign-on's settings go together: an issuer needs its client, password login off needs SSO, and
    a group mapping needs both the claim and at least one group."""
    client = [key for key in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET") if not config.get(key)]
    if config.get("OIDC_ISSUER") and client:
        raise ConfigError(f"OIDC_ISSUER is set but {' and '.join(client)} not; set all three for single sign-on.")
    if not config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"):
        raise ConfigError("OIDC_CLIENT_ID is set but OIDC_ISSUER not; set the provider's issuer URL.")
    if not config["PASSWORD_LOGIN"] and not config.get("OIDC_ISSUER"):
        raise ConfigError("PASSWORD_LOGIN=0 needs single sign-on (OIDC_ISSUER); nobody could sign in otherwise.")
    groups = config.get("OIDC_ADMIN_GROUPS") or config.get("OIDC_MANAGER_GROUPS")
    if bool(config.get("OIDC_GROUPS_CLAIM")) != bool(groups):
        raise ConfigError(
            "OIDC_GROUPS_CLAIM and OIDC_ADMIN_GROUPS/OIDC_MANAGER_GROUPS go together: name the claim and its groups."
        )


def _outside_the_code(variable: str, folder: Path) -> None:
    package = schema.code_package_holding(folder)
    if package is not None:
        raise ConfigError(
            f"{variable}={str(folder)!r} is not valid: it is inside the code's {package}/ package; "
            "use a folder of its own, such as ./var (the default)."
        )


def _make_folder(variable: str, setting: Path, folder: Path) -> None:
    """The folder a setting needs, made if missing; one that cannot be stops the app in one line."""
    problem = None
    if setting != folder and setting.is_dir():
        problem = "it is a folder"
    elif folder.exists() and not folder.is_dir():
        problem = f"{folder} is a file"
    else:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            problem = f"{folder} cannot be made: {error.strerror}"
    if problem:
        raise ConfigError(f"{variable}={str(setting)!r} is not valid: {problem}.")


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
