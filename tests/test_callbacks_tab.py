"""A tab's parts answered in one request (callbacks/_tab.py): side by side, each on its own DuckDB cursor."""

from __future__ import annotations

import contextvars
import json
import threading
from urllib.parse import urlencode

import duckdb
import pytest

import queries
from callbacks import _tab
from layouts import ids
from tests import dash_payloads as dp
from tests.test_access import WEEK_QUERY, dependencies
from tests.test_callbacks_memo import signed_in_client

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


def test_a_tab_seen_before_comes_with_its_data_in_the_page(app, results):
    """The page's own answer: a tab not seen yet asks for its data once drawn; once kept, the data come with it."""
    deps = dependencies(app)
    client = signed_in_client(app, "admin")
    router = dp.find(deps, r"_pages_content\.children")
    where = {"_pages_location.pathname": "/telemetry/analytics", "_pages_location.search": "?" + urlencode(WEEK_QUERY)}

    def page() -> str:
        response = dp.post(client, dp.payload(router, where))
        assert response.status_code == 200
        return json.dumps(response.get_json()["response"]["_pages_content"]["children"])

    first = page()
    assert _tab.asking(ids.ANALYTICS_QUERY) in first and '"heatmap"' not in first  # its timer, no figures
    asked = dp.find(deps, rf"^\.\.{ids.ANALYTICS_AGENT_CHART}\.figure@")  # what the timer asks
    values = {f"{ids.ANALYTICS_QUERY}.data": WEEK_QUERY, f"{_tab.asking(ids.ANALYTICS_QUERY)}.n_intervals": 1}
    answered = dp.post(client, dp.payload(asked, values))
    assert answered.status_code == 200 and '"heatmap"' in answered.get_data(as_text=True)
    again = page()
    assert _tab.asking(ids.ANALYTICS_QUERY) not in again and '"heatmap"' in again
