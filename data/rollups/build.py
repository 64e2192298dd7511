"""Rollups: the events pre-aggregated per local day and month, kept as Parquet beside them in `rollups/`.

Each table is one Parquet file per local month (`rollups/<table>/month=YYYY-MM/part-0.parquet`; `user_totals` and
`user_codes` one file each), built by its SQL file `data/rollups/sql/<table>.sql`, in this order: `cube`, `hours`
and `user_day` from the events (a month's events read and grouped once for the three, each its own grouping
set: `day_groups.sql`); `user_sets` (bitmaps of user codes; distinct users are the bit count of an OR, never added
up) from `user_day`; `active_windows` from `user_sets`, counted in numpy (data/rollups/windows.py); `user_totals`
from `user_day`, as Polars columns (data/rollups/totals.py; an update of its last months continues its old rows
with them). Their grains and columns: docs/architecture.md.

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
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
from polars.io.plugins import register_io_source

from data import schema
from data.rollups.manifest import (
    CODES,
    CODES_SCHEMA,
    FORMAT,
    MANIFEST,
    SETS,
    SQL_DIR,
    TABLES,
    TOTALS,
    TOTALS_SCHEMA,
    WINDOWS,
    parameters_of,
    read_manifest,
    rollup_view_sql,
    rollups_dir,
)
from data.rollups.totals import user_totals
from data.rollups.windows import active_windows
from data.schema import empty_select, events_view_sql, literal
from queries.period import Period

ROW_GROUP_ROWS = 100_000
TOTALS_ROW_GROUP_ROWS = 8_192  # user_totals' rows per agent: a few agents' rows read alone (their statistics)
WINDOW_RUN_MONTHS = 12  # active_windows: months per query (its memory: their days' bitmaps of every group)
SORT_COLUMNS = {  # their rows' order, as their SQL's (nulls last): a day's kept rows and its new ones sorted together
    "cube": ["day", "team_id", "agent_id", "model"],
    "hours": ["day", "hour", "team_id", "agent_id"],
    "user_day": ["day", "user_id", "team_id", "agent_id"],
}
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
        months = _months(_local_days(con, tz) if full else sorted(set(days)))
        if full:
            rows, capacity = _build_all(con, data_dir, tz, months)
        else:
            rows, capacity = _update(con, data_dir, tz, months, manifest.get("capacity"))
    except duckdb.Error:  # a file copied in by hand without a column: named, rather than in DuckDB's words
        schema.check_event_files(data_dir)
        raise
    finally:
        con.close()
    # The manifest first, naming the events version the version file is about to get: a reader between
    # the two renames finds rollups ahead of the version it knows, never behind it.
    events = int(schema.read_version(data_dir).get("events", 0)) + 1
    manifest = {
        "format": FORMAT,
        "tz": tz,
        "events_version": events,
        "build": uuid.uuid4().hex,  # readers reload the tables they keep in memory once per build
        "capacity": capacity,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    _write_manifest(data_dir, manifest)
    schema.write_version(data_dir, data_changed=True, events_changed=True, rebuilt=full)  # full: takes in all
    return Build(len(months), sum(map(len, months.values())), rows, time.perf_counter() - started)


def _behind(data_dir: Path, manifest: dict) -> bool:
    """Whether the rollups missed a write's update: updating only this write's days would then record
    them current without the days the failed one touched."""
    return int(manifest.get("events_version", -1)) < int(schema.read_version(data_dir).get("events", 0))


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


def _local_days(con: duckdb.DuckDBPyConnection, tz: str) -> list[dt.date]:
    """The local days with events: months without any get no files (one stray event from 1970 would
    otherwise make some 670 empty months, each with its sets)."""
    rows = con.sql("select distinct timezone($tz, ts)::date as day from events order by day", params={"tz": tz})
    return [day for (day,) in rows.fetchall()]


def _months(days: list[dt.date]) -> dict[str, list[dt.date]]:
    months: dict[str, list[dt.date]] = {}
    for day in days:
        months.setdefault(f"{day:%Y-%m}", []).append(day)
    return months


def _aggregate(con: duckdb.DuckDBPyConnection, table: str, params: dict) -> pl.DataFrame:
    """One table's rows from its builder SQL, given the parameters it uses."""
    text = (SQL_DIR / f"{table}.sql").read_text()
    # a relation's Arrow result, not the cursor's: that one is copied once more (0.2 s a million rows)
    return pl.from_arrow(con.sql(text, params=_used(text, params)).to_arrow_table())


def _used(text: str, params: dict) -> dict:
    return {key: params[key] for key in parameters_of(text)}


def _build_all(
    con: duckdb.DuckDBPyConnection, data_dir: Path, tz: str, months: dict[str, list[dt.date]]
) -> tuple[dict, int]:
    """Every month into a new folder, then swapped in whole."""
    target = rollups_dir(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".rollups-", dir=target.parent))
    try:
        rows = _write_days(con, staging, tz, months)[0]
        capacity = _build_sets(con, staging, _set_months(months), None, kept_from=target)
        rows[WINDOWS] = _build_windows(con, staging, list(months))
        con.close()  # DuckDB's memory given back before user_totals' (Polars), which makes the build's peak
        rows[TOTALS] = _build_totals(staging)
        _swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return rows, capacity


def _update(
    con: duckdb.DuckDBPyConnection, data_dir: Path, tz: str, months: dict[str, list[dt.date]], capacity: int | None
) -> tuple[dict, int]:
    """Re-aggregate only the days given; the other days of their months are kept from the files there."""
    folder = rollups_dir(data_dir)
    rows, added = _write_days(con, folder, tz, months, keep_other_days=True)
    capacity = _build_sets(con, folder, _set_months(months), capacity, kept_from=folder)
    rows[WINDOWS] = _build_windows(con, folder, list(months))
    con.close()  # as in `_build_all`
    rows[TOTALS] = _update_totals(folder, added)
    return rows, capacity


def _write_days(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    tz: str,
    months: dict[str, list[dt.date]],
    keep_other_days: bool = False,
) -> tuple[dict, dict[str, pl.DataFrame]]:
    """The days given of the tables aggregated from the events, written into `folder`; with `keep_other_days`,
    the other days of their months kept from the files there. Returns the rows written per table and, with
    `keep_other_days`, each month's whole `user_day` rows (what user_totals takes in again)."""
    rows, added = dict.fromkeys(TABLES, 0), {}
    for month, days in months.items():
        period = Period(days[0], days[-1], tz)
        frames = {}
        con.register("day_groups", _day_groups(con, period))
        for table in TABLES:
            path = folder / table / f"month={month}" / "part-0.parquet"
            frames[table] = _aggregate(con, table, {})
            if keep_other_days and path.exists():
                kept = pl.read_parquet(path, hive_partitioning=False).filter(
                    ~pl.col("day").is_between(period.start, period.end)
                )
                frames[table] = pl.concat([kept, frames[table]]).sort(SORT_COLUMNS[table], nulls_last=True)
        if keep_other_days:  # the whole month's days: user_totals takes them in again (a full build reads the files)
            added[month] = frames["user_day"]
        for table, frame in frames.items():
            rows[table] += frame.height
            _write_month(frame, folder / table / f"month={month}" / "part-0.parquet")
    con.unregister("day_groups")
    return rows, added


def _day_groups(con: duckdb.DuckDBPyConnection, period: Period) -> pa.Table:
    """The period's events grouped once for the three tables aggregated from the events, each its own grouping
    set: their files scanned once, and the events never held whole (a temporary table of them cost more to
    fill than the three tables' grouping, and held a month of events)."""
    text = (SQL_DIR / "day_groups.sql").read_text()
    return con.sql(text, params=_used(text, period.params())).to_arrow_table()


def _set_months(months: dict[str, list[dt.date]]) -> list[str]:
    """The months whose set files hold a unit of these days: a week is kept with the month it ends in."""
    found = set(months)
    for days in months.values():
        found.update(f"{day - dt.timedelta(days=day.weekday()) + dt.timedelta(days=6):%Y-%m}" for day in days)
    return sorted(found)


def _build_sets(
    con: duckdb.DuckDBPyConnection, folder: Path, months: list[str], capacity: int | None, kept_from: Path
) -> int:
    """The user codes, then the `user_sets` files of these months, from the `user_day` files in `folder`;
    all of them when the codes outgrow `capacity` (the bitmaps' length; None: there are none yet).
    Returns the capacity the sets now have."""
    con.sql(f"create or replace view user_day as {rollup_view_sql(folder.parent, 'user_day', folder)}")
    needed = _update_codes(con, folder, kept_from)
    if capacity is None or needed > capacity:
        capacity = -(-needed * 5 // 4 // 64) * 64 or 64  # room to grow before every set is rebuilt
        # every month with days, and the next: a week that ends there is kept with it, events or none
        days_of = [path.name.removeprefix("month=") for path in (folder / "user_day").glob("month=*")]
        months = sorted({month for own in days_of for month in (own, _next_month(own))})
        shutil.rmtree(folder / SETS, ignore_errors=True)
    for month in months:
        first = dt.date.fromisoformat(f"{month}-01")
        params = {
            "first_day": first - dt.timedelta(days=first.weekday()),
            "last_day": (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1),
            "own_from": first,
            "capacity": capacity,
        }
        _write_month(_aggregate(con, SETS, params), folder / SETS / f"month={month}" / "part-0.parquet")
    return capacity


def _build_windows(con: duckdb.DuckDBPyConnection, folder: Path, months: list[str]) -> int:
    """The `active_windows` files of these months and of the month after each (its first 27 days' windows reach
    back into them), from the `user_sets` files in `folder` (after the sets); a month with none has no file.
    Returns the rows written."""
    con.sql(f"create or replace view user_sets as {rollup_view_sql(folder.parent, SETS, folder)}")
    written = 0
    for run in _runs(sorted({*months, *(_next_month(month) for month in months)})):
        # one query per run of months: a month's windows read the 27 days before it, which a query per month
        # would read again for every month
        first = dt.date.fromisoformat(f"{run[0]}-01")
        last = dt.date.fromisoformat(f"{_next_month(run[-1])}-01") - dt.timedelta(1)
        frame = active_windows(_aggregate(con, "window_days", {"first_day": first, "last_day": last}), first, last)
        month_of = frame.select(pl.col("day").dt.strftime("%Y-%m").alias("month"))
        by_month = frame.with_columns(month_of).partition_by("month", as_dict=True, include_key=False)
        for month in run:
            part = by_month.get((month,), frame.clear())
            _write_month(part, folder / WINDOWS / f"month={month}" / "part-0.parquet")
            written += part.height
    return written


def _runs(months: list[str], longest: int = WINDOW_RUN_MONTHS) -> list[list[str]]:
    """Sorted "YYYY-MM"s cut into runs of consecutive months, `longest` at most each."""
    runs: list[list[str]] = []
    for month in months:
        if runs and len(runs[-1]) < longest and _next_month(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return runs


def _next_month(month: str) -> str:
    """The "YYYY-MM" after a "YYYY-MM"."""
    year, number = divmod(_month_number(month) + 1, 12)
    return f"{year:04d}-{number + 1:02d}"


def _build_totals(folder: Path) -> int:
    """`user_totals` from all of `user_day`'s files in `folder` (after the codes: its keys use them): each
    row holds a person's whole history, so a write to an earlier month writes them all again. Returns its rows."""
    files = sorted((folder / "user_day").glob("month=*/part-0.parquet"))
    days = user_totals(pl.scan_parquet(files, hive_partitioning=False), pl.read_parquet(folder / f"{CODES}.parquet"))
    return _write_totals(days if files else [], folder / f"{TOTALS}.parquet")


def _update_totals(folder: Path, added: dict[str, pl.DataFrame]) -> int:
    """`user_totals` after a write to these months (their whole `user_day` rows given): when they are its last,
    its old rows cut before them and continued with them; else built from every month again."""
    path, first = folder / f"{TOTALS}.parquet", _month_number(min(added))
    found = [_month_number(month) for month, frame in added.items() if frame.height]
    old = pl.scan_parquet(path) if path.exists() else None
    last = (pl.col("month0") + pl.col("days").list.len() - 1).alias("last")
    ends = old.head(1).select("month0", last).collect().rows() if old is not None else []
    if not found or not ends or not ends[0][0] < first >= ends[0][1]:  # an earlier month, or months gone
        return _build_totals(folder)
    codes = pl.read_parquet(folder / f"{CODES}.parquet")
    return _write_totals(user_totals(pl.concat(added.values()).lazy(), codes, old, first), path)


def _month_number(month: str) -> int:
    """Months since year 0 of a "YYYY-MM" (user_totals' `month0`)."""
    return int(month[:4]) * 12 + int(month[5:]) - 1


def _update_codes(con: duckdb.DuckDBPyConnection, folder: Path, kept_from: Path) -> int:
    """Give every person in `user_day` a code (`user_codes`, their bit in the sets): the codes in `kept_from`
    stay, through full rebuilds too (a reader may pair one build's bitmaps with the next one's codes), but
    for people no longer in the events (erased: no trace of them may stay); new people follow. Returns the
    length the bitmaps need (the highest code + 1)."""
    path, kept_path = folder / f"{CODES}.parquet", kept_from / f"{CODES}.parquet"
    kept = pl.read_parquet(kept_path) if kept_path.exists() else pl.DataFrame(schema=CODES_SCHEMA)
    con.register("kept_codes", kept)
    try:
        codes = _aggregate(con, CODES, {})
    finally:
        con.unregister("kept_codes")
    _write(codes, path)
    con.sql(f"create or replace view user_codes as select * from read_parquet({literal(path)})")  # noqa: S608
    return int(codes["code"].max()) + 1 if codes.height else 0  # erased people leave holes


def _write(frame: pl.DataFrame | pl.LazyFrame, path: Path, row_group_rows: int | None = None) -> None:
    """One month's file, written aside and renamed in (readers see the old file or the new one); a lazy frame's
    rows are written as its batches come."""
    rows = row_group_rows or ROW_GROUP_ROWS
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".part-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        # zstd's level 1: files as small as at its default (3) here, for a quarter less CPU
        options = {"compression": "zstd", "compression_level": 1, "row_group_size": rows, "statistics": True}
        if isinstance(frame, pl.LazyFrame):
            frame.sink_parquet(temp, **options)
        else:
            frame.write_parquet(temp, **options)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _write_month(frame: pl.DataFrame, path: Path) -> None:
    """A table's file of a month (`_write`); a month without rows has none (a purge can leave one so: its file goes,
    and its folder and the table's once empty), as a full build leaves it."""
    if frame.height:
        return _write(frame, path)
    path.unlink(missing_ok=True)
    for folder in (path.parent, path.parent.parent):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _write_totals(batches: Iterable[pl.DataFrame], path: Path) -> int:
    """`user_totals`' file from its batches of rows (data/rollups/totals.py), each written as it comes: the whole
    file's rows are never in memory together. Returns its rows."""
    rows, asked = 0, False

    def source(with_columns: list[str] | None, *_: object) -> Iterator[pl.DataFrame]:
        nonlocal rows, asked
        if asked:  # the batches are read once: a second read would write a short file without an error
            raise RuntimeError("user_totals' batches were asked for twice")
        asked = True
        for batch in batches:
            rows += batch.height
            yield batch.select(with_columns) if with_columns else batch

    _write(register_io_source(source, schema=TOTALS_SCHEMA), path, TOTALS_ROW_GROUP_ROWS)
    return rows


def _swap_in(new: Path, current: Path) -> None:
    """Replace the rollups folder by a new one; readers in between find no manifest and wait for it."""
    (current / MANIFEST).unlink(missing_ok=True)  # first: readers meanwhile take the rollups for missing
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
