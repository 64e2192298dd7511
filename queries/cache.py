"""The process's one result cache (cachetools): answers to questions and the tabs' finished outputs.

Keys start with their kind ("question": `queries.run`; "output": `callbacks/_memo.py`) and hold the
bound parameters or the viewer's scope, and the data version (`data_version`, or on ClickHouse the token of the
database's last write: `queries.clickhouse.data_version`): an answer is never served
to another scope, nor after a write. Least recently used entries go once their sizes pass
`TELEMETRY_CACHE_MB` (0: off). Two threads asking the same key compute it once; errors are not kept.
Frames are handed out as `clone()`s (copy-on-write), so a caller that changes its frame leaves the kept one.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import NamedTuple

import cachetools
import polars as pl

from data import schema

DEFAULT_MB = 192
KEY_OVERHEAD = 512  # bytes counted per frame on top of its data: the key, the cache's node, the frame object
MISSING = object()  # nothing kept (a kept output may be None)


def file_stat(path: Path) -> tuple | None:
    """A file's (inode, mtime, size), None if it is missing."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def data_version(data_dir: Path) -> tuple:
    """The data folder's version now: the writer's counter (data/schema.py), the events folder if it is
    not as the writer left it, and each directory file's stat (one small read, a few stat calls)."""
    version = schema.read_version(data_dir)
    by_hand = None
    if schema.changed_by_hand(data_dir, version):
        by_hand = tuple(schema.folder_stat(schema.events_dir(data_dir)) or ())  # a key's part: hashable
    return (version.get("version", 0), by_hand, directory_files(data_dir))


def directory_files(data_dir: Path) -> tuple[tuple | None, ...]:
    """Each directory file's stat (None if missing), in schema order."""
    folder = schema.directory_dir(data_dir)
    return tuple(file_stat(folder / f"{name}.parquet") for name in schema.DIRECTORY)


def params_key(params: dict) -> str:
    """Bound parameters as a key: their repr keeps types apart (a date from its text, None from [])."""
    return repr(sorted(params.items()))


class Kept(NamedTuple):
    """An entry: the value and the bytes it counts against the limit."""

    value: object
    nbytes: int


class ResultCache:
    """A thread-safe LRU of answers and outputs, bounded by their estimated bytes; `hits` and `misses`
    count per kind."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes  # 0 (or set to 0 later, as the benchmark's raw baseline does): off
        self._entries = cachetools.LRUCache(max_bytes, getsizeof=lambda kept: kept.nbytes)
        self._condition = threading.Condition()
        # A key being computed makes the other threads asking for it wait for that answer.
        single_flight = cachetools.cached(self._entries, key=lambda key, _compute: key, condition=self._condition)
        self._single_flight = single_flight(lambda _key, compute: compute())
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()

    @property
    def size_bytes(self) -> int:
        return self._entries.currsize

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_compute(self, key: tuple, compute: Callable[[], Kept]) -> object:
        """The value kept for `key`, else `compute()`'s, computed once however many threads ask."""
        ran = []

        def counted() -> Kept:
            ran.append(True)
            return compute()

        value = self._single_flight(key, counted).value  # a value bigger than the whole cache is not kept
        with self._condition:
            (self.misses if ran else self.hits)[key[0]] += 1
        return value

    def kept(self, key: tuple) -> object:
        """The value kept for `key`, or MISSING; computes nothing (a miss is not counted)."""
        with self._condition:
            found = self._entries.get(key)
            if found is None:
                return MISSING
            self.hits[key[0]] += 1
            return found.value

    def frame(self, key: tuple, query: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """A question's answer: kept by its estimated size, handed out as a clone."""

        def entry() -> Kept:
            frame = query()
            return Kept(frame, frame.estimated_size() + KEY_OVERHEAD)

        return self.get_or_compute(key, entry).clone()

    def clear(self) -> None:
        with self._condition:
            self._entries.clear()


_cache: ResultCache | None = None
_creating = threading.Lock()
_bypass: ContextVar[bool] = ContextVar("telemetry_cache_bypassed", default=False)  # follows a tab's parts


def result_cache() -> ResultCache:
    """This process's cache, made on first use with TELEMETRY_CACHE_MB MiB (default 192; 0: off)."""
    global _cache
    if _cache is None:
        with _creating:
            if _cache is None:
                megabytes = float(os.environ.get("TELEMETRY_CACHE_MB") or DEFAULT_MB)  # empty: unset, as at start
                _cache = ResultCache(int(megabytes * 2**20))
    return _cache


def in_use() -> ResultCache | None:
    """The cache, unless it is off or bypassed in this context."""
    results = result_cache()
    return results if results.max_bytes > 0 and not _bypass.get() else None


@contextmanager
def bypassed() -> Iterator[None]:
    """Queries in this context, inside the block, go straight to DuckDB (benchmarks, comparisons)."""
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)
