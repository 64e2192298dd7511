"""One locked-down, read-only DuckDB database per process; a cursor per request or thread."""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from data import schema
from queries import cache as query_cache

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


class DataFolderError(RuntimeError):
    """A file in the data folder that DuckDB cannot read (corrupt, cut short, not Parquet).

    The message names the file (from the data folder down) and is meant for people: the pages show it,
    the API answers 503 with it.
    """


# DuckDB names the file it failed on in quotes: "No magic bytes found at end of file '/…/x.parquet'".
_QUOTED_PATH = re.compile(r"""['"]([^'"]*/[^'"]+)['"]""")


@contextmanager
def reading_data() -> Iterator[None]:
    """Turn DuckDB's errors about a file it cannot read into a DataFolderError naming that file."""
    try:
        yield
    except (duckdb.IOException, duckdb.InvalidInputException) as error:
        found = _QUOTED_PATH.search(str(error))
        if found is None:
            raise
        path = found.group(1)
        for folder in ("/events/", "/directory/"):
            if folder in path:
                path = folder.lstrip("/") + path.split(folder, 1)[1]
                break
        else:
            path = Path(path).name
        raise DataFolderError(f"The data folder has an unreadable file: {path}") from error


class Database:
    """Views over the Parquet data folder, on an in-memory DuckDB that cannot touch anything else."""

    def __init__(self, data_dir: Path, threads: int = 2, memory_limit: str = "4GB") -> None:
        self.data_dir = Path(data_dir).resolve()
        self._con = duckdb.connect(":memory:", config={"threads": threads, "memory_limit": memory_limit})
        self._lock = threading.Lock()
        self._events_present = False
        self._directory_present = tuple(False for _name in schema.DIRECTORY)
        self._con.sql("set TimeZone = 'UTC'")
        try:
            with reading_data():
                self._create_directory_views()
                self._create_events_view()
        except Exception:
            self._con.close()  # the next request tries again, e.g. once the unreadable file is replaced
            raise
        self._lock_down()

    def _lock_down(self) -> None:
        # Order matters: once external access is off, allowed_directories can no longer be set.
        self._con.sql(  # the Parquet folders only: the data folder also holds .secret_key and the accounts
            f"set allowed_directories = [{_literal(schema.events_dir(self.data_dir))}, "
            f"{_literal(schema.directory_dir(self.data_dir))}]"
        )
        self._con.sql("set enable_external_access = false")
        self._con.sql("set autoinstall_known_extensions = false")
        self._con.sql("set autoload_known_extensions = false")
        self._con.sql("set lock_configuration = true")

    def _directory_files(self) -> tuple[bool, ...]:
        """Which directory files exist, in schema order: a few stat calls."""
        folder = schema.directory_dir(self.data_dir)
        return tuple((folder / f"{name}.parquet").exists() for name in schema.DIRECTORY)

    def _create_directory_views(self) -> None:
        """A view per directory file, one row per key (a hand-made file may repeat a key, and a repeated
        team would count its events twice in every join); a typed, empty stand-in for a missing file."""
        folder = schema.directory_dir(self.data_dir)
        present = self._directory_files()
        for (name, columns), exists in zip(schema.DIRECTORY.items(), present, strict=True):
            if exists:
                keys = ", ".join(schema.DIRECTORY_KEYS[name])
                body = (
                    f"select * from read_parquet({_literal(folder / f'{name}.parquet')}) "  # noqa: S608
                    f"qualify row_number() over (partition by {keys} order by {', '.join(columns)}) = 1"
                )
            else:
                body = _empty_select(columns)
            # Names come from the schema and paths from configuration, never from a request.
            self._con.sql(f"create or replace view {name} as {body}")
        self._directory_present = present  # only once every view is in place

    def _create_events_view(self) -> None:
        present = schema.has_events(self.data_dir)
        if present:
            glob = schema.events_dir(self.data_dir) / schema.EVENT_FILES
            body = (
                f"select * from read_parquet({_literal(glob)}, hive_partitioning = true, "  # noqa: S608
                f"hive_types = {{'{schema.PARTITION_COLUMN}': date}})"
            )
        else:
            columns = pl.Schema({**schema.EVENTS, schema.PARTITION_COLUMN: pl.Date})
            body = _empty_select(columns)
        self._con.sql(f"create or replace view events as {body}")
        self._events_present = present  # only once the view reads the files

    def _stale(self) -> bool:
        """Whether a stand-in view has a file to read now (or a directory file went away)."""
        if not self._events_present and schema.has_events(self.data_dir):
            return True
        return self._directory_files() != self._directory_present

    def refresh(self, only_if_stale: bool = False) -> None:
        """Re-read the folder's layout, e.g. after the first events or a new directory file arrive."""
        with self._lock, reading_data():
            if only_if_stale and not self._stale():  # another thread did it while this one waited
                return
            self._create_directory_views()
            self._create_events_view()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one request or thread; views follow files that appeared since the last one."""
        if self._stale():
            self.refresh(only_if_stale=True)
        cur = self._con.cursor()
        _data_dirs[cur] = self.data_dir  # so `run` can key its results by this folder's data version
        return cur

    def close(self) -> None:
        self._con.close()


# The data folder of each open cursor handed out by a Database (weak: gone with the cursor).
_data_dirs: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, Path] = weakref.WeakKeyDictionary()


@cache
def sql_parameters(name: str) -> frozenset[str]:
    """The $names a SQL file uses; DuckDB refuses parameters a statement does not take."""
    return frozenset(re.findall(r"\$([a-z_][a-z0-9_]*)", sql_text(name)))


def run(cursor: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> pl.DataFrame:
    """Run the named SQL file with bound parameters and fetch the whole result.

    The answer comes from this process's result cache when the same file was run with the same
    parameters (the scope is among them) on the same data version; see `queries.cache`.
    """
    given = params or {}
    missing = sql_parameters(name) - given.keys()
    if missing:
        raise TypeError(f"{name}.sql needs parameters {sorted(missing)}")
    bound = {key: given[key] for key in sql_parameters(name)}
    data_dir = _data_dirs.get(cursor)
    results = query_cache.result_cache()
    if data_dir is None or not results.enabled or query_cache.is_bypassed():
        return execute(cursor, name, bound)
    # The version is taken before the query runs, so the rows are never older than their key says.
    key = (data_dir, results.version(data_dir), name, query_cache.params_key(bound))
    return results.get_or_compute(key, lambda: execute(cursor, name, bound))


def execute(cursor: duckdb.DuckDBPyConnection, name: str, bound: dict) -> pl.DataFrame:
    """Run the named SQL file on DuckDB, no cache."""
    with reading_data():
        return cursor.sql(sql_text(name), params=bound).pl()
