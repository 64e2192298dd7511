"""The on-disk data contract (documented in docs/schema.md): column names and types."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

COST = pl.Decimal(18, 6)
UTC_TS = pl.Datetime("us", "UTC")

EVENTS = pl.Schema(
    {
        "event_id": pl.String,
        "ts": UTC_TS,
        "user_id": pl.String,
        "team_id": pl.String,
        "agent_id": pl.String,
        "model": pl.String,
        "conversation_id": pl.String,
        "input_tokens": pl.Int64,
        "output_tokens": pl.Int64,
        "cost_usd": COST,
        "latency_ms": pl.Int32,
        "status": pl.String,
    }
)
STATUSES = ("ok", "error")

# The most one interaction can plausibly hold (docs/schema.md, "Interaction events"). A larger value is
# a sender's bug (a counter read as a token count, a clock read as a duration): validation quarantines
# it, and every sum over valid events stays far inside 64 bits (2**63 / 10**7 is 9.2e11 events).
MAX_TOKENS = 10_000_000  # input or output tokens: five times the largest context window offered today
MAX_COST_USD = Decimal(100_000)  # US dollars for one interaction
MAX_LATENCY_MS = 86_400_000  # one day
MAX_PRICE_USD_PER_MTOK = Decimal(100_000)  # directory/prices.parquet: a thousand times today's dearest
EVENT_MAXIMA = {
    "input_tokens": MAX_TOKENS,
    "output_tokens": MAX_TOKENS,
    "cost_usd": MAX_COST_USD,
    "latency_ms": MAX_LATENCY_MS,
}

# Events are hive-partitioned by the UTC calendar date of `ts` so a date-range query prunes files.
PARTITION_COLUMN = "utc_date"

USERS = pl.Schema(
    {
        "user_id": pl.String,
        "name": pl.String,
        "email": pl.String,
        "team_id": pl.String,
        "role": pl.String,
        "created_at": UTC_TS,
        "active": pl.Boolean,
    }
)
ROLES = ("admin", "manager", "member")

TEAMS = pl.Schema({"team_id": pl.String, "name": pl.String})
TEAM_MANAGERS = pl.Schema({"user_id": pl.String, "team_id": pl.String})
AGENTS = pl.Schema({"agent_id": pl.String, "name": pl.String, "owner_team_id": pl.String, "created_at": UTC_TS})


# directory/prices.parquet: the price list events' cost_usd was computed from, one row per model and
# validity range (valid_to null = still in force).
PRICES = pl.Schema(
    {
        "model": pl.String,
        "input_usd_per_mtok": COST,
        "output_usd_per_mtok": COST,
        "valid_from": pl.Date,
        "valid_to": pl.Date,
    }
)

DIRECTORY = {
    "users": USERS,
    "teams": TEAMS,
    "team_managers": TEAM_MANAGERS,
    "agents": AGENTS,
    "prices": PRICES,
}
# The key of each directory table: `import-directory` refuses duplicates, and the app reads one row
# per key even from a hand-made file that has some (queries/db.py).
DIRECTORY_KEYS = {
    "users": ("user_id",),
    "teams": ("team_id",),
    "team_managers": ("user_id", "team_id"),
    "agents": ("agent_id",),
    "prices": ("model", "valid_from"),
}


def events_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "events"


def directory_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "directory"


def partition_dir(data_dir: Path, utc_date: str) -> Path:
    """Folder of one day's events, e.g. events/utc_date=2026-10-01."""
    return events_dir(data_dir) / f"{PARTITION_COLUMN}={utc_date}"


# A count of partition-folder swaps (compaction, purge), raised to an odd number just before a writer swaps a
# folder and to the next even one just after. A reader that lists the folder while it is exchanged can see
# none of its files (the names it listed are gone when it looks at them), so a query over the events that
# saw the count change, or odd, is run again (`read_consistently`; only readers without the writer's lock
# need it, and no question on the serving path reads the events: the tests' oracle and the raw baseline do).
SWAPS_FILE = ".swaps"


def swap_count(data_dir: Path) -> int:
    """The partition-swap count (0 before any swap); odd while a swap is under way."""
    try:
        return int((Path(data_dir) / SWAPS_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return 0


SWAP_RETRIES = 40
T = TypeVar("T")


def read_consistently(data_dir: Path, read: Callable[[], T]) -> T:
    """`read()`, a query over the events, run again if a partition folder was swapped meanwhile: it may
    then have counted a date as empty with no error, or failed with "file not found"."""
    for attempt in range(SWAP_RETRIES):
        before = swap_count(data_dir)
        try:
            answer = read()
        except (duckdb.IOException, duckdb.InvalidInputException):
            if before % 2 == 0 and swap_count(data_dir) == before:
                raise  # not a swap: a file that cannot be read
            continue
        if before % 2 == 0 and swap_count(data_dir) == before:
            return answer
        if before % 2:
            time.sleep(0.001 * (attempt + 1))  # a writer is between its two counts: a few renames
    # A count left odd by a writer that died mid-swap (the next writer repairs it): its folders are whole.
    return read()


# The data version: a small JSON file every write under the ingestion lock writes last (data/ingest/commit.py,
# data/rollups/build.py), so a reader knows what changed by reading one file instead of looking over every
# partition. `version` goes up with every write that changes what a question can answer (events, directory,
# a rebuild), `events` with every write that changes events (the rollups' manifest names the `events` it
# was built from), and `events_folder` is the events folder's (inode, mtime) as the writer left it: a
# partition folder added or removed by hand changes it, and readers say so (see `changed_by_hand`).
# Two marks, so that readers say so exactly as long as they should:
# - `by_hand`: the folder had been changed by hand (or a writer died mid-write) when a write began. A
#   write stores the folder as it leaves it, so without the mark it would pass the hand-made change off
#   as its own and the rollups would answer without it. Only a full rollup build clears it.
# - `writing`: a write is under way (the writer's pid), set under the lock before it touches any
#   folder: the partition folders it adds or swaps meanwhile are its own, not a change by hand. The
#   write's end removes it; a writer that dies leaves it behind, and the next holder of the lock (the
#   next write, `flask --app app rollup`) turns it into `by_hand`
#   (`recover_version`: the dead write's files are not in the rollups).
VERSION_FILE = ".version"


def read_version(data_dir: Path) -> dict:
    """The data version as the last write left it (zeros before any write by Telemetry's writer)."""
    try:
        found = json.loads((Path(data_dir) / VERSION_FILE).read_text())
    except (FileNotFoundError, ValueError):
        found = None
    if not isinstance(found, dict):
        return {"version": 0, "events": 0, "events_folder": None}
    return found


def _store_version(data_dir: Path, version: dict) -> dict:
    """The version file replaced whole: written aside, renamed in (a reader sees the old one or the new)."""
    draft = Path(data_dir) / f"{VERSION_FILE}.{os.getpid()}.tmp"
    draft.write_text(json.dumps(version))
    os.replace(draft, Path(data_dir) / VERSION_FILE)
    return version


def begin_write(data_dir: Path, rollups: bool) -> dict:
    """Mark a write under way, before it touches any folder; a change by hand found now is kept as
    `by_hand` if there are `rollups` it could be missing from (without, the first build takes in all).
    The caller holds the ingestion lock."""
    version = read_version(data_dir)
    return _store_version(
        data_dir,
        {
            "version": int(version.get("version", 0)),
            "events": int(version.get("events", 0)),
            "events_folder": folder_stat(events_dir(data_dir)),
            "by_hand": rollups and changed_by_hand(data_dir, version),
            "writing": os.getpid(),
        },
    )


def write_version(data_dir: Path, *, data_changed: bool, events_changed: bool, rebuilt: bool = False) -> dict:
    """Record a write: raise the counters it changed and the events folder as it is now; the `writing`
    mark goes, `by_hand` stays unless the rollups were `rebuilt` whole from the folder as it is. The
    caller holds the ingestion lock."""
    version = read_version(data_dir)
    return _store_version(
        data_dir,
        {
            "version": int(version.get("version", 0)) + (data_changed or events_changed),
            "events": int(version.get("events", 0)) + events_changed,
            "events_folder": folder_stat(events_dir(data_dir)),
            # a write that did not begin with `begin_write` (a build under the bare lock) checks here
            "by_hand": not rebuilt and changed_by_hand(data_dir, version),
        },
    )


def recover_version(data_dir: Path) -> None:
    """A `writing` mark left by a writer that died: now `by_hand` (its files may be missing from the
    rollups, or a rollup update half done). The caller holds the ingestion lock, so no write is under way."""
    version = read_version(data_dir)
    if version.get("writing"):
        _store_version(data_dir, {**{k: v for k, v in version.items() if k != "writing"}, "by_hand": True})


def folder_stat(path: Path) -> list[int] | None:
    """A folder's (inode, mtime): they change when an entry is added, removed or renamed in it."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return [info.st_ino, info.st_mtime_ns]


def changed_by_hand(data_dir: Path, version: dict) -> bool:
    """Whether the events folder may hold what the rollups do not: marked `by_hand`, or not as the last
    write left it (a partition folder copied in or removed by hand) unless a write is under way (its
    folder changes are its own). One stat; a file copied into an existing partition folder is not seen
    here (`flask --app app rollup` takes it in)."""
    if not _differs(data_dir, version):
        return False
    # `version` may have been read just before a write began and changed the folder: the file as it is
    # now says. Read only on a difference, so a reader still reads one small file and stats one folder.
    now = read_version(data_dir)
    return now == version or _differs(data_dir, now)


def _differs(data_dir: Path, version: dict) -> bool:
    if version.get("by_hand"):
        return True
    if version.get("writing"):
        return False
    return folder_stat(events_dir(data_dir)) != version.get("events_folder")


# The event files, relative to events/: Parquet files in partition folders, nothing else.
EVENT_FILES = f"{PARTITION_COLUMN}=*/*.parquet"


def has_events(data_dir: Path) -> bool:
    return any(events_dir(data_dir).glob(EVENT_FILES))


class EventFileError(ValueError):
    """An event file that lacks a column of the contract (one copied into the data folder by hand)."""


def check_event_columns(path: Path, names: Iterable[str]) -> None:
    """Raise EventFileError naming the file and the contract's columns it lacks (its columns: `names`)."""
    missing = [name for name in EVENTS if name not in set(names)]
    if missing:
        raise EventFileError(
            f"{path} has no column {', '.join(missing)} (a file copied in by hand?): add the column to it, or "
            "move it out of the data folder and import its events"
        )


def check_event_files(data_dir: Path) -> None:
    """`check_event_columns` for every event file, from their footers: after a read of them all failed."""
    for path in sorted(events_dir(Path(data_dir)).glob(EVENT_FILES)):
        try:
            names = pl.read_parquet_schema(path)
        except (pl.exceptions.ComputeError, OSError):
            continue  # not Parquet at all: the failed read's own error names it
        check_event_columns(path, names)


def partition_dates(data_dir: Path) -> list[dt.date]:
    """The UTC dates of the partition folders (events/utc_date=YYYY-MM-DD), oldest first.

    Read from the folder names alone (one directory listing); a folder may still hold no event file.
    """
    prefix = f"{PARTITION_COLUMN}="
    dates = []
    try:
        entries = list(os.scandir(events_dir(data_dir)))
    except FileNotFoundError:
        return []
    for entry in entries:
        if entry.name.startswith(prefix) and entry.is_dir():
            try:
                dates.append(dt.date.fromisoformat(entry.name[len(prefix) :]))
            except ValueError:
                continue
    return sorted(dates)


# --- SQL over the files: how DuckDB reads them (the app's views and the rollup builder) ---------------

_DUCKDB_TYPES = {
    pl.String: "varchar",
    pl.Int64: "bigint",
    pl.Int32: "integer",
    pl.Boolean: "boolean",
    pl.Date: "date",
    pl.Binary: "blob",
}


def events_view_sql(data_dir: Path) -> str:
    """The select the `events` view stands for: every event file of the data folder.

    DuckDB gives the view the first file's column types and reads the others as those: `ts` is cast to the
    contract's instant (a no-op for files the writer wrote), so a file copied in by hand with `ts` in
    nanoseconds, or without a zone (read as UTC: the sessions reading events are in UTC), is compared
    with the questions' instants like any other. A first file with a column of Parquet's null type (all
    null, as Polars writes a `pl.Null` column) would have every other file's values cast to it, which
    DuckDB refuses: the files are then read by name (each file's footer read, every file checked to have
    every column, as a union would fill a missing one with nulls) and those columns cast to the contract's
    types."""
    data_dir = Path(data_dir).resolve()
    glob = events_dir(data_dir) / EVENT_FILES
    null_typed = _null_typed_columns(data_dir)
    if null_typed:
        check_event_files(data_dir)
    casts = "".join(f", {name}::{_duckdb_type(EVENTS[name])} as {name}" for name in null_typed if name != "ts")
    union = ", union_by_name = true" if null_typed else ""
    return (
        f"select * replace (ts::timestamptz as ts{casts}) from read_parquet({literal(glob)}, "  # noqa: S608
        f"hive_partitioning = true, hive_types = {{'{PARTITION_COLUMN}': date}}{union})"
    )


def _null_typed_columns(data_dir: Path) -> list[str]:
    """The contract's columns that the first event file (the one DuckDB takes the types from) holds as Parquet's
    null type."""
    for utc_date in partition_dates(data_dir):  # the glob's order: by date, then by file name
        files = sorted(partition_dir(data_dir, utc_date.isoformat()).glob("*.parquet"))
        if files:
            try:
                found = pl.read_parquet_schema(files[0])
            except (pl.exceptions.ComputeError, OSError):
                return []  # not Parquet at all: the read's own error names it
            return [name for name in EVENTS if found.get(name) == pl.Null]
    return []


def _duckdb_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision}, {dtype.scale})"
    if isinstance(dtype, pl.Datetime):
        return "timestamptz"
    if isinstance(dtype, pl.List):
        return f"{_duckdb_type(dtype.inner)}[]"
    return _DUCKDB_TYPES[dtype.base_type()]


def empty_select(columns: pl.Schema) -> str:
    """A typed, empty relation, standing in for data that does not exist yet."""
    cols = ", ".join(f"null::{_duckdb_type(t)} as {name}" for name, t in columns.items())
    return f"select {cols} where false"


def literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


PROJECT = Path(__file__).resolve().parents[1]
CODE_PACKAGES = ("api", "auth", "callbacks", "data", "layouts", "queries", "reports", "tests")


def code_package_holding(folder: Path) -> str | None:
    """The code package `folder` is, or is inside, if any. A data folder there would mix data with code,
    and a rollup rebuild, which replaces `<data folder>/rollups` whole, would delete data/rollups/ (the
    data folder's old default was ./data)."""
    folder = Path(folder).resolve()
    for package in CODE_PACKAGES:
        code = PROJECT / package
        if folder == code or code in folder.parents:
            return package
    return None
