"""The frame's one callback over HTTP (callbacks/shell.py): what a tab switch and a new query send."""

from __future__ import annotations

from tests import dash_payloads as dp
from tests.conftest import ORIGIN
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


def component(tree: object, component_id: str) -> dict | None:
    """The component of a layout's JSON with this id, or None."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree
        children = [tree.get("props", {}).get("children")] if "props" in tree else list(tree.values())
    elif isinstance(tree, list):
        children = tree
    else:
        return None
    return next((found for child in children if (found := component(child, component_id)) is not None), None)


def test_a_starting_page_gets_its_page_and_its_filter_bar_with_the_layout(client, auth):
    """Dash asks for the layout from the page (its Referer): the page its address asks for and the filter bar as the
    address says come with it, and both locations already hold the address, so no callback fires to fill them."""
    auth.login("manager")
    referer = {"Referer": ORIGIN + "/telemetry/analytics" + SEARCH}
    layout = client.get("/_dash-layout", headers=referer).get_json()
    for location in ("shell-location", "_pages_location"):
        props = component(layout, location)["props"]
        assert (props["pathname"], props["search"]) == ("/telemetry/analytics", SEARCH)
    assert component(component(layout, "_pages_content"), "analytics-query")["props"]["data"] == {
        "start": "2026-03-02", "end": "2026-03-08", "teams": "t_sales"}  # fmt: skip
    assert component(layout, "filter-teams")["props"]["value"] == ["t_sales"]
    assert {"label": "Sales", "value": "t_sales"} in component(layout, "filter-teams")["props"]["options"]
    assert component(layout, "filter-range")["props"]["start_date"] == "2026-03-02"
    assert component(layout, "shell-user")["props"]["children"] == "manager@test.example · Manager"
    assert component(layout, "shell-nav-users")["props"]["href"] == "/telemetry/users" + SEARCH
    assert component(layout, "_pages_store")["props"]["data"] == {"title": "Telemetry · Analytics"}  # the window's

    # no Referer, or an address that is no page: the frame goes out empty, filled by its callbacks as it mounts
    for headers in ({}, {"Referer": ORIGIN + "/elsewhere" + SEARCH}):
        layout = client.get("/_dash-layout", headers=headers).get_json()
        assert component(layout, "_pages_content")["props"].get("children") is None
        assert "pathname" not in component(layout, "shell-location")["props"]
        assert "value" not in component(layout, "filter-teams")["props"]


def test_a_starting_page_that_cannot_be_made_still_gets_the_frame(client, auth, monkeypatch, caplog):
    """A repeated key in the address is a page like any other; and when making the page fails, the layout is the
    empty frame (its callbacks then say what failed on the page), never an error that leaves the browser only
    Dash's "Error loading layout"."""
    auth.login("admin")
    for path in ("/telemetry/analytics?start=2026-03-02&end=2026-03-08&stack=team&stack=agent",
                 "/telemetry/users?view=a&view=b"):  # fmt: skip
        answer = client.get("/_dash-layout", headers={"Referer": ORIGIN + path})
        assert answer.status_code == 200
        assert component(answer.get_json(), "_pages_content")["props"].get("children") is not None

    import queries.directory

    def broken(*_args, **_kwargs):
        raise RuntimeError("the directory is away")

    monkeypatch.setattr(queries.directory, "teams_in_scope", broken)
    answer = client.get("/_dash-layout", headers={"Referer": ORIGIN + "/telemetry/analytics" + SEARCH})
    assert answer.status_code == 200
    assert component(answer.get_json(), "_pages_content")["props"].get("children") is None
    assert "could not be made" in caplog.text
