"""Compaction: a partition's files merged into one, the folder swapped whole (storage.py)."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from data import schema
from data.ingest.commit import writing
from data.ingest.storage import (
    ROW_GROUP_ROWS,
    STAGING,
    _files,
    _fsync,
    _partition_dates,
    _retire,
    _swap_folders,
    _write_partition_file,
    as_contract,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Compaction:
    utc_date: str
    files_before: int
    files_after: int
    rows: int


def compact(
    data_dir: Path, partitions: Iterable[str] | None = None, *, lock_timeout: float | None = None
) -> list[Compaction]:
    """Merge each partition's files into one file sorted by ts; by default every date with 2+ files."""
    data_dir = Path(data_dir)
    done = []
    # A compaction changes no row: the write records the folders it swapped and leaves the rollups be.
    with writing(data_dir, lock_timeout=lock_timeout):
        if partitions is None:
            dates = [d for d in _partition_dates(data_dir) if len(_files(data_dir, d)) > 1]
        else:
            dates = [str(date.fromisoformat(str(d))) for d in partitions]
        for utc_date in dates:
            files = _files(data_dir, utc_date)
            if files:
                done.append(_compact_partition(data_dir, utc_date, files))
    return done


def _auto_compact(data_dir: Path, utc_date: str, limit: int) -> bool:
    files = _files(data_dir, utc_date)
    if len(files) <= max(limit, 1):
        return False
    small = [f for f in files if pq.read_metadata(f).num_rows < ROW_GROUP_ROWS]
    merge = small if len(small) >= 2 and len(files) - len(small) + 1 <= limit else files
    try:
        _compact_partition(data_dir, utc_date, merge)
    except schema.EventFileError as error:  # the import's rows are written: the date stays as it is
        logger.warning("Compacting %s left undone: %s", utc_date, error)
        return False
    return True


def _compact_partition(data_dir: Path, utc_date: str, merge: list[Path]) -> Compaction:
    folder = schema.partition_dir(data_dir, utc_date)
    files = _files(data_dir, utc_date)
    keep = [f for f in files if f not in merge]
    tables = [as_contract(pq.read_table(f), f) for f in merge]
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
