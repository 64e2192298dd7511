"""A per-process cache of query results, keyed by SQL file, bound parameters and data version.

The key is (data folder, SQL file name, bound parameters, data version). The viewer's scope is part
of the bound parameters (`all_teams`, `team_ids`, `all_agents`, `agent_ids`: see `Scope.params`), so
an answer computed for one scope is never served to another: a manager's rows cannot reach an admin
or another manager.

The data version is a fingerprint of the data folder's files, taken with stat calls only: for the
events folder, each partition folder and each Parquet file in it, and each directory file, the
(name, inode, mtime_ns, size). Every write Telemetry makes is a rename of a new file or folder into
place (ingestion, compaction, directory import, the demo generator), and each of those changes an
inode, a folder's mtime or a file's size; a file copied in by hand changes them too. The top level
(the events folder's own stat, which changes when a partition folder appears or a compaction swaps
one in, and the directory files) is looked at on every query, a few stat calls. The whole fingerprint,
which lists every partition (750 stat calls at a year of data, 8-17 ms, more when the folder's entries
have left the kernel's cache), is taken again every `VERSION_TTL` seconds by a thread of this process,
for the `KEPT_FRESH` folders asked about most recently in the last `KEEP_FRESH` seconds, so a question
does not wait for it. So a new file in an existing partition written by another process is seen within
about that second (at most `STALE_LIMIT` seconds, should the thread fall behind). A question about a
folder the thread does not keep (the first after a quiet minute) takes the fingerprint itself once it
is `VERSION_TTL` old, as does the first question after a write made in this process (`data.ingest`
bumps the cache when it releases its lock): that write is seen at once. Each distinct fingerprint gets
a serial number, the version in the keys; entries of an old version are dropped.

Memory is bounded: entries are evicted least recently used first once their estimated size
(`DataFrame.estimated_size`) passes the limit, `TELEMETRY_CACHE_MB` (128 MiB by default; 0 turns the
cache off), read when the cache is first used. Frames are handed out as `clone()`s: a clone shares the
data and is copy-on-write, so a caller that changes its frame in place cannot change the cached one.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path

import polars as pl

from data import schema
from data.rollups.manifest import _listing, _stat, events_fingerprint

DEFAULT_MB = 128
VERSION_TTL = 1.0  # seconds a data version is reused before the folder is looked at again
STALE_LIMIT = 5.0  # a version this old is taken again before answering, refreshed in the background or not
KEEP_FRESH = 60.0  # seconds after the last question about a folder that its version is still refreshed
KEPT_FRESH = 4  # folders refreshed at most: the most recently asked about (a server has one)
KEY_OVERHEAD = 512  # bytes counted per entry on top of its frame: the key, the node, the frame object


def _stat_path(path: Path) -> tuple | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def _directory_files(data_dir: Path) -> tuple:
    return tuple(_stat(f) for f in _listing(schema.directory_dir(data_dir)) if f.name.endswith(".parquet"))


def top_level(data_dir: Path) -> tuple:
    """The events folder (its partition folders come and go) and the directory files: a few stat calls."""
    events, directory = schema.events_dir(data_dir), schema.directory_dir(data_dir)
    return (_stat_path(events), _stat_path(directory), _directory_files(data_dir))


def fingerprint(data_dir: Path) -> tuple:
    """What the events and directory files look like now: a few stat calls per partition."""
    return (events_fingerprint(data_dir), _directory_files(data_dir))


def _frozen(value: object) -> object:
    """A hashable, type-preserving form of a bound parameter (lists of ids become tuples)."""
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_frozen(item) for item in value))
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted(_frozen(item) for item in value)))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    return (type(value).__name__, value)


def params_key(params: dict) -> tuple:
    return tuple(sorted((name, _frozen(value)) for name, value in params.items()))


class ResultCache:
    """A thread-safe LRU of result frames, bounded by their estimated size in bytes."""

    def __init__(self, max_bytes: int, version_ttl: float = VERSION_TTL) -> None:
        self.max_bytes = max_bytes
        self.version_ttl = version_ttl
        self._entries: OrderedDict[tuple, tuple[pl.DataFrame, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        # folder -> (taken at, generation, top level, fingerprint, serial)
        self._versions: dict[Path, tuple[float, int, tuple, tuple, int]] = {}
        self._generation = 0  # bumped by writes made in this process
        self._version_lock = threading.Lock()
        self._computing: dict[tuple, threading.Lock] = {}
        self.stale_limit = STALE_LIMIT
        self._asked: dict[Path, float] = {}  # folder -> when its version was last asked for
        self._refresher: tuple[int, threading.Thread] | None = None  # (process id, thread)
        self._refreshed: frozenset[Path] = frozenset()  # the folders it keeps fresh
        self._refresher_lock = threading.Lock()
        self._closed = threading.Event()
        self.hits = self.misses = self.evictions = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def version(self, data_dir: Path) -> int:
        """The data version of a folder: a number that changes whenever its fingerprint does.

        The folder's top level (a new partition folder, a compaction's swap, any directory file) is
        looked at on every call. The whole fingerprint is taken here after `bump`, when the top level
        changed, or when it is older than `version_ttl` with no refresher keeping it (or older than
        `stale_limit` anyway); otherwise the refresher takes it again in the background.
        """
        top = top_level(data_dir)
        seen = self._versions.get(data_dir)
        self._asked[data_dir] = time.monotonic()
        if self._current(seen, top, self.version_ttl) or (
            self._current(seen, top, self.stale_limit) and data_dir in self._refreshed and self._refreshing()
        ):
            return seen[4]
        serial = self._take(data_dir, top)
        self._keep_fresh()
        return serial

    def _take(self, data_dir: Path, top: tuple | None = None) -> int:
        """Take the folder's fingerprint now (unless another thread just did, given the `top` seen)."""
        with self._version_lock:
            seen = self._versions.get(data_dir)
            if top is not None and self._current(seen, top, self.version_ttl):
                return seen[4]  # another thread took it while this one waited
            generation = self._generation
            top = top_level(data_dir)
            found = fingerprint(data_dir)
            if seen is not None and seen[1] == generation and seen[3] == found:
                serial = seen[4]
            else:
                serial = next(_serials)
                if seen is not None:
                    self._forget(data_dir, seen[4])
            self._versions[data_dir] = (time.monotonic(), generation, top, found, serial)
            return serial

    def _refreshing(self) -> bool:
        running = self._refresher
        return running is not None and running[0] == os.getpid() and running[1].is_alive()

    def _keep_fresh(self) -> None:
        """Start this process's refresher, unless it runs (a forked worker starts its own)."""
        with self._refresher_lock:
            if not self._refreshing() and not self._closed.is_set():
                thread = threading.Thread(target=self._refresh, name="data-version", daemon=True)
                self._refresher = (os.getpid(), thread)
                thread.start()

    def _refresh(self) -> None:
        """Take the fingerprint of the folders asked about lately, every `version_ttl` seconds; stop when
        there are none (the next question starts it again)."""
        while not self._closed.wait(max(self.version_ttl, 0.05)):
            with self._refresher_lock:
                now, asked = time.monotonic(), list(self._asked.items())
                for folder, at in asked:
                    if now - at >= KEEP_FRESH and self._asked.get(folder) == at:
                        del self._asked[folder]
                recent = sorted((item for item in asked if now - item[1] < KEEP_FRESH), key=lambda item: item[1])
                folders = [folder for folder, _at in recent[-KEPT_FRESH:]]
                self._refreshed = frozenset(folders)
                if not folders:
                    self._refresher = None
                    return
            for folder in folders:
                # a file gone between listing and stat (a compaction's swap): looked at again next turn
                with suppress(OSError):
                    self._take(folder)
        with self._refresher_lock:
            self._refreshed = frozenset()

    def close(self) -> None:
        """Stop the refresher for good (a cache that is no longer used: tests)."""
        self._closed.set()

    def events_seen(self, data_dir: Path, version: int) -> tuple | None:
        """The event files' fingerprint that data version `version` was taken from, while it is current."""
        seen = self._versions.get(data_dir)
        return seen[3][0] if seen is not None and seen[4] == version else None

    def _current(self, seen: tuple | None, top: tuple, within: float) -> bool:
        return (
            seen is not None
            and seen[1] == self._generation
            and seen[2] == top
            and time.monotonic() - seen[0] < within
        )

    def _forget(self, data_dir: Path, serial: int) -> None:
        """Drop the entries of a folder's old version: nobody can ask for them again."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == data_dir and k[1] == serial]:
                self._bytes -= self._entries.pop(key)[1]

    def bump(self) -> None:
        """Take the data versions again on next use: this process has just written to a data folder."""
        with self._version_lock:
            self._generation += 1

    def get(self, key: tuple) -> pl.DataFrame | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0].clone()

    def put(self, key: tuple, frame: pl.DataFrame) -> None:
        size = frame.estimated_size() + KEY_OVERHEAD
        if size > self.max_bytes:
            return  # bigger than the whole cache: not kept
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (frame.clone(), size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _key, (_frame, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
                self.evictions += 1

    def get_or_compute(self, key: tuple, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """The cached frame for `key`, else `compute()` once (other threads asking for it wait)."""
        found = self.get(key)
        if found is not None:
            return found
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            found = self._peek(key)
            if found is not None:
                return found  # another thread computed it while this one waited
            try:
                frame = compute()  # errors are not cached
                self.put(key, frame)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
            return frame

    def _peek(self, key: tuple) -> pl.DataFrame | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0].clone()

    def clear(self) -> None:
        """Drop every entry (the data versions stay: `bump` says the data changed)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0


_serials = itertools.count(1)  # data versions, unique in the process
_cache: ResultCache | None = None
_creating = threading.Lock()
_bypass: ContextVar[bool] = ContextVar("telemetry_cache_bypassed", default=False)  # follows a tab's parts


def result_cache() -> ResultCache:
    """This process's cache, made on first use with TELEMETRY_CACHE_MB MiB (default 128; 0: off)."""
    global _cache
    if _cache is None:
        with _creating:
            if _cache is None:
                megabytes = float(os.environ.get("TELEMETRY_CACHE_MB") or DEFAULT_MB)  # empty: unset, as at start
                _cache = ResultCache(int(megabytes * 2**20))
    return _cache


def bump() -> None:
    """Tell this process's cache that the data changed (ingestion calls it after each write)."""
    if _cache is not None:
        _cache.bump()


@contextmanager
def bypassed() -> Iterator[None]:
    """Queries in this context, inside the block, go straight to DuckDB (benchmarks, comparisons)."""
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)


def is_bypassed() -> bool:
    return _bypass.get()
