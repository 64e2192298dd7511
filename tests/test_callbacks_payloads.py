"""Every callback, posted junk through the real HTTP endpoint: a clear message or no update, never a failure.

The browser is not trusted: a hand-made request can send any JSON as any input. The shared parsers
(page_filters, parse_filters, parse_ids, parse_date, preset_period) turn it into a PeriodError with a
message, and the callbacks that write the URL leave it alone.
"""

from __future__ import annotations

import json

import pytest

from callbacks._errors import MESSAGE as FAILURE
from tests import dash_payloads as dp
from tests.test_access import dependencies

JUNK = [
    1,
    -1.5,
    True,
    "junk",
    "9999-12-31",
    [1],
    ["a", 2],
    [{"user_id": 3}],
    {"a": 1},
    {"points": [1]},
    {"points": [{"customdata": [7]}]},
]
QUERIES = [  # what a page's query store could hold, if someone wrote it by hand
    {"start": 5, "end": [1]},
    {"start": ["2026-03-02"], "end": ["2026-03-08", 3]},
    {"start": "2026-03-02", "end": "2026-03-08", "teams": 5},
    {"start": "2026-03-02", "end": "2026-03-08", "teams": [1, 2], "agents": {"a": 1}},
    {"start": "2026-03-02", "end": "2026-03-08", "view": ["not_adopted"], "grain": ["day"], "stack": {"a": 1}},
    {"start": "9999-12-31", "end": "9999-12-31"},
    {"start": "0001-01-01", "end": "0001-01-02"},
    {"start": "2000-01-01", "end": "2000-01-31"},
]


def _is_pattern(item: dict) -> bool:
    return item["id"].startswith("{")


# The id a wildcard (ALL, MATCH) stands for here: a chip with a key no chip has, a chart's menu item, a
# schedule that does not exist.
WILDCARD_VALUES = {"key": "start", "value": "2026-03-02", "chart": "dashboard-trend", "schedule": 999}


def _concrete(pattern_id: str) -> dict:
    return {key: WILDCARD_VALUES[key] if isinstance(value, list) else value
            for key, value in json.loads(pattern_id).items()}  # fmt: skip


def _entry(item: dict, value):
    """An input as dash-renderer sends it; a pattern-matching ALL input is a list of the components it
    matched (here one chip with a key no chip has), a MATCH input the one component that changed."""
    if not _is_pattern(item):
        return {**item, "value": value}
    entry = {"id": _concrete(item["id"]), "property": item["property"], "value": value}
    return entry if "MATCH" in item["id"] else [entry]


def _changed(item: dict) -> str:
    if not _is_pattern(item):
        return f"{item['id']}.{item['property']}"
    return json.dumps(_concrete(item["id"]), separators=(",", ":"), sort_keys=True) + "." + item["property"]


def junk_payload(dependency: dict, trigger: dict, value) -> dict:
    """All inputs and states set to `value`, as if `trigger` had just changed."""
    body = dp.payload(dependency)
    body["inputs"] = [_entry(item, value) for item in dependency["inputs"]]
    body["state"] = [_entry(item, value) for item in dependency["state"]]
    body["changedPropIds"] = [_changed(trigger)]
    if "MATCH" in dependency["output"]:  # one output: of the component that changed
        output_id, _, prop = dependency["output"].rpartition(".")
        body["outputs"] = {"id": _concrete(output_id), "property": prop}
    return body


# Dash's own page router, and the report job (it runs in another process; the HTTP answer is only a
# job handle): for these only the status is asserted here.
NOT_OURS = (".._pages_content", "..report-download")


def _failure(client, body: dict, strict: bool = True) -> str | None:
    """None when the callback answered with an update, a message or no update; else what went wrong."""
    response = dp.post(client, body)
    if response.status_code not in (200, 204):
        return f"status {response.status_code}"
    if strict and FAILURE in response.get_data(as_text=True):
        return "it failed (caught by the last-resort error alert)"
    return None


@pytest.fixture
def admin_client(app, client, auth):
    deps = dependencies(app)
    auth.login("admin")
    return client, deps


def test_junk_in_any_input_of_any_callback_is_handled(admin_client):
    client, deps = admin_client
    assert len(deps) > 25
    failures = []
    for dependency in deps:
        if dependency.get("clientside_function"):
            continue  # runs in the browser, never posted
        strict = not dependency["output"].startswith(NOT_OURS)
        for trigger in dependency["inputs"]:
            for value in JUNK:
                failure = _failure(client, junk_payload(dependency, trigger, value), strict)
                if failure:
                    failures.append(f"{dependency['output'][:60]} <- {trigger['id']}={value!r}: {failure}")
    assert not failures, "\n".join(failures)


def test_junk_in_a_pages_query_is_a_message(admin_client):
    client, deps = admin_client
    stores = [
        d for d in deps
        if not d.get("clientside_function")  # runs in the browser: nothing of the server to test
        and any(i["id"].endswith("-query") and i["property"] == "data" for i in d["inputs"])
    ]  # fmt: skip
    assert len(stores) == 6  # each tab's parts are one callback (callbacks/_tab.py), and the Schedules list
    assert sum(len(dp._outputs(d["output"])) for d in stores) >= 30
    failures = []
    for dependency in stores:
        for query in QUERIES:
            failure = _failure(client, junk_payload(dependency, dependency["inputs"][0], query))
            if failure:
                failures.append(f"{dependency['output'][:60]} <- {query!r}: {failure}")
    assert not failures, "\n".join(failures)


def test_out_of_range_dates_are_explained(admin_client):
    client, deps = admin_client
    kpis = dp.find(deps, "dashboard-kpis")
    text = dp.post(client, dp.payload(kpis, {"dashboard-query.data": QUERIES[5]})).get_data(as_text=True)
    assert "out of range" in text and "2000-01-01" in text
    early = dp.post(client, dp.payload(kpis, {"dashboard-query.data": QUERIES[7]})).get_data(as_text=True)
    assert "Total interactions" in early  # its previous period, in 1999, is still computed


def test_a_chip_with_an_unknown_key_changes_nothing(admin_client):
    client, deps = admin_client
    chips = next(d for d in deps if "analytics-chip" in d["inputs"][0]["id"])
    body = junk_payload(chips, chips["inputs"][0], 1)
    body["state"] = [{**chips["state"][0], "value": "?start=2026-03-02&end=2026-03-08&agents=a_code"}]
    response = dp.post(client, body)
    assert response.status_code in (200, 204)
    text = response.get_data(as_text=True)
    assert "analytics-new-search" not in text and FAILURE not in text  # no update: the URL stays as it is
