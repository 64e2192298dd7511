"""Reading event files (JSONL, CSV, Parquet, OTLP/JSON) and OTLP requests as records to validate."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from data.ingest import otlp
from data.ingest.jsonl import Item, _Checked, _jsonl_blocks
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
