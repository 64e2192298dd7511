"""Where a write's rows go: the one seam between ingestion and its backend.

Reading, validation and quarantine are the same whatever the backend (data/ingest/writer.py, directory.py,
purge.py); only the last step differs, and it is a `Store`'s: `ParquetStore` writes the data folder (the
default), data/clickhouse/writes.py `ClickHouseStore` writes the organization's ClickHouse database. Both take
the data folder's one-writer lock, and both keep refused records in its quarantine folder.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import polars as pl
import pyarrow as pa

from data import schema
from data.ingest.commit import Write, writing
from data.ingest.compaction import _auto_compact
from data.ingest.storage import _append_partitions
from data.ingest.validate import Directory

if TYPE_CHECKING:
    from data.ingest.purge import DatePurge, Selection


class Store(Protocol):
    data_dir: Path  # the lock, the quarantine folder, the receiver's queue of requests

    def directory(self) -> Directory:
        """Who and what exists now, as the validator needs it."""

    def directory_frame(self, name: str) -> pl.DataFrame:
        """A directory table as it is now (an empty frame of its columns if it has none)."""

    def writing(self, tz: str | None, lock_timeout: float | None = None) -> AbstractContextManager[Write]:
        """One write, whole, under the lock (data/ingest/commit.py `writing`)."""

    def append(self, dates: list[tuple[str, pa.Table]]) -> list[tuple[int, int]]:
        """Each UTC date's valid rows (sorted by ts, one row per id) stored but for the ids the date has already;
        answers rows written and duplicates dropped per date."""

    def unknown_people(self, user_ids: pa.ChunkedArray) -> set[str]:
        """The people of a batch about to be written (under the lock) whom the store no longer knows, though the
        validator did: their events are quarantined, as an unknown user's."""

    def compact(self, utc_date: str, limit: int) -> bool:
        """Merge the date's stored pieces if there are more than `limit`; True if it did."""

    def replace_directory(self, frames: dict[str, pl.DataFrame]) -> None:
        """These directory tables replaced whole, each at once (checked already)."""

    def has_events_of(self, user_id: str) -> bool:
        """Whether any stored event is this person's."""

    def remove(
        self, selection: Selection, write: Write, dry_run: bool, started: Callable[[], None]
    ) -> list[DatePurge]:
        """The selected events removed (or only counted), per UTC date; `started()` before the first change."""


@dataclass
class ParquetStore:
    """The data folder: a UTC date's events are the Parquet files of its partition (data/ingest/storage.py)."""

    data_dir: Path

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)

    def directory(self) -> Directory:
        return Directory.load(self.data_dir)

    def directory_frame(self, name: str) -> pl.DataFrame:
        path = schema.directory_dir(self.data_dir) / f"{name}.parquet"
        return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=schema.DIRECTORY[name])

    def writing(self, tz: str | None, lock_timeout: float | None = None) -> AbstractContextManager[Write]:
        return writing(self.data_dir, tz, lock_timeout)

    def append(self, dates: list[tuple[str, pa.Table]]) -> list[tuple[int, int]]:
        return _append_partitions(self.data_dir, dates)

    def unknown_people(self, user_ids: pa.ChunkedArray) -> set[str]:
        return set()  # the folder keeps nothing per person that a write must find (DuckDB codes from the events)

    def compact(self, utc_date: str, limit: int) -> bool:
        return _auto_compact(self.data_dir, utc_date, limit)

    def replace_directory(self, frames: dict[str, pl.DataFrame]) -> None:
        from data.ingest.directory import write_directory_files  # it imports this module

        write_directory_files(self.data_dir, frames)

    def has_events_of(self, user_id: str) -> bool:
        from data.ingest.purge import events_of  # it imports this module

        return events_of(self.data_dir, user_id)

    def remove(
        self, selection: Selection, write: Write, dry_run: bool, started: Callable[[], None]
    ) -> list[DatePurge]:
        from data.ingest.purge import remove_from_files  # it imports this module

        return remove_from_files(self.data_dir, selection, write, dry_run, started)


def store_of(data_dir: Path, store: Store | None) -> Store:
    """The store given, else the data folder's own."""
    return store if store is not None else ParquetStore(Path(data_dir))
