"""A callback that fails shows a message in the page, never a traceback or a blank frame."""

from __future__ import annotations

from callbacks import dashboard
from layouts import ids
from tests import dash_payloads as dp
from tests.test_access import WEEK, dependencies


def _broken(*_args, **_kwargs):
    raise RuntimeError("disk on fire")


def _dashboard_with_broken(app, client, auth, monkeypatch, query: str):
    """The Dashboard's answer (one request) as the admin, with `usage.<query>` failing."""
    monkeypatch.setattr(dashboard.usage, query, _broken)
    auth.login("admin")
    return dp.post(client, dp.payload(dp.find(dependencies(app), "dashboard-kpis"), WEEK))


def test_a_failing_callback_shows_an_alert(app, client, auth, monkeypatch):
    response = _dashboard_with_broken(app, client, auth, monkeypatch, "summary")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Part of this page could not be loaded" in text
    assert "disk on fire" not in text and "Traceback" not in text


def test_a_failing_part_of_a_tab_leaves_the_other_parts_shown(app, client, auth, monkeypatch):
    # the top agents and teams: parts after the first, computed on the pool (callbacks/_tab.py)
    answer = _dashboard_with_broken(app, client, auth, monkeypatch, "interactions_by_key").get_json()
    for chart in (ids.DASHBOARD_TOP_TEAMS, ids.DASHBOARD_TOP_AGENTS):  # drawn once in view: their places' stores
        assert ids.in_view_store(ids.chart_place(chart)) not in answer["response"]
    assert "Total interactions" in str(answer["response"]["dashboard-kpis"])  # still shown
    assert "Part of this page could not be loaded" in str(answer["sideUpdate"])
