"""The app's DuckDB cannot read, write or attach anything outside the data folder, nor be reconfigured."""

from __future__ import annotations

import duckdb
import pytest

import queries


@pytest.mark.parametrize(
    "statement",
    [
        "select * from read_csv('/etc/passwd')",
        "copy (select 1 as x) to '/tmp/telemetry-escape.csv'",
        "attach '/tmp/telemetry-escape.duckdb' as escape",
        "set enable_external_access = true",
        "set allowed_directories = ['/']",
        "install httpfs",
        "load httpfs",
    ],
)
def test_connection_is_locked_down(app, statement):
    with app.app_context():
        cursor = queries.cursor()
        with pytest.raises(duckdb.Error):
            cursor.sql(statement).fetchall()


def test_data_folder_is_readable(app):
    with app.app_context():
        assert queries.cursor().sql("select count(*) from events").fetchall() == [(9,)]
