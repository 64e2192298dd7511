"""A tab's parts answered in one request (callbacks/_tab.py): side by side, each on its own DuckDB cursor."""

from __future__ import annotations

import contextvars
import threading
import time

import duckdb
import pytest

import queries
from callbacks import _tab
from queries.pools import process_pool


def test_each_thread_of_a_context_has_its_own_cursor_and_all_are_closed(app):
    with app.app_context():
        mine = queries.cursor()
        assert queries.cursor() is mine
        pool = process_pool("tab-part", _tab.PART_THREADS)
        theirs = pool.submit(contextvars.copy_context().run, queries.cursor).result()
        assert theirs is not mine
        assert mine.sql("select 1").fetchall() == theirs.sql("select 1").fetchall() == [(1,)]
    for closed in (mine, theirs):
        with pytest.raises(duckdb.ConnectionException):
            closed.sql("select 1")


def test_parts_to_compute_run_side_by_side_and_kept_ones_here(app, results):
    threads = []

    def part(name: str):
        def update(query):
            threads.append(threading.get_ident())
            if name == "one":
                time.sleep(0.1)  # this thread is busy: the pool starts the other two
            return f"{name} {query['start']}", name.upper()

        update.__qualname__ = f"update_{name}"
        return (("out-a", "out-b"), update)

    update_tab = _tab.together([part("one"), part("two"), part("three")])
    with app.test_request_context():  # nobody signed in: kept for the empty scope
        first = update_tab({"start": "2026-03-02"})
        computed = set(threads)
        threads.clear()
        again = update_tab({"start": "2026-03-02"})
    assert first == again == ("one 2026-03-02", "ONE", "two 2026-03-02", "TWO", "three 2026-03-02", "THREE")
    assert len(computed) >= 2  # this thread and the pool's
    assert threads == []  # all three kept: nothing computed the second time
