"""The app's DuckDB cannot read, write or attach anything outside the data folder, nor be reconfigured."""

from __future__ import annotations

import duckdb
import pytest

import queries
from tests.oracle import events_cursor


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


def test_data_folder_is_readable_but_not_its_raw_events(app):
    """Locked down, the serving cursor still reads the rollups and the directory; no question reads the raw
    events (they have no view there), which the equivalence tests' oracle reads on a cursor of its own."""
    with app.app_context():
        cursor = queries.cursor()
        assert cursor.sql("select sum(interactions) from user_day").fetchall() == [(9,)]
        assert cursor.sql("select count(*) > 0 from users").fetchall() == [(True,)]
        with pytest.raises(duckdb.CatalogException, match="events"):
            cursor.sql("select count(*) from events").fetchall()
        with events_cursor() as raw:
            assert raw.sql("select count(*) from events").fetchall() == [(9,)]
        with pytest.raises(duckdb.CatalogException, match="events"):
            queries.cursor().sql("select count(*) from events").fetchall()
