"""The questions on the ClickHouse backend: queries/sql/clickhouse/<name>.sql, the same named questions as
queries/sql/<name>.sql, bound from the same `Filters.params()` and answered as Polars frames of the same columns
and types (docs/clickhouse.md).

Where the dialects differ only in binding: ClickHouse has no Nullable(Array), so a list that may be None
(every team) is bound as the list (empty) and a flag beside it (`every_team`, `every_agent`, `every_user`).

Answers are kept in the process's result cache (queries/cache.py), as DuckDB's are, keyed by the database's data
version: the token its last write left in `telemetry_meta` (data/clickhouse/schema.py `bump_version`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import polars as pl
from flask import current_app, g

from data import schema
from data.clickhouse import ChdbConnection, Connection, connect, database_name, parameters_of
from data.clickhouse import schema as clickhouse_schema
from queries import cache as query_cache
from queries.db import DIRECTORY_ORDER

SQL_DIR = Path(__file__).parent / "sql" / "clickhouse"
EVERY = {"team_ids": "every_team", "agent_ids": "every_agent", "user_ids": "every_user"}
_VERSION = "telemetry_clickhouse_version"  # flask.g: the data version read in this app context


@cache
def sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def translated() -> frozenset[str]:
    """The questions that have a ClickHouse file."""
    return frozenset(path.stem for path in SQL_DIR.glob("*.sql"))


def bound(params: dict) -> dict:
    """`Filters.params()` as ClickHouse binds them: each list that may be None as the list and its flag."""
    found = dict(params)
    for name, flag in EVERY.items():
        if name in params:
            value = params[name]
            found[flag] = value is None
            found[name] = [] if value is None else list(value)
    return found


def _normal(frame: pl.DataFrame) -> pl.DataFrame:
    """Counts as Int64, as DuckDB answers them (ClickHouse's count() and sums of counts are unsigned), instants
    in UTC as DuckDB names it."""
    unsigned = (pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
    counts = [pl.col(name).cast(pl.Int64) for name, dtype in frame.schema.items() if dtype in unsigned]
    # instants in DuckDB's name for UTC, so that frames from both backends are alike to the type
    instants = [
        pl.col(name).dt.convert_time_zone("Etc/UTC")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone == "UTC"
    ]
    return frame.with_columns(*counts, *instants)


def execute(connection: Connection, database: str, name: str, params: dict) -> pl.DataFrame:
    """Run question `name` in the organization's database, binding the parameters it uses."""
    sql = sql_text(name).replace("$database", database_name(database))
    return _normal(pl.from_arrow(connection.arrow(sql, bound(params))))


def configured() -> tuple[Connection, str]:
    """The app's ClickHouse (chDB at CHDB_PATH, or the server at CLICKHOUSE_URL) and organization database."""
    return connect(current_app.config)


def data_version() -> tuple:
    """The organization's database and its data version, as the result cache keys answers. On a server, the token of
    its last write, read once per app context (a request: one query, not one per question) and again once this
    process wrote since; on chDB, this process's count of writes (its engine is this process's alone: a second
    process cannot open its folder, so every write to it is one of this process's)."""
    connection, database = configured()
    where = (id(connection), database)  # a process keeps one connection per engine or server
    bumps = clickhouse_schema.bumped()  # first: a write that ends after this is read again next time
    if isinstance(connection, ChdbConnection):
        return ("clickhouse", *where, bumps)
    kept = g.get(_VERSION)
    if kept is None or kept[0] != (where, bumps):
        kept = (where, bumps), clickhouse_schema.data_version(connection, database)
        setattr(g, _VERSION, kept)
    return ("clickhouse", *where, kept[1])


def run(
    name: str,
    params: dict,
    then: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    then_depends_on: tuple = (),
) -> pl.DataFrame:
    """`queries.run` on the ClickHouse backend: the answer kept in the result cache by question, the parameters its
    SQL binds and the data version (`data_version`), as on DuckDB."""
    connection, database = configured()

    def answer() -> pl.DataFrame:
        frame = execute(connection, database, name, params)
        return frame if then is None else then(frame)

    results = query_cache.in_use()
    if results is None:
        return answer()
    used = bound(params)
    used = {key: used[key] for key in parameters_of(sql_text(name))}
    # The version is taken before the query runs, so the rows are never older than their key says.
    key = ("question", data_version(), name, query_cache.params_key(used))
    if then is not None:
        key += (then.__module__, then.__qualname__, then_depends_on)
    return results.frame(key, answer)


def directory(name: str) -> pl.DataFrame:
    """A directory table of the organization's database, in the order DuckDB's `Database.directory` keeps it."""
    if name not in schema.DIRECTORY:
        raise KeyError(name)
    connection, database = configured()
    order = f" order by {DIRECTORY_ORDER[name]}" if name in DIRECTORY_ORDER else ""
    table = f"{database_name(database)}.{name}"
    frame = _normal(pl.from_arrow(connection.arrow(f"select * from {table}{order}")))  # noqa: S608
    return frame.cast(dict(schema.DIRECTORY[name]))
