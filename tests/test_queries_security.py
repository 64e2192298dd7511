"""The app's DuckDB cannot read, write or attach anything outside the data folder, nor be reconfigured."""

from __future__ import annotations

import duckdb
import pytest

import queries
from tests.oracle import events_view


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


def test_the_rollups_are_readable_and_the_raw_events_only_by_the_oracle(app):
    with app.app_context():
        cursor = queries.cursor()
        assert cursor.sql("select sum(interactions) from cube_files").fetchall() == [(9,)]
        with pytest.raises(duckdb.CatalogException):  # no question on the serving path reads the raw events
            cursor.sql("select count(*) from events").fetchall()
        events_view(cursor, app.config["DATA_DIR"])  # the equivalence tests' oracle, on its cursor alone
        assert cursor.sql("select count(*) from events").fetchall() == [(9,)]
        other = queries.database().cursor()
        with pytest.raises(duckdb.CatalogException):  # nor any other cursor
            other.sql("select count(*) from events").fetchall()
