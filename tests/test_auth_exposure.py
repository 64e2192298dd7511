"""What the server gives away besides data: HSTS over HTTPS, and DuckDB kept off the key and accounts."""

from __future__ import annotations

import duckdb
import pytest

import queries
from app import create_app


def test_hsts_only_when_cookies_are_secure(client, data_dir):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "t", "SESSION_COOKIE_SECURE": True})
    for path in ("/login", "/telemetry", "/_dash-layout"):
        hsts = secure.test_client().get(path).headers["Strict-Transport-Security"]
        assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 180 * 24 * 3600


@pytest.mark.parametrize("reader", ["read_text", "read_blob"])
@pytest.mark.parametrize("name", [".secret_key", "telemetry.sqlite"])
def test_duckdb_cannot_read_the_cookie_key_or_the_accounts(app, reader, name):
    folder = app.config["DATA_DIR"]
    (folder / ".secret_key").write_text("the cookie key, never for DuckDB")
    assert (folder / name).exists()
    with app.app_context(), pytest.raises(duckdb.PermissionException):
        queries.cursor().sql(f"select content from {reader}('{folder / name}')").fetchall()  # noqa: S608


def test_duckdb_still_reads_rollups_and_directory(app):
    with app.app_context():
        cursor = queries.cursor()
        assert cursor.sql("select sum(interactions) from user_day").fetchall() == [(9,)]
        assert cursor.sql("select count(*) > 0 from users").fetchall() == [(True,)]
