"""`cube`, `hours` and `user_day`: the events aggregated per local day (data/rollups/build.py writes them, a file per
local month), in Polars from one read of a run of days' event files, each event's local day and hour worked out once.

In Polars, not SQL: DuckDB copied a month's events into a temporary table before its three queries read it, and
`user_day`, about a row per event, cost most in its hash table and `order by`; here the rows are sorted once and
grouped in that order. Sums follow SQL: exact (DECIMAL), null where a group has no value. Every table's rows are
sorted by its key (day first), nulls last, as the files keep them. Their columns: `manifest.py` (`DAY_SCHEMAS`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from data import schema
from data.rollups.manifest import DAY_SCHEMAS
from queries.period import Period

RUN_BYTES = 64 << 20  # days read together: their event files this many bytes at most (memory), but one day whole
EVENT_COLUMNS = ("ts", "user_id", "team_id", "agent_id", "model", "status",
                 "input_tokens", "output_tokens", "cost_usd", "latency_ms")  # fmt: skip
KEYS = {
    "cube": ["day", "team_id", "agent_id", "model"],
    "hours": ["day", "hour", "team_id", "agent_id"],
    "user_day": ["day", "user_id", "team_id", "agent_id"],
}
_INTERACTIONS = pl.len().cast(pl.Int64).alias("interactions")
_ERRORS = (pl.col("status") == "error").sum().cast(pl.Int64).alias("errors")


Files = dict[dt.date, list[tuple[Path, int]]]  # each UTC date's event files and their sizes


def day_tables(files: Files, tz: str, first: dt.date, last: dt.date) -> dict[str, pl.DataFrame]:
    """The three tables' rows of the local days `first`..`last` from these event files (`event_files`)."""
    parts: dict[str, list[pl.DataFrame]] = {table: [] for table in KEYS}
    for period in _runs(files, tz, first, last):
        for table, frame in _aggregate(_local_events(_files(files, period), period)).items():
            parts[table].append(frame)
    return {table: pl.concat(frames) for table, frames in parts.items()}


def event_files(data_dir: Path) -> Files:
    """Each UTC date's event files and their sizes, the partition folders read once."""
    files: Files = {}
    for path in sorted(schema.events_dir(data_dir).glob(schema.EVENT_FILES)):
        utc_date = dt.date.fromisoformat(path.parent.name.removeprefix(f"{schema.PARTITION_COLUMN}="))
        files.setdefault(utc_date, []).append((path, path.stat().st_size))
    return files


def _runs(files: Files, tz: str, first: dt.date, last: dt.date) -> Iterator[Period]:
    """`first`..`last` cut into runs of days whose event files hold `RUN_BYTES` at most (a day alone may hold more):
    the runs' rows are disjoint (their keys begin with the day) and come in order."""
    start = first
    for day in (first + dt.timedelta(days=n) for n in range(1, (last - first).days + 1)):
        if sum(size for _path, size in _files(files, Period(start, day, tz))) > RUN_BYTES:
            yield Period(start, day - dt.timedelta(days=1), tz)
            start = day
    yield Period(start, last, tz)


def _files(files: Files, period: Period) -> list[tuple[Path, int]]:
    """The event files of the UTC dates a period's local days reach."""
    params = period.params()
    first, last = params["from_utc_date"], params["to_utc_date"]
    return [found for utc_date, paths in files.items() if first <= utc_date <= last for found in paths]


def _local_events(files: list[tuple[Path, int]], period: Period) -> pl.DataFrame:
    """The period's events (in these files) with their local `day` and `hour` in its zone."""
    params = period.params()
    if files:
        events = pl.scan_parquet([path for path, _size in files], hive_partitioning=False).select(EVENT_COLUMNS)
        events = events.filter(pl.col("ts") >= params["from_ts"], pl.col("ts") < params["to_ts"]).collect()
    else:
        events = pl.DataFrame(schema={name: schema.EVENTS[name] for name in EVENT_COLUMNS})
    local = pl.col("ts").dt.convert_time_zone(period.tz)
    return events.with_columns(local.dt.date().alias("day"), local.dt.hour().cast(pl.Int32).alias("hour"))


def _sum(column: str, dtype: pl.DataType, name: str | None = None) -> pl.Expr:
    """SQL's sum: exact in `dtype`, null over no value."""
    values = pl.col(column)
    return pl.when(values.count() > 0).then(values.cast(dtype).sum()).alias(name or column)


def _aggregate(events: pl.DataFrame) -> dict[str, pl.DataFrame]:
    whole, money = pl.Decimal(38, 0), pl.Decimal(38, 6)
    cube = events.group_by(KEYS["cube"]).agg(
        _INTERACTIONS,
        _ERRORS,
        _sum("input_tokens", whole),
        _sum("output_tokens", whole),
        _sum("cost_usd", money),
        _sum("latency_ms", whole, "latency_sum"),
        pl.col("latency_ms").count().cast(pl.Int64).alias("latency_count"),
    )
    hours = events.group_by(KEYS["hours"]).agg(_INTERACTIONS)
    # about a row per event: sorted first, then grouped in that order (cheaper than grouping, then sorting)
    keys = KEYS["user_day"]
    user_day = (
        events.sort(keys, nulls_last=True)
        .group_by(keys, maintain_order=True)
        .agg(
            _INTERACTIONS,
            _ERRORS,
            _sum("cost_usd", money),
            pl.col("ts").min().alias("first_ts"),
            pl.col("ts").max().alias("last_ts"),
        )
    )
    frames = {"cube": cube.sort(KEYS["cube"], nulls_last=True), "hours": hours.sort(KEYS["hours"], nulls_last=True),
              "user_day": user_day}  # fmt: skip
    return {table: frame.cast(dict(DAY_SCHEMAS[table])) for table, frame in frames.items()}
