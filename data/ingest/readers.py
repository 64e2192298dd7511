"""Reading event files (JSONL, CSV, Parquet, OTLP/JSON) and OTLP requests: a batch of columns at a time
for the column check (`EventValidator.accept_columns`), records for `validate` where it does not accept them."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data.ingest import otlp, otlp_columns
from data.ingest.csv_blocks import csv_blocks
from data.ingest.jsonl import Item, _Checked, _jsonl_blocks, _rows_table
from data.ingest.storage import ROW_GROUP_ROWS, IngestError
from data.ingest.validate import (
    EVENT_FIELDS,
    EventValidator,
)

FORMATS = ("jsonl", "csv", "parquet", "otlp-json")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".json": "otlp-json"}


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


def detect_format(path: Path) -> str:
    found = EXTENSIONS.get(Path(path).suffix.lower())
    if found is None:
        raise IngestError(f"{path}: cannot tell the format from the extension; pass --format ({'|'.join(FORMATS)})")
    return found


@dataclass
class _Source:
    name: str
    items: Iterator[Item | _Checked]
    text_mode: bool = False
    ignored: int = 0
    position: str = "line"
    daily: bool = False  # one quarantine file per UTC day (the receiver: many small requests)
    # the same records read again, with another validator (data/ingest/late.py); None: they cannot be
    recall: Callable[[EventValidator], Iterator[Item | _Checked]] | None = None


def _reader(
    path: Path, kind: str, fmt: str | None, validator: EventValidator, team_attribute: str
) -> tuple[Iterator[Item | _Checked], bool, int]:
    if kind == "jsonl":
        return _jsonl_blocks(path, validator), False, 0
    if kind == "csv":
        return csv_blocks(path, validator, _csv_items(path)), True, 0
    if kind == "parquet":
        return _parquet_blocks(path, validator), False, 0
    columns = otlp_columns.read_file(path, validator, team_attribute)
    if columns is not None:
        blocks, ignored = columns
        return blocks, False, ignored
    try:
        requests = otlp.read_json_file(path)
    except otlp.OtlpDecodeError as error:
        raise _read_as_wrong_format(path, kind, fmt, str(error)) from None
    found, ignored = otlp.candidates(requests, team_attribute)
    if requests and not found and not ignored and not otlp.has_export_shape(path):
        # Other JSON (event records, one per line) parses as exports of nothing: unknown keys are skipped.
        raise _read_as_wrong_format(path, kind, fmt, "no records, not one OTLP span")
    return (_candidate_item(c) for c in found), False, ignored


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


def _parquet_blocks(path: Path, validator: EventValidator) -> Iterator[_Checked]:
    """A Parquet file a batch of rows at a time, checked as columns; only the rows the column check does
    not accept become Python records (for `validate`, and the quarantine file)."""
    try:
        handle = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise IngestError(f"{path}: not readable as Parquet ({error})") from None
    first_row = 1
    with handle:
        # a reader per row group: one reader over the whole file keeps what it read until it is closed
        for group in range(handle.num_row_groups):
            for batch in handle.iter_batches(batch_size=ROW_GROUP_ROWS, row_groups=[group]):
                narrowed, wide = narrow_decimals(batch)
                frame = pl.from_arrow(narrowed)
                yield _parquet_block(frame, first_row, validator, wide)
                first_row += frame.height


@dataclass
class Wide:
    """Decimal columns wider than Polars takes (more than 38 digits), as the file has them, and the rows whose
    value does not fit in 38 digits: those rows are left to the per-record checks, with the file's values."""

    columns: dict[str, pa.Array | pa.ChunkedArray]
    rows: np.ndarray  # bool per row

    def restore(self, index: int, record: dict) -> dict:
        """A row's record with the file's own values in the wide columns, where they did not fit."""
        if self.rows[index]:
            record.update((name, column[index].as_py()) for name, column in self.columns.items())
        return record


def narrow_decimals(table: pa.RecordBatch | pa.Table) -> tuple[pa.RecordBatch | pa.Table, Wide | None]:
    """The rows with each decimal column of more than 38 digits (Arrow's decimal256, which Polars does not take:
    a Rust panic) as 38 digits of the same scale where its value fits, 0 where it does not (those rows held back:
    `Wide`)."""
    found = [index for index, field in enumerate(table.schema) if holds_wide(field.type)]
    if not found:
        return table, None
    wide, held, columns = {}, np.zeros(table.num_rows, dtype=bool), list(table.columns)
    for index in found:
        field, column = table.schema.field(index), table.column(index)
        fits, columns[index] = _narrowed(field.type, column, table.num_rows)
        wide[field.name] = column
        held |= ~pl.Series(fits, dtype=pl.Boolean).to_numpy()
    return type(table).from_arrays(columns, names=table.schema.names), Wide(wide, held)


def _narrowed(kind: pa.DataType, column: pa.Array | pa.ChunkedArray, rows: int) -> tuple[pa.Array, pa.Array]:
    """Which values fit in 38 digits, and the column with those values and 0 (null: nested) for the others."""
    if not pa.types.is_decimal256(kind):  # inside a list or struct: no event field is one, so `validate` refuses
        return pc.is_null(column), pa.nulls(rows)
    scale = kind.scale
    if 0 <= scale <= 38:
        fits = pc.less(pc.abs(column), pa.scalar(Decimal(10) ** (38 - scale), pa.decimal256(76, scale)))
        fits = pc.fill_null(fits, True)
    else:  # no 38-digit decimal has this scale
        fits = pc.is_null(column)
    narrow = pa.decimal128(38, min(max(scale, 0), 38))
    return fits, pc.cast(pc.if_else(fits, column, pa.scalar(Decimal(0), kind)), narrow)


def holds_wide(kind: pa.DataType) -> bool:
    """Whether a column of this type holds a decimal of more than 38 digits, at any depth."""
    if pa.types.is_decimal256(kind):
        return True
    if pa.types.is_dictionary(kind):
        return holds_wide(kind.value_type)
    return any(holds_wide(kind.field(index).type) for index in range(kind.num_fields))


def _parquet_block(frame: pl.DataFrame, first_row: int, validator: EventValidator, wide: Wide | None) -> _Checked:
    checked = _Checked()
    typed, eligible = _event_columns(frame)
    accepted = np.zeros(frame.height, dtype=bool)
    if typed is not None:
        if wide is not None:
            eligible = eligible & pl.Series(~wide.rows)
        rows, accepted = validator.accept_columns(typed, None, eligible)
        if rows.height:
            checked.rows.append(_rows_table(rows))
            checked.lines.append(first_row + np.flatnonzero(accepted))
    left = np.flatnonzero(~accepted)
    if len(left):
        for index, record in zip(left.tolist(), frame[left].iter_rows(named=True), strict=True):
            if wide is not None:
                record = wide.restore(index, record)
            checked.items.append((first_row + index, record, record, [], None))
    return checked


_WHOLE_FIELDS = ("input_tokens", "output_tokens", "latency_ms")
_TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)


def _event_columns(frame: pl.DataFrame) -> tuple[pl.DataFrame | None, pl.Series | None]:
    """Typed columns as `accept_columns` takes them (text, Int64, Decimal(18, 6), ts as it is) and which
    rows hold only values of a type that is read as it is; None when every row has an unknown field."""
    if not set(frame.columns) <= set(EVENT_FIELDS):
        return None, None
    columns, readable = [], []
    for name in EVENT_FIELDS:
        if name not in frame.columns:
            columns.append(pl.lit(None, dtype=_TARGET_TYPES.get(name, pl.String)).alias(name))
            continue
        dtype, column = frame.schema[name], pl.col(name)
        if name == "ts":
            columns.append(column)  # text, or an instant with a zone; anything else is left to `validate`
            continue
        target = _TARGET_TYPES.get(name, pl.String)
        if dtype == pl.Null:
            typed = column.cast(target)
        elif name in _WHOLE_FIELDS and dtype.is_integer():
            typed = column.cast(pl.Int64, strict=False)  # a UInt64 past Int64: null, so not accepted
        elif name == "cost_usd" and isinstance(dtype, pl.Decimal):
            typed = column.cast(target, strict=False)  # too large: null, so not accepted (below)
            if dtype.scale > 6:  # taken only where exact: more places are left to `validate`, which says so
                typed = pl.when(typed.cast(dtype, strict=False) == column).then(typed)
        elif name not in _TARGET_TYPES and isinstance(dtype, _TEXT_TYPES):
            typed = column.cast(pl.String)
        else:
            typed = pl.lit(None, dtype=target)  # another type: `validate` says why
        columns.append(typed.alias(name))
        readable.append(column.is_null() | typed.is_not_null())
    checked = frame.select(*columns, _readable=pl.all_horizontal(readable) if readable else pl.lit(True))
    return checked.drop("_readable"), checked["_readable"]


_TARGET_TYPES = {name: pl.Int64 for name in _WHOLE_FIELDS} | {"cost_usd": pl.Decimal(18, 6)}


def _candidate_item(candidate: otlp.Candidate) -> Item:
    return None, candidate.record, candidate.original, candidate.reasons, candidate.agent_name
