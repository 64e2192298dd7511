"""Writes made together: the OTLP receiver's requests that arrive while a write is under way are written
in the next write as one, under one lock and with one update of the rollups (a group commit).

Each request's own rows are written by its own job, so its counts (written, duplicates) are its own; the
rollup update at the end of the shared write covers all of them. A request returns, and the receiver
acknowledges it, only once that shared write is done: its events are on disk and in the rollups (or the
write's `rollup_error` says why not). At most one shared write runs at a time per data folder in a
process; other processes still take turns on the ingestion lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from data.ingest.commit import Write
from data.ingest.storage import IngestBusy

if TYPE_CHECKING:
    from data.ingest.store import Store

Job = Callable[[Write], None]


@dataclass(eq=False)  # an entry is itself: found and removed by identity
class _Entry:
    job: Job
    write: Write | None = None
    error: BaseException | None = None
    finished: bool = False


@dataclass
class _Group:
    """The requests waiting for a data folder's next shared write, and whether one is being written."""

    waiting: list[_Entry] = field(default_factory=list)
    writing: bool = False
    turn: threading.Condition = field(default_factory=threading.Condition)


_groups: dict[Path, _Group] = {}
_groups_lock = threading.Lock()


def group(data_dir: Path) -> _Group:
    """This process's group for a data folder."""
    with _groups_lock:
        return _groups.setdefault(Path(data_dir).resolve(), _Group())


def run_together(store: Store, job: Job, tz: str | None, lock_timeout: float | None) -> Write:
    """Run `job(write)` inside a write shared with the jobs queued meanwhile; the first to find no shared
    write under way writes the queue; the others wait for theirs. Raises what the job (or the lock) raised;
    IngestBusy when `lock_timeout` passes before a write took the job in (as the lock itself would)."""
    shared = group(store.data_dir)
    entry = _Entry(job)
    deadline = None if lock_timeout is None else time.monotonic() + lock_timeout
    with shared.turn:
        shared.waiting.append(entry)
        while not entry.finished:
            if shared.writing:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0 and entry in shared.waiting:  # not taken in: give up
                    shared.waiting.remove(entry)
                    raise IngestBusy("another import or compaction is running; try again shortly")
                shared.turn.wait(left if left is None or left > 0 else None)
                continue
            shared.writing = True
            batch, shared.waiting = shared.waiting, []
            shared.turn.release()
            try:
                _write(store, batch, tz, lock_timeout)
            finally:
                shared.turn.acquire()
                shared.writing = False
                shared.turn.notify_all()
    if entry.error is not None:
        raise entry.error
    return entry.write


def _write(store: Store, batch: list[_Entry], tz: str | None, lock_timeout: float | None) -> None:
    """One write for the whole batch; every entry is finished afterwards, with the write or an error."""
    try:
        with store.writing(tz, lock_timeout) as write:
            for entry in batch:
                try:
                    entry.job(write)
                except Exception as error:  # this request's failure, not its neighbours'
                    entry.error = error
                entry.write = write
    except BaseException as error:  # the lock not taken in time (IngestBusy), or the process stopping
        for entry in batch:
            entry.error = entry.error or error
        if not isinstance(error, Exception):
            raise
    finally:
        for entry in batch:
            entry.finished = True
