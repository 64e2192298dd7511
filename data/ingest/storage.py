"""The data folder as the writers keep it: one writer at a time, files written aside and renamed
in, partition folders swapped whole, and what a crashed writer left repaired.

What a reader (the running app, whose `events` view globs `events/*/*.parquet` on every query) can
see, and what a crash can leave:

- Appending: each UTC date's new rows become one new file, written as a hidden
  `.part-….parquet.tmp` in the partition folder (the glob does not match it), flushed to disk and
  renamed into place. A reader sees the whole file or nothing; a crash leaves at most a temp file,
  removed by the next import. A round's dates are written two at a time (WRITERS), all hidden
  first, then flushed together and renamed in (`_append_partitions`): a failed write leaves no date
  changed, a crash while renaming some dates updated and the others as before; running the same
  import again writes only what is missing, because…
- Idempotence: `event_id` is the key. An import keeps the first record of each id, in all its rounds
  (data/ingest/earlier.py), and before writing a date it drops the ids already in that date's files.
  (An event re-sent by another import with a different `ts` on another UTC date is not caught; OTLP
  re-sends keep their start time. docs/schema.md, "Duplicates".)
- One writer at a time: every write (ingest, compaction, directory import) holds an exclusive
  `flock` on `$DATA_DIR/.ingest.lock`, so the CLI and the receiver's workers never interleave a
  duplicate check and a write.
- Compaction swaps the whole partition folder in one step. The merged file (plus hard links to
  any files not being merged) is built in a folder under `$DATA_DIR/.staging/`, outside the glob,
  and exchanged with the partition folder by `renameat2(RENAME_EXCHANGE)`: one atomic operation,
  so a reader lists either the old set of files or the new one, never both and never neither, and
  nothing has to be counted twice. The old files end up in the staging folder and are deleted by
  a later writer after RETIRE_SECONDS (a reader may still be listing them: `_retire`).
  We chose this over a per-partition manifest because the app's view is a plain glob and stays one.
  Two costs, both accepted: a query that listed the folder while it was exchanged finds the names
  it listed gone, and either fails with "file not found" or, worse, counts the date as empty with no
  error (DuckDB skips a listed name it cannot stat); so every swap is counted in `.swaps` (odd while
  under way) and the app runs a query again that saw the count change (queries/db.py,
  `read_consistently`); and where the exchange is not available (not Linux, or a filesystem without it) the
  swap is two renames, old folder out then new folder in, so a reader may briefly see the date
  with no rows (never doubled); a crash between them is repaired by the next writer, which puts
  the old folder back.
- Automatic compaction after an import, for every date it touched that now has more than
  `compact_after_files` files: the files smaller than one row group (100,000 rows) are merged,
  so a live feed does not rewrite a whole large day on every request; if the date still has too
  many files, all of them are merged.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data import schema

ROW_GROUP_ROWS = 100_000  # as data/demo/ writes them: DuckDB skips row groups by their ts min/max
EVENTS_ARROW = pl.DataFrame(schema=schema.EVENTS).to_arrow().schema
LOCK_FILE = ".ingest.lock"
STAGING = ".staging"
RETIRED = "retired-"  # in STAGING: old files swapped out by a compaction, deleted by a writer after a while
RETIRE_SECONDS = 60
WAITING = ".ingest.waiting-"  # one empty file per writer waiting for the lock with a time limit
STALE_WAITING_SECONDS = 2  # a waiting writer's file untouched this long: it died (it touches it every 20 ms)
# Columns whose values repeat: a dictionary makes them smaller. Not the ids (unique) nor the numbers and
# times (mostly distinct): a dictionary of those costs time and space for nothing.
_DICTIONARY_COLUMNS = ["user_id", "team_id", "agent_id", "model", "conversation_id", "status"]
# Columns whose min/max a reader can use: the instants (DuckDB skips row groups by ts) and the numbers. The text
# columns' values spread over a date's whole range (rows sorted by ts): their min/max would never skip a row group,
# and computing them is a large part of writing the file.
_STATISTICS_COLUMNS = ["ts", "input_tokens", "output_tokens", "cost_usd", "latency_ms"]
WRITERS = 2  # dates written at once (Arrow encodes and compresses without Python's lock)
FLUSHERS = 16  # files flushed to disk at once (each fsync waits for the disk, not the CPU)


class IngestError(Exception):
    """A whole input that cannot be read (not a per-record problem), e.g. a missing or non-UTF-8 file.

    Raised before anything is written, except for an unreadable stretch deep inside a CSV file of
    more than MAX_ROWS_IN_MEMORY records, whose earlier rounds stay written (re-running is safe).
    """


class IngestBusy(IngestError):
    """Another import or compaction holds the data folder longer than we were willing to wait."""


@contextlib.contextmanager
def locked(data_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """The data folder's one-writer lock (flock: between processes and between threads alike).

    Writers take it through `data.ingest.commit.writing`, which also keeps the rollups and the data
    version; alone, it is for work that writes neither (or writes them itself: `flask rollup`)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    waiting = None
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline is not None else 0))
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IngestBusy("another import or compaction is running; try again shortly") from None
                waiting = _announce_waiting(data_dir, waiting)
                time.sleep(0.02)
        if waiting is not None:
            waiting.unlink(missing_ok=True)  # in: a file import waiting for our turn to end goes on after us
        _recover(data_dir)
        yield
    finally:
        if waiting is not None:
            waiting.unlink(missing_ok=True)
        os.close(fd)  # releases the lock


def _announce_waiting(data_dir: Path, path: Path | None) -> Path:
    """A writer that waits for the lock with a time limit (the receiver) says so with a file, touched at
    each try, for a file import to let it in between two rounds (`writers_waiting`); removed once it has
    the lock or gives up, and taken for none once untouched for a while (its writer died)."""
    path = path or data_dir / f"{WAITING}{os.getpid()}-{secrets.token_hex(8)}"
    path.touch()
    return path


def _waiting_now(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime < STALE_WAITING_SECONDS
    except FileNotFoundError:
        return False


def writers_waiting(data_dir: Path) -> list[Path]:
    """The writers waiting for the lock now."""
    return [path for path in data_dir.glob(f"{WAITING}*") if _waiting_now(path)]


def after_writers(waiting: list[Path]) -> None:
    """Return once each of these writers has had the lock (or gave up waiting, or died); the lock is free."""
    while any(_waiting_now(path) for path in waiting):
        time.sleep(0.01)


def _recover(data_dir: Path) -> None:
    """Undo what a crashed writer left: temp files, staging folders, a half-done fallback swap."""
    for draft in [*schema.events_dir(data_dir).glob("*/.*.tmp"), *schema.directory_dir(data_dir).glob(".*.tmp")]:
        draft.unlink(missing_ok=True)
    schema.recover_version(data_dir)  # a write mark left behind: the folder is marked changed by hand
    for path in data_dir.glob(f"{WAITING}*"):
        if not _waiting_now(path):
            path.unlink(missing_ok=True)  # left by a waiting writer that died
    count = schema.swap_count(data_dir)
    if count % 2:  # a writer died between the two counts of a swap; its folders are repaired below
        _set_swap_count(data_dir, count + 1)
    staging = data_dir / STAGING
    if not staging.is_dir():
        return
    for entry in staging.iterdir():
        if entry.name.startswith(RETIRED) and not _retired_long_ago(entry):
            continue  # a reader may still be listing it
        if entry.name.startswith("old-"):
            target = schema.events_dir(data_dir) / entry.name[len("old-") :].rsplit("-", 1)[0]
            if not target.exists():
                entry.rename(target)
                continue
        shutil.rmtree(entry, ignore_errors=True)


def _retire(old_files: Path) -> None:
    """Keep a swapped-out folder for RETIRE_SECONDS before a writer deletes it: a reader that opened the
    partition folder just before the swap lists its files after it, and deleting them then would have
    it count the date without them, silently (seen: 7 events of 15). Kept, it lists them and fails to
    open them ("file not found"), and the query is run again."""
    old_files.rename(old_files.parent / f"{RETIRED}{time.time_ns()}-{old_files.name}")


def _retired_long_ago(entry: Path) -> bool:
    stamp = entry.name[len(RETIRED) :].split("-", 1)[0]
    return not stamp.isdigit() or time.time_ns() - int(stamp) > RETIRE_SECONDS * 1e9


def _partition_dates(data_dir: Path) -> list[str]:
    prefix = f"{schema.PARTITION_COLUMN}="
    folder = schema.events_dir(data_dir)
    if not folder.is_dir():
        return []
    return sorted(p.name[len(prefix) :] for p in folder.iterdir() if p.is_dir() and p.name.startswith(prefix))


def _files(data_dir: Path, utc_date: str) -> list[Path]:
    return sorted(schema.partition_dir(data_dir, utc_date).glob("*.parquet"))


def contract_ts(ts: pa.ChunkedArray) -> pa.ChunkedArray:
    """An event file's `ts` as the contract has it (UTC, microseconds). A file copied in by hand may hold it in
    nanoseconds or without a zone: taken as DuckDB reads it in the events view (data/schema.py), in UTC and
    rounded to the microsecond (half away from zero), so a file rewritten (compaction, purge) keeps what the
    rollups were built from."""
    if pa.types.is_timestamp(ts.type) and ts.type.unit == "ns":  # rounded on the epoch's integers, in no zone
        ns = ts.cast(pa.int64())  # (pyarrow's round_temporal works on wall clocks: a repeated hour fails it)
        us = pc.divide(ns, 1000)  # truncated toward zero, then half away from it: DuckDB's cast
        rest = pc.subtract(ns, pc.multiply(us, 1000))
        us = pc.add(us, pc.if_else(pc.greater_equal(rest, 500), 1, pc.if_else(pc.less_equal(rest, -500), -1, 0)))
        ts = us.cast(pa.timestamp("us", ts.type.tz))
    return ts.cast(EVENTS_ARROW.field("ts").type)


def as_contract(table: pa.Table, path: Path) -> pa.Table:
    """Event file `path`'s rows in the contract's columns and types (EVENTS_ARROW), `ts` as `contract_ts` takes
    it; schema.EventFileError if it lacks one of them."""
    schema.check_event_columns(path, table.column_names)
    table = table.set_column(table.schema.get_field_index("ts"), "ts", contract_ts(table.column("ts")))
    return table.select(EVENTS_ARROW.names).cast(EVENTS_ARROW)


def decimal_usd(micro: np.ndarray) -> pa.Array:
    """Decimal(18, 6) dollars from integer micro-dollars, exactly (as data/demo/ writes them)."""
    words = np.empty((micro.size, 2), dtype=np.int64)
    words[:, 0] = micro
    words[:, 1] = micro >> 63
    return pa.Array.from_buffers(pa.decimal128(18, 6), micro.size, [None, pa.py_buffer(words)])


def numpy_array(values: np.ndarray) -> pa.Array:
    """An Arrow array of a numpy array of integers, made from its buffer: `pa.array(numpy)` and `take(numpy)`
    load pandas, which the import never needs."""
    values = np.ascontiguousarray(values)
    kind = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _write_partition_file(folder: Path, table: pa.Table) -> Path:
    """A new file in the partition: written hidden, flushed, renamed into place."""
    draft = _draft_partition_file(folder, table)
    _publish([draft])
    return draft.final


@dataclass(frozen=True)
class Draft:
    """A partition file written hidden (`path`, a name the events' glob does not match), not yet flushed."""

    path: Path
    final: Path


def _draft_partition_file(folder: Path, table: pa.Table) -> Draft:
    """A new file for the partition, written hidden; `_publish` flushes it and renames it into place."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"part-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.parquet"
    draft = folder / f".{name}.tmp"
    pq.write_table(
        table, draft, compression="zstd", row_group_size=ROW_GROUP_ROWS, store_decimal_as_integer=True,
        use_dictionary=_DICTIONARY_COLUMNS, write_statistics=_STATISTICS_COLUMNS,
    )  # fmt: skip
    return Draft(draft, folder / name)


def _publish(drafts: list[Draft]) -> None:
    """Flush the drafts, rename each into place, flush the folders that changed (and the folder above them,
    for new ones). The flushes of many files at once, each in its own thread, are committed together by
    the file system: one at a time between writes they took 13 ms each, most of a 365-date import."""
    if not drafts:
        return
    with ThreadPoolExecutor(min(len(drafts), FLUSHERS)) as pool:
        list(pool.map(_fsync, [draft.path for draft in drafts]))
        for draft in drafts:
            os.replace(draft.path, draft.final)
        folders = {draft.final.parent for draft in drafts}
        list(pool.map(_fsync, [*folders, *{folder.parent for folder in folders}]))


def _append_partitions(data_dir: Path, dates: list[tuple[str, pa.Table]]) -> list[tuple[int, int]]:
    """Each date's new rows as one new file in its partition, all written hidden first, then flushed and
    renamed in together (storage.py, `_publish`); answers rows written and duplicates dropped per date.
    A date that fails leaves no file: the drafts of the others are removed too, and nothing is renamed."""
    with ThreadPoolExecutor(WRITERS) as pool:
        futures = [pool.submit(_draft_partition, data_dir, *item) for item in dates]
        wait(futures)
    drafts = [future.result()[0] for future in futures if future.exception() is None]
    failed = next((future.exception() for future in futures if future.exception() is not None), None)
    if failed is not None:
        for draft in drafts:
            if draft is not None:
                draft.path.unlink(missing_ok=True)
        raise failed
    _publish([draft for draft in drafts if draft is not None])
    return [future.result()[1] for future in futures]


def _draft_partition(data_dir: Path, utc_date: str, table: pa.Table) -> tuple[Draft | None, tuple[int, int]]:
    """Drop ids the date has already, write the rest (sorted already) as a hidden new file; answers it
    (None if no row is new), and rows written and duplicates dropped."""
    files = _files(data_dir, utc_date)
    duplicates = 0
    if files:
        # file by file: one copied in by hand may have other columns (a read of them all wants the first's)
        existing = _stored_ids(files)
        seen = pl.from_arrow(table.column("event_id")).is_in(existing.implode())
        duplicates = seen.sum()
        table = table.filter(pc.invert(seen.to_arrow()))
    if table.num_rows == 0:
        return None, (0, duplicates)
    return _draft_partition_file(schema.partition_dir(data_dir, utc_date), table), (table.num_rows, duplicates)


def _stored_ids(files: list[Path]) -> pl.Series:
    """The event ids of a date's files, read by Arrow in this thread (the writers run two dates at once): Polars'
    reader sets up more for each call than reading one date's column costs."""
    columns = []
    for path in files:
        with pq.ParquetFile(path) as handle:
            column = handle.read(columns=["event_id"], use_threads=False).column(0)
        columns.append(pl.Series(column).cast(pl.String))  # as each file has it: string, large or dictionary
    return pl.concat(columns)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _set_swap_count(data_dir: Path, count: int) -> None:
    draft = data_dir / f"{schema.SWAPS_FILE}.{os.getpid()}.tmp"
    draft.write_text(str(count))
    os.replace(draft, data_dir / schema.SWAPS_FILE)


def _swap_folders(new: Path, current: Path) -> None:
    """Afterwards `current` holds what `new` held and `new` holds the old contents; the swap count says
    when that happens (odd meanwhile), for readers to run a query again that listed the folder then."""
    data_dir = current.parent.parent  # events/utc_date=… → the data folder
    count = schema.swap_count(data_dir)
    _set_swap_count(data_dir, count + 1 + count % 2)
    try:
        _exchange(new, current)
    finally:
        _set_swap_count(data_dir, count + 2 + count % 2)


def _exchange(new: Path, current: Path) -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = getattr(libc, "renameat2", None)
        if renameat2 is not None:
            done = renameat2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(current), _RENAME_EXCHANGE)
            if done == 0:
                return
            code = ctypes.get_errno()
            if code not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise OSError(code, os.strerror(code), str(current))
    _swap_by_renames(new, current)


def _swap_by_renames(new: Path, current: Path) -> None:
    """The fallback: the date is briefly absent, never doubled; `_recover` repairs a crash here."""
    old = new.parent / f"old-{current.name}-{secrets.token_hex(4)}"
    os.rename(current, old)
    os.rename(new, current)
    os.rename(old, new)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
