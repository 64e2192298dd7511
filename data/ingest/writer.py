"""Ingestion: events validated, written into their UTC dates' partitions, refusals quarantined.

`ingest_files(data_dir, paths, fmt)` reads JSONL, CSV, Parquet or OTLP/JSON files, `ingest_otlp`
takes decoded OTLP requests (the live receiver, api/otlp.py); both validate every record
(data/ingest/validate.py), write the valid ones and put the others in quarantine, and return an
`IngestSummary`. How the files are written and what a reader can see: data/ingest/storage.py.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from data import schema
from data.ingest import earlier, otlp
from data.ingest.commit import Write
from data.ingest.earlier import EarlierIds
from data.ingest.jsonl import _Checked, _rows_table
from data.ingest.late import Late, place_of, refuse_unknown, with_origin
from data.ingest.quarantine import _Quarantine, checked_row
from data.ingest.readers import (
    FORMATS,
    _candidate_item,
    _csv_has_rows_or_event_header,
    _read_as_wrong_format,
    _reader,
    _Source,
    detect_format,
)
from data.ingest.storage import (
    IngestError,
    after_writers,
    numpy_array,
    writers_waiting,
)
from data.ingest.store import Store, store_of
from data.ingest.together import run_together
from data.ingest.validate import DAY_US, EventValidator
from data.rollups.build import Build

DEFAULT_COMPACT_AFTER_FILES = 8
MAX_ROWS_IN_MEMORY = 500_000  # a larger import is written in several rounds (memory: rows, not the file)
_EPOCH_DAY = date(1970, 1, 1)


@dataclass(frozen=True)
class IngestSummary:
    """read = written + duplicates + quarantined; `ignored` counts OTLP spans that are not events."""

    read: int = 0
    written: int = 0
    duplicates: int = 0
    quarantined: int = 0
    ignored: int = 0
    partitions: tuple[str, ...] = ()  # UTC dates that got new rows
    quarantine_files: tuple[Path, ...] = ()
    compacted: tuple[str, ...] = ()  # UTC dates compacted afterwards
    reasons: tuple[tuple[str, int], ...] = ()  # why records were quarantined, most frequent first
    rollups: tuple[Build, ...] = ()  # the rollup updates made inside the write (a file import: one)
    rollup_error: str | None = None  # an update failed: the events are written, the rollups behind them


@dataclass
class _Target:
    """Where a write goes and how: the store (its data folder keeps the quarantine), the organization's zone, how
    long to wait for the lock."""

    store: Store
    tz: str | None
    lock_timeout: float | None = None
    together: bool = False  # written with the other requests queued meanwhile (data/ingest/together.py)
    writes: list[Write] = field(default_factory=list)
    # A file import's write, entered at its first round and left when the import ends: an import of
    # several rounds (MAX_ROWS_IN_MEMORY each) updates the rollups once, for every day it touched; unless
    # another writer waits for the lock (`_give_way`): then that write ends after a round, and a new one
    # begins with the next.
    open_write: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    current: Write | None = None
    # the rows whose person the store no longer knew when their round was written (data/ingest/late.py)
    late: Late = field(default_factory=Late)
    # the ids the import's earlier rounds handled: the first of an id wins across rounds, whatever its date
    earlier: EarlierIds = field(default_factory=EarlierIds)

    @property
    def data_dir(self) -> Path:
        return self.store.data_dir


def ingest_files(
    data_dir: Path,
    paths: Iterable[Path],
    fmt: str | None = None,
    *,
    compact_after_files: int = DEFAULT_COMPACT_AFTER_FILES,
    team_attribute: str = "team.id",
    now: datetime | None = None,
    tz: str | None = None,
    store: Store | None = None,
) -> IngestSummary:
    """Import event files (fmt: jsonl | csv | parquet | otlp-json; None = by extension).

    `tz`: the organization's zone (ORG_TIMEZONE), for the rollups the write keeps (data/ingest/commit.py).
    `store`: where the rows go (the data folder's Parquet files by default; data/ingest/store.py).
    """
    store = store_of(data_dir, store)
    paths = [Path(p) for p in paths]
    formats = [fmt or detect_format(p) for p in paths]
    for path, kind in zip(paths, formats, strict=True):
        if kind not in FORMATS:
            raise IngestError(f"unknown format {kind!r}; use one of {', '.join(FORMATS)}")
        if not path.is_file():
            raise IngestError(f"{path}: no such file")
    for path, kind in zip(paths, formats, strict=True):
        if kind == "csv" and not _csv_has_rows_or_event_header(path):
            problem = "no records, only a first line that is not a header of event columns"
            raise _read_as_wrong_format(path, kind, fmt, problem)
    validator = EventValidator(store.directory(), now)
    sources = [
        _Source(
            path.name,
            *_reader(path, kind, fmt, validator, team_attribute),
            position="row" if kind == "parquet" else "line",
            recall=functools.partial(_read_again, path, kind, fmt, team_attribute),
        )
        for path, kind in zip(paths, formats, strict=True)
    ]
    return _ingest(_Target(store, tz), sources, validator, compact_after_files)


def _read_again(path: Path, kind: str, fmt: str | None, team_attribute: str, validator: EventValidator):
    return _reader(path, kind, fmt, validator, team_attribute)[0]


def ingest_otlp(
    data_dir: Path,
    requests: Iterable,
    *,
    source: str = "otlp-http",
    team_attribute: str = "team.id",
    compact_after_files: int = DEFAULT_COMPACT_AFTER_FILES,
    lock_timeout: float | None = None,
    now: datetime | None = None,
    tz: str | None = None,
    store: Store | None = None,
) -> IngestSummary:
    """Import decoded OTLP ExportTraceServiceRequests (what the live receiver gets); when it returns, the
    events are on disk and the rollups include them (or the summary says why not). Requests that arrive
    while a write is under way are written together in the next one (data/ingest/together.py)."""
    store = store_of(data_dir, store)
    directory = store.directory()
    found, ignored = otlp.candidates(requests, team_attribute)
    items = (_candidate_item(c) for c in found)
    again = lambda _validator: (_candidate_item(c) for c in found)  # noqa: E731 (a record does not depend on it)
    source_ = _Source(source, items, text_mode=False, ignored=ignored, daily=True, recall=again)
    target = _Target(store, tz, lock_timeout, together=True)
    return _ingest(target, [source_], EventValidator(directory, now), compact_after_files)


def _ingest(
    target: _Target, sources: list[_Source], validator: EventValidator, compact_after_files: int
) -> IngestSummary:
    pending = _Pending()
    counts = {"read": 0, "written": 0, "duplicates": 0, "quarantined": 0}
    partitions: set[str] = set()
    quarantine_files = []
    reason_counts: Counter[str] = Counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    # each source's quarantine is closed once the source is read and renamed at the end: a row refused under the
    # lock joins its source's refusals in its place
    quarantines = [_Quarantine(target.data_dir, stamp, s.name, s.position, s.daily) for s in sources]
    compacted: list[str] = []
    try:
        with target.open_write:
            _read_sources(target, sources, validator, pending, counts, partitions, quarantines)
            if pending.size or partitions:
                _commit(target, pending.take(), counts, partitions, compact_after_files, compacted)
        target.late.settle(sources, validator, quarantines)
    finally:
        target.earlier.close()
        for quarantine in quarantines:  # in the sources' order, as the files were named before
            quarantine.__exit__(None, None, None)
    for quarantine in quarantines:
        counts["quarantined"] += quarantine.count
        reason_counts.update(quarantine.reasons)
        if quarantine.path:
            quarantine_files.append(quarantine.path)
    return IngestSummary(
        **counts,
        ignored=sum(s.ignored for s in sources),
        partitions=tuple(sorted(partitions)),
        quarantine_files=tuple(quarantine_files),
        compacted=tuple(compacted),
        reasons=tuple(reason_counts.most_common()),
        rollups=tuple(w.rollups for w in target.writes if w.rollups is not None),
        rollup_error=next((w.rollup_error for w in reversed(target.writes) if w.rollup_error), None),
    )


def _read_sources(
    target: _Target,
    sources: list[_Source],
    validator: EventValidator,
    pending: _Pending,
    counts: dict,
    partitions: set[str],
    quarantines: list[_Quarantine],
) -> None:
    """Every record checked, the valid ones written a round at a time, the others quarantined."""
    for number, (source, quarantine) in enumerate(zip(sources, quarantines, strict=True)):
        for index, entry in enumerate(source.items):
            if isinstance(entry, _Checked):
                _add_checked(entry, validator, quarantine, pending, counts, number)
            else:
                counts["read"] += 1
                place = place_of(entry, index)
                row = checked_row(entry, validator, source.text_mode, quarantine, place)
                if row is not None:
                    pending.add_row(row, number, place)
            while pending.size >= MAX_ROWS_IN_MEMORY:
                _commit(target, pending.take(MAX_ROWS_IN_MEMORY), counts, partitions, more=True)
                _give_way(target)
        quarantine.close()  # an import of many files keeps one open


def _add_checked(
    checked: _Checked, validator: EventValidator, quarantine: _Quarantine, pending: _Pending, counts: dict, source: int
) -> None:
    """A block: the lines or records left over one by one, then all its rows in line (row) order."""
    counts["read"] += sum(t.num_rows for t in checked.rows)
    rows, lines = [], []
    for place, item in checked.records():
        if item is None:  # blank
            continue
        counts["read"] += 1
        row = checked_row(item, validator, checked.text_mode, quarantine, place)
        if row is not None:
            rows.append(row)
            lines.append(place)
    tables, numbers = list(checked.rows), list(checked.lines)
    if rows:
        tables.append(_events_table(rows))
        numbers.append(np.array(lines, dtype=np.int64))
    if not tables:
        return
    table, places = pa.concat_tables(tables), np.concatenate(numbers)
    if rows and len(tables) > 1:  # the first record of an id wins, so keep the file's order
        order = np.argsort(places, kind="stable")
        table, places = table.take(numpy_array(order)), places[order]
    pending.add_table(with_origin(table, source, places))


class _Pending:
    """Valid rows waiting to be written, in the order they arrived (the first of an id wins), each with its
    origin (data/ingest/late.py `ORIGIN`)."""

    def __init__(self) -> None:
        self.tables: list[pa.Table] = []
        self.rows: list[tuple] = []
        self.origins: list[tuple[int, int]] = []
        self.size = 0

    def add_row(self, row: tuple, source: int, place: int) -> None:
        self.rows.append(row)
        self.origins.append((source, place))
        self.size += 1

    def add_table(self, table: pa.Table) -> None:
        self._flush()
        self.tables.append(table)
        self.size += table.num_rows

    def take(self, limit: int | None = None) -> pa.Table | None:
        """The first `limit` rows (all by default), as one table; the rest stay pending."""
        self._flush()
        if not self.tables:
            return None
        table = pa.concat_tables(self.tables)
        if limit is not None and table.num_rows > limit:
            self.tables = [table.slice(limit)]
            table = table.slice(0, limit)
        else:
            self.tables = []
        self.size -= table.num_rows
        return table

    def _flush(self) -> None:
        if self.rows:
            sources, places = zip(*self.origins, strict=True)
            self.tables.append(with_origin(_events_table(self.rows), np.array(sources), np.array(places)))
            self.rows, self.origins = [], []


def _commit(
    target: _Target,
    table: pa.Table | None,
    counts: dict,
    partitions: set[str],
    compact_after_files: int | None = None,
    compacted: list[str] | None = None,
    *,
    more: bool = False,
) -> None:
    """Write rows (valid, maybe duplicated) into their dates' partitions, maybe compact; and, in the same
    write, update the rollups of the days that got rows. `more`: other rounds of the import follow."""
    store = target.store

    def rows(write: Write) -> None:
        nonlocal table
        if table is not None and table.num_rows:
            # the people the store no longer knows first: their rows are not there to be the first of an id
            table = refuse_unknown(store, table, target.late)
            if table.num_rows:
                table, hashes = _first_of_each_id(table, counts)
                table, hashes = target.earlier.without_earlier(table, hashes, counts)
                if more:
                    target.earlier.add(table.column("event_id"), hashes)
        if table is not None and table.num_rows:
            # sorted by ts, so each UTC date's rows are one slice, the dates in order
            days = pl.from_arrow(table.column("ts")).dt.epoch("us").to_numpy() // DAY_US  # (Arrow's loads pandas)
            bounds = [0, *(np.flatnonzero(np.diff(days)) + 1).tolist(), len(days)]
            dates = [
                (str(_EPOCH_DAY + timedelta(days=int(days[start]))), table.slice(start, stop - start))
                for start, stop in itertools.pairwise(bounds)
            ]
            # Arrow compresses and writes without Python's lock: two dates at a time (1M events a year:
            # writing 75 dates took 1.3 of the import's 4.2 s one at a time); then all are flushed at once
            try:
                done = store.append(dates)
            except BaseException:
                write.events_changed(utc_date for utc_date, _rows in dates)  # some may be written
                raise
            for (utc_date, _rows), (written, duplicates) in zip(dates, done, strict=True):
                counts["written"] += written
                counts["duplicates"] += duplicates
                if written:
                    partitions.add(utc_date)
                    write.events_changed([utc_date])
        if compact_after_files is not None and compacted is not None:
            for utc_date in sorted(partitions):
                if store.compact(utc_date, compact_after_files):
                    compacted.append(utc_date)

    if target.together:  # the receiver: one write, one rollup update, for the requests queued meanwhile
        target.writes.append(run_together(store, rows, target.tz, target.lock_timeout))
        return
    if target.current is None:
        target.current = target.open_write.enter_context(store.writing(target.tz, target.lock_timeout))
        target.writes.append(target.current)
    rows(target.current)


def _give_way(target: _Target) -> None:
    """Between two rounds of a file import: if another writer waits for the lock (the receiver, which
    answers 503 after its timeout), end this write here, as any write ends (the rollups of the days its
    rounds touched, then the data version: readers see whole rounds), let the waiting writers have the
    lock first, and go on in a new write."""
    if target.current is None:
        return
    waiting = writers_waiting(target.data_dir)
    if waiting:
        target.open_write.close()
        target.current = None
        after_writers(waiting)


def _first_of_each_id(table: pa.Table, counts: dict) -> tuple[pa.Table, np.ndarray]:
    """The first row of each event_id, sorted by (ts, event_id): the order of every partition file; and the
    hashes of their ids (data/ingest/earlier.py `id_hash`), in that order."""
    keys = pl.from_arrow(table.select(["ts", "event_id"])).with_row_index("row")
    keys = keys.with_columns(earlier.id_hash(pl.col("event_id")).alias("hash"))
    # Equal ids hash equal: when no two hashes are, every row is its id's first, known for a fifth of the
    # exact check's CPU; otherwise (a duplicate, or two ids of one hash) the exact check.
    if keys["hash"].n_unique() < keys.height:
        keys = keys.filter(pl.col("event_id").is_first_distinct())
    keys = keys.sort("ts", "event_id")
    keep = keys["row"].to_numpy().astype(np.int64)
    hashes = keys["hash"].to_numpy()
    counts["duplicates"] += table.num_rows - len(keep)
    # An export in time order moves only a few rows (equal ts, duplicates): keep the runs of rows
    # that stay together as slices of the table instead of copying every column.
    breaks = np.flatnonzero(np.diff(keep) != 1) + 1
    if len(breaks) > len(keep) // 1000:
        return table.take(numpy_array(keep)), hashes
    runs = itertools.pairwise([0, *breaks.tolist(), len(keep)])
    return pa.concat_tables([table.slice(int(keep[start]), stop - start) for start, stop in runs]), hashes


def _events_table(rows: list[tuple]) -> pa.Table:
    """Rows `validate` accepted, as the writer takes them (through Polars: `pa.array` of Python values loads
    pandas)."""
    return _rows_table(pl.DataFrame(rows, schema=_ROW_SCHEMA, orient="row"))


# A `validate` row's columns: ts in UTC µs and cost_usd in micro-dollars, as `accept_columns` answers them
_ROW_SCHEMA = {name: pl.Int64 if kind in (pl.Datetime, pl.Decimal) or kind.is_integer() else pl.String
               for name, kind in schema.EVENTS.items()}  # fmt: skip
