"""What one request may ask: callback and API bodies, the Users grid's search and filters."""

from __future__ import annotations

import io
import json

import pytest

from callbacks.grid_rows import FILTER_TOO_LONG, SEARCH_TOO_LONG
from queries.filters import MAX_IDS
from tests import dash_payloads as dp
from tests.conftest import ORIGIN

WEEK = {"shell-location.search": "?start=2026-03-02&end=2026-03-08", "dashboard-query.data":
        {"start": "2026-03-02", "end": "2026-03-08"}}  # fmt: skip
FIRST_BLOCK = {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}}


def dependency(client, output: str) -> dict:
    return dp.find(client.get("/_dash-dependencies").get_json(), output)


def grid_body(client, search: str | None, model: dict | None = None) -> dict:
    """The Users grid's block request as the browser sends it."""
    values = {
        "users-grid.getRowsRequest": {**FIRST_BLOCK, "filterModel": model or {}},
        "users-query.data": {"start": "2026-03-02", "end": "2026-03-08"},
        "users-search.value": search,
    }
    return dp.payload(dependency(client, r"users-grid\.getRowsResponse"), values)


def test_callback_bodies_over_the_cap_are_refused(app, client, auth):
    auth.login("admin")
    limit = app.config["CALLBACK_MAX_BYTES"]
    assert limit == 64 * 1024
    body = dp.payload(dependency(client, "dashboard-kpis"), WEEK)
    size = len(json.dumps(body))
    assert dp.post(client, {**body, "padding": "x" * (limit - size - 100)}).status_code == 200
    assert dp.post(client, {**body, "padding": "x" * (limit - size + 100)}).status_code == 413
    # without Content-Length (chunked), the body stops at the cap all the same
    raw = json.dumps({**body, "padding": "x" * limit}).encode()
    answer = client.post(
        dp.CALLBACK_URL,
        input_stream=io.BytesIO(raw),
        content_type="application/json",
        headers={"Origin": ORIGIN, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert answer.status_code == 413


def test_api_bodies_over_the_cap_are_refused(client, auth):
    auth.login("admin")
    padding = "x" * (64 * 1024 + 1)
    assert client.get("/api/v1/summary?start=2026-03-02&end=2026-03-08", data=padding).status_code == 413
    assert client.get("/api/v1/summary?start=2026-03-02&end=2026-03-08").status_code == 200
    assert client.post("/api/v1/summary", data=padding, headers={"Origin": ORIGIN}).status_code == 413


def test_anyone_is_refused_before_anything_is_read(client):
    big = "x" * (64 * 1024 + 1)
    assert client.post(dp.CALLBACK_URL, data=big, headers={"Origin": ORIGIN}).status_code == 413


def test_the_largest_real_bodies_fit(client, auth):
    """The filter bar's callback carries the filter twice (the URL and the dropdowns): with the most ids a
    filter takes (MAX_IDS teams and MAX_IDS agents) of 24 characters each it still fits, and so does the
    Users grid's block request with two conditions on every column and three sorts."""
    auth.login("admin")
    teams = [f"t_{n:022d}" for n in range(MAX_IDS)]
    agents = [f"a_{n:022d}" for n in range(MAX_IDS)]
    search = f"?start=2026-03-02&end=2026-03-08&teams={','.join(teams)}&agents={','.join(agents)}"
    values = {"shell-location.search": search, "shell-location.pathname": "/telemetry", "filter-teams.value": teams,
              "filter-agents.value": agents, "filter-preset.value": "custom"}  # fmt: skip
    body = dp.payload(dependency(client, r"^\.\.shell-location\.search\.\.\.filter-preset"), values)
    assert 50 * 1024 < len(json.dumps(body)) < 64 * 1024
    assert dp.post(client, body).status_code == 200
    text = {"filterType": "text", "operator": "OR", "conditions": [
        {"filterType": "text", "type": "contains", "filter": "x" * 200},
        {"filterType": "text", "type": "notContains", "filter": "y" * 200}]}  # fmt: skip
    model = {field: text for field in ("name", "email", "team", "last_active", "most_used_agent", "frequency")}
    grid = grid_body(client, " ".join(["word"] * 10), model)
    grid["inputs"][0]["value"]["sortModel"] = [{"colId": c, "sort": "asc"} for c in ("name", "email", "team")]
    assert len(json.dumps(grid)) < 8 * 1024
    answer = dp.post(client, grid)
    assert answer.status_code == 200
    assert answer.get_json()["response"]["users-grid"]["getRowsResponse"] == {"rowData": [], "rowCount": 0}


@pytest.mark.parametrize(
    ("search", "model", "note"),
    [
        ("legal", None, ""),
        (" ".join(["word"] * 11), None, SEARCH_TOO_LONG),
        ("x" * 201, None, SEARCH_TOO_LONG),
        (None, {"name": {"conditions": [{"type": "contains", "filter": "a"}] * 3}}, FILTER_TOO_LONG),
        (None, {"name": {"type": "contains", "filter": "a" * 201}}, FILTER_TOO_LONG),
    ],
)
def test_a_search_over_the_limits_shows_nobody_and_says_why(client, auth, search, model, note):
    auth.login("admin")
    answer = dp.post(client, grid_body(client, search, model))
    assert answer.status_code == 200
    rows = answer.get_json()["response"]["users-grid"]["getRowsResponse"]
    assert (rows["rowCount"] > 0) == (note == "")
    assert answer.get_json()["response"]["users-search-note"]["children"] == note  # said with the rows
