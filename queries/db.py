"""One locked-down, read-only DuckDB database per process; a cursor per request or thread; the SQL files."""

from __future__ import annotations

import logging
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from data import schema
from data.rollups.manifest import (
    MANIFEST,
    ONE_FILE,
    SETS,
    TABLES,
    WINDOWS,
    parameters_of,
    rollup_view_sql,
    rollups_check,
    rollups_dir,
)
from data.schema import empty_select, literal
from queries import cache as query_cache

SQL_DIR = Path(__file__).parent / "sql"
# DuckDB warns that Arrow from a cursor's result copies the rows once more: answers here are small (and
# the copy costs less than the relation layer's second parse and bind; see `execute_on`).
warnings.filterwarnings("ignore", "Arrow output on a DB-API result", UserWarning)
logger = logging.getLogger(__name__)
# The rollup tables read by most questions, kept in each process's DuckDB: the selects that make them from
# `<rollup>_files`. The sets are split: the bitmaps, and the days' team × agent lists of codes, so that a
# question that needs no list scans none (100M events: cube 20 MB, bitmaps 150 MB, lists 40 MB).
IN_MEMORY = {
    "cube": "select * from cube_files",
    "user_sets": (
        "select * exclude (codes) from user_sets_files where codes is null order by kind, start, team_id, agent_id"
    ),
    "user_day_sets": (
        "select start as day, team_id, agent_id, codes, month from user_sets_files where codes is not null "
        "order by day, team_id, agent_id"
    ),
    # each person's history (data/rollups/totals.py): their rows over all agents, read unless a scope
    # names agents, and of their rows per agent what the most used agent reads (a third of their memory: at
    # 100M events 130 MB of 460; a scope that names agents reads those agents' rows from the file), in the
    # order of the codes: the Users tab's block of people finds theirs together
    "user_totals": "select * from user_totals_files where agent_id is null",
    "agent_totals": (
        "select user_id, code, team_id, agent_id, moved, month0, first_day, days, days_before, running_interactions "
        "from user_totals_files where agent_id is not null order by code"
    ),
    # per day and team, agent or everyone: the people active on it and in the 7 and 28 days ending on it (a
    # year of 100M events: 20,000 rows)
    "active_windows": "select * from active_windows_files order by team_id, agent_id, day",
}
# The order `Database.directory` keeps a table's rows in: the people by name (missing names last), then id,
# so that a list of them sorted busiest first, then by name, sorts on their position (queries/users.py).
DIRECTORY_ORDER = {"users": "name asc nulls last, user_id asc"}


@cache
def sql_text(name: str) -> str:
    """The text of queries/sql/<name>.sql; one question per file."""
    return (SQL_DIR / f"{name}.sql").read_text()


class DataFolderError(RuntimeError):
    """A file in the data folder that DuckDB cannot read (corrupt, cut short, not Parquet).

    The message names the file (from the data folder down) and is meant for people: the pages show it,
    the API answers 503 with it.
    """


# DuckDB names the file it failed on in quotes: "No magic bytes found at end of file '/…/x.parquet'".
_QUOTED_PATH = re.compile(r"""['"]([^'"]*/[^'"]+)['"]""")
_IN_DATA_FOLDER = re.compile(r".*/((?:events|directory)/.+)")  # a path from the data folder down, if it is in one


@contextmanager
def reading_data() -> Iterator[None]:
    """Turn DuckDB's errors about a file it cannot read into a DataFolderError naming that file."""
    try:
        yield
    except (duckdb.IOException, duckdb.InvalidInputException) as error:
        found = _QUOTED_PATH.search(str(error))
        if found is None:
            raise
        inside = _IN_DATA_FOLDER.fullmatch(found.group(1))
        path = inside.group(1) if inside else Path(found.group(1)).name
        raise DataFolderError(f"The data folder has an unreadable file: {path}") from error


class RollupsNotReady(DataFolderError):
    """The rollups do not answer for the data folder as it is now, and their rebuild has not finished (or
    failed): the pages say so (`Database.notice`), the API answers 503. No question reads the raw events."""


# Rebuilds the rollups of a data folder in a zone unless they answer (the writer's side provides it:
# `data.ingest.commit.rebuild_rollups`, wired by app.py; the query layer imports nothing of the writer).
Rebuild = Callable[[Path, str], object]


class Database:
    """Views over the Parquet data folder, on an in-memory DuckDB that cannot touch anything else."""

    def __init__(
        self,
        data_dir: Path,
        threads: int = 2,
        rebuild: Rebuild | None = None,
        rebuild_wait: float = 10.0,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self._rebuild, self._rebuild_wait = rebuild, rebuild_wait
        self._rebuilding: _Rebuilding | None = None  # the last rebuild of stale rollups (`ready`)
        # Memory freed after loading the rollups (Parquet read buffers) goes back to the system past 16 MB, not
        # DuckDB's default 128 MB per thread: 100M events, 150 MB less resident for the same tables.
        config = {"threads": threads, "memory_limit": "4GB", "allocator_flush_threshold": "16MB"}
        self._con = duckdb.connect(":memory:", config=config)
        self._lock = threading.Lock()
        self._directory_present: tuple[tuple | None, ...] = tuple(None for _name in schema.DIRECTORY)
        self._rollups_checked: tuple[tuple, dict | None, str | None] | None = None
        self._frames: dict[str, tuple[tuple, pl.DataFrame]] = {}  # directory tables as Polars, by their files
        self._tables_of: str | None = None  # the build (manifest's `build`) whose small rollup tables are in memory
        self._con.execute("set TimeZone = 'UTC'")
        self._con.execute(sql_text("macros"))  # the scope predicate; in the catalogue: every cursor has it
        try:
            with reading_data():
                self._create_directory_views()
                self._create_rollup_views()
            self._con.execute("create or replace macro sets_capacity() as 64")  # until a build's tables load
            self._con.execute(sql_text("cover"))  # after the views: a table macro names the tables it reads
        except Exception:
            self._con.close()  # the next request tries again, e.g. once the unreadable file is replaced
            raise
        self._lock_down()

    def _lock_down(self) -> None:
        # Order matters: once external access is off, allowed_directories can no longer be set.
        folders = (schema.events_dir(self.data_dir), schema.directory_dir(self.data_dir), rollups_dir(self.data_dir))
        # The Parquet folders only: the data folder also holds .secret_key and the accounts.
        self._con.execute(f"set allowed_directories = [{', '.join(literal(f) for f in folders)}]")
        self._con.execute("set enable_external_access = false")
        self._con.execute("set autoinstall_known_extensions = false")
        self._con.execute("set autoload_known_extensions = false")
        self._con.execute("set lock_configuration = true")

    def _create_directory_views(self) -> None:
        """A table per directory file, one row per key (a hand-made file may repeat a key, and a repeated
        team would count its events twice in every join); a typed, empty stand-in for a missing file.

        Tables, read again whenever a file changes (`_stale`): the directory is small, and deduplicating
        its 30,000 users on every query that joins them took 15 ms each time.
        """
        folder = schema.directory_dir(self.data_dir)
        present = query_cache.directory_files(self.data_dir)
        for (name, columns), found in zip(schema.DIRECTORY.items(), present, strict=True):
            if found is not None:
                keys = ", ".join(schema.DIRECTORY_KEYS[name])
                body = (
                    f"select * from read_parquet({literal(folder / f'{name}.parquet')}) "  # noqa: S608
                    f"qualify row_number() over (partition by {keys} order by {', '.join(columns)}) = 1"
                )
            else:
                body = empty_select(columns)
            # Names come from the schema and paths from configuration, never from a request.
            self._con.execute(f"create or replace table {name} as {body}")
        self._directory_present = present  # only once every table is in place

    def directory(self, name: str) -> pl.DataFrame:
        """A directory table (users, teams, agents, team_managers) as a Polars frame, read once per version
        of the directory files."""
        if name not in schema.DIRECTORY:
            raise KeyError(name)
        present = self._directory_present  # set only once every table is in place: never older than the table
        kept = self._frames.get(name)
        if kept is None or kept[0] != present:
            order = f" order by {DIRECTORY_ORDER[name]}" if name in DIRECTORY_ORDER else ""
            with self._con.cursor() as cursor:
                kept = self._frames[name] = (present, cursor.sql(f"select * from {name}{order}").pl())  # noqa: S608
        return kept[1]

    def _create_rollup_views(self) -> None:
        """A view per rollup table over its monthly files (`<table>_files` for those copied into memory), a
        typed, empty stand-in before the first build; `user_day` reads its files directly."""
        for table in (*TABLES, SETS, WINDOWS, *ONE_FILE):
            view = f"{table}_files" if table in IN_MEMORY else table
            self._con.execute(f"create or replace view {view} as {rollup_view_sql(self.data_dir, table)}")
        if self._tables_of is None:  # typed, empty tables until a build's are loaded
            for table, select in IN_MEMORY.items():
                self._con.execute(f"create or replace table {table} as {select} limit 0")
        self._con.execute(sql_text("totals_in_scope"))
        self._con.execute(sql_text("people_codes"))

    def _load_tables(self, manifest: dict) -> None:
        """The `cube`, `user_sets` and `user_totals` into memory, once per build: a scan of memory
        instead of opening and reading a dozen Parquet files on each of a tab's queries."""
        with self._lock, reading_data():
            if self._tables_of == manifest.get("build"):
                return  # another thread did it while this one waited
            self._create_rollup_views()  # tables whose files came or went (the first build, a purge of everything)
            for table, select in IN_MEMORY.items():
                self._con.execute(f"create or replace table {table} as {select}")
            # the bitmaps' length, a constant where a day's listed codes become a bitmap (queries/sql/cover.sql)
            self._con.execute(f"create or replace macro sets_capacity() as {int(manifest.get('capacity') or 64)}")
            self._tables_of = manifest.get("build")

    def ready(self, tz: object) -> None:
        """Make sure the rollups answer for the data folder as it is now in zone `tz`: they do, or they are
        rebuilt (waiting up to `rebuild_wait` seconds for it), or RollupsNotReady says why not."""
        manifest = self._rollups_seen(tz)[1]
        if manifest is None:
            manifest = self._rebuilt(tz)
        if self._tables_of != manifest.get("build"):
            self._load_tables(manifest)

    def rollups_current(self, tz: object) -> bool:
        """Whether the rollups answer for the data folder as it is now in zone `tz` (nothing rebuilt)."""
        return self._rollups_seen(tz)[1] is not None

    def _rebuilt(self, tz: object) -> dict:
        """The manifest once a rebuild in the background (one at a time) has made the rollups current."""
        if self._rebuild is None or not isinstance(tz, str):
            raise RollupsNotReady(self.notice(tz) or "The summary tables are not ready.")
        key = self._rollups_seen(tz)[0]
        with self._lock:
            if self._rebuilding is None or self._rebuilding.may_start_again(key):
                self._rebuilding = _Rebuilding(key, lambda: self._rebuild(self.data_dir, tz))
            rebuilding = self._rebuilding
        rebuilding.thread.join(self._rebuild_wait)
        manifest = self._rollups_seen(tz)[1]
        if manifest is None:
            raise RollupsNotReady(rebuilding.error or self.notice(tz) or "The summary tables are being rebuilt.")
        return manifest

    def _rollups_seen(self, tz: object) -> tuple[tuple, dict | None, str | None]:
        """(key, the rollups' manifest if they answer else None, the pages' notice), one tuple so a
        thread never sees one without the other; looked at again only when the data version, the manifest
        file or the zone changes. Rollups that do not answer are logged once per version, rebuilt (`ready`)
        and said on the pages (`notice`) until they are: nobody should have to guess why figures are missing.
        """
        manifest_file = query_cache.file_stat(rollups_dir(self.data_dir) / MANIFEST)
        key = (query_cache.data_version(self.data_dir), manifest_file, tz)
        seen = self._rollups_checked
        if seen is None or seen[0] != key:
            manifest, why_not, notice = rollups_check(self.data_dir, tz)
            if why_not is not None:
                logger.warning("%s (data folder %s)", why_not, self.data_dir)
            seen = self._rollups_checked = (key, manifest, notice)
        return seen

    def notice(self, tz: object) -> str | None:
        """What the pages say about the data folder (rollups that do not answer) to the people reading
        them, else None; the log has the technical reason."""
        return self._rollups_seen(tz)[2]

    def _stale(self) -> bool:
        """Whether a directory file changed (the rollups' files are looked at once per build: `ready`)."""
        return query_cache.directory_files(self.data_dir) != self._directory_present

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one request or thread; the tables follow a directory file that came, went or changed
        since the last one (nobody needs to tell it after a write; the rollups are looked at once per build)."""
        if self._stale():
            with self._lock, reading_data():
                if self._stale():  # another thread may have done it while this one waited
                    self._create_directory_views()
                    self._con.execute(sql_text("people_codes"))  # the one rollup table joined with the directory
        return self._con.cursor()

    def close(self) -> None:
        self._con.close()


class _Rebuilding:
    """A rebuild of the rollups on a thread of its own, for the data as it was (`key`); one that failed is
    tried again once the data change or after a while (a file that cannot be read stays so until someone
    replaces it: every request would redo the work)."""

    RETRY_SECONDS = 60.0

    def __init__(self, key: tuple, rebuild: Callable[[], object]) -> None:
        self.key = key
        self.error: str | None = None
        self._ended: float | None = None
        self.thread = threading.Thread(target=self._run, args=(rebuild,), name="rollups-rebuild", daemon=True)
        self.thread.start()

    def _run(self, rebuild: Callable[[], object]) -> None:
        try:
            with reading_data():
                rebuild()
        except Exception as error:
            logger.exception("Rebuilding the rollups failed")
            self.error = (
                str(error)
                if isinstance(error, DataFolderError)
                else (f"The summary tables could not be rebuilt ({type(error).__name__}); the server's log says why")
            )
        finally:
            self._ended = time.monotonic()

    def may_start_again(self, key: tuple) -> bool:
        if self._ended is None:
            return False  # still running
        return self.error is None or key != self.key or time.monotonic() - self._ended >= self.RETRY_SECONDS


@cache
def sql_parameters(name: str) -> frozenset[str]:
    """The $names a SQL file uses; DuckDB refuses parameters a statement does not take."""
    return parameters_of(sql_text(name))


def execute_on(cursor: duckdb.DuckDBPyConnection, name: str, params: dict) -> pl.DataFrame:
    """Run the named SQL file on DuckDB, no cache, binding the parameters it uses.

    Executed on the cursor and fetched whole as Arrow rather than through a relation (`sql(...).pl()`):
    a relation parses and binds the statement in Python before running it, 3-5 ms of a 10-20 ms answer.
    """
    with reading_data():
        cursor.execute(sql_text(name), {key: params[key] for key in sql_parameters(name)})
        return pl.from_arrow(cursor.to_arrow_table())
