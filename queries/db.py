"""One locked-down, read-only DuckDB database per process; a cursor per request or thread."""

from __future__ import annotations

import re
import threading
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from data import schema

SQL_DIR = Path(__file__).parent / "sql"

_DUCKDB_TYPES = {
    pl.String: "varchar",
    pl.Int64: "bigint",
    pl.Int32: "integer",
    pl.Boolean: "boolean",
    pl.Date: "date",
}


@cache
def sql_text(name: str) -> str:
    """The text of queries/sql/<name>.sql; one question per file."""
    return (SQL_DIR / f"{name}.sql").read_text()


def _duckdb_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision}, {dtype.scale})"
    if isinstance(dtype, pl.Datetime):
        return "timestamptz"
    return _DUCKDB_TYPES[dtype.base_type()]


def _empty_select(columns: pl.Schema) -> str:
    """A typed, empty relation, standing in for data that does not exist yet."""
    cols = ", ".join(f"null::{_duckdb_type(t)} as {name}" for name, t in columns.items())
    return f"select {cols} where false"


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class Database:
    """Views over the Parquet data folder, on an in-memory DuckDB that cannot touch anything else."""

    def __init__(self, data_dir: Path, threads: int = 2, memory_limit: str = "4GB") -> None:
        self.data_dir = Path(data_dir).resolve()
        self._con = duckdb.connect(":memory:", config={"threads": threads, "memory_limit": memory_limit})
        self._lock = threading.Lock()
        self._events_present = False
        self._con.sql("set TimeZone = 'UTC'")
        self._create_directory_views()
        self._create_events_view()
        self._lock_down()

    def _lock_down(self) -> None:
        # Order matters: once external access is off, allowed_directories can no longer be set.
        self._con.sql(f"set allowed_directories = [{_literal(self.data_dir)}]")
        self._con.sql("set enable_external_access = false")
        self._con.sql("set autoinstall_known_extensions = false")
        self._con.sql("set autoload_known_extensions = false")
        self._con.sql("set lock_configuration = true")

    def _create_directory_views(self) -> None:
        folder = schema.directory_dir(self.data_dir)
        for name, columns in schema.DIRECTORY.items():
            path = folder / f"{name}.parquet"
            body = f"select * from read_parquet({_literal(path)})" if path.exists() else _empty_select(columns)  # noqa: S608
            # Names come from the schema and paths from configuration, never from a request.
            self._con.sql(f"create or replace view {name} as {body}")

    def _create_events_view(self) -> None:
        self._events_present = schema.has_events(self.data_dir)
        if self._events_present:
            glob = schema.events_dir(self.data_dir) / "*" / "*.parquet"
            body = (
                f"select * from read_parquet({_literal(glob)}, hive_partitioning = true, "  # noqa: S608
                f"hive_types = {{'{schema.PARTITION_COLUMN}': date}})"
            )
        else:
            columns = pl.Schema({**schema.EVENTS, schema.PARTITION_COLUMN: pl.Date})
            body = _empty_select(columns)
        self._con.sql(f"create or replace view events as {body}")

    def refresh(self) -> None:
        """Re-read the folder's layout, e.g. after the first events or a new directory arrive."""
        with self._lock:
            self._create_directory_views()
            self._create_events_view()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        if not self._events_present and schema.has_events(self.data_dir):
            self.refresh()
        return self._con.cursor()

    def close(self) -> None:
        self._con.close()


@cache
def sql_parameters(name: str) -> frozenset[str]:
    """The $names a SQL file uses; DuckDB refuses parameters a statement does not take."""
    return frozenset(re.findall(r"\$([a-z_][a-z0-9_]*)", sql_text(name)))


def run(cursor: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> pl.DataFrame:
    """Run the named SQL file with bound parameters and fetch the whole result."""
    given = params or {}
    missing = sql_parameters(name) - given.keys()
    if missing:
        raise TypeError(f"{name}.sql needs parameters {sorted(missing)}")
    bound = {key: given[key] for key in sql_parameters(name)}
    return cursor.sql(sql_text(name), params=bound).pl()
