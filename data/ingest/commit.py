"""One write to the data folder, whole: under the ingestion lock, the event or directory files, then the
rollups of the local days they touched (data/rollups/build.py), then the data version, written last.

Every writer goes through `writing`: ingestion (files and OTLP), compaction, purge, directory import.
A reader that sees the new version (data/schema.py, one small file) sees rollups that include the write,
or is told they do not (data/rollups/manifest.py, `rollups_check`) and shows no figure until they do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from data import schema
from data.ingest.storage import locked
from data.rollups import build as rollup_build
from data.rollups.build import Build
from data.rollups.manifest import current_manifest, read_manifest

logger = logging.getLogger(__name__)
_after_write: list[Callable[[Path], None]] = []


def after_write(callback: Callable[[Path], None]) -> None:
    """Have `callback(data_dir)` called after each write of this process that changed events, once the data
    version is written (the alerts' checker is woken so). It must return at once: the writer waits for it."""
    _after_write.append(callback)


@dataclass
class Write:
    """What a write changed, told by the writer as it goes; the rollups' update once it is done."""

    tz: str | None  # the organization's zone (ORG_TIMEZONE); None: the rollups' own, if there are any
    utc_dates: set[str] = field(default_factory=set)  # UTC dates whose events changed
    directory: bool = False
    rollups: Build | None = None
    rollup_error: str | None = None

    def events_changed(self, utc_dates: Iterable[str]) -> None:
        """Told before the files are replaced: a write that fails half-way has still changed them."""
        self.utc_dates.update(str(d) for d in utc_dates)

    def directory_changed(self) -> None:
        self.directory = True


@contextlib.contextmanager
def writing(data_dir: Path, tz: str | None = None, lock_timeout: float | None = None) -> Iterator[Write]:
    """Hold the ingestion lock for one write, marked under way in the data version; at its end (even a
    failed one) update the rollups of the local days it touched and write the data version last."""
    data_dir = Path(data_dir)
    with locked(data_dir, lock_timeout):
        # Before any folder changes: readers then take the partition folders this write adds or swaps
        # for its own, not for a change by hand (data/schema.py, `begin_write`).
        schema.begin_write(data_dir, rollups=read_manifest(data_dir) is not None)
        write = Write(tz)
        try:
            yield write
        finally:
            _finish(data_dir, write)


def _finish(data_dir: Path, write: Write) -> None:
    """The rollups of the days touched (all of them on the first write, or in a new zone), then the version.

    A failed update leaves the rollups behind the events, which readers see and say (the write itself
    stands: its files are in place); the next successful update (then a full build: data/rollups/build.py) or
    `flask --app app rollup` mends it.
    """
    tz = write.tz or (read_manifest(data_dir) or {}).get("tz")
    built = False
    try:
        if write.utc_dates and tz is None:
            logger.warning("No time zone given and no rollups to follow: the rollups are not updated")
        elif write.utc_dates:
            write.rollups = rollup_build.build(data_dir, tz, rollup_build.local_days_of(_dates(write.utc_dates)))
            built = True  # the build wrote the version
    except Exception as error:
        logger.exception("Updating the rollups for %s failed; readers rebuild them", sorted(write.utc_dates))
        write.rollup_error = str(error) or type(error).__name__
    finally:  # even when interrupted: the files changed, and readers must know
        if not built:
            schema.write_version(data_dir, data_changed=bool(write.utc_dates) or write.directory,
                                 events_changed=bool(write.utc_dates))  # fmt: skip
    if write.utc_dates:
        tell_after_write(data_dir)


def tell_after_write(data_dir: Path) -> None:
    """Call the callbacks of `after_write` (a write of any store that changed events)."""
    for callback in list(_after_write):
        try:
            callback(data_dir)
        except Exception:  # a listener's failure is not the write's
            logger.exception("A callback after the write failed")


def rebuild_rollups(data_dir: Path, tz: str) -> Build | None:
    """Every rollup built again in zone `tz`, unless they answer for the data folder as it is now (another
    process may have done it while this one waited for the lock): what readers ask for (queries/db.py)."""
    with locked(data_dir):  # first: taking it marks what a writer that died left (data/ingest/storage.py)
        if current_manifest(data_dir, tz) is not None:
            return None
        return rollup_build.build(data_dir, tz)


def _dates(utc_dates: Iterable[str]) -> list[dt.date]:
    return sorted(dt.date.fromisoformat(d) for d in utc_dates)
