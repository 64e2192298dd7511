"""The frame's one callback over HTTP (callbacks/shell.py): what a tab switch and a new query send."""

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


def test_a_tab_switch_sends_the_choices_and_who_is_in(app, client, auth):
    """A bar opened by a link with an impossible period gets no choices; the period put right in the bar, the next
    tab switch (only the path changes: a tab link keeps the query) brings them, and who is in."""
    deps = dependencies(app)
    auth.login("manager")
    bad = "?start=2026-02-30&end=2026-03-08"
    opened = answer(client, deps, {"shell-location.search": bad, "shell-location.pathname": "/telemetry"})
    assert "options" not in opened.get("filter-teams", {})

    values = {"shell-location.search": SEARCH, "shell-location.pathname": "/telemetry/adoption"}
    switched = answer(client, deps, values, changed=["shell-location.pathname"])
    assert switched["filter-teams"] == {"value": ["t_sales"], "options": [
        {"label": "Engineering", "value": "t_eng"}, {"label": "Sales", "value": "t_sales"}]}  # fmt: skip
    assert switched["shell-user"]["children"] == "manager@test.example · Manager"

    # a new query (a shared link, the back button) is answered whole, as on opening
    values = {**values, **shown(switched), "shell-location.search": "?start=2026-03-01&end=2026-03-08"}
    linked = answer(client, deps, values, changed=["shell-location.search", "shell-location.pathname"])
    assert linked["filter-range"] == {"start_date": "2026-03-01", "end_date": "2026-03-08"}
    assert linked["filter-teams"]["value"] == [] and "options" in linked["filter-teams"]
    assert "shell-user" in linked


def test_a_switch_to_billing_hides_the_bars_period(app, client, auth):
    deps = dependencies(app)
    auth.login("admin")
    opened = answer(client, deps, {"shell-location.search": "", "shell-location.pathname": "/telemetry"})
    values = {"shell-location.search": "", "shell-location.pathname": "/telemetry/billing", **shown(opened)}
    switched = answer(client, deps, values, changed=["shell-location.pathname"])
    assert switched["filter-period"] == {"className": "d-none"}  # Billing names its period in its own selector
