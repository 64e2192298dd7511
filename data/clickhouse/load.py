"""`flask --app app clickhouse-load --from DATA_DIR`: a Parquet data folder (directory and events) moved into the
organization's ClickHouse database, in batches, idempotent (docs/clickhouse.md).

Events go in by UTC date, as they are stored: a date's ids already in ClickHouse are dropped first (the
Parquet writer's rule, data/ingest/storage.py), so loading a folder again, or a folder that overlaps one
loaded before, inserts only what is missing and the materialized views never count an event twice. The
directory is replaced whole, table by table, by an exchange with a freshly filled copy. The load gives codes
(data/clickhouse/codes.py) to the directory's people before it replaces `users`, and to the people of a batch of
events who have none (a person since removed from the directory) before it inserts the batch: run it under the
data folder's lock, as the `clickhouse-load` command does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from data import schema
from data.clickhouse import ChdbConnection, ClickHouseError, database_name
from data.clickhouse.codes import Codes
from data.clickhouse.schema import bump_version, refuse_cluster
from data.ingest.storage import as_contract

BATCH_ROWS = 500_000  # events per insert: whole UTC dates are gathered until a batch holds at least this many


@dataclass
class Loaded:
    directory: dict[str, int] = field(default_factory=dict)  # rows per directory table
    events: int = 0  # inserted
    duplicates: int = 0  # already there (or repeated in the folder): not inserted
    dates: int = 0
    batches: int = 0


def _arrow(frame: pl.DataFrame) -> pa.Table:
    # the oldest Arrow layout: large strings rather than string views, which ClickHouse's Arrow reader lacks
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())


def load_directory(connection: ChdbConnection, database: str, data_dir: Path, codes: Codes) -> dict[str, int]:
    """Each directory table replaced by the folder's file (one row per key, as queries/db.py reads it; a missing
    file: an empty table); the people it adds get their codes first."""
    name = database_name(database)
    counts = {}
    for table, columns in schema.DIRECTORY.items():
        path = schema.directory_dir(data_dir) / f"{table}.parquet"
        frame = pl.read_parquet(path).select(list(columns)).cast(dict(columns)) if path.exists() else columns.to_frame()
        frame = frame.sort(list(columns), nulls_last=True).unique(schema.DIRECTORY_KEYS[table], keep="first")
        if table == "users":
            codes.give(frame)
        replace_table(connection, name, table, frame)
        counts[table] = frame.height
    return counts


def replace_table(connection: ChdbConnection, database: str, table: str, frame: pl.DataFrame) -> None:
    """A directory table replaced whole: a fresh copy filled, then exchanged with it (a reader sees either)."""
    name = database_name(database)
    connection.command(f"drop table if exists {name}.{table}_load")
    connection.command(f"create table {name}.{table}_load as {name}.{table}")
    connection.insert_arrow(f"{name}.{table}_load", _arrow(frame))
    connection.command(f"exchange tables {name}.{table}_load and {name}.{table}")
    connection.command(f"drop table {name}.{table}_load")


def _date_events(data_dir: Path, day: dt.date) -> pl.DataFrame:
    """A UTC date's events, the first row of each id, in (ts, event_id) order (the writer's)."""
    files = sorted(schema.partition_dir(data_dir, day.isoformat()).glob("*.parquet"))
    if not files:
        return schema.EVENTS.to_frame()
    try:  # each file in the contract's types first (a date may hold a file copied in by hand in nanoseconds):
        # its `ts` rounded to the microsecond as the DuckDB backend reads it (storage.contract_ts)
        frame = pl.concat([pl.from_arrow(as_contract(pq.read_table(path), path)) for path in files])
    except schema.EventFileError as error:
        raise ClickHouseError(f"{error}: not loaded.") from None
    frame = frame.cast(dict(schema.EVENTS))
    missing = [
        c for c in ("event_id", "ts", "user_id", "team_id", "agent_id", "model", "status") if frame[c].null_count()
    ]
    if missing:
        raise ClickHouseError(f"Events of {day} lack {', '.join(missing)}: not loaded (they never pass validation).")
    return frame.unique("event_id", keep="first", maintain_order=True).sort("ts", "event_id")


def _new_events(connection: ChdbConnection, name: str, day: dt.date, frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of `frame` (one UTC date) whose ids that date does not have yet in ClickHouse."""
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    known = connection.arrow(
        f"select event_id from {name}.events where ts >= {{start:DateTime64(6, 'UTC')}} "  # noqa: S608
        f"and ts < {{end:DateTime64(6, 'UTC')}}",
        {"start": start, "end": start + dt.timedelta(days=1)},
    )
    if known.num_rows == 0:
        return frame
    ids = pl.DataFrame({"event_id": pl.from_arrow(known.column("event_id")).cast(pl.String)})
    return frame.join(ids, on="event_id", how="anti", maintain_order="left")


def _dates_held(connection: ChdbConnection, name: str) -> set[dt.date]:
    """The UTC dates ClickHouse holds events of: only those need their ids read (a first load reads none)."""
    held = connection.arrow(f"select distinct toDate(ts) as day from {name}.events")  # noqa: S608
    return set(held.column("day").to_pylist())


def load_events(connection: ChdbConnection, database: str, data_dir: Path, loaded: Loaded, codes: Codes) -> None:
    """Every UTC date's events not in ClickHouse yet, in batches of whole dates; a batch's people without a code
    get one before it is inserted (the views join the codes)."""
    name = database_name(database)
    pending: list[pl.DataFrame] = []
    held = _dates_held(connection, name)

    def flush() -> None:
        if pending:
            batch = pl.concat(pending)
            codes.give(batch.select("user_id", "team_id"))
            loaded.events += connection.insert_arrow(f"{name}.events", _arrow(batch))
            loaded.batches += 1
            pending.clear()

    for day in schema.partition_dates(data_dir):
        frame = _date_events(data_dir, day)
        new = _new_events(connection, name, day, frame) if day in held else frame
        loaded.duplicates += frame.height - new.height
        loaded.dates += 1
        if new.height:
            pending.append(new)
        if sum(part.height for part in pending) >= BATCH_ROWS:
            flush()
    flush()


def load(connection: ChdbConnection, database: str, data_dir: Path) -> Loaded:
    """The data folder's directory, then its events, into `database` (made by clickhouse-init). The caller holds
    the organization's writer lock (the codes are given here)."""
    data_dir = Path(data_dir)
    if not schema.events_dir(data_dir).is_dir() and not schema.directory_dir(data_dir).is_dir():
        raise ClickHouseError(f"{data_dir} holds no events/ or directory/ folder: nothing to load.")
    refuse_cluster(connection, database, "clickhouse-load")
    try:
        codes = Codes(connection, database)
        loaded = Loaded(directory=load_directory(connection, database, data_dir, codes))
        load_events(connection, database, data_dir, loaded, codes)
    finally:  # a load stopped half way has changed the data all the same
        bump_version(connection, database)
    return loaded
