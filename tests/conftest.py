"""Fixtures: the tiny org on disk, the app on it, accounts for each role, and a login helper.

The app's modules are imported where a fixture first needs them, not here: pytest imports this file in xdist's
controller too, which runs no test, and the app's imports (Dash, Plotly, Polars, DuckDB) were some 3 CPU-s there,
spent before the workers start."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

    from queries import cache

ORIGIN = "http://localhost"

# Property tests never depend on timing or on earlier runs: no deadline (a busy machine is not a failure), the
# same examples every run (no saved failures, a fixed seed).
settings.register_profile("telemetry", deadline=None, derandomize=True, database=None)
settings.load_profile("telemetry")

ACCOUNTS = {
    "admin": ("admin@test.example", "u1", "admin"),
    "manager": ("manager@test.example", "u2", "manager"),
    "legal_manager": ("legal.manager@test.example", "u3", "manager"),
    "member": ("member@test.example", "u4", "member"),
    "idle_manager": ("ivy@test.example", "u7", "manager"),
}


@pytest.fixture(scope="session")
def password_hash() -> str:
    """org.PASSWORD as argon2id at the lowest cost: signing in checks it as it checks any argon2 hash, in well
    under a millisecond against some 30 ms at the app's own cost, and the suite signs in hundreds of times.
    (Hashes the app makes are checked in tests/test_cli.py.)"""
    from argon2 import PasswordHasher

    from tests import org

    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(org.PASSWORD)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    from tests import org

    folder = tmp_path / "data"
    org.write_org_rolled_up(folder)  # written once per process and copied (tests/org.py)
    return folder


def clickhouse_engine(tmp_path_factory: pytest.TempPathFactory):
    """This process's chDB engine: the one already open (chDB takes one data path per process), else a new one."""
    pytest.importorskip("chdb", reason="chDB is in requirements.txt: `make test` installs it")
    from data import clickhouse  # only the tests that use it load the engine

    return clickhouse.open_engine() or clickhouse.chdb_connection(tmp_path_factory.mktemp("chdb") / "engine")


@pytest.fixture(scope="session")
def chdb(tmp_path_factory: pytest.TempPathFactory):
    """The chDB engine, shared by every test file that uses ClickHouse; each org is a database of its own."""
    return clickhouse_engine(tmp_path_factory)


@pytest.fixture(scope="session", autouse=True)
def _house_template_once() -> Iterator[None]:
    """Plotly's house template made at the first app's start, not again at each of the suite's hundreds
    (callbacks.register_all makes it for every app: some 90 ms, most of create_app). It is made anew if
    anything has since replaced it or Plotly's default."""
    import plotly.io as pio

    import callbacks
    from callbacks._figures import TEMPLATE, use_house_template

    made: list[object] = []

    def once() -> None:
        templates = pio.templates
        if made and templates.default == TEMPLATE and TEMPLATE in templates and templates[TEMPLATE] is made[0]:
            return
        use_house_template()
        made[:] = [pio.templates[TEMPLATE]]

    callbacks.use_house_template = once
    yield
    callbacks.use_house_template = use_house_template


# The accounts database with ACCOUNTS and an empty report cache, made once per process and password hash in
# _TEMPLATES[0] and copied for each app: SQLite makes them with some 75 fsyncs, a copy with none, and on a
# busy disk those were most of the set-up of each of the suite's hundreds of apps (0.2-0.5 s against 0.1 s).
_TEMPLATES: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def _template_folder(tmp_path_factory) -> None:
    _TEMPLATES[:] = [tmp_path_factory.mktemp("templates")]


def _template(password_hash: str) -> Path | None:
    """A folder with telemetry.sqlite holding ACCOUNTS with this hash (and the alerts' and schedules' tables), and
    .cache/reports: made at first use."""
    if not _TEMPLATES:
        return None
    folder = _TEMPLATES[0] / hashlib.sha256(password_hash.encode()).hexdigest()[:16]
    if not folder.exists():
        import diskcache

        from alerts.store import AlertStore
        from auth.store import Store
        from reports.schedule_store import ScheduleStore

        draft = _TEMPLATES[0] / f".draft-{folder.name}"
        store = Store(draft / "telemetry.sqlite")
        for email, user_id, role in ACCOUNTS.values():
            store.create_account(email, user_id, role, password_hash)
        for more_tables in (AlertStore, ScheduleStore):  # made by each app otherwise, with their fsyncs
            more_tables(store.path)
        diskcache.Cache(str(draft / ".cache" / "reports")).close()
        draft.rename(folder)
    return folder


def make_app(data_dir: Path, password_hash: str, **config) -> Flask:
    """The app on data_dir with ACCOUNTS signed up: a copy of the template's accounts when it has none yet."""
    accounts = Path(config.get("ACCOUNTS_DB") or Path(data_dir) / "telemetry.sqlite")
    reports = Path(data_dir) / ".cache" / "reports"
    template = None if accounts.exists() else _template(password_hash)
    if template is not None:
        accounts.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template / "telemetry.sqlite", accounts)
        if not reports.exists():
            shutil.copytree(template / ".cache" / "reports", reports)
    # a rebuild of stale rollups (events written by hand) is waited for: a busy machine must not fail a test
    config = {"ROLLUP_REBUILD_WAIT": 600, **config}
    from app import create_app

    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "test", **config})
    if template is None:
        store = app.extensions["telemetry_store"]
        for email, user_id, role in ACCOUNTS.values():
            store.create_account(email, user_id, role, password_hash)
    return app


@pytest.fixture
def app(data_dir: Path, password_hash: str) -> Flask:
    return make_app(data_dir, password_hash)


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory, password_hash: str) -> Flask:
    """One app on its own copy of the tiny org for a whole test module whose tests only read (callbacks called
    as plain functions, questions): making an app and opening its DuckDB was most of such a test's time. Such a
    module overrides `app` with it (`read_only_app` below); a module whose tests write (events, accounts,
    settings) keeps `app`, one per test."""
    from tests import org

    folder = tmp_path_factory.mktemp("shared") / "data"
    org.write_org_rolled_up(folder)
    return make_app(folder, password_hash)


def read_only_app(shared_app: Flask) -> Flask:
    """`app` in a module whose tests only read: `app = pytest.fixture(read_only_app, name="app")` there."""
    return shared_app


@pytest.fixture
def own_app(data_dir: Path, password_hash: str) -> Flask:
    """An app of this test's own in a module whose `app` is shared, for a test whose writes others would see (or
    that would see theirs: an audit entry written once a minute)."""
    return make_app(data_dir, password_hash)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def csrf_token(self) -> str:
        page = self._client.get("/login").get_data(as_text=True)
        marker = 'name="csrf_token" type="hidden" value="'
        start = page.index(marker) + len(marker)
        return page[start : page.index('"', start)]

    def login(self, who: str = "admin", password: str | None = None, next_url: str = ""):
        from tests import org

        password = org.PASSWORD if password is None else password
        email = ACCOUNTS[who][0] if who in ACCOUNTS else who
        token = self.csrf_token()
        target = f"/login?next={next_url}" if next_url else "/login"
        return self._client.post(
            target,
            data={"email": email, "password": password, "csrf_token": token},
            headers={"Origin": ORIGIN},
        )

    def logout(self):
        return self._client.post("/logout", headers={"Origin": ORIGIN})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


# Browser tests: the real app on a local port, driven by Debian's headless Chromium.


# The apps the browser tests are served, by address: `tests/test_browser_access.py` signs in to one by asking it for
# a session cookie, where the login form itself is not under test.
LIVE_APPS: dict[str, Flask] = {}


@contextlib.contextmanager
def serving(app: Flask) -> Iterator[str]:
    """`app` served over HTTP by a threaded Werkzeug server on a free local port: its address, while in the block."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    LIVE_APPS[base] = app
    try:
        yield base
    finally:
        del LIVE_APPS[base]
        server.shutdown()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, password_hash):
    """The tiny org, served. One per test process, for every browser test file that reads it: its pages then come
    from one address, and Chromium keeps their scripts compiled from one file to the next (a new address compiled
    them again, about 2 s of CPU a file). Each app keeps its own report job (callbacks/report.py, OwnJobManager)."""
    yield from _serve(tmp_path_factory, password_hash)


def _serve(tmp_path_factory, password_hash, **config):
    from tests import org

    folder = tmp_path_factory.mktemp("live") / "data"
    org.write_org_rolled_up(folder)
    with serving(make_app(folder, password_hash, **config)) as base:
        yield base


# Single sign-on: one OpenID provider on loopback per test process (tests/oidc_provider.py).


@pytest.fixture(scope="session")
def _oidc_provider():
    from tests import oidc_provider

    with oidc_provider.running() as provider:
        yield provider


@pytest.fixture
def provider(_oidc_provider):
    """The provider, with nothing left over from an earlier test's broken tokens."""
    _oidc_provider.reset()
    yield _oidc_provider
    _oidc_provider.reset()


def sso_config(issuer: str, **more) -> dict:
    """The settings that point the app at a provider (tests/oidc_provider.py's client)."""
    from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET

    config = {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET}
    return {**config, "OIDC_PROVIDER_NAME": "Acme ID", **more}


@pytest.fixture(scope="module")
def sso_live_server(tmp_path_factory, password_hash, _oidc_provider):
    """As live_server, signing in through the provider too."""
    yield from _serve(tmp_path_factory, password_hash, **sso_config(_oidc_provider.url))


WINDOW = (1400, 1000)


def _start_chromium(folder: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # V8's optimising compilers (TurboFan, Maglev) off: a test's page lives seconds, too short for optimised code
        # to repay its compiling; its scripts run the same in the interpreter and the baseline compiler.
        "--js-flags=--no-opt --no-maglev",
        # Bootstrap scrolls smoothly unless motion is reduced: a click on an element out of view (WebDriver scrolls
        # to it first) would land where the element was before the scroll ends.
        "--force-prefers-reduced-motion",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--user-data-dir={folder / 'chromium'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    downloads = folder / "downloads"
    downloads.mkdir(exist_ok=True)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.download_dir = downloads
    _keep_page_scripts(driver)
    return driver


def _keep_page_scripts(driver) -> None:
    """Note the identifier of each script a test adds to every page (Page.addScriptToEvaluateOnNewDocument), for
    _fresh_tab to remove: they stay with the tab, which the next test keeps."""
    driver.page_scripts = []
    send = driver.execute_cdp_cmd

    def execute_cdp_cmd(cmd: str, cmd_args: dict):
        result = send(cmd, cmd_args)
        if cmd == "Page.addScriptToEvaluateOnNewDocument":
            driver.page_scripts.append(result["identifier"])
        return result

    driver.execute_cdp_cmd = execute_cdp_cmd


def _fresh_tab(driver) -> None:
    """What a test may have changed, back as a new tab has it: no page (about:blank), no scripts added to pages, no
    emulated width or colour scheme, no cookies (nobody signed in), no permissions granted, the window's size,
    the timeouts (a script's longer), an empty browser log and no file downloaded.

    The tab itself is kept, and left by the page's own navigation: a new tab (or a typed about:blank) took a new
    renderer process, which compiled the app's scripts again for each test (about 2 s of CPU a test)."""
    from selenium.webdriver.support.ui import WebDriverWait

    tab, *others = driver.window_handles
    for handle in others:
        driver.switch_to.window(handle)
        driver.close()
    driver.switch_to.window(tab)
    # A script runs when the page's main thread is free: on a busy machine that can take longer than WebDriver's
    # default 30 s (main's charts test failed so at load 40), so as long as a wait's PATIENCE; it costs nothing idle.
    driver.set_script_timeout(120)
    driver.set_page_load_timeout(300)  # WebDriver's default
    driver.implicitly_wait(0)
    driver.execute_script("window.stop(); location.replace('about:blank')")  # its timers and requests stop too
    WebDriverWait(driver, 30, poll_frequency=0.02).until(lambda d: d.current_url == "about:blank")
    while driver.page_scripts:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": driver.page_scripts.pop()})
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "", "features": []})
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.execute_cdp_cmd("Browser.resetPermissions", {})
    driver.set_window_size(*WINDOW)
    driver.get_log("browser")
    for download in driver.download_dir.iterdir():
        download.unlink()


@pytest.fixture(scope="session")
def _chromium(tmp_path_factory):
    """One Chromium per test process, shared by its browser tests: starting one took 1-3 s each."""
    held = {"driver": None, "folder": tmp_path_factory.mktemp("chromium")}
    yield held
    if held["driver"] is not None:
        held["driver"].quit()


@pytest.fixture
def browser(_chromium):
    """Headless Chromium in a fresh tab, as a new one would be (_fresh_tab); a browser that cannot give one
    (a crashed page, a dialog left open) is replaced."""
    from selenium.common.exceptions import WebDriverException

    driver = _chromium["driver"]
    if driver is not None:
        try:
            _fresh_tab(driver)
        except WebDriverException:
            with contextlib.suppress(WebDriverException):
                driver.quit()
            driver = _chromium["driver"] = None
    if driver is None:
        driver = _chromium["driver"] = _start_chromium(_chromium["folder"])
        _fresh_tab(driver)
    return driver


@pytest.fixture
def signed_in(app):
    """A request context signed in as one of ACCOUNTS, for calling callbacks as plain functions."""
    from contextlib import contextmanager

    from flask_login import login_user

    from auth.session import Account

    @contextmanager
    def as_role(who: str = "admin"):
        store = app.extensions["telemetry_store"]
        row = store.account_by_email(ACCOUNTS[who][0])
        with app.test_request_context("/_dash-update-component", method="POST"):
            login_user(Account(row, sid=store.open_session(row.id)))
            yield

    return as_role


@pytest.fixture
def results(monkeypatch) -> Iterator[cache.ResultCache]:
    """A fresh result cache for this test, in place of the process's one."""
    from queries import cache

    fresh = cache.ResultCache(64 * 2**20)
    monkeypatch.setattr(cache, "_cache", fresh)
    yield fresh


@pytest.fixture
def inbox():
    """A real SMTP server on loopback (aiosmtpd): (its handler, which keeps the messages, and its port)."""
    from aiosmtpd.controller import Controller

    from tests.test_alerts_delivery import Inbox, _free_port

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()
