"""CSV, a block at a time: lines in the plain form read column-wise by Arrow, the rest by `csv`.

Reading a file with `csv.DictReader` and checking each record in Python costs ~15 µs a record; a
large file is read in blocks instead. A line is given to Arrow only where Arrow and `csv` surely read
the same cells from it: exactly one cell per header column, each cell either without quotes, commas,
line breaks or NUL, or wholly quoted with doubled quotes inside, and the line not longer than `csv`'s
field limit. Every other line (a quoted line break, a lone carriage return, a cell too many, a stray
quote) starts a record read by `csv` itself, as the whole file used to be, until it ends at the end of a
line; then Arrow takes over again. Text cells are then typed where their spelling is plain (`12`,
`0.25`, an ISO timestamp) and checked as columns (`EventValidator.accept_columns`); every record not
accepted goes to `validate` as a dict of its cells, so the reasons and the quarantine are as before.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pv

from data.ingest.checks import EVENT_FIELDS
from data.ingest.jsonl import Item, _Checked, _rows_table
from data.ingest.storage import IngestError
from data.ingest.validate import EventValidator

CSV_BLOCK_BYTES = 16 << 20
_BOM = b"\xef\xbb\xbf"
_CR, _NL = ord("\r"), ord("\n")
_FIELD_LIMIT = csv.field_size_limit()  # a longer cell is an error of the whole file: left to `csv`
_CELL = r'(?:[^",\r\n\x00]*|"(?:[^"\r\n\x00]|"")*")'
_PIECE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # lines as a file opened with newline="" has them
_WHOLE = r"^[0-9]{1,18}$"
_COST = r"^[0-9]{1,12}(?:\.[0-9]{1,6})?$"  # as micro_usd reads it, within DECIMAL(18, 6)


def csv_blocks(path: Path, validator: EventValidator, one_by_one: Iterator[Item]) -> Iterator[_Checked | Item]:
    """The file's records: blocks checked as columns, or `one_by_one` (the `csv` reader of the whole file)
    when the header is not a plain list of event fields. A file `csv` cannot read (not UTF-8, a NUL, a cell
    past the field limit) raises the IngestError `one_by_one` raises, which says where."""
    with open(path, "rb") as handle:
        header = _plain_header(handle.readline())
        if header is None:
            yield from one_by_one
            return
        number = 2  # the line after the header
        while block := handle.read(CSV_BLOCK_BYTES):
            if not block.endswith(b"\n"):
                block += handle.readline()  # whole lines only
            checked = _Checked(text_mode=True)
            try:
                if not block.isascii():
                    _utf8(block)
                number = _csv_block(_Lines(block, header, handle), number, validator, checked)
            except _Unreadable:
                for _item in one_by_one:  # raises, with the message a whole-file read gives
                    pass
                raise IngestError(f"{path}: not readable as CSV") from None  # (not reached)
            yield checked


class _Unreadable(Exception):
    """Bytes that are not UTF-8, or a line `csv` refuses: the whole-file reader says which."""


def _plain_header(line: bytes) -> list[str] | None:
    """The header's names when it is a plain list of distinct event fields (else the file is read by `csv`)."""
    line = line.removeprefix(_BOM).removesuffix(b"\n").removesuffix(b"\r")
    try:
        names = line.decode("utf-8").split(",")
    except UnicodeDecodeError:
        return None
    if not line or any(c in line for c in b'"\r\x00') or len(set(names)) != len(names):
        return None
    return names if set(names) <= set(EVENT_FIELDS) else None


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unreadable from None


class _Lines:
    """A block's lines, which are plain (Arrow reads them as `csv` does) or blank, and the file to read on from.

    `quick`: no line holds a quote, a carriage return or a NUL, and none is past the field limit; then every line
    is plain but for its count of cells, which Arrow checks itself (it refuses a row of another count)."""

    def __init__(self, block: bytes, header: list[str], handle: BinaryIO) -> None:
        self.block, self.header, self.handle = block, header, handle
        data = np.frombuffer(block, dtype=np.uint8)
        breaks = np.flatnonzero(data == _NL)
        self.starts = np.concatenate(([0], breaks + 1))
        self.stops = np.concatenate((breaks, [len(block)]))  # before the "\n"
        if self.starts[-1] == len(block):  # the block ends with "\n": no line after it
            self.starts, self.stops = self.starts[:-1], self.stops[:-1]
        self.ends = self.stops - ((data[np.maximum(self.stops - 1, 0)] == _CR) & (self.stops > self.starts))
        self.blank = self.ends == self.starts
        self.short = self.ends - self.starts <= _FIELD_LIMIT
        self.quick = not any(c in block for c in (b'"', b"\r", b"\x00")) and bool(self.short.all())

    @functools.cached_property
    def plain(self) -> np.ndarray:
        """Which lines are plain or blank."""
        offsets = np.append(self.starts, len(self.block)).astype(np.int64)  # each line with its line break
        texts = pl.Series(
            pa.LargeStringArray.from_buffers(len(self.starts), pa.py_buffer(offsets), pa.py_buffer(self.block))
        )
        return self.blank | (_one_line(texts, len(self.header)) & self.short)

    def raw(self, index: int) -> bytes:
        """Line `index` with its line break."""
        stop = int(self.starts[index + 1]) if index + 1 < len(self.starts) else len(self.block)
        return self.block[int(self.starts[index]) : stop]


def _one_line(texts: pl.Series, cells: int) -> np.ndarray:
    """Which lines (each with its line break) are one record of `cells` plain cells: without a quote, a
    carriage return or a NUL, by their count of commas (literal searches, a third of the pattern's CPU);
    the others by the pattern of quoted cells."""
    odd = texts.str.contains_any(['"', "\r", "\x00"]).to_numpy()
    plain = ~odd & (texts.str.count_matches(",", literal=True).to_numpy() == cells - 1)
    if odd.any():
        one_line = rf"^{_CELL}(?:,{_CELL}){{{cells - 1}}}\r?\n?$"
        plain[odd] = texts.filter(pl.Series(odd)).str.contains(one_line).to_numpy()
    return plain


def _csv_block(lines: _Lines, number: int, validator: EventValidator, checked: _Checked) -> int:
    """Plain lines to Arrow, the others to `csv`; answers the number of the next line after the block.
    A `quick` block is given to Arrow whole first: if it finds a line of another count of cells, it reads nothing
    and the block's lines are sorted out as below. The runs of plain lines between the others are read and checked
    together, in one call each (a few odd lines all over a block would otherwise make thousands of small ones)."""
    if lines.quick and _read_plain(lines, [(0, len(lines.starts), number)], validator, checked, or_csv=False):
        return number + len(lines.starts)
    odd = np.flatnonzero(~lines.plain).tolist() + [len(lines.starts)]
    begin, at = 0, 0
    runs = []  # (first line, stop, its number) of each run of plain lines
    while begin < len(lines.starts):
        while odd[at] < begin:
            at += 1
        stop = odd[at]
        if begin < stop:
            runs.append((begin, stop, number))
            number += stop - begin
        if stop < len(lines.starts):
            begin, number = _read_with_csv(lines, stop, number, checked)
        else:
            begin = stop
    _read_plain(lines, runs, validator, checked)
    checked.items.sort(key=lambda item: item[0])  # in the file's order, as the quarantine shows them
    return number


def _read_plain(
    lines: _Lines, runs: list[tuple[int, int, int]], validator: EventValidator, checked: _Checked, or_csv: bool = True
) -> bool:
    """Runs of plain lines (first, stop, the first's number) read by Arrow together and checked as columns; if Arrow
    refuses them, each run read on its own, or by `csv` (`or_csv`); or not at all (answers False, `checked`
    untouched)."""
    texts, numbers = [], []
    for begin, stop, number in runs:
        records = begin + np.flatnonzero(~lines.blank[begin:stop])
        if len(records):
            texts.append(lines.block[int(lines.starts[begin]) : int(lines.stops[stop - 1])])
            numbers.append(number + records - begin)
    if not texts:
        return True
    numbers = np.concatenate(numbers)
    table = _arrow_cells(b"\n".join(texts), lines.header)
    if table is None or table.num_rows != len(numbers):  # not expected of plain lines
        if or_csv and len(runs) > 1:
            for run in runs:
                _read_plain(lines, [run], validator, checked)
        elif or_csv:
            begin, stop, number = runs[0]
            _read_with_csv(lines, begin, number, checked, until=stop)
        return or_csv
    cells = pl.from_arrow(table)
    typed, eligible, exact = _typed(cells)
    rows, accepted = validator.accept_columns(typed, exact, eligible)
    if rows.height:
        checked.rows.append(_rows_table(rows))
        checked.lines.append(numbers[accepted])
    left = np.flatnonzero(~accepted)
    for index, record in zip(left.tolist(), cells[left].iter_rows(named=True), strict=True):
        checked.items.append((int(numbers[index]), record, record, [], None))
    return True


def _arrow_cells(text: bytes, header: list[str]) -> pa.Table | None:
    try:
        return pv.read_csv(
            pa.BufferReader(text),
            read_options=pv.ReadOptions(column_names=header, block_size=1 << 26),
            parse_options=pv.ParseOptions(newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False
            ),
        )
    except (pa.ArrowException, ValueError):
        return None


def _typed(cells: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series, pl.Series]:
    """The cells as `accept_columns` takes them, where spelt plainly: whole numbers, cost as DECIMAL(18, 6),
    an empty cell as missing. Answers the frame, which records could be typed, and which costs are exact."""
    columns, readable = [], []
    for name in EVENT_FIELDS:
        if name not in cells.columns:
            dtype = pl.Int64 if name in ("input_tokens", "output_tokens", "latency_ms") else pl.String
            columns.append(pl.lit(None, dtype=pl.Decimal(18, 6) if name == "cost_usd" else dtype).alias(name))
            continue
        cell = pl.col(name)
        missing = pl.when(cell != "").then(cell)  # an empty cell is a value not given
        if name in ("input_tokens", "output_tokens", "latency_ms"):
            columns.append(pl.when(cell.str.contains(_WHOLE)).then(cell).cast(pl.Int64).alias(name))
        elif name == "cost_usd":
            plain = cell.str.contains(_COST)
            columns.append(pl.when(plain).then(cell).cast(pl.Decimal(18, 6)).alias(name))
            readable.append((cell == "") | plain)
        elif name in ("team_id", "conversation_id"):
            columns.append(missing.alias(name))
        else:
            columns.append(cell)
    typed = cells.select(*columns, _readable=pl.all_horizontal(readable) if readable else pl.lit(True))
    eligible = typed["_readable"]
    return typed.drop("_readable"), eligible, eligible


class _Pieces:
    """Lines from a block's line on, as `csv` reads a file opened with newline="" (a lone "\\r" ends a line
    too), reading on in the file when a record goes past the block's end."""

    def __init__(self, lines: _Lines, index: int, until: int | None = None) -> None:
        self.lines, self.index, self.until = lines, index, until
        self.pending: list[str] = []
        self.pulled = 0

    def __iter__(self) -> _Pieces:
        return self

    def __next__(self) -> str:
        while not self.pending:
            self.pending = _PIECE.findall(self._line())[::-1]
        self.pulled += 1
        return self.pending.pop()

    def _line(self) -> str:
        lines = self.lines
        if self.index < len(lines.starts) and (self.until is None or self.index < self.until):
            raw = lines.raw(self.index)
        elif self.until is not None:
            raise StopIteration
        else:
            raw = lines.handle.readline()  # a quoted cell runs past the block
            if not raw:
                raise StopIteration
        self.index += 1
        return _utf8(raw)

    def at_plain_line(self) -> bool:
        """Between two lines, the next one plain (or none left in the block): Arrow may go on."""
        if self.pending:
            return False
        lines = self.lines
        return self.index >= len(lines.starts) or bool(lines.plain[self.index])


def _read_with_csv(
    lines: _Lines, index: int, number: int, checked: _Checked, until: int | None = None
) -> tuple[int, int]:
    """Records read by `csv` from line `index` (numbered `number`) until one ends before a plain line (or,
    with `until`, until that line); answers the next line's index and number."""
    pieces = _Pieces(lines, index, until)
    reader = csv.DictReader(pieces, fieldnames=lines.header)
    try:
        for row in reader:
            reasons = []
            extra = row.pop(None, None)  # type: ignore[call-overload]
            if extra:
                reasons.append(f"{len(extra)} more cell(s) than the header has columns")
            record = {k: v for k, v in row.items() if v is not None}
            checked.items.append((number - 1 + reader.line_num, record, row, reasons, None))
            if until is None and pieces.at_plain_line():
                break
    except csv.Error:
        raise _Unreadable from None
    return pieces.index, number + pieces.pulled
