"""The oracle: each question over the raw events (tests/oracle/<name>.sql), for the equivalence tests.

The served questions (queries/sql/) read only the rollups; these are the same questions (same names), worded
over the events, written to be obviously right rather than fast. Inside `raw_events()` the query layer runs
them instead, with the same parameters, and bypasses the result cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

import queries
from data import schema
from queries import cache as query_cache
from queries import db

ORACLE = Path(__file__).parent


@contextmanager
def events_cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor of the app's database (its macros, directory tables and rollups) that also reads the raw
    events, as `events`: a temporary view, its own (the serving cursors have no `events`)."""
    folder = queries.database().data_dir
    columns = pl.Schema({**schema.EVENTS, schema.PARTITION_COLUMN: pl.Date})
    body = schema.events_view_sql(folder) if schema.has_events(folder) else schema.empty_select(columns)
    with queries.database().cursor() as cursor:
        cursor.sql(f"create temp view events as {body}")
        yield cursor


def execute_on_events(_cursor: duckdb.DuckDBPyConnection, name: str, params: dict) -> pl.DataFrame:
    """`name`'s oracle over the raw events, with the parameters it uses."""
    sql = (ORACLE / f"{name}.sql").read_text()
    with db.reading_data(), events_cursor() as cursor:
        cursor.execute(sql, {key: params[key] for key in db.parameters_of(sql)})
        return pl.from_arrow(cursor.to_arrow_table())


def _answering_from_events(served: Callable) -> Callable:
    """`db.execute_on` for questions over the rollups replaced by their oracle; the others as `served`."""

    def execute(cursor: duckdb.DuckDBPyConnection, name: str, params: dict) -> pl.DataFrame:
        over_rollups = (ORACLE / f"{name}.sql").exists()
        return (execute_on_events if over_rollups else served)(cursor, name, params)

    return execute


@contextmanager
def raw_events() -> Iterator[None]:
    """Questions asked inside the block answer from the raw events (every thread: not for concurrent tests)."""
    served = db.execute_on
    db.execute_on = _answering_from_events(served)
    try:
        with query_cache.bypassed():
            yield
    finally:
        db.execute_on = served


_SERVED = db.execute_on


def answer_from_events(enabled: bool) -> None:
    """Every question of this process from the raw events, or from the rollups again (the benchmark's raw
    baseline: benchmarks/bench_server.py; the result cache is its business)."""
    db.execute_on = _answering_from_events(_SERVED) if enabled else _SERVED
