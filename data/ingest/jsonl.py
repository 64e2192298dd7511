"""JSON Lines, a block at a time: rows accepted column-wise by Arrow, the rest line by line."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.json as pj

from data import schema
from data.ingest.storage import EVENTS_ARROW, decimal_usd
from data.ingest.validate import (
    EventValidator,
)

# position (line or row, None for OTLP), record (None when it could not be read), original (what the
# quarantine shows), reasons found while reading, agent name to look up when there is no agent_id.
Item = tuple[int | None, object, object, list[str], str | None]


class RawJson(str):
    """JSON text as it arrived: the quarantine file embeds it verbatim, numbers and all."""


@dataclass
class _Checked:
    """A block of a file: rows already accepted column-wise, and the lines or records left to check."""

    rows: list[pa.Table] = field(default_factory=list)  # contract rows (EVENTS_ARROW), in line order
    lines: list[np.ndarray] = field(default_factory=list)  # the line number of each of those rows
    # (line number, bytes) of the lines to read with json and check one by one, in order; kept as
    # bytes so a block's worth of parsed records never piles up for the garbage collector
    left: list[tuple[int, bytes]] = field(default_factory=list)
    refused_often: bool = False  # Arrow refused lines all over the block (see _read_stretch)
    # records already read (Parquet, CSV) that the column check did not accept, in order: to `validate`
    items: list[Item] = field(default_factory=list)
    text_mode: bool = False  # the items' values are text cells (CSV)
    item_order: list[int] | None = None  # the items' places among the rows, when not their positions (OTLP)

    def records(self) -> Iterator[tuple[int, Item | None]]:
        """The lines left over, read one by one (None: blank), then the items, each with its place in the file."""
        for number, raw in self.left:
            yield number, _jsonl_item(number, raw)
        places = self.item_order or (item[0] for item in self.items)
        yield from zip(places, self.items, strict=True)


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


# A line Arrow's reader surely reads with _JSON_OPTIONS' schema: one object of known fields, each a value Arrow takes
# (text or null for the texts; an integer of at most 18 digits or null for the counts; for the cost, null or a number
# or text of at most 12 digits and 6 decimals); no lone surrogate in a text. A field given twice is not ruled out
# here: Arrow refuses it, and the block is read as `_read_stretch` does.
_SPACE = r"[ \t]*"
_HEX = "[0-9a-fA-F]"
_ESCAPE = (  # a \u escape of a surrogate only as a pair
    rf'\\(?:["\\/bfnrt]|u(?:[0-9a-cA-Ce-fE-F]{_HEX}{{3}}|[dD][0-7]{_HEX}{{2}})'
    rf"|u[dD][89abAB]{_HEX}{{2}}\\u[dD][c-fC-F]{_HEX}{{2}})"
)
_STRING = rf'"(?:[^"\\\x00-\x1f]|{_ESCAPE})*"'
_TEXTS = "|".join(name for name in _JSON_FIELDS.names if pa.types.is_string(_JSON_FIELDS.field(name).type))
_COUNTS = "|".join(name for name in _JSON_FIELDS.names if pa.types.is_integer(_JSON_FIELDS.field(name).type))
_COST = r'-?(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,6})?|"\+?(?:[0-9]{1,12}(?:\.[0-9]{1,6})?|\.[0-9]{1,6})"'
_MEMBER = (
    rf'"(?:{_TEXTS})"{_SPACE}:{_SPACE}(?:{_STRING}|null)'
    rf'|"(?:{_COUNTS})"{_SPACE}:{_SPACE}(?:-?(?:0|[1-9][0-9]{{0,17}})|null)'
    rf'|"cost_usd"{_SPACE}:{_SPACE}(?:{_COST}|null)'
)
_MEMBERS = rf"(?:{_MEMBER}){_SPACE}(?:,{_SPACE}(?:{_MEMBER}){_SPACE})*"
_SURELY_READ = rf"^{_SPACE}\{{{_SPACE}(?:{_MEMBERS})?\}}{_SPACE}\r?\n?$"


def _jsonl_blocks(path: Path, validator: EventValidator) -> Iterator[_Checked]:
    with open(path, "rb") as handle:
        first_line, refused_often = 1, False
        while block := handle.read(JSONL_BLOCK_BYTES):
            if not block.endswith(b"\n"):
                block += handle.readline()  # whole lines only
            checked, breaks = _jsonl_block(block, first_line, validator, refused_often)
            yield checked
            first_line += breaks
            refused_often = checked.refused_often


def _jsonl_block(
    block: bytes, first_line: int, validator: EventValidator, split_first: bool = False
) -> tuple[_Checked, int]:
    """Runs of lines that look like one object each go to Arrow; any other line is read on its own.
    Answers the block checked and its count of line breaks.

    `split_first`: the previous block had refused lines all over, so do not try a run whole first.
    """
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    breaks = len(ends)
    starts = np.concatenate(([0], ends + 1))
    ends = np.concatenate((ends, [len(block)]))
    last = ends - 1 - (data[np.maximum(ends - 1, 0)] == _CR)  # the last byte before "\r\n" or "\n"
    blank = last < starts
    whole = ~blank & (data[np.minimum(starts, len(block) - 1)] == _LBRACE) & (data[np.maximum(last, 0)] == _RBRACE)
    lines = _Lines(block, starts, ends, blank, first_line, block.isascii())
    checked = _Checked()
    odd = np.flatnonzero(~(whole | blank))
    stretches = []
    begin = 0
    for stop in [*odd.tolist(), len(starts)]:
        if begin < stop:
            stretches.append((begin, stop))
        if stop < len(starts):
            lines.one_by_one(stop, stop + 1, checked)
        begin = stop + 1
    if not _read_together(lines, stretches, validator, checked, split_first):
        for begin, stop in stretches:
            _read_stretch(lines, begin, stop, validator, checked, split_first)
        checked.refused_often = len(checked.left) > len(starts) // 10
    checked.left.sort(key=lambda pair: pair[0])  # in the file's order, as the quarantine shows them
    return checked, breaks


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

    def joined(self, stretches: list[tuple[int, int]]) -> pa.Buffer | None:
        """The bytes of these stretches of lines, one after the other, or None when they are not all UTF-8."""
        if len(stretches) == 1:
            return self.text(*stretches[0])
        text = b"\n".join(self.block[int(self.starts[begin]) : int(self.ends[stop - 1])] for begin, stop in stretches)
        if not self.ascii:
            try:
                text.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return pa.py_buffer(text)

    @functools.cached_property
    def texts(self) -> pl.Series | None:
        """Each line with its line break, or None when the block is not UTF-8."""
        if not self.ascii:
            try:
                self.block.decode("utf-8")
            except UnicodeDecodeError:
                return None
        offsets = np.append(self.starts, len(self.block)).astype(np.int64)
        lines = pa.LargeStringArray.from_buffers(len(self.starts), pa.py_buffer(offsets), pa.py_buffer(self.block))
        return pl.Series(lines)

    def read_by_arrow(self, records: np.ndarray) -> pl.Series:
        """Lines `records`, each with its line break: lines Arrow read, so UTF-8 even where the block is not."""
        if self.texts is not None:
            return self.texts.gather(records)
        offsets = np.append(self.starts, len(self.block)).astype(np.int64)
        buffers = [None, pa.py_buffer(offsets), pa.py_buffer(self.block)]
        lines = pa.Array.from_buffers(pa.large_binary(), len(self.starts), buffers)
        return pl.Series(lines.take(pa.array(records)).cast(pa.large_string()))

    def text(self, begin: int, stop: int) -> pa.Buffer | None:
        """The bytes of lines begin..stop-1, or None when they are not all UTF-8."""
        low, high = int(self.starts[begin]), int(self.ends[stop - 1])
        if not self.ascii:
            try:
                self.block[low:high].decode("utf-8")
            except UnicodeDecodeError:
                return None
        return pa.py_buffer(self.block).slice(low, high - low)


def _read_together(
    lines: _Lines, stretches: list[tuple[int, int]], validator: EventValidator, checked: _Checked, split_first: bool
) -> bool:
    """The lines of every stretch read by Arrow in one call and checked as columns. If Arrow refuses them (a line
    of another type, an unknown field), the lines in a form it surely reads (`_SURELY_READ`) are read in one call,
    and the others one by one. Answers False, `checked` untouched, if Arrow refuses those too, or the block is not
    UTF-8: then each stretch is read as `_read_stretch` does.

    A few odd lines all over a block would otherwise split its stretches into thousands of small calls."""
    records = np.concatenate([lines.records(begin, stop) for begin, stop in stretches] or [np.empty(0, np.int64)])
    if len(records) == 0:
        return True
    if not split_first:
        table = _arrow_records(lines.joined(stretches), len(records))
        if table is not None:
            _take(lines, records, table, validator, checked)
            checked.refused_often = False
            return True
    if lines.texts is None:
        return False
    fine = lines.texts.gather(records).str.contains(_SURELY_READ).to_numpy()
    if fine.any():
        chosen = lines.texts.gather(records[fine]).str.join("").item().encode()
        table = _arrow_records(pa.py_buffer(chosen), int(fine.sum()))
        if table is None:
            return False
        _take(lines, records[fine], table, validator, checked)
    for index in records[~fine].tolist():
        lines.one_by_one(index, index + 1, checked)
    checked.refused_often = not fine.all()
    return True


def _take(lines: _Lines, records: np.ndarray, table: pa.Table, validator: EventValidator, checked: _Checked) -> None:
    """Arrow's rows of these lines checked as columns: the accepted ones kept, the others left to `validate`."""
    rows, accepted = validator.accept_columns(pl.from_arrow(table), _exact_cost(lines, records, table))
    if rows.height:
        checked.rows.append(_rows_table(rows))
        checked.lines.append(lines.first_line + records[accepted])
    for index in records[~accepted].tolist():
        lines.one_by_one(index, index + 1, checked)


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
    _take(lines, records, table, validator, checked)


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
    return lines.read_by_arrow(records).str.contains(_PLAIN_COST)


def _rows_table(rows: pl.DataFrame) -> pa.Table:
    """Accepted rows as the writer takes them: ts from UTC µs, cost_usd exact from micro-dollars."""
    table = rows.to_arrow()
    ts = table.column("ts").cast(pa.int64()).cast(EVENTS_ARROW.field("ts").type)
    table = table.set_column(EVENTS_ARROW.get_field_index("ts"), "ts", ts)
    cost = decimal_usd(rows["cost_usd"].to_numpy())
    table = table.set_column(EVENTS_ARROW.get_field_index("cost_usd"), "cost_usd", cost)
    return table.cast(EVENTS_ARROW)
