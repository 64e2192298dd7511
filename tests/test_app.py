"""The app starts from the factory, reads its configuration, and serves every tab."""

from __future__ import annotations

import pytest

from app import ConfigError, create_app

PAGES = ["/telemetry", "/telemetry/analytics", "/telemetry/users", "/telemetry/billing"]


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


def test_an_empty_data_folder_still_serves(tmp_path, password_hash):
    from tests.conftest import AuthActions, make_app

    app = make_app(tmp_path / "empty", password_hash)
    with app.app_context():
        from queries import usage
        from queries.period import last_days
        from queries.scope import Scope

        row = usage.summary(last_days(30, "UTC"), Scope.organization()).row(0, named=True)
    assert (row["interactions"], row["active_users"]) == (0, 0)
    client = app.test_client()
    # no directory: nobody can be linked, but the pages and the login still answer
    assert client.get("/login").status_code == 200
    assert AuthActions(client).login("admin").status_code == 302
