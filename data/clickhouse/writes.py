"""Writes on the ClickHouse backend: `ClickHouseStore`, the last step of `flask ingest`, the OTLP receiver,
`import-directory` and `purge` when ClickHouse is the backend (data/ingest/store.py is the seam; reading,
validation and quarantine are data/ingest's, unchanged). docs/clickhouse.md, "Writes".

- Events: each round of valid rows (at most data/ingest/writer.py MAX_ROWS_IN_MEMORY; the ids of the import's
  earlier rounds already dropped, data/ingest/earlier.py) is one insert, but for the ids its UTC dates have already
  (the Parquet writer's rule, and clickhouse-load's): nothing is counted twice by the materialized views, and an
  import run again inserts nothing.
- Directory: each table given is replaced whole, as clickhouse-load does (an exchange with a filled copy); the
  people it adds get their codes first (data/clickhouse/codes.py), so every person an event can be validated
  against has one; the codes of the people it drops who have no events go. Validation reads the people who have
  a code (a person without one is unknown: quarantined), and under the lock each batch's people are checked
  again (`unknown_people`): a code may have gone since the validator read the directory.
- Purge: a lightweight DELETE of the selected events, then the rollups of the local months they were in made
  again from the events (the views never take a row back), each month at once (REPLACE PARTITION from a
  filled copy; the windows of `active_windows`, from people_days, the month after each too: they reach back into
  it); a rollup of whole histories (`user_totals`) is made again whole from user_month, at once. The
  months still to make are kept in `telemetry_meta` until done, so a write after a failed correction finishes it.
  The codes of the people it left without events who are not in the directory go too (an erasure).

One writer at a time: the data folder's lock, as on the Parquet backend (a writer on another machine must not
write the same organization meanwhile).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from data import schema
from data.clickhouse import Connection, database_name
from data.clickhouse.codes import Codes, forget
from data.clickhouse.load import replace_table
from data.clickhouse.schema import MONTH_OF, ROLLUPS, WHOLE, WINDOWS, bump_version, meta, rollup_select
from data.ingest import commit
from data.ingest.commit import Write
from data.ingest.purge import DatePurge, Selection
from data.ingest.storage import locked
from data.ingest.validate import Directory
from data.rollups.build import Build

BEHIND = "rollups_behind"  # telemetry_meta: the local months (YYYYMM, comma-separated) a purge left to make again
_directories: dict[tuple[int, str], tuple[tuple, Directory]] = {}  # by connection and database
_directories_lock = threading.Lock()


@dataclass
class ClickHouseWrite(Write):
    months: set[int] = field(default_factory=set)  # local months (YYYYMM) whose rollups must be made again


@dataclass
class ClickHouseStore:
    """The organization's ClickHouse database; the data folder keeps the lock and the quarantine."""

    connection: Connection
    database: str
    data_dir: Path

    def __post_init__(self) -> None:
        self.database = database_name(self.database)
        self.data_dir = Path(self.data_dir)

    def _table(self, name: str) -> str:
        return f"{self.database}.{name}"

    # --- the directory ---------------------------------------------------------------------------

    def directory(self) -> Directory:
        """Read again only when a directory table was replaced or written (its id or row count changed)."""
        key = self._directory_key()
        with _directories_lock:
            cached = _directories.get((id(self.connection), self.database))
            if cached is not None and cached[0] == key:
                return cached[1]
        frames = {name: self.directory_frame(name) for name in schema.DIRECTORY}
        frames["users"] = self._coded_users()
        found = Directory.from_frames(frames)
        with _directories_lock:
            _directories[(id(self.connection), self.database)] = (key, found)
        return found

    def _directory_key(self) -> tuple:
        rows = self.connection.arrow(
            "select name, toString(uuid) as id, total_rows from system.tables where database = {db:String} "
            "and name in ('users', 'teams', 'agents', 'prices', 'user_codes') order by name",
            {"db": self.database},
        )
        return tuple(tuple(row.values()) for row in rows.to_pylist())

    def directory_frame(self, name: str) -> pl.DataFrame:
        columns = schema.DIRECTORY[name]
        frame = pl.from_arrow(self.connection.arrow(f"select * from {self._table(name)}"))  # noqa: S608
        return frame.select(list(columns)).cast(dict(columns))

    def _coded_users(self) -> pl.DataFrame:
        """The directory's people who have a code: the only ones whose events pass validation (every person
        import-directory or clickhouse-load added has one; one written into `users` by hand has none)."""
        columns = schema.DIRECTORY["users"]
        frame = pl.from_arrow(
            self.connection.arrow(
                f"select * from {self._table('users')} "  # noqa: S608
                f"where user_id in (select user_id from {self._table('user_codes')})"
            )
        )
        return frame.select(list(columns)).cast(dict(columns))

    def replace_directory(self, frames: dict[str, pl.DataFrame]) -> None:
        """The tables given replaced (under the write's lock); the people added get their codes first."""
        if "users" in frames:
            Codes(self.connection, self.database).give(frames["users"])
        for name, frame in frames.items():
            replace_table(self.connection, self.database, name, frame.select(list(schema.DIRECTORY[name])))
        if "users" in frames:  # the people dropped who have no events: nothing of theirs is kept
            forget(self.connection, self.database)

    # --- a write ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self, tz: str | None, lock_timeout: float | None = None) -> Iterator[Write]:
        """Under the data folder's lock; at its end (even a failed one) the rollups of the months a purge
        touched (and any a failed correction left) made again, then the after-write callbacks."""
        with locked(self.data_dir, lock_timeout):
            write = ClickHouseWrite(tz)
            try:
                yield write
            finally:
                self._finish(write)

    def _finish(self, write: ClickHouseWrite) -> None:
        behind = self._behind()
        if write.months or behind:
            try:
                write.rollups = self._make_again(sorted(write.months | behind))
            except Exception as error:  # the events are changed all the same; the months stay in BEHIND
                write.rollup_error = str(error) or type(error).__name__
        if write.utc_dates or write.directory or write.months or behind:  # last: the answers kept before are stale
            bump_version(self.connection, self.database)
        if write.utc_dates:
            commit.tell_after_write(self.data_dir)

    # --- events ----------------------------------------------------------------------------------

    def append(self, dates: list[tuple[str, pa.Table]]) -> list[tuple[int, int]]:
        known = self._known_ids([utc_date for utc_date, _rows in dates])
        counts, new = [], []
        for utc_date, rows in dates:
            ids = known.get(utc_date)
            if ids is not None:
                seen = pc.is_in(rows.column("event_id"), value_set=ids)
                rows = rows.filter(pc.invert(seen))
            new.append(rows)
            counts.append((rows.num_rows, 0 if ids is None else pc.sum(seen).as_py() or 0))
        rows = pa.concat_tables(new)
        if rows.num_rows:  # the writer's columns: large strings, which ClickHouse's Arrow reader takes
            self.connection.insert_arrow(self._table("events"), rows)
        return counts

    def unknown_people(self, user_ids: pa.ChunkedArray) -> set[str]:
        """The people of a batch who have no code (any more): their events would be left out of the people bitmaps.
        Under the lock: a validator may have read the directory before a purge or import-directory took a code."""
        coded = self.connection.arrow(f"select user_id from {self._table('user_codes')}")  # noqa: S608
        batch = pc.unique(user_ids.cast(pa.string()))
        have = pc.is_in(batch, value_set=coded.column("user_id").cast(pa.string()))
        return set(pc.filter(batch, pc.invert(have)).to_pylist())

    def _known_ids(self, utc_dates: list[str]) -> dict[str, pa.Array]:
        """The ids these UTC dates have already, per date (one query: the dates' months are read, not the rest)."""
        first, last = min(utc_dates), max(utc_dates)
        start = dt.datetime.combine(dt.date.fromisoformat(first), dt.time(), dt.UTC)
        end = dt.datetime.combine(dt.date.fromisoformat(last) + dt.timedelta(days=1), dt.time(), dt.UTC)
        found = self.connection.arrow(
            f"select toString(toDate(ts)) as utc_date, event_id from {self._table('events')} "  # noqa: S608
            "where ts >= {start:DateTime64(6, 'UTC')} and ts < {end:DateTime64(6, 'UTC')} "
            "and toDate(ts) in {dates:Array(Date)}",
            {"start": start, "end": end, "dates": utc_dates},
        )
        if found.num_rows == 0:
            return {}
        frame = pl.from_arrow(found).with_columns(pl.col("event_id").cast(pl.String))
        return {
            utc_date: group["event_id"].to_arrow().cast(pa.large_string())
            for (utc_date,), group in frame.group_by("utc_date")
        }

    def compact(self, utc_date: str, limit: int) -> bool:
        return False  # the engine merges its parts itself

    def has_events_of(self, user_id: str) -> bool:
        found = self.connection.arrow(
            f"select count() as n from (select 1 from {self._table('events')} where user_id = {{user:String}} limit 1)",  # noqa: S608
            {"user": user_id},
        )
        return found.column("n")[0].as_py() > 0

    # --- purge -----------------------------------------------------------------------------------

    def remove(
        self, selection: Selection, write: Write, dry_run: bool, started: Callable[[], None]
    ) -> list[DatePurge]:
        """Count the selected events per UTC date; unless a dry run, delete them (lightweight DELETE) and mark the
        local months they were in for their rollups to be made again at the write's end."""
        where, params = selected(selection)
        events = self._table("events")
        found = self.connection.arrow(
            f"select toString(toDate(ts)) as utc_date, countIf({where}) as removed, "  # noqa: S608
            f"sumIf(coalesce(cost_usd, toDecimal64(0, 6)), {where}) as cost, count() - removed as kept "
            f"from {events} where toDate(ts) in (select toDate(ts) from {events} where {where}) "
            "group by utc_date order by utc_date",
            params,
        ).to_pylist()
        dates = [DatePurge(r["utc_date"], r["removed"], _dollars(r["cost"]), r["kept"]) for r in found]
        if dry_run or not dates:
            return dates
        started()
        tz = meta(self.connection, self.database).get("tz", write.tz or "UTC")
        months = self.connection.arrow(
            f"select distinct toYYYYMM(toDate(ts, {{tz:String}})) as month from {events} where {where}",  # noqa: S608
            {**params, "tz": tz},
        )
        write.months.update(int(month) for month in months.column("month").to_pylist())
        self._set_behind(self._behind() | write.months)  # first: a crash after the delete still has them made
        write.events_changed(d.utc_date for d in dates)
        self.connection.command(f"delete from {events} where {where}", params)  # noqa: S608
        forget(self.connection, self.database)  # an erased person's code: the selection left them without events
        return dates

    def _behind(self) -> set[int]:
        text = meta(self.connection, self.database).get(BEHIND, "")
        return {int(month) for month in text.split(",") if month}

    def _set_behind(self, months: set[int]) -> None:
        self.connection.command(
            f"insert into {self._table('telemetry_meta')} (key, value) values ({{k:String}}, {{v:String}})",  # noqa: S608
            {"k": BEHIND, "v": ",".join(str(month) for month in sorted(months))},
        )

    def _make_again(self, months: list[int]) -> Build:
        """Each rollup's local months made again from the events, each month replaced at once."""
        started = time.perf_counter()
        tz = meta(self.connection, self.database)["tz"]
        rows: dict[str, int] = {}
        days = 0
        for table in ROLLUPS:
            select = rollup_select(table, self.database, tz)
            copy = self._table(f"{table}_fix")
            rows[table] = 0
            if table in WHOLE:  # after the months of the rollup it reads (ROLLUPS' order): made again whole
                rows[table] = self._replace_whole(table, select, copy)
                continue
            # a window's month holds days of the month before too: a change there reaches the next month's rows
            for month in with_the_next(months) if table in WINDOWS else months:
                self.connection.command(f"drop table if exists {copy}")
                self.connection.command(f"create table {copy} as {self._table(table)}")
                column = MONTH_OF.get(table, "day")
                self.connection.command(
                    f"insert into {copy} select * from ({select}) where toYYYYMM({column}) = {{month:UInt32}}",  # noqa: S608
                    {"month": month},
                )
                count = f"select count() as n, uniqExact({column}) as days from {copy}"  # noqa: S608
                counted = self.connection.arrow(count).to_pylist()[0]
                # a month left without events has no rows to put in: its partition is dropped instead
                if counted["n"]:
                    self.connection.command(f"alter table {self._table(table)} replace partition {month:d} from {copy}")
                else:
                    self.connection.command(f"alter table {self._table(table)} drop partition {month:d}")
                rows[table] += counted["n"]
                days += counted["days"] if table == "cube" else 0
                self.connection.command(f"drop table {copy}")
        self._set_behind(set())
        return Build(months=len(months), days=days, rows=rows, seconds=time.perf_counter() - started)

    def _replace_whole(self, table: str, select: str, copy: str) -> int:
        """An unpartitioned rollup filled into a copy from its select and swapped in at once (its one partition)."""
        self.connection.command(f"drop table if exists {copy}")
        self.connection.command(f"create table {copy} as {self._table(table)}")
        self.connection.command(f"insert into {copy} {select}")
        count = self.connection.arrow(f"select count() as n from {copy}").column("n")[0].as_py()  # noqa: S608
        self.connection.command(f"alter table {self._table(table)} replace partition tuple() from {copy}")
        self.connection.command(f"drop table {copy}")
        return count


def with_the_next(months: list[int]) -> list[int]:
    """The months (YYYYMM) and the month after each."""
    following = {month + 1 if month % 100 < 12 else (month // 100 + 1) * 100 + 1 for month in months}
    return sorted(set(months) | following)


def selected(selection: Selection) -> tuple[str, dict]:
    """The selection as a ClickHouse predicate over events (fixed fragments, values bound) and its parameters."""
    parts, params = [], {}
    if selection.event_ids is not None:
        parts.append("event_id in {event_ids:Array(String)}")
        params["event_ids"] = sorted(selection.event_ids)
    if selection.source_ids is not None:
        parts.append("event_id in {source_ids:Array(String)}")
        params["source_ids"] = sorted(selection.source_ids)
    if selection.user_id is not None:
        parts.append("user_id = {user_id:String}")
        params["user_id"] = selection.user_id
    if selection.first is not None:
        parts.append("ts >= {first:DateTime64(6, 'UTC')}")
        params["first"] = dt.datetime.combine(selection.first, dt.time(), dt.UTC)
    if selection.last is not None:
        parts.append("ts < {after_last:DateTime64(6, 'UTC')}")
        params["after_last"] = dt.datetime.combine(selection.last + dt.timedelta(days=1), dt.time(), dt.UTC)
    return "(" + " and ".join(parts) + ")", params


def _dollars(value: object) -> Decimal:
    return (value if value is not None else Decimal(0)).quantize(Decimal("0.000001"))


def configured_store(data_dir: Path):
    """The store the app's backend writes: the organization's ClickHouse database when the backend is ClickHouse
    (any but duckdb), else None (the data folder's Parquet files)."""
    from flask import current_app

    from queries import clickhouse  # the connection the questions use (chDB, or a server over HTTP)

    if current_app.config.get("BACKEND", "duckdb") == "duckdb":
        return None
    connection, database = clickhouse.configured()
    return ClickHouseStore(connection, database, Path(data_dir))
