"""Rollups: the events pre-aggregated per local day, kept as Parquet beside them in `rollups/`.

Three tables, each one Parquet file per local month (`rollups/<table>/month=YYYY-MM/part-0.parquet`),
built by the SQL files `data/rollups/sql/<table>.sql`:
- `cube`: per local day × team × agent × model: interactions, errors, tokens, cost, latency sum and count;
- `hours`: per local day × hour × team × agent: interactions (the weekday × hour heat map);
- `user_day`: per local day × user × team × agent: interactions, errors, cost, first and last instant.
Distinct users are counted from `user_day` rows, never added up, so they stay exact over any period.

The writer keeps them: every write that changes events (ingest, OTLP, purge) updates the local days it
touched inside the same write, under the same ingestion lock (data/ingest/commit.py), and creates them
all on the first write; `flask --app app rollup` builds them all again (after files were copied in by
hand, or ORG_TIMEZONE changed). Each build writes `rollups/manifest.json` (the time zone, the format,
the events version it answers for) and then, last, the data folder's version file (data/schema.py),
which readers check in O(1) (data/rollups/manifest.py). Every file is written aside and renamed in.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from data import schema
from data.rollups.manifest import (
    FORMAT,
    INDEX_PREFIX,
    MANIFEST,
    TABLES,
    read_manifest,
    rollup_view_sql,
    rollups_dir,
)
from data.schema import empty_select, events_view_sql
from queries.period import Period
from queries.user_index import UserIndex

ROW_GROUP_ROWS = 100_000
SQL_DIR = Path(__file__).parent / "sql"  # one builder per table: <table>.sql over the raw events

@dataclass(frozen=True)
class Build:
    months: int
    days: int
    rows: dict[str, int]
    seconds: float


def build(data_dir: Path, tz: str, days: Iterable[dt.date] | None = None, threads: int = 2) -> Build:
    """Build the rollups: all of them (`days` None), or only the local days given, in place; then record
    them current: the manifest, then the data version (events counter raised), written last.

    The caller holds the data folder's ingestion lock (`data.ingest.locked`): no event changes meanwhile.
    Only local days are updated when rollups in this format and zone exist and are not behind the events
    (an update that failed: the days it missed are not known); otherwise all are built.
    """
    started = time.perf_counter()
    data_dir = Path(data_dir)
    package = schema.code_package_holding(data_dir)
    if package is not None:  # the swap below replaces <data_dir>/rollups whole: never code
        raise ValueError(f"{data_dir} is inside the code's {package}/ package: not a data folder.")
    manifest = read_manifest(data_dir)
    full = days is None or manifest is None or manifest.get("tz") != tz or _behind(data_dir, manifest)
    con = _connect(data_dir, threads)
    try:
        if full:
            span = _local_span(con, tz)
            months = _months(span) if span else {}
            rows = _build_all(con, data_dir, tz, months)
            changed = sum(len(d) for d in months.values())
        else:
            by_month = _months(sorted(set(days)))
            rows = _update(con, data_dir, tz, by_month)
            months, changed = by_month, len(set(days))
        index = _save_index(con, data_dir)
    finally:
        con.close()
    # The manifest first, naming the events version the version file is about to get: a reader between
    # the two renames finds rollups ahead of the version it knows, never behind it.
    events = int(schema.read_version(data_dir).get("events", 0)) + 1
    manifest = {"format": FORMAT, "tz": tz, "events_version": events, "index": index.name, "built_at": _now()}
    _write_manifest(data_dir, manifest)
    schema.write_version(data_dir, data_changed=True, events_changed=True, rebuilt=full)  # full: takes in all
    _remove_old_indexes(data_dir, keep=index)
    return Build(len(months), changed, rows, time.perf_counter() - started)


def _behind(data_dir: Path, manifest: dict) -> bool:
    """Whether the rollups missed a write's update: updating only this write's days would then record
    them current without the days the failed one touched."""
    return int(manifest.get("events_version", -1)) < int(schema.read_version(data_dir).get("events", 0))


def _save_index(con: duckdb.DuckDBPyConnection, data_dir: Path) -> Path:
    """The user index of the rollups now in place, saved in a new folder the manifest will name."""
    con.sql(f"create or replace view user_day as {rollup_view_sql(data_dir, 'user_day')}")
    folder = rollups_dir(data_dir) / f"{INDEX_PREFIX}{uuid.uuid4().hex}"
    staging = folder.with_name(f".{folder.name}")
    UserIndex.from_rollups(con).save(staging)
    os.replace(staging, folder)
    return folder


def _remove_old_indexes(data_dir: Path, keep: Path) -> None:
    """All but the newest two: a reader that read the previous manifest may still be opening its index."""
    folders = sorted(rollups_dir(data_dir).glob(f"{INDEX_PREFIX}*"), key=lambda f: f.stat().st_mtime_ns)
    for folder in [f for f in folders if f != keep][:-1]:
        shutil.rmtree(folder, ignore_errors=True)


def local_days_of(utc_dates: Iterable[dt.date]) -> list[dt.date]:
    """The local days (any zone) whose events can lie in these UTC dates: a local day spans up to two."""
    found = set()
    for utc_date in utc_dates:
        found.update(utc_date + dt.timedelta(days=shift) for shift in (-1, 0, 1))
    return sorted(found)


def _connect(data_dir: Path, threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config={"threads": threads})
    con.sql("set TimeZone = 'UTC'")
    if schema.has_events(data_dir):
        con.sql(f"create view events as {events_view_sql(data_dir)}")
    else:
        con.sql(f"create view events as {empty_select(pl.Schema({**schema.EVENTS, schema.PARTITION_COLUMN: pl.Date}))}")
    return con


def _local_span(con: duckdb.DuckDBPyConnection, tz: str) -> list[dt.date]:
    """Every local day from the first event's to the last's (none without events)."""
    first, last = con.sql(
        "select timezone($tz, min(ts))::date, timezone($tz, max(ts))::date from events", params={"tz": tz}
    ).fetchall()[0]
    if first is None:
        return []
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _months(days: list[dt.date]) -> dict[str, list[dt.date]]:
    months: dict[str, list[dt.date]] = {}
    for day in days:
        months.setdefault(f"{day:%Y-%m}", []).append(day)
    return months


def _aggregate(con: duckdb.DuckDBPyConnection, table: str, period: Period) -> pl.DataFrame:
    """One table's rows for the period's local days, from its builder SQL and the parameters it uses."""
    text = (SQL_DIR / f"{table}.sql").read_text()
    used = set(re.findall(r"\$([a-z_][a-z0-9_]*)", text))
    con.execute(text, {key: value for key, value in period.params().items() if key in used})
    return pl.from_arrow(con.to_arrow_table())


def _build_all(con: duckdb.DuckDBPyConnection, data_dir: Path, tz: str, months: dict[str, list[dt.date]]) -> dict:
    """Every month into a new folder, then swapped in whole."""
    target = rollups_dir(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".rollups-", dir=target.parent))
    rows = dict.fromkeys(TABLES, 0)
    try:
        for month, days in months.items():
            period = Period(days[0], days[-1], tz)
            for table in TABLES:
                frame = _aggregate(con, table, period)
                rows[table] += frame.height
                _write(frame, staging / table / f"month={month}" / "part-0.parquet")
        _swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return rows


def _update(con: duckdb.DuckDBPyConnection, data_dir: Path, tz: str, months: dict[str, list[dt.date]]) -> dict:
    """Re-aggregate only the days given; the other days of their months are kept from the files there."""
    rows = dict.fromkeys(TABLES, 0)
    for month, days in months.items():
        period = Period(days[0], days[-1], tz)
        for table in TABLES:
            path = rollups_dir(data_dir) / table / f"month={month}" / "part-0.parquet"
            fresh = _aggregate(con, table, period)
            if path.exists():
                kept = pl.read_parquet(path, hive_partitioning=False).filter(
                    ~pl.col("day").is_between(period.start, period.end)
                )
                fresh = pl.concat([kept, fresh]).sort(_sort_columns(table))
            rows[table] += fresh.height
            _write(fresh, path)
    return rows


def _sort_columns(table: str) -> list[str]:
    return {
        "cube": ["day", "team_id", "agent_id", "model"],
        "hours": ["day", "hour", "team_id", "agent_id"],
        "user_day": ["day", "user_id", "team_id", "agent_id"],
    }[table]


def _write(frame: pl.DataFrame, path: Path) -> None:
    """One month's file, written aside and renamed in (readers see the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".part-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        frame.write_parquet(temp, compression="zstd", row_group_size=ROW_GROUP_ROWS, statistics=True)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _swap_in(new: Path, current: Path) -> None:
    """Replace the rollups folder by a new one; readers in between fall back to raw events."""
    (current / MANIFEST).unlink(missing_ok=True)  # first, so nobody opens an index about to go
    old = current.with_name(f".rollups-old-{os.getpid()}")
    if current.exists():
        os.replace(current, old)
    os.replace(new, current)
    shutil.rmtree(old, ignore_errors=True)


def _write_manifest(data_dir: Path, manifest: dict) -> None:
    folder = rollups_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{MANIFEST}.tmp"
    temp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(temp, folder / MANIFEST)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
