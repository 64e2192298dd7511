"""The process's one result cache (cachetools): answers to questions and the tabs' finished outputs.

Two kinds of entries, each keyed by what it depends on:

- a question's answer (`queries.db.run`): ("question", data folder, data version, SQL file name, its
  bound parameters from `Filters.params()`), plus the Polars step that finishes it, if any;
- a tab's finished output (`callbacks/_memo.py`): ("output", the app, the callback, its inputs as the
  browser sent them, the viewer's scope, data folder, data version, the local date).

The viewer's scope is in both keys (the bound `team_ids` and `agent_ids`, see `Scope.params`: None,
every one, apart from []; `Scope.key()` for outputs), so an answer computed for one scope is never
served to another: a manager's rows cannot reach an admin or another manager.

The data version is read from the data folder's version file (data/schema.py), which every write made
through Telemetry's writer (ingestion, OTLP, purge, directory import, a rollup build) writes last, under
the ingestion lock: one small file read per question, whatever the data's size, and no thread. Two things
written behind the writer's back are seen too, for a few stat calls: a partition folder added or removed
by hand and a directory file replaced by hand. A file copied by hand into an existing partition folder is
not seen until `flask --app app rollup` (README, "Speed at scale"). Entries of an old version are never
asked for again and are the first to go.

Memory is bounded: least recently used entries go once their sizes (a frame's `estimated_size`, an
output's estimate) pass `TELEMETRY_CACHE_MB` (192 MiB by default; 0 turns caching off), read when the
cache is first used. Two threads asking the same question compute it once: the second waits for the
first's answer (cachetools' `cached` with a condition). Errors are not kept. Frames are handed out as
`clone()`s: a clone shares the data and is copy-on-write, so a caller that changes its frame in place
cannot change the kept one.
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

DEFAULT_MB = 192  # what the result cache (128) and the kept outputs (64) had when they were two caches
KEY_OVERHEAD = 512  # bytes counted per frame on top of its data: the key, the cache's node, the frame object
MISSING = object()  # nothing kept (a kept output may be None)


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
    by_hand = None
    if schema.changed_by_hand(data_dir, version):
        by_hand = tuple(schema.folder_stat(schema.events_dir(data_dir)) or ())  # a key's part: hashable
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


class Kept(NamedTuple):
    """An entry: the value and the bytes it counts against the limit."""

    value: object
    nbytes: int


def _computed(_key: tuple, compute: Callable[[], Kept]) -> Kept:
    return compute()


class ResultCache:
    """A thread-safe LRU (cachetools) of answers and outputs, bounded by their estimated size in bytes.

    Keys are tuples whose first item names their kind ("question", "output"); `hits` and `misses`
    count per kind.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes  # 0 (or set to 0 later, as the benchmark's raw baseline does): off
        self._entries = cachetools.LRUCache(max_bytes, getsizeof=lambda kept: kept.nbytes)
        self._condition = threading.Condition()
        # A key being computed makes the other threads asking for it wait for that answer.
        self._single_flight = cachetools.cached(
            self._entries, key=lambda key, _compute: key, condition=self._condition
        )(_computed)
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

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
        """Drop every entry."""
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
    return results if results.enabled and not _bypass.get() else None


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
