"""The frame's one callback over HTTP (callbacks/shell.py): a tab switch sends only what changed."""

from __future__ import annotations

from tests import dash_payloads as dp
from tests.test_access import dependencies

SEARCH = "?start=2026-03-02&end=2026-03-08&teams=t_sales"
BAR = ("filter-preset.value", "filter-range.start_date", "filter-range.end_date", "filter-teams.value",
       "filter-agents.value")  # fmt: skip


def answer(client, deps: list[dict], values: dict, changed: list[str] | None = None) -> dict:
    body = dp.payload(dp.find(deps, r"shell-notice\.children"), values)
    if changed is not None:
        body["changedPropIds"] = changed
    return dp.post(client, body).get_json()["response"]


def shown(response: dict) -> dict:
    """The filter bar's values once the browser has drawn an answer."""
    return {key: response[key.split(".")[0]][key.split(".")[1]] for key in BAR}


def test_a_tab_switch_sends_only_what_changed(app, client, auth):
    deps = dependencies(app)
    auth.login("manager")
    opened = answer(client, deps, {"shell-location.search": SEARCH, "shell-location.pathname": "/telemetry"})
    assert opened["filter-teams"] == {"value": ["t_sales"], "options": [
        {"label": "Engineering", "value": "t_eng"}, {"label": "Sales", "value": "t_sales"}]}  # fmt: skip
    assert opened["shell-user"]["children"] == "manager@test.example · Manager"

    # the same query on another tab: the bar already shows it, its choices and who is in stay as they are
    values = {"shell-location.search": SEARCH, "shell-location.pathname": "/telemetry/adoption", **shown(opened)}
    switched = answer(client, deps, values, changed=["shell-location.pathname"])
    assert set(switched) == {"filter-message", "filter-period", "shell-notice"}
    assert switched["filter-period"] == {"className": ""}

    # a new query (a shared link, the back button) is answered whole, as on opening
    values["shell-location.search"] = "?start=2026-03-01&end=2026-03-08"
    linked = answer(client, deps, values, changed=["shell-location.search", "shell-location.pathname"])
    assert linked["filter-range"] == {"start_date": "2026-03-01", "end_date": "2026-03-08"}
    assert linked["filter-teams"]["value"] == [] and "options" in linked["filter-teams"]
    assert "shell-user" in linked


def test_a_switch_to_billing_shows_its_own_default_period(app, client, auth):
    deps = dependencies(app)
    auth.login("admin")
    opened = answer(client, deps, {"shell-location.search": "", "shell-location.pathname": "/telemetry"})
    values = {"shell-location.search": "", "shell-location.pathname": "/telemetry/billing", **shown(opened)}
    switched = answer(client, deps, values, changed=["shell-location.pathname"])
    assert switched["filter-period"] == {"className": "d-none"}  # Billing names its period in its own selector
    assert "filter-teams" not in switched and "shell-user" not in switched
