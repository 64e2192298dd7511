"""The app starts from the factory, reads its configuration, and serves every tab."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs_version

from app import ENVIRONMENT, PLOTLY_URL, PLOTLY_VERSION, PROCESS_ENVIRONMENT, ConfigError, create_app

PROJECT = Path(__file__).resolve().parents[1]

PAGES = ["/telemetry", "/telemetry/analytics", "/telemetry/users", "/telemetry/adoption", "/telemetry/billing"]


def test_every_tab_is_served_to_an_admin(client, auth):
    auth.login("admin")
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        assert '<div id="react-entry-point">' in response.get_data(as_text=True)
    layout = client.get("/_dash-layout").get_json()
    assert "Telemetry" in str(layout) and "shell-nav" in str(layout)


def test_root_redirects_to_the_dashboard(client, auth):
    auth.login("admin")
    assert client.get("/").headers["Location"] == "/telemetry"
    assert client.get("/?start=2026-03-01").headers["Location"] == "/telemetry?start=2026-03-01"


def test_configuration_from_the_environment(monkeypatch, data_dir):
    monkeypatch.setenv("TELEMETRY_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ORG_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("BILLING_ANCHOR_DAY", "15")
    app = create_app({"TESTING": True})
    assert app.config["DATA_DIR"] == data_dir.resolve()
    assert (app.config["ORG_TIMEZONE"], app.config["BILLING_ANCHOR_DAY"]) == ("Europe/Berlin", 15)
    assert len(app.config["SECRET_KEY"]) == 64  # generated once, kept in the data folder
    assert create_app({"TESTING": True}).config["SECRET_KEY"] == app.config["SECRET_KEY"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ORG_TIMEZONE", "Mars/Olympus", "not a known time zone"),
        ("ORG_TIMEZONE", "localtime", "'localtime' is not a known time zone"),  # Python knows it, DuckDB does not
        ("ORG_TIMEZONE", "posixrules", "'posixrules' is not a known time zone"),
        ("ORG_TIMEZONE", "utc", "'utc' is not a known time zone"),  # DuckDB would take it, Python not
        ("ORG_TIMEZONE", "Factory", "'Factory' is not a known time zone"),  # Polars does not know it
        ("BILLING_ANCHOR_DAY", "32", "from 1 to 31"),
        ("BILLING_ANCHOR_DAY", "0", "from 1 to 31"),
        ("BILLING_ANCHOR_DAY", "first", "BILLING_ANCHOR_DAY='first' is not valid"),
    ],
)
def test_bad_configuration_is_explained(monkeypatch, data_dir, variable, value, message):
    monkeypatch.setenv("TELEMETRY_DATA_DIR", str(data_dir))
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        create_app({"TESTING": True})


@pytest.mark.parametrize("day", ["29", "30", "31"])
def test_a_billing_anchor_late_in_the_month_is_accepted(monkeypatch, data_dir, day):
    monkeypatch.setenv("TELEMETRY_DATA_DIR", str(data_dir))
    monkeypatch.setenv("BILLING_ANCHOR_DAY", day)
    assert create_app({"TESTING": True}, with_dash=False).config["BILLING_ANCHOR_DAY"] == int(day)


MIB = "use a number of MiB from 0 (off) to 1048576."


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TELEMETRY_CACHE_MB", "lots", f"TELEMETRY_CACHE_MB='lots' is not valid; {MIB}"),
        ("TELEMETRY_CACHE_MB", "-1", f"TELEMETRY_CACHE_MB='-1' is not valid; {MIB}"),
        ("TELEMETRY_CACHE_MB", "nan", f"TELEMETRY_CACHE_MB='nan' is not valid; {MIB}"),
        ("TELEMETRY_CACHE_MB", "inf", f"TELEMETRY_CACHE_MB='inf' is not valid; {MIB}"),
        ("TELEMETRY_DUCKDB_THREADS", "0", "TELEMETRY_DUCKDB_THREADS='0' is not valid; use a whole number from 1 to 25"),
        ("TELEMETRY_DUCKDB_THREADS", "two", "TELEMETRY_DUCKDB_THREADS='two' is not valid; use a whole number from 1"),
        ("TELEMETRY_TRUSTED_PROXIES", "-1", "TELEMETRY_TRUSTED_PROXIES='-1' is not valid; use a whole number from 0"),
        ("TELEMETRY_COMPACT_AFTER_FILES", "0", "TELEMETRY_COMPACT_AFTER_FILES='0' is not valid; use a whole number"),
        ("TELEMETRY_SECURE_COOKIES", "maybe", "TELEMETRY_SECURE_COOKIES='maybe' is not valid; use 1, true, yes, on or"),
        ("BILLING_ANCHOR_DAY", "15.5", "BILLING_ANCHOR_DAY='15.5' is not valid; use a whole number from 1 to 31."),
        ("TELEMETRY_TEAM_ATTRIBUTE", "  ", "TELEMETRY_TEAM_ATTRIBUTE='  ' is not valid; use some text."),
        ("ORG_TIMEZONE", "Mars/Olympus", "ORG_TIMEZONE='Mars/Olympus' is not a known time zone; use an IANA name"),
    ],
)
def test_every_setting_is_checked_at_start_in_one_line(monkeypatch, data_dir, variable, value, message):
    monkeypatch.setenv("TELEMETRY_DATA_DIR", str(data_dir))
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        create_app({"TESTING": True}, with_dash=False)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_data_and_accounts_paths_that_cannot_be_used_stop_the_app(monkeypatch, tmp_path):
    """These used to end in a traceback from mkdir or SQLite."""
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    cases = [
        ({"TELEMETRY_DATA_DIR": str(a_file)}, f"TELEMETRY_DATA_DIR='{a_file}' is not valid: {a_file} is a file."),
        (
            {"TELEMETRY_DATA_DIR": str(tmp_path / "d"), "TELEMETRY_ACCOUNTS_DB": str(a_file / "x.sqlite")},
            f"TELEMETRY_ACCOUNTS_DB='{a_file / 'x.sqlite'}' is not valid: {a_file} is a file.",
        ),
        (
            {"TELEMETRY_DATA_DIR": str(tmp_path / "d"), "TELEMETRY_ACCOUNTS_DB": str(tmp_path)},
            f"TELEMETRY_ACCOUNTS_DB='{tmp_path}' is not valid: it is a folder.",
        ),
    ]
    for settings, message in cases:
        for variable, value in settings.items():
            monkeypatch.setenv(variable, value)
        with pytest.raises(ConfigError) as raised:
            create_app({"TESTING": True, "SECRET_KEY": "t"}, with_dash=False)
        assert str(raised.value) == message
        monkeypatch.delenv("TELEMETRY_ACCOUNTS_DB", raising=False)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("DUCKDB_THREADS", 0, "TELEMETRY_DUCKDB_THREADS=0 is not valid; use a whole number from 1 to 256."),
        ("OTLP_MAX_BYTES", 0, "OTLP_MAX_BYTES=0 is not valid; use a whole number from 1"),
    ],
)
def test_settings_given_to_the_factory_are_checked_too(data_dir, key, value, message):
    with pytest.raises(ConfigError, match=message):
        create_app({"TESTING": True, "DATA_DIR": str(data_dir), key: value}, with_dash=False)


def test_a_setting_listed_with_a_bare_type_is_read_with_it(monkeypatch, data_dir):
    """ENVIRONMENT entries may still name a plain type (int): a value it cannot read stops the app too."""
    import app as app_module

    monkeypatch.setitem(app_module.ENVIRONMENT, "TELEMETRY_SOMETHING", ("SOMETHING", int))
    monkeypatch.setenv("TELEMETRY_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TELEMETRY_SOMETHING", "3")
    assert create_app({"TESTING": True}, with_dash=False).config["SOMETHING"] == 3
    monkeypatch.setenv("TELEMETRY_SOMETHING", "three")
    with pytest.raises(ConfigError, match="TELEMETRY_SOMETHING='three' is not valid; use a value of the right type"):
        create_app({"TESTING": True}, with_dash=False)


def test_good_settings_are_read_as_their_types(monkeypatch, data_dir):
    settings = {
        "TELEMETRY_DATA_DIR": str(data_dir),
        "TELEMETRY_DUCKDB_THREADS": "4",
        "TELEMETRY_CACHE_MB": "0",
        "TELEMETRY_SECURE_COOKIES": "yes",
        "TELEMETRY_TRUSTED_PROXIES": "1",
    }
    for variable, value in settings.items():
        monkeypatch.setenv(variable, value)
    config = create_app({"TESTING": True}, with_dash=False).config
    assert (config["DUCKDB_THREADS"], config["TRUSTED_PROXIES"]) == (4, 1)
    assert config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("TELEMETRY_SECURE_COOKIES", "off")
    assert create_app({"TESTING": True}, with_dash=False).config["SESSION_COOKIE_SECURE"] is False


def without_settings(data_dir: Path, **settings: str) -> dict[str, str]:
    """This machine's environment without any Telemetry setting, then the tiny org's and `settings`."""
    names = {*ENVIRONMENT, *PROCESS_ENVIRONMENT}
    env = {key: value for key, value in os.environ.items() if key not in names}
    return {**env, "TELEMETRY_DATA_DIR": str(data_dir), "SECRET_KEY": "test", **settings}


BAD = [
    ("TELEMETRY_CACHE_MB", "lots"),
    ("TELEMETRY_DUCKDB_THREADS", "0"),
    ("ORG_TIMEZONE", "Mars/Olympus"),
]
COMMANDS = [["routes"], ["ingest", "events.jsonl"]]


# Each a process of its own that imports the app (2-4 s): `make test` runs each setting once and each command,
# every other pair in `make test-long` (every setting's message is checked in-process above).
@pytest.mark.parametrize(
    ("variable", "value", "command"),
    [
        pytest.param(
            variable, value, command, marks=() if (i + j) % 2 == 0 else pytest.mark.long, id=f"{command[0]}-{variable}"
        )
        for i, (variable, value) in enumerate(BAD)
        for j, command in enumerate(COMMANDS)
    ],
)
def test_flask_says_a_bad_setting_in_one_line(data_dir, variable, value, command):
    flask = Path(sys.executable).parent / "flask"
    done = subprocess.run(
        [str(flask), "--app", "app", *command],
        cwd=PROJECT,
        env=without_settings(data_dir, **{variable: value}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"Error: {variable}={value!r} is not ")


def test_gunicorn_says_a_bad_setting_in_one_line_and_stops(data_dir):
    command = [sys.executable, "-m", "gunicorn", "app:create_app()", "--bind", "127.0.0.1:0",
               "--workers", "1", "--no-control-socket"]  # fmt: skip
    env = without_settings(data_dir, TELEMETRY_CACHE_MB="lots")
    # Safety net only: gunicorn stops by itself once its worker fails to load the app.
    done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    message = f"TELEMETRY_CACHE_MB='lots' is not valid; {MIB}"
    assert done.stderr.splitlines().count(message) == 1, done.stderr


def test_an_empty_data_folder_still_serves(tmp_path, password_hash):
    from tests.conftest import AuthActions, make_app

    app = make_app(tmp_path / "empty", password_hash)
    with app.app_context():
        from queries import usage
        from queries.filters import Filters, default_period
        from queries.scope import Scope

        row = usage.summary(Filters.asking(default_period("UTC"), Scope.organization())).row(0, named=True)
    assert (row["interactions"], row["active_users"]) == (0, 0)
    client = app.test_client()
    # no directory: nobody can be linked, but the pages and the login still answer
    assert client.get("/login").status_code == 200
    assert AuthActions(client).login("admin").status_code == 302


def test_an_unknown_dash_file_is_not_found_without_a_traceback(client, caplog):
    for path in ("/_dash-component-suites/dash/nope.js", "/_dash-component-suites/no_such_package/x.js",
                 "/_dash-component-suites/dash/../../app.py"):  # fmt: skip
        with caplog.at_level("DEBUG"):
            answer = client.get(path)
        assert answer.status_code == 404, path
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert client.get("/_dash-component-suites/dash/dcc/dash_core_components.js").status_code == 200


def test_the_charts_plotly_js_is_the_installed_version_kept_by_browsers(client):
    """After a plotly upgrade, refresh vendor/ (app.py, PLOTLY_VERSION, says how)."""
    assert get_plotlyjs_version() == PLOTLY_VERSION
    answer = client.get(PLOTLY_URL, headers={"Accept-Encoding": "gzip"})  # before signing in too: public
    assert answer.status_code == 200 and answer.mimetype == "text/javascript"
    assert answer.headers["Content-Encoding"] == "gzip"
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    script = gzip.decompress(answer.get_data()).decode()
    assert f"plotly.js (cartesian - minified) v{PLOTLY_VERSION}" in script
    assert client.get(PLOTLY_URL, headers={"Accept-Encoding": "identity"}).get_data(as_text=True) == script


def test_assets_named_with_their_time_are_kept_by_browsers(client, auth):
    """Dash names each asset with its file's time; one asked for without it, or with another time (an older
    file's, from a host not yet upgraded), is asked about again."""
    import app as app_module

    auth.login("admin")
    page = client.get("/telemetry").get_data(as_text=True)
    named = re.search(r"/assets/theme\.js\?m=[0-9.]+", page)
    assert named, "the page names theme.js with its time"
    own = str((app_module.ASSETS / "theme.js").stat().st_mtime)
    assert named.group(0).endswith(f"?m={own}")
    kept = client.get(named.group(0))
    assert kept.status_code == 200
    assert kept.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for other in ("/assets/theme.js", "/assets/theme.js?m=1796675830.5887377"):
        answer = client.get(other)
        assert answer.status_code == 200 and "max-age=31536000" not in answer.headers.get("Cache-Control", ""), other


def test_a_data_folder_inside_the_code_stops_the_app_and_the_rollup_build(monkeypatch, tmp_path):
    """The old default ./data is the package data/ now: a rollup rebuild there would replace data/rollups/."""
    from data import schema
    from data.rollups import build

    project = schema.PROJECT
    with pytest.raises(ValueError, match="inside the code's data/ package"):
        build.build(project / "data", "UTC")
    assert (project / "data" / "rollups" / "build.py").exists()
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATA_DIR": str(tmp_path / "d")}, with_dash=False)
    seeded = app.test_cli_runner().invoke(args=["seed-demo", "--out", str(project / "data")])
    assert seeded.exit_code != 0 and "inside the code's data/ package" in seeded.output
    for folder in (project / "data", project / "queries" / "x"):
        monkeypatch.setenv("TELEMETRY_DATA_DIR", str(folder))
        with pytest.raises(ConfigError) as raised:
            create_app({"TESTING": True, "SECRET_KEY": "t"}, with_dash=False)
        assert "is inside the code's" in str(raised.value) and "./var" in str(raised.value)
    assert not (project / "queries" / "x").exists()
