"""Where the rollups live and how to tell whether they are current (written by data/rollups/build.py).

Three tables, each one Parquet file per local month (`rollups/<table>/month=YYYY-MM/part-0.parquet`).
`rollups/manifest.json` records the time zone their local days are in and a signature of the event
files they were built from (each partition folder's and file's name, inode, mtime and size); they
answer only while both still hold.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import polars as pl

from data import schema
from data.schema import empty_select, literal

# The layout's version: rollups of another version are not read (raw events are) until rebuilt.
# 2: the user index holds day sets; 3: and month levels; 4: and per-month sums and days;
# 5: token and latency sums are DECIMAL(38,0), exact over any value (Parquet keeps no 128-bit integer).
FORMAT = 5
TABLES = ("cube", "hours", "user_day")
MANIFEST = "manifest.json"
INDEX_PREFIX = "index-"
# Table schemas, for the typed, empty stand-in views the app uses before the first build.
ROLLUP_SCHEMAS = {
    "cube": pl.Schema(
        {
            "day": pl.Date,
            "team_id": pl.String,
            "agent_id": pl.String,
            "model": pl.String,
            "interactions": pl.Int64,
            "errors": pl.Int64,
            "input_tokens": pl.Decimal(38, 0),
            "output_tokens": pl.Decimal(38, 0),
            "cost_usd": pl.Decimal(38, 6),
            "latency_sum": pl.Decimal(38, 0),
            "latency_count": pl.Int64,
            "month": pl.String,
        }
    ),
    "hours": pl.Schema(
        {
            "day": pl.Date,
            "hour": pl.Int32,
            "team_id": pl.String,
            "agent_id": pl.String,
            "interactions": pl.Int64,
            "month": pl.String,
        }
    ),
    "user_day": pl.Schema(
        {
            "day": pl.Date,
            "user_id": pl.String,
            "team_id": pl.String,
            "agent_id": pl.String,
            "interactions": pl.Int64,
            "errors": pl.Int64,
            "cost_usd": pl.Decimal(38, 6),
            "first_ts": schema.UTC_TS,
            "last_ts": schema.UTC_TS,
            "month": pl.String,
        }
    ),
}


def rollups_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "rollups"


def table_files(data_dir: Path, table: str) -> Path:
    """The glob of one table's files."""
    return rollups_dir(data_dir) / table / "month=*" / "*.parquet"


def signature(data_dir: Path, events: tuple | None = None) -> str:
    """A digest of the event files as they are now (stat calls only), or as `events_fingerprint` saw them."""
    return hashlib.sha256(repr(events if events is not None else events_fingerprint(data_dir)).encode()).hexdigest()


def read_manifest(data_dir: Path) -> dict | None:
    try:
        manifest = json.loads((rollups_dir(data_dir) / MANIFEST).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


def current_manifest(data_dir: Path, events: tuple | None = None) -> dict | None:
    """The rollups' manifest if they answer for the event files there now (or as `events` saw them), else None."""
    manifest = read_manifest(data_dir)
    if manifest is None or manifest.get("events") != signature(data_dir, events):
        return None
    return manifest


def index_folder(data_dir: Path, manifest: dict) -> Path | None:
    """The folder of the saved user index (queries/user_index.py) a manifest names, if any."""
    name = manifest.get("index")
    if not isinstance(name, str) or not name.startswith(INDEX_PREFIX) or "/" in name:
        return None
    folder = rollups_dir(data_dir) / name
    return folder if folder.is_dir() else None


def rollup_view_sql(data_dir: Path, table: str) -> str:
    """The select a rollup table's view stands for: its monthly files, or a typed, empty stand-in."""
    if not any(rollups_dir(data_dir).glob(f"{table}/month=*/*.parquet")):
        return empty_select(ROLLUP_SCHEMAS[table])
    return (
        f"select * from read_parquet({literal(table_files(data_dir, table))}, "  # noqa: S608
        "hive_partitioning = true, hive_types = {'month': varchar})"
    )


def _stat(entry: os.DirEntry) -> tuple:
    info = entry.stat(follow_symlinks=False)
    return (entry.name, info.st_ino, info.st_mtime_ns, info.st_size)


def _listing(folder: Path | str) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return []


def events_fingerprint(data_dir: Path) -> tuple:
    """What the event files look like now: each partition folder's and each Parquet file's stat."""
    events = []
    for partition in _listing(schema.events_dir(data_dir)):
        if partition.name.startswith("."):
            continue  # staging and temp folders: not read by the events view
        files = tuple(_stat(f) for f in _listing(partition.path) if f.name.endswith(".parquet"))
        events.append((_stat(partition), files))
    return tuple(events)
