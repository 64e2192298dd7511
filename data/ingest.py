"""Getting events and the directory into the data folder, safely.

`ingest_files(data_dir, paths, fmt)` reads JSONL, CSV, Parquet or OTLP/JSON files, `ingest_otlp`
takes decoded OTLP requests (the live receiver, api/otlp.py); both validate every record
(data/validate.py), write the valid ones and put the others in quarantine, and return an
`IngestSummary`. `compact(data_dir)` merges a partition's files; `import_directory` replaces
directory files.

What a reader (the running app, whose `events` view globs `events/*/*.parquet` on every query) can
see, and what a crash can leave:

- Appending: each UTC date's new rows become one new file, written as a hidden
  `.part-….parquet.tmp` in the partition folder (the glob does not match it), flushed to disk and
  renamed into place. A reader sees the whole file or nothing; a crash leaves at most a temp file,
  removed by the next import. Partitions are written two at a time (WRITERS), each on its own, so
  a crash or a failed write leaves some dates updated and the others as before; running the same
  import again writes only what is missing, because…
- Idempotence: `event_id` is the key. A batch keeps the first record of each id, and before writing
  a date it drops the ids already in that date's files. (An event re-sent with a different `ts`
  on another UTC date is not caught; OTLP re-sends keep their start time.)
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
import csv
import ctypes
import errno
import fcntl
import itertools
import json
import os
import re
import secrets
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from data import otlp, schema
from data.validate import (
    DAY_US,
    EVENT_FIELDS,
    Directory,
    EventValidator,
    Invalid,
    directory_problems,
    directory_value,
)

FORMATS = ("jsonl", "csv", "parquet", "otlp-json")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".json": "otlp-json"}
DEFAULT_COMPACT_AFTER_FILES = 8
ROW_GROUP_ROWS = 100_000  # as data/demo.py: DuckDB skips row groups by their ts min/max
MAX_ROWS_IN_MEMORY = 2_000_000  # a larger import is written in several rounds
WRITERS = 2  # dates written at once
EVENTS_ARROW = pl.DataFrame(schema=schema.EVENTS).to_arrow().schema
LOCK_FILE = ".ingest.lock"
STAGING = ".staging"
RETIRED = "retired-"  # in STAGING: old files swapped out by a compaction, deleted by a writer after a while
RETIRE_SECONDS = 60
QUARANTINE = "quarantine"
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


@dataclass(frozen=True)
class Compaction:
    utc_date: str
    files_before: int
    files_after: int
    rows: int


class IngestError(Exception):
    """A whole input that cannot be read (not a per-record problem), e.g. a missing or non-UTF-8 file.

    Raised before anything is written, except for an unreadable stretch deep inside a CSV file of
    more than MAX_ROWS_IN_MEMORY records, whose earlier rounds stay written (re-running is safe).
    """


class IngestBusy(IngestError):
    """Another import or compaction holds the data folder longer than we were willing to wait."""


class DirectoryImportError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# --- Entry points ----------------------------------------------------------------------------------


def detect_format(path: Path) -> str:
    found = EXTENSIONS.get(Path(path).suffix.lower())
    if found is None:
        raise IngestError(f"{path}: cannot tell the format from the extension; pass --format ({'|'.join(FORMATS)})")
    return found


def ingest_files(
    data_dir: Path,
    paths: Iterable[Path],
    fmt: str | None = None,
    *,
    compact_after_files: int = DEFAULT_COMPACT_AFTER_FILES,
    team_attribute: str = "team.id",
    now: datetime | None = None,
) -> IngestSummary:
    """Import event files (fmt: jsonl | csv | parquet | otlp-json; None = by extension)."""
    data_dir = Path(data_dir)
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
    validator = EventValidator(Directory.load(data_dir), now)
    sources = [
        _Source(
            path.name,
            *_reader(path, kind, fmt, validator, team_attribute),
            position="row" if kind == "parquet" else "line",
        )
        for path, kind in zip(paths, formats, strict=True)
    ]
    return _ingest(data_dir, sources, validator, compact_after_files)


FORMAT_NAMES = {"jsonl": "JSON Lines", "csv": "CSV", "parquet": "Parquet", "otlp-json": "OTLP/JSON"}


def _read_as_wrong_format(path: Path, kind: str, fmt: str | None, problem: str) -> IngestError:
    """A file that yields no record as `kind`: most likely another format, so say how to name it."""
    assumed = f"--format {fmt}" if fmt else f"from its extension {path.suffix}"
    others = "|".join(f for f in FORMATS if f != kind)
    return IngestError(
        f"{path}: read as {FORMAT_NAMES[kind]} ({assumed}): {problem}. "
        f"Nothing was imported; if it is another format, pass --format {others}."
    )


def _csv_has_rows_or_event_header(path: Path) -> bool:
    """Whether a CSV file has a data row, or is empty, or is only a header of event columns (an empty export)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            has_row = any(any(cell.strip() for cell in row) for row in reader)
    except (UnicodeDecodeError, csv.Error):
        return True  # the reader says what is wrong, with the line
    if header is None or has_row or not any(cell.strip() for cell in header):
        return True
    return set(header) <= set(EVENT_FIELDS)


def ingest_otlp(
    data_dir: Path,
    requests: Iterable,
    *,
    source: str = "otlp-http",
    team_attribute: str = "team.id",
    compact_after_files: int = DEFAULT_COMPACT_AFTER_FILES,
    lock_timeout: float | None = None,
    now: datetime | None = None,
) -> IngestSummary:
    """Import decoded OTLP ExportTraceServiceRequests (what the live receiver gets)."""
    data_dir = Path(data_dir)
    directory = Directory.load(data_dir)
    found, ignored = otlp.candidates(requests, team_attribute)
    items = (_candidate_item(c) for c in found)
    source_ = _Source(source, items, text_mode=False, ignored=ignored, daily=True)
    return _ingest(data_dir, [source_], EventValidator(directory, now), compact_after_files, lock_timeout)


def compact(
    data_dir: Path, partitions: Iterable[str] | None = None, *, lock_timeout: float | None = None
) -> list[Compaction]:
    """Merge each partition's files into one file sorted by ts; by default every date with 2+ files."""
    data_dir = Path(data_dir)
    done = []
    with locked(data_dir, lock_timeout):
        if partitions is None:
            dates = [d for d in _partition_dates(data_dir) if len(_files(data_dir, d)) > 1]
        else:
            dates = [str(date.fromisoformat(str(d))) for d in partitions]
        for utc_date in dates:
            files = _files(data_dir, utc_date)
            if files:
                done.append(_compact_partition(data_dir, utc_date, files))
    return done


def import_directory(data_dir: Path, paths: Iterable[Path]) -> dict[str, int]:
    """Validate directory files (users.csv, teams.parquet, ...) and replace each one atomically.

    Every file is checked (types, required cells, roles) and so is the directory as it would be
    afterwards (unique keys, team and user references, price ranges); any problem and nothing is
    replaced. Answers rows per table written.
    """
    data_dir = Path(data_dir)
    problems: list[str] = []
    new: dict[str, pl.DataFrame] = {}
    for path in map(Path, paths):
        name = path.name.split(".", 1)[0]
        if name not in schema.DIRECTORY:
            problems.append(f"{path.name}: not a directory file (use {', '.join(schema.DIRECTORY)} .csv or .parquet)")
        elif name in new:
            problems.append(f"{path.name}: {name} given twice")
        elif not path.is_file():
            problems.append(f"{path}: no such file")
        else:
            frame, found = _read_directory_file(name, path)
            problems.extend(found)
            new[name] = frame
    if problems:
        raise DirectoryImportError(problems)
    folder = schema.directory_dir(data_dir)
    merged = {}
    for name, columns in schema.DIRECTORY.items():
        path = folder / f"{name}.parquet"
        merged[name] = new.get(name, pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=columns))
    problems = directory_problems(merged)
    if problems:
        raise DirectoryImportError(problems)
    with locked(data_dir):
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in new.items():
            draft = folder / f".{name}.parquet.{secrets.token_hex(4)}.tmp"
            frame.write_parquet(draft, compression="zstd")
            _fsync(draft)
            os.replace(draft, folder / f"{name}.parquet")
        _fsync(folder)
    return {name: frame.height for name, frame in new.items()}


# --- Reading sources -------------------------------------------------------------------------------

# position (line or row, None for OTLP), record (None when it could not be read), original (what the
# quarantine shows), reasons found while reading, agent name to look up when there is no agent_id.
Item = tuple[int | None, object, object, list[str], str | None]


class RawJson(str):
    """JSON text as it arrived: the quarantine file embeds it verbatim, numbers and all."""


@dataclass
class _Checked:
    """A block of a JSONL file: rows already accepted column-wise, and the lines left to check."""

    rows: list[pa.Table] = field(default_factory=list)  # contract rows (EVENTS_ARROW), in line order
    lines: list[np.ndarray] = field(default_factory=list)  # the line number of each of those rows
    # (line number, bytes) of the lines to read with json and check one by one, in order; kept as
    # bytes so a block's worth of parsed records never piles up for the garbage collector
    left: list[tuple[int, bytes]] = field(default_factory=list)
    refused_often: bool = False  # Arrow refused lines all over the block (see _read_stretch)


@dataclass
class _Source:
    name: str
    items: Iterator[Item | _Checked]
    text_mode: bool = False
    ignored: int = 0
    position: str = "line"
    daily: bool = False  # one quarantine file per UTC day (the receiver: many small requests)


def _reader(
    path: Path, kind: str, fmt: str | None, validator: EventValidator, team_attribute: str
) -> tuple[Iterator[Item | _Checked], bool, int]:
    if kind == "jsonl":
        return _jsonl_blocks(path, validator), False, 0
    if kind == "csv":
        return _csv_items(path), True, 0
    if kind == "parquet":
        return _parquet_items(path), False, 0
    try:
        requests = otlp.read_json_file(path)
    except otlp.OtlpDecodeError as error:
        raise _read_as_wrong_format(path, kind, fmt, str(error)) from None
    found, ignored = otlp.candidates(requests, team_attribute)
    if requests and not found and not ignored and not otlp.has_export_shape(path):
        # Other JSON (event records, one per line) parses as exports of nothing: unknown keys are skipped.
        raise _read_as_wrong_format(path, kind, fmt, "no records, not one OTLP span")
    return (_candidate_item(c) for c in found), False, ignored


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_refuse_constant)


def _decode_json(text: str) -> object:
    try:
        value, end = _DECODER.scan_once(text, 0)  # the C scanner; the line is stripped, no whitespace to skip
    except StopIteration:
        raise ValueError("Expecting value: line 1 column 1 (char 0)") from None
    if end != len(text):
        return _DECODER.decode(text)  # raises "Extra data" with the position
    return value


def _jsonl_item(number: int, raw: bytes) -> Item | None:
    """One line read the exact way (numbers as Decimal, never a float); None for a blank line."""
    line = raw.strip()
    if not line:
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return number, None, line.decode("utf-8", "backslashreplace"), ["not UTF-8 text"], None
    try:
        record = _decode_json(text)
    except ValueError as error:
        return number, None, text, [f"not valid JSON: {error}"], None
    return number, record, RawJson(text), [], None


# --- JSONL, a block at a time ------------------------------------------------------------------------
#
# Reading a line with json and checking it in Python costs ~10 µs; a large file is read in blocks by
# Arrow's JSON reader instead and checked as columns (EventValidator.accept_columns). Arrow is only
# trusted where it reads exactly what json reads: each line one object whose values have the types
# below (a string where text is due, an integer for counts, no unknown or repeated field, valid UTF-8);
# a stretch it refuses is split and retried, and what is left, like every record the column check
# does not accept, goes through `_jsonl_item` and `validate`, so reasons and quarantine are as before.

JSONL_BLOCK_BYTES = 16 << 20
SPLIT_INTO = 16  # a refused stretch is retried in this many parts ...
ONE_BY_ONE_LINES = 256  # ... until it is this short: then every line is read on its own
_JSON_FIELDS = pa.schema(
    [
        (name, pa.int64() if name in ("input_tokens", "output_tokens", "latency_ms") else pa.string())
        for name in schema.EVENTS.names()
    ]
).set(schema.EVENTS.names().index("cost_usd"), pa.field("cost_usd", pa.decimal128(18, 6)))
_JSON_OPTIONS = pj.ParseOptions(explicit_schema=_JSON_FIELDS, unexpected_field_behavior="error")
_LBRACE, _RBRACE, _CR = ord("{"), ord("}"), ord("\r")
# cost_usd spelt so that Arrow's decimal and micro_usd read the same value: a JSON number without
# sign or exponent, or a string of digits, each with at most 6 decimals. (Outside a key, `"cost_usd"`
# followed by `:` cannot occur in a line Arrow took: inside a string every quote is escaped.)
_PLAIN_COST = (
    r'"cost_usd"[ \t\r\n]*:[ \t\r\n]*'
    r'(?:(?:0|[1-9][0-9]*)(?:\.[0-9]{1,6})?[ \t\r\n]*[,}]|"\+?(?:[0-9]+(?:\.[0-9]{1,6})?|\.[0-9]{1,6})")'
)


def _jsonl_blocks(path: Path, validator: EventValidator) -> Iterator[_Checked]:
    with open(path, "rb") as handle:
        first_line, refused_often = 1, False
        while block := handle.read(JSONL_BLOCK_BYTES):
            if not block.endswith(b"\n"):
                block += handle.readline()  # whole lines only
            checked = _jsonl_block(block, first_line, validator, refused_often)
            yield checked
            first_line += block.count(b"\n")
            refused_often = checked.refused_often


def _jsonl_block(block: bytes, first_line: int, validator: EventValidator, split_first: bool = False) -> _Checked:
    """Runs of lines that look like one object each go to Arrow; any other line is read on its own.

    `split_first`: the previous block had refused lines all over, so do not try a run whole first.
    """
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    starts = np.concatenate(([0], ends + 1))
    ends = np.concatenate((ends, [len(block)]))
    last = ends - 1 - (data[np.maximum(ends - 1, 0)] == _CR)  # the last byte before "\r\n" or "\n"
    blank = last < starts
    whole = ~blank & (data[np.minimum(starts, len(block) - 1)] == _LBRACE) & (data[np.maximum(last, 0)] == _RBRACE)
    lines = _Lines(block, starts, ends, blank, first_line, block.isascii())
    checked = _Checked()
    odd = np.flatnonzero(~(whole | blank))
    begin = 0
    for stop in [*odd.tolist(), len(starts)]:
        if begin < stop:
            _read_stretch(lines, begin, stop, validator, checked, split_first)
        if stop < len(starts):
            lines.one_by_one(stop, stop + 1, checked)
        begin = stop + 1
    checked.refused_often = len(checked.left) > len(starts) // 10
    return checked


@dataclass
class _Lines:
    """A block's lines by index: byte ranges, which are blank, their numbers in the file."""

    block: bytes
    starts: np.ndarray
    ends: np.ndarray
    blank: np.ndarray
    first_line: int
    ascii: bool

    def one_by_one(self, begin: int, stop: int, checked: _Checked) -> None:
        numbers = range(self.first_line + begin, self.first_line + stop)
        bounds = zip(self.starts[begin:stop].tolist(), self.ends[begin:stop].tolist(), strict=True)
        for number, (start, end) in zip(numbers, bounds, strict=True):
            checked.left.append((number, self.block[start:end]))

    def records(self, begin: int, stop: int) -> np.ndarray:
        """Indexes of the lines that hold a record (not blank)."""
        return begin + np.flatnonzero(~self.blank[begin:stop])

    def text(self, begin: int, stop: int) -> pa.Buffer | None:
        """The bytes of lines begin..stop-1, or None when they are not all UTF-8."""
        low, high = int(self.starts[begin]), int(self.ends[stop - 1])
        if not self.ascii:
            try:
                self.block[low:high].decode("utf-8")
            except UnicodeDecodeError:
                return None
        return pa.py_buffer(self.block).slice(low, high - low)


def _read_stretch(
    lines: _Lines, begin: int, stop: int, validator: EventValidator, checked: _Checked, split_first: bool = False
) -> None:
    """Lines begin..stop-1, each blank or `{...}`: column-wise if Arrow reads one record per line.

    A refused stretch is split and its parts retried, down to ONE_BY_ONE_LINES (below that Arrow's
    cost per call outweighs it). Where refused lines are everywhere, every level is read in vain,
    so after such a block the next one starts from the parts (`split_first`).
    """
    records = lines.records(begin, stop)
    if len(records) == 0:
        return
    short = stop - begin <= ONE_BY_ONE_LINES
    table = _arrow_records(lines.text(begin, stop), len(records)) if short or not split_first else None
    if table is None:
        if short:
            lines.one_by_one(begin, stop, checked)
            return
        step = -(-(stop - begin) // SPLIT_INTO)
        for low in range(begin, stop, step):
            _read_stretch(lines, low, min(low + step, stop), validator, checked)
        return
    rows, accepted = validator.accept_columns(pl.from_arrow(table), _exact_cost(lines, records, table))
    if rows.height:
        checked.rows.append(_rows_table(rows))
        checked.lines.append(lines.first_line + records[accepted])
    for index in records[~accepted].tolist():
        lines.one_by_one(index, index + 1, checked)


def _arrow_records(text: pa.Buffer | None, expected: int) -> pa.Table | None:
    """The records as Arrow reads them, or None if it refuses them or does not find one per line."""
    if text is None:
        return None
    try:
        table = pj.read_json(pa.BufferReader(text), parse_options=_JSON_OPTIONS)
    except (pa.ArrowException, ValueError):  # ValueError: Arrow quoting bytes that are not UTF-8
        return None
    # Every line starts with "{" and ends with "}" and a string cannot hold a raw newline, so an
    # object cannot span two lines: one record per line exactly when the counts agree.
    return table if table.num_rows == expected else None


def _exact_cost(lines: _Lines, records: np.ndarray, table: pa.Table) -> pl.Series | None:
    """Which records spell cost_usd plainly (see _PLAIN_COST); None when none has one."""
    if table.column("cost_usd").null_count == table.num_rows:
        return None
    # each record's text runs to the next record's start (the blank lines between are whitespace)
    offsets = np.append(lines.starts[records], lines.ends[records[-1]]).astype(np.int64)
    texts = pa.LargeStringArray.from_buffers(len(records), pa.py_buffer(offsets), pa.py_buffer(lines.block))
    return pl.Series(texts).str.contains(_PLAIN_COST)


def _rows_table(rows: pl.DataFrame) -> pa.Table:
    """Accepted rows as the writer takes them: ts from UTC µs, cost_usd exact from micro-dollars."""
    table = rows.to_arrow()
    ts = table.column("ts").cast(pa.int64()).cast(EVENTS_ARROW.field("ts").type)
    table = table.set_column(EVENTS_ARROW.get_field_index("ts"), "ts", ts)
    cost = decimal_usd(rows["cost_usd"].to_numpy())
    table = table.set_column(EVENTS_ARROW.get_field_index("cost_usd"), "cost_usd", cost)
    return table.cast(EVENTS_ARROW)


def _csv_items(path: Path) -> Iterator[Item]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                reasons = []
                extra = row.pop(None, None)  # type: ignore[call-overload]
                if extra:
                    reasons.append(f"{len(extra)} more cell(s) than the header has columns")
                yield reader.line_num, {k: v for k, v in row.items() if v is not None}, row, reasons, None
    except UnicodeDecodeError as error:
        raise IngestError(f"{path}: not UTF-8 text ({error})") from None
    except csv.Error as error:
        raise IngestError(f"{path}: not readable as CSV ({error})") from None


def _parquet_items(path: Path) -> Iterator[Item]:
    try:
        handle = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise IngestError(f"{path}: not readable as Parquet ({error})") from None
    number = 0
    with handle:
        for batch in handle.iter_batches(batch_size=ROW_GROUP_ROWS):
            for record in pl.from_arrow(batch).iter_rows(named=True):
                number += 1
                yield number, record, record, [], None


def _candidate_item(candidate: otlp.Candidate) -> Item:
    return None, candidate.record, candidate.original, candidate.reasons, candidate.agent_name


# --- The pipeline ----------------------------------------------------------------------------------


def _ingest(
    data_dir: Path,
    sources: list[_Source],
    validator: EventValidator,
    compact_after_files: int,
    lock_timeout: float | None = None,
) -> IngestSummary:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    pending = _Pending()
    counts = {"read": 0, "written": 0, "duplicates": 0, "quarantined": 0}
    partitions: set[str] = set()
    quarantine_files = []
    reason_counts: Counter[str] = Counter()
    for source in sources:
        with _Quarantine(data_dir, stamp, source.name, source.position, source.daily) as quarantine:
            for entry in source.items:
                if isinstance(entry, _Checked):
                    _add_checked(entry, validator, quarantine, pending, counts)
                else:
                    counts["read"] += 1
                    row = _checked_row(entry, validator, source.text_mode, quarantine)
                    if row is not None:
                        pending.add_row(row)
                while pending.size >= MAX_ROWS_IN_MEMORY:
                    _commit(data_dir, pending.take(MAX_ROWS_IN_MEMORY), counts, partitions, lock_timeout)
        counts["quarantined"] += quarantine.count
        reason_counts.update(quarantine.reasons)
        if quarantine.path:
            quarantine_files.append(quarantine.path)
    compacted: list[str] = []
    if pending.size or partitions:
        _commit(data_dir, pending.take(), counts, partitions, lock_timeout, compact_after_files, compacted)
    return IngestSummary(
        **counts,
        ignored=sum(s.ignored for s in sources),
        partitions=tuple(sorted(partitions)),
        quarantine_files=tuple(quarantine_files),
        compacted=tuple(compacted),
        reasons=tuple(reason_counts.most_common()),
    )


def _checked_row(item: Item, validator: EventValidator, text_mode: bool, quarantine: _Quarantine) -> tuple | None:
    """One record through `validate`: its row, or None once it is in quarantine with every reason."""
    position, record, original, reasons, agent_name = item
    row = None
    if record is not None:
        row, found = validator.validate(record, text_mode, agent_name)
        if reasons or found:
            row, reasons = None, reasons + found
    if row is None:
        quarantine.add(position, original, reasons)
    return row


def _add_checked(
    checked: _Checked, validator: EventValidator, quarantine: _Quarantine, pending: _Pending, counts: dict
) -> None:
    """A JSONL block: the lines left over one by one, then all its rows in line order."""
    counts["read"] += sum(t.num_rows for t in checked.rows)
    rows, lines = [], []
    for number, raw in checked.left:
        item = _jsonl_item(number, raw)
        if item is None:  # blank
            continue
        counts["read"] += 1
        row = _checked_row(item, validator, False, quarantine)
        if row is not None:
            rows.append(row)
            lines.append(number)
    tables, numbers = list(checked.rows), list(checked.lines)
    if rows:
        tables.append(_events_table(rows))
        numbers.append(np.array(lines, dtype=np.int64))
    if not tables:
        return
    table = pa.concat_tables(tables)
    if rows and len(tables) > 1:  # the first record of an id wins, so keep the file's order
        table = table.take(np.argsort(np.concatenate(numbers), kind="stable"))
    pending.add_table(table)


class _Pending:
    """Valid rows waiting to be written, in the order they arrived (the first of an id wins)."""

    def __init__(self) -> None:
        self.tables: list[pa.Table] = []
        self.rows: list[tuple] = []
        self.size = 0

    def add_row(self, row: tuple) -> None:
        self.rows.append(row)
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
            self.tables.append(_events_table(self.rows))
            self.rows = []


def _commit(
    data_dir: Path,
    table: pa.Table | None,
    counts: dict,
    partitions: set[str],
    lock_timeout: float | None,
    compact_after_files: int | None = None,
    compacted: list[str] | None = None,
) -> None:
    """Write rows (valid, maybe duplicated) into their dates' partitions; then maybe compact."""
    if table is not None:
        table = _first_of_each_id(table, counts)
    with locked(data_dir, lock_timeout):
        if table is not None and table.num_rows:
            # sorted by ts, so each UTC date's rows are one slice, the dates in order
            days = table.column("ts").cast(pa.int64()).to_numpy() // DAY_US
            bounds = [0, *(np.flatnonzero(np.diff(days)) + 1).tolist(), len(days)]
            dates = [
                (str(_EPOCH_DAY + timedelta(days=int(days[start]))), table.slice(start, stop - start))
                for start, stop in itertools.pairwise(bounds)
            ]
            # Arrow compresses and writes without Python's lock: two dates at a time (1M events a year:
            # writing 75 dates took 1.3 of the import's 4.2 s one at a time)
            with ThreadPoolExecutor(WRITERS) as pool:
                done = list(pool.map(lambda item: _append_partition(data_dir, *item), dates))
            for (utc_date, _rows), (written, duplicates) in zip(dates, done, strict=True):
                counts["written"] += written
                counts["duplicates"] += duplicates
                if written:
                    partitions.add(utc_date)
        if compact_after_files is not None and compacted is not None:
            for utc_date in sorted(partitions):
                if _auto_compact(data_dir, utc_date, compact_after_files):
                    compacted.append(utc_date)


def _first_of_each_id(table: pa.Table, counts: dict) -> pa.Table:
    """The first row of each event_id, sorted by (ts, event_id): the order of every partition file."""
    keys = pl.from_arrow(table.select(["ts", "event_id"])).with_row_index("row")
    keep = keys.filter(pl.col("event_id").is_first_distinct()).sort("ts", "event_id")["row"].to_numpy()
    keep = keep.astype(np.int64)
    counts["duplicates"] += table.num_rows - len(keep)
    # An export in time order moves only a few rows (equal ts, duplicates): keep the runs of rows
    # that stay together as slices of the table instead of copying every column.
    breaks = np.flatnonzero(np.diff(keep) != 1) + 1
    if len(breaks) > len(keep) // 1000:
        return table.take(keep)
    runs = itertools.pairwise([0, *breaks.tolist(), len(keep)])
    return pa.concat_tables([table.slice(int(keep[start]), stop - start) for start, stop in runs])


def _append_partition(data_dir: Path, utc_date: str, table: pa.Table) -> tuple[int, int]:
    """Drop ids the date has already, write the rest (sorted already) as one new file; answers rows written
    and duplicates dropped."""
    existing = _existing_ids(_files(data_dir, utc_date))
    duplicates = 0
    if existing is not None:
        seen = pc.is_in(table.column("event_id"), value_set=existing)
        duplicates = pc.sum(seen).as_py() or 0
        table = table.filter(pc.invert(seen))
    if table.num_rows == 0:
        return 0, duplicates
    _write_partition_file(schema.partition_dir(data_dir, utc_date), table)
    return table.num_rows, duplicates


def _existing_ids(files: list[Path]) -> pa.Array | None:
    if not files:
        return None
    chunks = []
    for path in files:
        column = pq.read_table(path, columns=["event_id"]).column("event_id")
        chunks.extend(chunk.cast(pa.large_string()) for chunk in column.chunks)
    return pa.concat_arrays(chunks) if chunks else None


def _events_table(rows: list[tuple]) -> pa.Table:
    columns = list(zip(*rows, strict=True))
    names = EVENTS_ARROW.names
    arrays = []
    for name, values in zip(names, columns, strict=True):
        kind = EVENTS_ARROW.field(name).type
        if name == "cost_usd":
            arrays.append(decimal_usd(np.fromiter(values, dtype=np.int64, count=len(values))))
        else:
            arrays.append(pa.array(values, type=kind))
    return pa.Table.from_arrays(arrays, schema=EVENTS_ARROW)


def decimal_usd(micro: np.ndarray) -> pa.Array:
    """Decimal(18, 6) dollars from integer micro-dollars, exactly (as data/demo.py writes them)."""
    words = np.empty((micro.size, 2), dtype=np.int64)
    words[:, 0] = micro
    words[:, 1] = micro >> 63
    return pa.Array.from_buffers(pa.decimal128(18, 6), micro.size, [None, pa.py_buffer(words)])


def _write_partition_file(folder: Path, table: pa.Table) -> Path:
    """A new file in the partition: written hidden, flushed, renamed into place."""
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    if created:
        _fsync(folder.parent)
    name = f"part-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.parquet"
    draft = folder / f".{name}.tmp"
    pq.write_table(table, draft, compression="zstd", row_group_size=ROW_GROUP_ROWS, store_decimal_as_integer=True)
    _fsync(draft)
    os.replace(draft, folder / name)
    _fsync(folder)
    return folder / name


# --- Quarantine --------------------------------------------------------------------------------------


MAX_DISTINCT_REASONS = 1000


class _Quarantine:
    """`$DATA_DIR/quarantine/<UTC time>-<source>.jsonl`, one JSON object per refused record.

    Written as a hidden temp file and renamed when the source is done; for the live receiver the
    lines are appended to `<UTC date>-otlp-http.jsonl` instead, so a chatty sender makes one file a day.
    """

    def __init__(self, data_dir: Path, stamp: str, source: str, position: str = "line", daily: bool = False) -> None:
        self.folder = Path(data_dir) / QUARANTINE
        self.source = source
        self.position = position  # "line" of a text file, "row" of a Parquet file
        self.daily = daily  # append to <UTC date>-<source>.jsonl (the live receiver) instead
        self.name = f"{stamp}-{re.sub(r'[^A-Za-z0-9._-]+', '_', Path(source).stem)[:80]}.jsonl"
        self.count = 0
        self.reasons: Counter[str] = Counter()
        self.path: Path | None = None
        self._draft: Path | None = None
        self._out = None

    def __enter__(self) -> _Quarantine:
        return self

    def add(self, position: int | None, original: object, reasons: list[str]) -> None:
        if self._out is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._draft = self.folder / f".{self.name}.{secrets.token_hex(4)}.tmp"
            self._out = open(self._draft, "w", encoding="utf-8")  # noqa: SIM115 (closed in __exit__)
        if callable(original):
            original = original()
        head = {"reason": "; ".join(reasons), "source": self.source}
        if len(self.reasons) < MAX_DISTINCT_REASONS or head["reason"] in self.reasons:
            self.reasons[head["reason"]] += 1
        if position is not None:
            head[self.position] = position
        if isinstance(original, RawJson):
            record = original
        else:
            record = json.dumps(original, default=_json_value, ensure_ascii=False)
        self._out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "record": ' + record + "}\n")
        self.count += 1

    def __exit__(self, *exc) -> None:
        if self._out is None:
            return
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        if self.daily:
            self.path = self._append_to_daily_file()
            return
        target = self.folder / self.name
        serial = 1
        while target.exists():
            serial += 1
            target = self.folder / self.name.replace(".jsonl", f"-{serial}.jsonl")
        os.replace(self._draft, target)
        self.path = target

    def _append_to_daily_file(self) -> Path:
        """The receiver's refusals go to one file per UTC day, appended whole under a lock."""
        target = self.folder / f"{self.name.split('T', 1)[0]}-{self.source}.jsonl"
        content = self._draft.read_bytes()
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        self._draft.unlink()
        return target


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


# --- Locking, recovery, compaction -----------------------------------------------------------------


@contextlib.contextmanager
def locked(data_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """The data folder's one-writer lock (flock: between processes and between threads alike)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline is not None else 0))
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IngestBusy("another import or compaction is running; try again shortly") from None
                time.sleep(0.02)
        _recover(data_dir)
        yield
    finally:
        os.close(fd)  # releases the lock
        _data_changed()


def _data_changed() -> None:
    """This process's query cache takes the data version again (other processes do within a second)."""
    from queries import cache  # here: the data package does not need the query layer otherwise

    cache.bump()


def _recover(data_dir: Path) -> None:
    """Undo what a crashed writer left: temp files, staging folders, a half-done fallback swap."""
    for draft in [*schema.events_dir(data_dir).glob("*/.*.tmp"), *schema.directory_dir(data_dir).glob(".*.tmp")]:
        draft.unlink(missing_ok=True)
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


def _auto_compact(data_dir: Path, utc_date: str, limit: int) -> bool:
    files = _files(data_dir, utc_date)
    if len(files) <= max(limit, 1):
        return False
    small = [f for f in files if pq.read_metadata(f).num_rows < ROW_GROUP_ROWS]
    merge = small if len(small) >= 2 and len(files) - len(small) + 1 <= limit else files
    _compact_partition(data_dir, utc_date, merge)
    return True


def _compact_partition(data_dir: Path, utc_date: str, merge: list[Path]) -> Compaction:
    folder = schema.partition_dir(data_dir, utc_date)
    files = _files(data_dir, utc_date)
    keep = [f for f in files if f not in merge]
    tables = [pq.read_table(f).select(EVENTS_ARROW.names).cast(EVENTS_ARROW) for f in merge]
    merged = pa.concat_tables(tables).sort_by([("ts", "ascending"), ("event_id", "ascending")])
    staging = data_dir / STAGING / f"compact-{folder.name}-{secrets.token_hex(4)}"
    staging.mkdir(parents=True)
    for path in keep:
        try:
            os.link(path, staging / path.name)
        except OSError:
            shutil.copy2(path, staging / path.name)
    _write_partition_file(staging, merged)
    _swap_folders(staging, folder)
    _fsync(folder.parent)
    _retire(staging)  # now the old files
    rows = sum(pq.read_metadata(f).num_rows for f in _files(data_dir, utc_date))
    return Compaction(utc_date, len(files), len(keep) + 1, rows)


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


# --- Directory files -------------------------------------------------------------------------------

MAX_LISTED_PROBLEMS = 20


def _read_directory_file(name: str, path: Path) -> tuple[pl.DataFrame, list[str]]:
    columns = schema.DIRECTORY[name]
    problems: list[str] = []
    text_mode = path.suffix.lower() == ".csv"
    try:
        header, records = _directory_records(path, text_mode)
    except (IngestError, pa.ArrowException, OSError, UnicodeDecodeError, csv.Error) as error:
        return pl.DataFrame(schema=columns), [f"{path.name}: cannot read it ({error})"]
    missing = [c for c in columns if c not in header]
    extra = [c for c in header if c not in columns]
    if missing or extra:
        detail = ", ".join(filter(None, [missing and f"missing {missing}", extra and f"unexpected {extra}"]))
        return pl.DataFrame(schema=columns), [f"{path.name}: columns must be {list(columns)} ({detail})"]
    values: dict[str, list] = {c: [] for c in columns}
    for position, record in records:
        row, reasons = {}, []
        for column in columns:
            try:
                row[column] = directory_value(name, column, record.get(column), text_mode)
            except Invalid as error:
                reasons.append(str(error))
        if reasons:
            problems.append(f"{path.name} {position}: {'; '.join(reasons)}")
            continue
        for column in columns:
            values[column].append(row[column])
    if len(problems) > MAX_LISTED_PROBLEMS:
        problems = [*problems[:MAX_LISTED_PROBLEMS], f"{path.name}: … and {len(problems) - MAX_LISTED_PROBLEMS} more"]
    return _directory_frame(columns, values), problems


def _directory_records(path: Path, text_mode: bool) -> tuple[list[str], Iterator[tuple[str, dict]]]:
    if text_mode:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = [(f"line {reader.line_num}", row) for row in reader]
            return list(reader.fieldnames or []), iter(rows)
    frame = pl.read_parquet(path, hive_partitioning=False)
    return frame.columns, ((f"row {i}", r) for i, r in enumerate(frame.iter_rows(named=True), start=1))


def _directory_frame(columns: pl.Schema, values: dict[str, list]) -> pl.DataFrame:
    series = []
    for column, dtype in columns.items():
        data = values[column]
        if isinstance(dtype, pl.Decimal):
            series.append(pl.Series(column, decimal_usd(np.array(data, dtype=np.int64))))
        elif isinstance(dtype, pl.Datetime):
            series.append(pl.Series(column, data, dtype=pl.Int64).cast(dtype))
        else:
            series.append(pl.Series(column, data, dtype=dtype))
    return pl.DataFrame(series).cast(dict(columns))
