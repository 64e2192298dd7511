"""A tab's data callbacks answered in one request instead of one request each.

When a tab's period changes, dash-renderer sends one request per callback that reads the tab's
`<tab>-query` store. Each request pays the same fixed price before any work is done (HTTP, the session
and access gate, Dash's dispatch: 2-3 ms of the server's time), which made a warm tab (every output
kept) cost 17-25 ms. So a tab registers its parts as one callback with all their outputs.

The parts still run side by side, as the separate requests did: DuckDB and numpy release Python's
lock, and a full-year tab answered its parts one after another took a third longer. They run on a small
pool shared by the process; a part no pool thread has started yet is run by the request's own thread,
so a busy pool never makes a tab wait longer than answering its parts in turn.

Each part stays its own function (tests call them directly) and is memoised on its own
(`callbacks._memo`), and a part that fails does what a failed callback did before: its outputs stay
as they were, the error is logged and the page says so (`callbacks._errors`), and the other parts
are still shown.

The page's own answer carries the tab's outputs when they are kept (`with_tab_data`): Dash asks for the
page (its layout, `layouts/<tab>.py`, components only) when the URL changes, and the store the tab's
callback reads comes with it; the callback was then asked for in a second round trip, once the page was
drawn with empty charts, and everything was drawn again. A tab seen before (every part's output kept for
this viewer, data version and day) now goes out with its outputs in place; any other goes out at once
with its loading placeholders and a timer that asks for them once it is drawn (`update_asked`, the same
parts), so a page never waits for a question. The tab's callback on its store itself never fires at the
page's first drawing (`prevent_initial_call`).
"""

from __future__ import annotations

import contextvars
import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import dash
from dash import Input, Output, State, dcc, no_update
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from flask import current_app

from callbacks._errors import show_callback_error
from callbacks._memo import MISSING, memoised, request_key

Part = tuple[Sequence[Output], Callable]
PART_THREADS = 4  # per process; each request's own thread works too
_pools: dict[int, ThreadPoolExecutor] = {}  # by process: a forked worker makes its own (threads do not survive a fork)


def part_pool() -> ThreadPoolExecutor:
    """This process's pool for the tabs' parts, made on first use."""
    pool = _pools.get(os.getpid())
    if pool is None:
        pool = _pools.setdefault(os.getpid(), ThreadPoolExecutor(PART_THREADS, thread_name_prefix="tab-part"))
    return pool


_TABS = "telemetry_tabs"  # the Flask app's extension: each tab's store id -> (outputs, callback function)
NoUpdate = type(no_update)


def _answer(update: Callable, count: int, args: tuple) -> list:
    """One part's outputs as a list; on failure its outputs unchanged and the error shown."""
    try:
        return _as_list(update(*args), count)
    except PreventUpdate:
        return [no_update] * count
    except Exception as error:  # noqa: BLE001 - shown and logged, as Dash's on_error would
        show_callback_error(error)
        return [no_update] * count


def _as_list(value: object, count: int) -> list:
    """A part's value as its list of outputs; a value that is not `count` outputs is the part's error."""
    if count == 1:
        return [value]
    if not isinstance(value, list | tuple) or len(value) != count:
        raise TypeError(f"a part with {count} outputs returned {type(value).__name__}")
    return list(value)


def _answer_side_by_side(parts: list[tuple[int, Callable, int]], args: tuple, answers: list) -> None:
    """Answer the parts (position, update, outputs) into `answers`: all but the first on the pool."""
    # Each task runs in a copy of this request's context: Flask's request and app context and Dash's
    # callback context (set_props) are context variables. DuckDB cursors are per thread (queries.cursor).
    pool = part_pool()
    started = [(i, update, count, pool.submit(contextvars.copy_context().run, _answer, update, count, args))
               for i, update, count in parts[1:]]  # fmt: skip
    try:
        first, update, count = parts[0]
        answers[first] = _answer(update, count, args)
        # what no pool thread has started yet is answered here, before waiting for what one has
        for i, update, count, future in started:
            if future.cancel():
                answers[i] = _answer(update, count, args)
    finally:  # never leave a part running past the request: its cursor is closed at the request's end
        for i, _update, _count, future in started:
            if not future.cancelled():
                answers[i] = future.result()


def _kept(update: Callable, count: int, shared: tuple | None) -> list | None:
    """A memoised part's kept outputs as a list, else None (to compute, and to show its error if it has one)."""
    value = update.kept(shared)
    if value is MISSING:
        return None
    try:
        return _as_list(value, count)
    except TypeError:
        return None


def together(parts: Sequence[Part]) -> Callable:
    """One callback function answering every part's outputs, in order."""
    memoised_parts = [(memoised(update), len(outputs)) for outputs, update in parts]

    def update_tab(*args):
        shared = request_key(args)  # once for all the parts: scope, data version and day
        # A warm tab (every part kept) is answered here; only parts to compute go to the pool.
        answers = [_kept(update, count, shared) for update, count in memoised_parts]
        missing = [(i, functools.partial(update.given, shared), count)
                   for i, (update, count) in enumerate(memoised_parts) if answers[i] is None]  # fmt: skip
        if len(missing) == 1:
            i, update, count = missing[0]
            answers[i] = _answer(update, count, args)
        elif missing:
            _answer_side_by_side(missing, args, answers)
        return tuple(value for answer in answers for value in answer)

    def kept(*args) -> tuple | None:
        """Every part's kept outputs in order, computing nothing; None unless all are kept."""
        shared = request_key(args)
        answers = [_kept(update, count, shared) for update, count in memoised_parts]
        if any(answer is None for answer in answers):
            return None
        return tuple(value for answer in answers for value in answer)

    update_tab.kept = kept
    return update_tab


def asking(query_id: str) -> str:
    """The id of the timer a page sent without its tab's outputs carries (`fill_tab`)."""
    return f"{query_id}-ask"


def register_tab(app: dash.Dash, query: Input, parts: Sequence[Part]) -> None:
    """Register the parts that read `query` as one callback, and as the page's own data (`with_tab_data`)."""
    outputs = [output for part_outputs, _update in parts for output in part_outputs]
    update_tab = together(parts)
    app.callback(*outputs, query, prevent_initial_call=True)(update_tab)

    def update_asked(_ticks: int | None, query_data: object) -> tuple:
        """The tab's outputs for a page that went out without them, once it is drawn."""
        return update_tab(query_data)

    again = [Output(output.component_id, output.component_property, allow_duplicate=True) for output in outputs]
    ask = Input(asking(query.component_id), "n_intervals")
    app.callback(*again, ask, State(query.component_id, "data"), prevent_initial_call=True)(update_asked)
    app.server.extensions.setdefault(_TABS, {})[query.component_id] = (outputs, update_tab)


def fill_tab(content: object) -> object:
    """A page's components with its tab's kept outputs in place, or else with a timer that asks for them."""
    if not isinstance(content, Component):
        return content
    for store_id, (outputs, update_tab) in current_app.extensions.get(_TABS, {}).items():
        try:
            store = content[store_id]
        except KeyError:
            continue  # another tab's page
        values = update_tab.kept(store.data)
        if values is None:  # fires once, a moment after the page is drawn (an input of the page's own)
            timer = dcc.Interval(id=asking(store_id), interval=1, max_intervals=1)
            content.children = [*_as_children(content.children), timer]
            continue
        for output, value in zip(outputs, values, strict=True):
            if not isinstance(value, NoUpdate):  # kept as the callback answered: this output unchanged
                setattr(content[output.component_id], output.component_property, value)
    return content


def _as_children(children: object) -> list:
    if children is None:
        return []
    return list(children) if isinstance(children, list | tuple) else [children]


def with_tab_data(registry: dict) -> None:
    """Each page of Dash's registry answered with its tab's data (`fill_tab`); the layouts stay as written."""
    for page in registry.values():
        layout = page.get("layout")
        if callable(layout) and not getattr(layout, "fills_tab", False):
            page["layout"] = _filled(layout)


def _filled(layout: Callable) -> Callable:
    @functools.wraps(layout)
    def page(**query):
        return fill_tab(layout(**query))

    page.fills_tab = True
    return page
