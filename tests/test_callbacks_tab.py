"""A tab's parts answered in one request (callbacks/_tab.py): side by side, each on its own DuckDB cursor."""

from __future__ import annotations

import contextvars
import threading

import duckdb
import pytest

import queries
from callbacks import _tab

# A deadline for a condition that holds at once on an idle machine; generous for a busy one.
WAIT_FOR_THE_POOL = 120


def test_each_thread_of_a_context_has_its_own_cursor_and_all_are_closed(app):
    with app.app_context():
        mine = queries.cursor()
        assert queries.cursor() is mine
        pool = _tab.part_pool()
        theirs = pool.submit(contextvars.copy_context().run, queries.cursor).result()
        assert theirs is not mine
        assert mine.sql("select 1").fetchall() == theirs.sql("select 1").fetchall() == [(1,)]
    for closed in (mine, theirs):
        with pytest.raises(duckdb.ConnectionException):
            closed.sql("select 1")


def test_parts_to_compute_run_side_by_side_and_kept_ones_here(app, results):
    computed = []
    two_started = threading.Event()

    def part(name: str):
        def update(query):
            computed.append(name)
            if name == "two":
                two_started.set()
            if name == "one":  # answered by the request's thread: "two" runs meanwhile on the pool
                assert two_started.wait(WAIT_FOR_THE_POOL), "the second part never started beside the first"
            return f"{name} {query['start']}", name.upper()

        update.__qualname__ = f"update_{name}"
        return (("out-a", "out-b"), update)

    update_tab = _tab.together([part("one"), part("two"), part("three")])
    with app.test_request_context():  # nobody signed in: kept for the empty scope
        first = update_tab({"start": "2026-03-02"})
        assert sorted(computed) == ["one", "three", "two"]
        computed.clear()
        again = update_tab({"start": "2026-03-02"})
    assert first == again == ("one 2026-03-02", "ONE", "two 2026-03-02", "TWO", "three 2026-03-02", "THREE")
    assert computed == []  # all three kept: nothing computed the second time
