"""Removing events: `purge(data_dir, selection, tz)`, the way back from bad data (and erasure requests).

A `Selection` names the events to remove by up to four selectors, combined with AND: an event id
list, a source file (the events whose event_id appears in an input file ingest could read), a user,
and a range of UTC dates of `ts`. Nothing is selected without a selector.

Atomic the way ingest's compaction is (data/ingest/compaction.py), under the data folder's one-writer lock:
each UTC date with rows to remove gets a new partition folder, built under `.staging/` (hard links
to its files with nothing to remove, plus one new file of the rows kept from the others) and
exchanged with the old folder in one `renameat2(RENAME_EXCHANGE)`. A reader lists the date's old
files or its new ones; a crash leaves each date old or new (the next writer clears the staging
folder), and running the purge again removes what is left. A date left without rows is exchanged
with an empty folder, which is then removed. The rollups of the local days touched are brought up
to date in the same write, under the same lock (data/ingest/commit.py); if that fails, the purge
stands and the app reads raw events, saying so, never a stale figure.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data import schema
from data.ingest.commit import Write
from data.ingest.jsonl import _Checked, _jsonl_item
from data.ingest.readers import FORMATS, _reader, detect_format
from data.ingest.storage import (
    STAGING,
    IngestError,
    _files,
    _fsync,
    _partition_dates,
    _retire,
    _swap_folders,
    _write_partition_file,
    as_contract,
    contract_ts,
)
from data.ingest.store import Store, store_of
from data.ingest.validate import EventValidator
from data.rollups.build import Build

_MASK_COLUMNS = ["event_id", "ts", "user_id", "cost_usd"]


class PurgeError(Exception):
    """A selection that cannot be run (no selector, unknown user, unreadable file); nothing was changed."""


@dataclass(frozen=True)
class Selection:
    """Which events to remove; every selector given must hold (AND). None = selector not given."""

    event_ids: frozenset[str] | None = None  # --event-id and --event-ids together
    source_ids: frozenset[str] | None = None  # the event ids of a --source file
    user_id: str | None = None
    first: dt.date | None = None  # first UTC date, inclusive
    last: dt.date | None = None  # last UTC date, inclusive

    def __post_init__(self) -> None:
        if not self.given():
            raise PurgeError("no selector: give --event-id/--event-ids, --source, --user or --from/--to")
        if self.first is not None and self.last is not None and self.first > self.last:
            raise PurgeError(f"--from {self.first} is after --to {self.last}")
        for name, ids in (("--event-id/--event-ids", self.event_ids), ("--source", self.source_ids)):
            if ids is not None and not ids:
                raise PurgeError(f"{name} names no event id")

    def given(self) -> list[str]:
        """The selectors given, by their option names."""
        pairs = (
            ("event ids", self.event_ids), ("source", self.source_ids), ("user", self.user_id),
            ("from", self.first), ("to", self.last),
        )  # fmt: skip
        return [name for name, value in pairs if value is not None]

    def describe(self) -> dict:
        """The selectors as the audit log keeps them: id lists by their size."""
        found = {
            "event_ids": None if self.event_ids is None else len(self.event_ids),
            "source_ids": None if self.source_ids is None else len(self.source_ids),
            "user": self.user_id,
            "from": self.first and str(self.first),
            "to": self.last and str(self.last),
        }
        return {name: value for name, value in found.items() if value is not None}

    def dates(self, data_dir: Path) -> list[str]:
        """The partitions (UTC dates) that may hold selected events."""
        low = str(self.first) if self.first else ""
        high = str(self.last) if self.last else "9999-12-31"
        return [d for d in _partition_dates(data_dir) if low <= d <= high]

    @cached_property
    def _id_arrays(self) -> list[pa.Array]:
        """The id selectors as Arrow arrays, built once for every file."""
        sets = [ids for ids in (self.event_ids, self.source_ids) if ids is not None]
        return [pa.array(sorted(ids), type=pa.large_string()) for ids in sets]

    def mask(self, table: pa.Table) -> pa.ChunkedArray:
        """True for the rows selected (the table holds at least _MASK_COLUMNS)."""
        parts = [pc.is_in(table.column("event_id").cast(pa.large_string()), value_set=ids) for ids in self._id_arrays]
        if self.user_id is not None:
            parts.append(pc.equal(table.column("user_id"), self.user_id))
        ts = contract_ts(table.column("ts"))
        if self.first is not None:
            parts.append(pc.greater_equal(ts, pa.scalar(_midnight(self.first), ts.type)))
        if self.last is not None:
            parts.append(pc.less(ts, pa.scalar(_midnight(self.last + dt.timedelta(days=1)), ts.type)))
        mask = parts[0]
        for part in parts[1:]:
            mask = pc.and_(mask, part)
        return pc.fill_null(mask, False)


@dataclass(frozen=True)
class DatePurge:
    utc_date: str
    events: int  # removed
    cost_usd: Decimal  # of the events removed
    kept: int  # events left on the date


@dataclass(frozen=True)
class Purge:
    dates: tuple[DatePurge, ...]
    dry_run: bool
    rollups: Build | None = None  # the rollup update, if there were rollups to keep
    rollup_error: str | None = None  # the update failed: the events are purged all the same

    @property
    def events(self) -> int:
        return sum(d.events for d in self.dates)

    @property
    def cost_usd(self) -> Decimal:
        return sum((d.cost_usd for d in self.dates), Decimal("0.000000"))


def purge(
    data_dir: Path,
    selection: Selection,
    tz: str,
    *,
    dry_run: bool = False,
    lock_timeout: float | None = None,
    audit: Callable[[str, Purge], None] | None = None,
    store: Store | None = None,
) -> Purge:
    """Remove the selected events (or, with dry_run, only count them); then update the rollups.

    `audit(action, purge)` is told, under the writer's lock, before the first date is rewritten
    ("purge_started", nothing counted yet) and once every date is ("purge_events"), so no removal
    goes unrecorded, whatever happens to the process afterwards. `store`: where the events are (the data
    folder's Parquet files by default; data/ingest/store.py).
    """
    store = store_of(data_dir, store)

    def started() -> None:
        if audit is not None:
            audit("purge_started", Purge((), dry_run))

    with store.writing(tz, lock_timeout) as write:
        if selection.user_id is not None and not _known(store, selection.user_id):
            raise PurgeError(f"unknown user {selection.user_id!r}: not in the directory and no events")
        found = store.remove(selection, write, dry_run, started)
        if not dry_run and audit is not None:
            audit("purge_events", Purge(tuple(found), dry_run))
    if dry_run or not found:
        return Purge(tuple(found), dry_run)
    # e.g. other bad rows in those days: the purge stands, the app reads raw events and says so
    return Purge(tuple(found), dry_run, write.rollups, write.rollup_error)


def remove_from_files(
    data_dir: Path, selection: Selection, write: Write, dry_run: bool, started: Callable[[], None]
) -> list[DatePurge]:
    """The Parquet store's removal: each UTC date with selected rows rewritten without them (the module docstring)."""
    found, rewrites = [], []  # every date's selected rows first: a file that cannot be read fails before any rewrite
    for utc_date in selection.dates(data_dir):
        files = _files(data_dir, utc_date)
        masks = {path: _file_mask(path, selection) for path in files}
        masks = {path: mask for path, mask in masks.items() if mask is not None}
        if not masks:
            continue
        found.append(_count(utc_date, files, masks))
        rewrites.append((utc_date, files, masks))
    if rewrites and not dry_run:
        started()
        for utc_date, files, masks in rewrites:
            write.events_changed([utc_date])
            _rewrite_partition(data_dir, utc_date, files, masks)
    return found


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _known(store: Store, user_id: str) -> bool:
    """In the directory, or, once their row is removed from it, with events still."""
    return user_id in store.directory().user_teams or store.has_events_of(user_id)


def events_of(data_dir: Path, user_id: str) -> bool:
    """Whether any event file holds an event of this person."""
    for utc_date in _partition_dates(data_dir):
        for path in _files(data_dir, utc_date):
            users = pq.read_table(path, columns=["user_id"]).column("user_id")
            if pc.any(pc.equal(users, user_id)).as_py():
                return True
    return False


def _file_mask(path: Path, selection: Selection) -> tuple[pa.ChunkedArray, Decimal] | None:
    """The selected rows of one file and their cost, or None when it has none; schema.EventFileError for a file
    without a column (copied in by hand), before any date is rewritten."""
    source = pq.ParquetFile(path)
    schema.check_event_columns(path, source.schema_arrow.names)
    table = source.read(columns=_MASK_COLUMNS)
    mask = selection.mask(table)
    if not pc.any(mask).as_py():
        return None
    cost = pc.sum(table.column("cost_usd").filter(mask)).as_py()
    return mask, cost if cost is not None else Decimal(0)


def _count(utc_date: str, files: list[Path], masks: dict[Path, tuple]) -> DatePurge:
    removed = sum(pc.sum(pc.cast(mask, pa.int64())).as_py() for mask, _ in masks.values())
    rows = sum(pq.read_metadata(path).num_rows for path in files)
    cost = sum((cost for _, cost in masks.values()), Decimal("0.000000"))
    return DatePurge(utc_date, removed, cost, rows - removed)


def _rewrite_partition(data_dir: Path, utc_date: str, files: list[Path], masks: dict[Path, tuple]) -> None:
    """The date's folder exchanged for one without the selected rows (see the module docstring)."""
    folder = schema.partition_dir(data_dir, utc_date)
    staging = data_dir / STAGING / f"purge-{folder.name}-{secrets.token_hex(4)}"
    staging.mkdir(parents=True)
    for path in files:
        if path not in masks:
            try:
                os.link(path, staging / path.name)
            except OSError:
                shutil.copy2(path, staging / path.name)
    kept = [as_contract(pq.read_table(path), path).filter(pc.invert(mask)) for path, (mask, _) in masks.items()]
    table = pa.concat_tables(kept).sort_by([("ts", "ascending"), ("event_id", "ascending")])
    if table.num_rows:
        _write_partition_file(staging, table)
    _fsync(staging)
    _swap_folders(staging, folder)
    _fsync(folder.parent)
    _retire(staging)  # now the old files: a reader may still be listing them
    if not any(folder.iterdir()):
        # The date is empty: its folder goes too. A reader between the exchange and here lists an
        # empty folder, one after lists none: either way no rows of the date, as it should be.
        folder.rmdir()
        _fsync(folder.parent)


# --- Reading selectors from files ------------------------------------------------------------------


def read_id_list(path: Path) -> frozenset[str]:
    """An --event-ids file: one event id a line; surrounding spaces and blank lines ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PurgeError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PurgeError(f"{path}: cannot read it ({error})") from None
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def source_ids(
    data_dir: Path, path: Path, fmt: str | None = None, team_attribute: str = "team.id", store: Store | None = None
) -> frozenset[str]:
    """The event ids in an input file of any format `ingest` reads, read by ingest's own readers.

    Every record with a text event_id counts, valid or not: the file's ids are what it could have
    written (an event of another file with the same id is the same event, as ingest's duplicate
    check has it).
    """
    path = Path(path)
    try:
        kind = fmt or detect_format(path)
        if kind not in FORMATS:
            raise IngestError(f"unknown format {kind!r}; use one of {', '.join(FORMATS)}")
        if not path.is_file():
            raise IngestError(f"{path}: no such file")
        validator = EventValidator(store_of(data_dir, store).directory())
        items, _text_mode, _ignored = _reader(path, kind, fmt, validator, team_attribute)
        ids = frozenset(_ids(items))
    except IngestError as error:
        raise PurgeError(str(error)) from None
    if not ids:
        raise PurgeError(f"{path}: no event ids found reading it as {kind}; pass --format ({'|'.join(FORMATS)})")
    return ids


def _ids(items: Iterable) -> Iterator[str]:
    for entry in items:
        if isinstance(entry, _Checked):
            for table in entry.rows:
                yield from table.column("event_id").to_pylist()
            records = (_jsonl_item(number, raw) for number, raw in entry.left)
            found = [item[1] for item in itertools.chain(records, entry.items) if item is not None]
        else:
            found = [entry[1]]
        for record in found:
            if isinstance(record, dict) and isinstance(record.get("event_id"), str):
                yield record["event_id"]
