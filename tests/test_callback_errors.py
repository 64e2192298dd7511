"""A callback that fails shows a message in the page, never a traceback or a blank frame."""

from __future__ import annotations

from callbacks import dashboard
from tests import dash_payloads as dp
from tests.test_access import WEEK, dependencies


def test_a_failing_callback_shows_an_alert(app, client, auth, monkeypatch):
    deps = dependencies(app)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(dashboard.usage, "summary", broken)
    auth.login("admin")
    response = dp.post(client, dp.payload(dp.find(deps, "dashboard-kpis"), WEEK))
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Part of this page could not be loaded" in text
    assert "disk on fire" not in text and "Traceback" not in text


def test_a_failing_part_of_a_tab_leaves_the_other_parts_shown(app, client, auth, monkeypatch):
    deps = dependencies(app)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    # the top agents and teams: parts after the first, computed on the pool (callbacks/_tab.py)
    monkeypatch.setattr(dashboard.usage, "interactions_by_key", broken)
    auth.login("admin")
    answer = dp.post(client, dp.payload(dp.find(deps, "dashboard-kpis"), WEEK)).get_json()
    assert "dashboard-top-teams" not in answer["response"] and "dashboard-top-agents" not in answer["response"]
    assert "Total interactions" in str(answer["response"]["dashboard-kpis"])  # still shown
    assert "Part of this page could not be loaded" in str(answer["sideUpdate"])
