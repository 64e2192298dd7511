"""The query layer: named SQL over the Parquet data folder, answered as Polars frames."""

from __future__ import annotations

import threading

import duckdb
from flask import Flask, current_app, g

from queries.db import Database

_EXTENSION = "telemetry_db"
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
                db = Database(current_app.config["DATA_DIR"], threads=current_app.config["DUCKDB_THREADS"])
                current_app.extensions[_EXTENSION] = db
    return db


def cursor() -> duckdb.DuckDBPyConnection:
    """The cursor of this app context (one per request or thread), closed at its teardown."""
    if "telemetry_cursor" not in g:
        g.telemetry_cursor = database().cursor()
    return g.telemetry_cursor


def _close_cursor(_exc: BaseException | None) -> None:
    cur = g.pop("telemetry_cursor", None)
    if cur is not None:
        cur.close()
