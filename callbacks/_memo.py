"""Warm answers: each data callback's output kept in the result cache (`queries.cache`), as entries
of their own kind beside the questions' answers.

With the answers to questions kept, what is left of a tab's answer is building its figures and
components and turning them into JSON (Plotly validates every property it is given, then deep-copies
the figure to serialise it): 5 to 10 ms a callback. `memoised(update_x)` keeps the output instead,
already in its JSON form (plain dicts and lists, which Dash serialises in a fraction of a millisecond),
keyed by

- the app (its settings, such as the time zone and the billing anchor, shape the output);
- the callback (its module and name) and its inputs exactly as the browser sent them;
- the viewer's scope as `auth.scope.current_scope()` decides it on the server (teams, agents and the
  label the pages show), so an output computed for one scope is never served to another: a manager's
  charts cannot reach an admin or a manager of other teams;
- the data version (`queries.data_version`: the data folder's, or the ClickHouse database's), taken before the
  callback runs, so an answer is never older than its key says; a write makes every kept output unreachable;
- the organization's local date, since the Billing tab and any query without dates depend on "today".

Only callbacks whose output depends on nothing else are wrapped (the tabs' `update_*` of their
`<tab>-query` store, and the Users grid's blocks: the grid's request, that store and the search text
are all inputs or states); the access gate still runs on every request, before Dash is reached. Nothing is
kept when the result cache is off (`TELEMETRY_CACHE_MB=0`) or bypassed, nor for a callback that raises;
the outputs share the cache's memory bound with the answers.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import orjson
from dash import no_update
from flask import current_app
from plotly.io.json import to_json_plotly

from auth.scope import current_scope
from callbacks._common import org_timezone
from queries import cache as query_cache
from queries import data_version
from queries.cache import MISSING, Kept
from queries.period import today_local

_EXTENSION = "telemetry_outputs"  # the app's token in the keys of its outputs
# Parsed JSON (dicts, lists, str, float) takes several times the bytes of its text in CPython: measured
# 3.4x to 7.7x (6x overall) on the four tabs' outputs, so the text's length times 8 is the size counted.
PARSED_PER_TEXT_BYTE = 8
KEY_OVERHEAD = 1024  # bytes counted per entry for its key and node
NoUpdate = type(no_update)


def request_key(args: tuple) -> tuple | None:
    """What an output depends on besides its callback, the same for every callback of one request (app,
    inputs, scope, data version, day); None when nothing may be kept (the result cache off or bypassed, or
    inputs that are not what a browser sends)."""
    if query_cache.in_use() is None:
        return None
    try:
        inputs = json.dumps(args, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None  # not what a browser sends (a test calling with Python objects)
    app = current_app.extensions.setdefault(_EXTENSION, object())  # kept in the keys: never reused
    return app, inputs, current_scope(), data_version(), today_local(org_timezone())


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

    depends_on = getattr(update, "also_depends_on", None)  # what else its output follows, e.g. the budgets

    def key(shared: tuple) -> tuple:
        extra = () if depends_on is None else (depends_on(),)
        return ("output", update.__module__, update.__qualname__, *shared, *extra)

    @functools.wraps(update)
    def answer(*args):
        return given(request_key(args), *args)

    def output(args: tuple) -> Kept:
        plain, size = _plain(update(*args))
        return Kept(plain, size * PARSED_PER_TEXT_BYTE + KEY_OVERHEAD)

    def given(shared: tuple | None, *args):
        if shared is None:
            return update(*args)
        return query_cache.result_cache().get_or_compute(key(shared), lambda: output(args))

    def kept(shared: tuple | None) -> object:
        return MISSING if shared is None else query_cache.result_cache().kept(key(shared))

    answer.given, answer.kept = given, kept
    return answer
