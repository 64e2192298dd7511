"""A per-process cache of query results, keyed by SQL file, bound parameters and data version.

The key is (data folder, SQL file name, bound parameters, data version). The viewer's scope is part
of the bound parameters (`team_ids`, `agent_ids`: see `Scope.params`; None, every one, apart from []), so
an answer computed for one scope is never served to another: a manager's rows cannot reach an admin
or another manager.

The data version is read from the data folder's version file (data/schema.py), which every write made
through Telemetry's writer (ingestion, OTLP, compaction, purge, directory import, a rollup build) writes
last, under the ingestion lock: one small file read per question, whatever the data's size, and no
thread. Two things written behind the writer's back are seen too, for a few stat calls: a partition folder
added or removed by hand (the events folder is then not as the writer left it) and a directory file
replaced by hand. A file copied by hand into an existing partition folder is not seen until
`flask --app app rollup` (README, "Speed at scale"). Each distinct version gets a serial number, the
version in the keys; entries of an old version are dropped.

Memory is bounded: entries are evicted least recently used first once their estimated size
(`DataFrame.estimated_size`) passes the limit, `TELEMETRY_CACHE_MB` (128 MiB by default; 0 turns the
cache off), read when the cache is first used. Frames are handed out as `clone()`s: a clone shares the
data and is copy-on-write, so a caller that changes its frame in place cannot change the cached one.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import polars as pl

from data import schema

DEFAULT_MB = 128
KEY_OVERHEAD = 512  # bytes counted per entry on top of its frame: the key, the node, the frame object


def _stat_path(path: Path) -> tuple | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def data_version(data_dir: Path) -> tuple:
    """What the data folder's version is now: the version file's counter, the events folder if it is not as
    the writer left it, and each directory file's stat (one small read, a few stat calls)."""
    version = schema.read_version(data_dir)
    by_hand = schema.folder_stat(schema.events_dir(data_dir)) if schema.changed_by_hand(data_dir, version) else None
    directory = schema.directory_dir(data_dir)
    files = tuple(_stat_path(directory / f"{name}.parquet") for name in schema.DIRECTORY)
    return (version.get("version", 0), by_hand, files)


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

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[pl.DataFrame, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._versions: dict[Path, tuple[tuple, int]] = {}  # folder -> (data version seen, its serial)
        self._version_lock = threading.Lock()
        self._computing: dict[tuple, threading.Lock] = {}
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
        """The data version of a folder: a serial number that changes whenever `data_version` does."""
        found = data_version(data_dir)
        seen = self._versions.get(data_dir)
        if seen is not None and seen[0] == found:
            return seen[1]
        with self._version_lock:
            seen = self._versions.get(data_dir)
            if seen is not None and seen[0] == found:
                return seen[1]  # another thread saw it first
            serial = next(_serials)
            if seen is not None:
                self._forget(data_dir, seen[1])
            self._versions[data_dir] = (found, serial)
            return serial

    def _forget(self, data_dir: Path, serial: int) -> None:
        """Drop the entries of a folder's old version: nobody can ask for them again."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == data_dir and k[1] == serial]:
                self._bytes -= self._entries.pop(key)[1]

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
        """Drop every entry (the data versions stay)."""
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
