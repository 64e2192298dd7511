"""Importing directory files (users, teams, agents, team managers, prices): each checked, and the
directory as it would be afterwards, before any file is replaced.
"""

from __future__ import annotations

import csv
import os
import secrets
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from data import schema
from data.ingest.checks import MAX_PRICE_MICRO, Invalid, day, flag, instant_us, is_missing, micro_usd, one_of, text
from data.ingest.readers import holds_wide, narrow_decimals
from data.ingest.storage import IngestError, _fsync, decimal_usd
from data.ingest.store import Store, store_of


class DirectoryImportError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def import_directory(data_dir: Path, paths: Iterable[Path], store: Store | None = None) -> dict[str, int]:
    """Validate directory files (users.csv, teams.parquet, ...) and replace each one atomically.

    Every file is checked (types, required cells, roles) and so is the directory as it would be
    afterwards (unique keys, team and user references, price ranges); any problem and nothing is
    replaced. Answers rows per table written. `store`: where the directory is kept (the data folder's
    files by default; data/ingest/store.py).
    """
    store = store_of(data_dir, store)
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
    merged = {name: new[name] if name in new else store.directory_frame(name) for name in schema.DIRECTORY}
    problems = directory_problems(merged)
    if problems:
        raise DirectoryImportError(problems)
    with store.writing(None) as write:
        write.directory_changed()
        store.replace_directory(new)
    return {name: frame.height for name, frame in new.items()}


def write_directory_files(data_dir: Path, frames: dict[str, pl.DataFrame]) -> None:
    """The Parquet store's directory: each table's file written aside and renamed in (under the lock)."""
    folder = schema.directory_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        draft = folder / f".{name}.parquet.{secrets.token_hex(4)}.tmp"
        frame.write_parquet(draft, compression="zstd")
        _fsync(draft)
        os.replace(draft, folder / f"{name}.parquet")
    _fsync(folder)


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
    if not any(holds_wide(field.type) for field in pq.read_schema(path)):
        frame = pl.read_parquet(path, hive_partitioning=False)
        return frame.columns, ((f"row {i}", r) for i, r in enumerate(frame.iter_rows(named=True), start=1))
    narrowed, wide = narrow_decimals(pq.read_table(path))  # Polars does not take decimals of 39 digits or more
    frame = pl.from_arrow(narrowed)
    rows = (wide.restore(i, r) for i, r in enumerate(frame.iter_rows(named=True)))
    return frame.columns, ((f"row {i}", r) for i, r in enumerate(rows, start=1))


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


# --- The directory files ---------------------------------------------------------------------------

# Columns that may be empty; every other directory column is required.
NULLABLE = {("prices", "valid_to")}
DIRECTORY_CHOICES = {("users", "role"): schema.ROLES}


def directory_value(table: str, name: str, raw: object, text_mode: bool) -> object:
    """One directory cell in its contract type (money in micro-dollars, timestamps in UTC µs)."""
    if is_missing(raw, text_mode):
        if (table, name) in NULLABLE:
            return None
        raise Invalid(f"{name} is missing")
    dtype = schema.DIRECTORY[table][name]
    if (table, name) in DIRECTORY_CHOICES:
        return one_of(raw.strip() if isinstance(raw, str) and text_mode else raw, name, DIRECTORY_CHOICES[table, name])
    if isinstance(dtype, pl.Decimal):
        return micro_usd(raw, name, MAX_PRICE_MICRO, "for a price per million tokens")
    if isinstance(dtype, pl.Datetime):
        return instant_us(raw, name)
    if dtype == pl.Date:
        return day(raw, name)
    if dtype == pl.Boolean:
        return flag(raw, name, text_mode)
    value = text(raw, name)
    if name == "email" and "@" not in value:
        raise Invalid(f"email {value!r} is not an email address")
    return value


def directory_problems(frames: dict[str, pl.DataFrame]) -> list[str]:
    """Keys unique, references resolved, price ranges sane: over the directory as it would be."""
    problems: list[str] = []

    def unique(table: str, columns: list[str], label: str, lower: bool = False) -> None:
        frame = frames[table].select(columns)
        if lower:
            frame = frame.with_columns(pl.col(columns[0]).str.to_lowercase())
        repeated = frame.filter(frame.is_duplicated()).unique(maintain_order=True)
        for row in repeated.head(5).iter_rows():
            problems.append(f"{table}: {label} {', '.join(map(repr, row))} appears more than once")

    def resolved(table: str, column: str, target: str, key: str) -> None:
        known = set(frames[target][key].to_list())
        missing = sorted({v for v in frames[table][column].to_list() if v not in known})
        if missing:
            shown = ", ".join(map(repr, missing[:5])) + (" …" if len(missing) > 5 else "")
            problems.append(f"{table}: {column} not in {target}.{key}: {shown}")

    unique("users", ["user_id"], "user_id")
    unique("users", ["email"], "email (case-insensitive)", lower=True)
    unique("teams", ["team_id"], "team_id")
    unique("agents", ["agent_id"], "agent_id")
    unique("team_managers", ["user_id", "team_id"], "row")
    resolved("users", "team_id", "teams", "team_id")
    resolved("team_managers", "user_id", "users", "user_id")
    resolved("team_managers", "team_id", "teams", "team_id")
    resolved("agents", "owner_team_id", "teams", "team_id")
    by_model: dict[str, list[tuple[date, date | None]]] = {}
    for model, start, end in frames["prices"].select("model", "valid_from", "valid_to").iter_rows():
        if end is not None and end < start:
            problems.append(f"prices: {model!r} valid_to {end} is before valid_from {start}")
        by_model.setdefault(model, []).append((start, end))
    for model, ranges in sorted(by_model.items()):
        ranges.sort(key=lambda r: r[0])
        latest_end: date | None = ranges[0][1]
        for start, end in ranges[1:]:
            if latest_end is None or latest_end >= start:
                problems.append(f"prices: {model!r} has overlapping validity ranges (from {start})")
            if latest_end is not None:
                latest_end = None if end is None else max(latest_end, end)
    return problems
