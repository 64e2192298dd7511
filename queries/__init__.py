"""The query layer: named SQL over the Parquet data folder, answered as Polars frames."""

from __future__ import annotations

import threading
from collections.abc import Callable

import duckdb
import polars as pl
from flask import Flask, current_app, g

from data.clickhouse import on_clickhouse
from queries import cache as query_cache
from queries import clickhouse, db
from queries.db import Database

_EXTENSION = "telemetry_db"
REBUILD = "telemetry_rebuild_rollups"  # the writer side's rebuild of stale rollups (data/cli.py puts it there)
_opening = threading.Lock()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_cursor)


def database() -> Database:
    """This process's database, opened on first use (so forked workers each open their own).

    Opened under a lock: the first requests of a threaded server arrive together, and each would
    otherwise open its own DuckDB (all but one left open, unused).
    """
    db = current_app.extensions.get(_EXTENSION)
    if db is None:
        with _opening:
            db = current_app.extensions.get(_EXTENSION)
            if db is None:
                config = current_app.config
                db = Database(
                    config["DATA_DIR"],
                    threads=config["DUCKDB_THREADS"],
                    rebuild=current_app.extensions.get(REBUILD),
                    rebuild_wait=config["ROLLUP_REBUILD_WAIT"],
                )
                current_app.extensions[_EXTENSION] = db
    return db


def cursor() -> duckdb.DuckDBPyConnection:
    """This thread's cursor in this app context, closed at its teardown.

    One per thread, not one per context: a tab's parts may run side by side in one request
    (callbacks/_tab.py), and a DuckDB cursor answers one statement at a time.
    """
    cursors = g.setdefault("telemetry_cursors", {})  # dict operations are atomic: no lock needed
    thread = threading.get_ident()
    found = cursors.get(thread)
    if found is None:
        found = cursors[thread] = database().cursor()
    return found


def _close_cursor(_exc: BaseException | None) -> None:
    for cur in g.pop("telemetry_cursors", {}).values():
        cur.close()


def run(
    name: str,
    params: dict | None = None,
    then: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    then_depends_on: tuple = (),
) -> pl.DataFrame:
    """The answer of queries/sql/<name>.sql with its parameters bound, on this thread's cursor.

    A question that takes the time zone (`tz`) reads the rollups, made current first (`Database.ready`).
    Answers are kept in the result cache (`queries.cache`) by file, bound parameters (the scope among them)
    and data version. `then`, if given, finishes the answer in Polars before it is kept (callers sharing
    it do not each redo it); it may depend only on the parameters and on `then_depends_on`, in the key.
    """
    given = params or {}
    if on_clickhouse(current_app.config):
        return clickhouse.run(name, given, then, then_depends_on)
    bound = {key: given[key] for key in db.sql_parameters(name)}
    data = database()

    def answer() -> pl.DataFrame:
        # only for an answer not kept: a kept one is for this data version already (its key says so), and opening
        # a cursor and checking the rollups cost a warm request more than finding the answer
        if "tz" in given:
            data.ready(given["tz"])
        frame = db.execute_on(cursor(), name, given)
        return frame if then is None else then(frame)

    results = query_cache.in_use()
    if results is None:
        return answer()
    # The version is taken before the query runs, so the rows are never older than their key says.
    # The zone is in the key even where the SQL does not name it: the rollups it reads are built for one zone.
    version = query_cache.data_version(data.data_dir)
    key = ("question", data.data_dir, version, given.get("tz"), name, query_cache.params_key(bound))
    if then is not None:
        key += (then.__module__, then.__qualname__, then_depends_on)
    return results.frame(key, answer)


def data_version() -> tuple:
    """The version of the data the questions read now, as the result cache keys it: the data folder's (its path and
    `queries.cache.data_version`), or the ClickHouse database's (`queries.clickhouse.data_version`)."""
    if on_clickhouse(current_app.config):
        return clickhouse.data_version()
    data_dir = current_app.config["DATA_DIR"]
    return (data_dir, query_cache.data_version(data_dir))


def data_notice() -> str | None:
    """What every page should say about the data folder now (rollups missing or behind), else None; on ClickHouse
    nothing: its materialized views keep the rollups as the events come in."""
    if on_clickhouse(current_app.config):
        return None
    return database().notice(current_app.config["ORG_TIMEZONE"])


def directory_table(name: str) -> pl.DataFrame:
    """A directory table (users, teams, agents, team_managers, prices) as a Polars frame, from the backend in use
    (users in name order: queries/db.py DIRECTORY_ORDER)."""
    if on_clickhouse(current_app.config):
        return clickhouse.directory(name)
    return database().directory(name)
