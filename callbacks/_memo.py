"""Warm answers: each data callback's output kept per (callback, inputs, viewer's scope, data version, day).

With the query results cached, what is left of a tab's answer is building its figures and components
and turning them into JSON (Plotly validates every property it is given, then deep-copies the figure
to serialise it): 5 to 10 ms a callback. `memoised(update_x)` keeps the output instead, already in
its JSON form (plain dicts and lists, which Dash serialises in a fraction of a millisecond), keyed by

- the callback (its module and name) and its inputs exactly as the browser sent them;
- the viewer's scope as `auth.scope.current_scope()` decides it on the server (teams, agents and the
  label the pages show), so an output computed for one scope is never served to another: a manager's
  charts cannot reach an admin or a manager of other teams;
- the data version of the result cache (`queries.cache`), taken before the callback runs, so an answer
  is never older than its key says; a write to the data folder, or clearing the result cache, makes
  every kept output unreachable;
- the organization's local date, since the Billing tab and any query without dates depend on "today".

Only callbacks whose output depends on nothing else are wrapped (the tabs' `update_*` of their
`<tab>-query` store, and the Users grid's blocks: the grid's request, that store and the search text
are all inputs or states); the access gate still runs on every request, before Dash is reached. Nothing is
kept when the result cache is off (`TELEMETRY_CACHE_MB=0`) or bypassed, nor for a callback that raises.
Memory is bounded per app: least recently used outputs go first once their estimated size passes
`CALLBACK_CACHE_MB` (64 MiB by default, `TELEMETRY_CALLBACK_CACHE_MB` in the environment; 0 turns this off).
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable

import orjson
from dash import no_update
from flask import current_app
from plotly.io.json import to_json_plotly

from auth.scope import current_scope
from callbacks._common import org_timezone
from queries import cache as query_cache
from queries.period import today_local

_EXTENSION = "telemetry_callback_memo"
# Parsed JSON (dicts, lists, str, float) takes several times the bytes of its text in CPython: measured
# 3.4x to 7.7x (6x overall) on the four tabs' outputs, so the text's length times 8 is the size counted.
PARSED_PER_TEXT_BYTE = 8
KEY_OVERHEAD = 1024  # bytes counted per entry for its key and node
NoUpdate = type(no_update)
MISSING = object()


class OutputMemo:
    """A thread-safe LRU of callback outputs in JSON form, bounded by their estimated size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = self.evictions = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple, count_miss: bool = True) -> object:
        """The kept output, or MISSING (an output may be None)."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += count_miss
                return MISSING
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: tuple, value: object, size: int) -> None:
        size += KEY_OVERHEAD
        if size > self.max_bytes:
            return  # bigger than the whole memo: not kept
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _key, (_value, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
                self.evictions += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


_creating = threading.Lock()


def output_memo() -> OutputMemo:
    """This app's memo, made on first use with CALLBACK_CACHE_MB MiB."""
    memo = current_app.extensions.get(_EXTENSION)
    if memo is None:
        with _creating:
            memo = current_app.extensions.get(_EXTENSION)
            if memo is None:
                memo = OutputMemo(int(float(current_app.config.get("CALLBACK_CACHE_MB", 0)) * 2**20))
                current_app.extensions[_EXTENSION] = memo
    return memo


def request_key(args: tuple) -> tuple | None:
    """What an output depends on besides its callback, the same for every callback of one request (inputs,
    scope, data version, day); None when nothing may be kept (the memo or result cache off or bypassed,
    or inputs that are not what a browser sends)."""
    if not output_memo().enabled or not query_cache.result_cache().enabled or query_cache.is_bypassed():
        return None
    try:
        inputs = json.dumps(args, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None  # not what a browser sends (a test calling with Python objects)
    scope = current_scope()
    data_dir = current_app.config["DATA_DIR"]
    version = query_cache.result_cache().version(data_dir)
    return inputs, scope.key(), scope.label, data_dir, version, today_local(org_timezone())


def _as_json(value: object) -> tuple[object, int]:
    """A value as Dash will send it: parsed JSON, and the length of its text. `no_update` stays itself."""
    if isinstance(value, NoUpdate):
        return no_update, 0
    text = to_json_plotly(value)
    return orjson.loads(text), len(text)


def _plain(value: object) -> tuple[object, int]:
    """A callback's return value in JSON form; a tuple (several outputs) part by part, so that each
    `no_update` among them stays one."""
    if not isinstance(value, tuple):
        return _as_json(value)
    parts = [_as_json(part) for part in value]
    return tuple(part for part, _size in parts), sum(size for _part, size in parts)


def memoised(update: Callable) -> Callable:
    """Wrap a data callback for `app.callback(...)`: its output kept as described above.

    The callback itself is unchanged (tests call it directly); the wrapper answers its JSON form, which
    Dash serialises to the same text. A tab answering several callbacks in one request takes their
    `request_key` once: `wrapper.given(shared, *args)` answers with it, and `wrapper.kept(shared)` is the
    kept output, or MISSING, without computing anything.
    """

    def key(shared: tuple) -> tuple:
        return (update.__module__, update.__qualname__, *shared)

    @functools.wraps(update)
    def answer(*args):
        return given(request_key(args), *args)

    def given(shared: tuple | None, *args):
        if shared is None:
            return update(*args)
        memo = output_memo()
        found = memo.get(key(shared))
        if found is not MISSING:
            return found
        value = update(*args)
        plain, size = _plain(value)
        memo.put(key(shared), plain, size * PARSED_PER_TEXT_BYTE)
        return plain

    def kept(shared: tuple | None) -> object:
        return MISSING if shared is None else output_memo().get(key(shared), count_miss=False)

    answer.given, answer.kept = given, kept
    return answer
