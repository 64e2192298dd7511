"""The tabs' outputs kept between requests in the result cache (callbacks/_memo.py): never across scopes, never
past new data, the same bytes as a fresh answer, and behind the gate on every request."""

from __future__ import annotations

import datetime as dt

from layouts import ids
from queries import period
from tests import dash_payloads as dp
from tests.conftest import ACCOUNTS, AuthActions, make_app
from tests.test_access import WEEK, WEEK_QUERY, dependencies
from tests.test_queries_cache import event_frame, write_by_hand

TABS = ("dashboard", "analytics", "users", "adoption", "billing")


def signed_in_client(app, who: str):
    client = app.test_client()
    AuthActions(client).login(who)
    return client


def top_teams(client, deps: list[dict], values: dict = WEEK) -> dict[str, int]:
    """The Dashboard's top-teams chart as {team: interactions}; {} for the empty-state message."""
    response = dp.post(client, dp.payload(dp.find(deps, "dashboard-top-teams"), values))
    assert response.status_code == 200
    place = ids.in_view_store(ids.chart_place(ids.DASHBOARD_TOP_TEAMS))  # drawn once in view: the whole chart
    figure = response.get_json()["response"][place]["data"]["props"]["figure"]
    if not figure["data"]:
        return {}
    bar = figure["data"][0]
    return dict(zip(bar["y"], bar["x"], strict=True))


def tab_bodies(deps: list[dict], query: dict) -> list[dict]:
    """Every data callback of every tab (the server's whose only input is the tab's query store), for `query`."""
    bodies = []
    for tab in TABS:
        wanted = [{"id": f"{tab}-query", "property": "data"}]
        for dependency in deps:
            if [dict(item) for item in dependency["inputs"]] == wanted and not dependency.get("clientside_function"):
                bodies.append(dp.payload(dependency, {f"{tab}-query.data": query}))
    return bodies


def test_a_managers_output_never_reaches_another_viewer(app, results):
    # Worked out from tests/org.py for 2 to 8 March 2026 (UTC): Engineering has e1, e2, e4 and e6,
    # Sales e3, Legal e5. Max (u2) manages Engineering and Sales, Lee (u3) Legal, Ivy (u7) nothing.
    deps = dependencies(app)
    memo_hits = []
    expected = {
        "manager": {"Engineering": 4, "Sales": 1},
        "admin": {"Engineering": 4, "Sales": 1, "Legal": 1},
        "legal_manager": {"Legal": 1},
        "idle_manager": {},
    }
    clients = {who: signed_in_client(app, who) for who in expected}
    for who in ("manager", "manager", "admin", "legal_manager", "idle_manager", "admin", "manager"):
        assert top_teams(clients[who], deps) == expected[who], who
        memo_hits.append(results.hits["output"])
    # Max's second visit, the admin's second and Max's third were answered from the memo (the five parts
    # of the Dashboard's one callback each); nobody else's.
    assert memo_hits == [0, 5, 5, 5, 5, 10, 15]


def test_an_admin_narrowed_to_a_managers_teams_is_not_served_the_managers_entry(app, results):
    deps = dependencies(app)
    narrowed = {"dashboard-query.data": {**WEEK_QUERY, "teams": "t_eng,t_legal"}}
    # Max asks for Engineering and Legal: he manages only Engineering. The admin sees both.
    assert top_teams(signed_in_client(app, "manager"), deps, narrowed) == {"Engineering": 4}
    assert top_teams(signed_in_client(app, "admin"), deps, narrowed) == {"Engineering": 4, "Legal": 1}
    assert top_teams(signed_in_client(app, "manager"), deps, narrowed) == {"Engineering": 4}


def test_warm_answers_are_the_bytes_of_fresh_ones(data_dir, password_hash, results, tmp_path):
    fresh_app = make_app(data_dir, password_hash)  # another app: its outputs are its own
    memo_app = make_app(data_dir, password_hash, ACCOUNTS_DB=str(tmp_path / "accounts.sqlite"))
    for who in ("admin", "manager"):
        for query in (WEEK_QUERY, {**WEEK_QUERY, "teams": "t_sales"}, {"start": "2026-03-09", "end": "2026-03-02"}):
            fresh, warm = signed_in_client(fresh_app, who), signed_in_client(memo_app, who)
            bodies = tab_bodies(dependencies(fresh_app), query)
            assert len(bodies) == 5  # one callback a tab, of 29 parts in all (Billing: 7, with budgets; Adoption: 9)
            for body in bodies:
                expected = dp.post(fresh, body).get_data()
                assert dp.post(warm, body).get_data() == expected, body["output"]  # computed, then kept
                assert dp.post(warm, body).get_data() == expected, body["output"]  # from the memo
    assert results.hits["output"] == 2 * 3 * 29  # each warm app's second answer; never the other app's
    assert results.misses["output"] == 2 * 2 * 3 * 29


def test_new_data_is_seen_at_once(app, data_dir, results):
    deps = dependencies(app)
    client = signed_in_client(app, "admin")
    assert top_teams(client, deps) == {"Engineering": 4, "Sales": 1, "Legal": 1}
    write_by_hand(data_dir, event_frame("n1", "2026-03-05 12:00", team="t_legal"), "part-9.parquet")
    assert top_teams(client, deps) == {"Engineering": 4, "Sales": 1, "Legal": 2}


def test_nothing_is_kept_while_the_result_cache_is_off(app, data_dir, results):
    results.max_bytes = 0  # before any sign-in, which reads the person's directory row through the cache too
    deps = dependencies(app)
    client = signed_in_client(app, "admin")
    assert top_teams(client, deps) == {"Engineering": 4, "Sales": 1, "Legal": 1}
    write_by_hand(data_dir, event_frame("n1", "2026-03-05 12:00", team="t_legal"), "part-9.parquet")
    assert top_teams(client, deps) == {"Engineering": 4, "Sales": 1, "Legal": 2}
    assert len(results) == 0


def test_the_gate_still_answers_every_request(app, results):
    deps = dependencies(app)
    body = dp.payload(dp.find(deps, "dashboard-top-teams"), WEEK)
    admin = signed_in_client(app, "admin")
    assert dp.post(admin, body).status_code == 200
    assert dp.post(admin, body).status_code == 200  # now kept
    assert dp.post(app.test_client(), body).status_code == 401  # a stranger
    assert dp.post(signed_in_client(app, "member"), body).status_code == 403
    assert dp.post(admin, body, origin="https://evil.example").status_code == 403  # cross-site
    store = app.extensions["telemetry_store"]
    store.set_disabled(store.account_by_email(ACCOUNTS["admin"][0]).id)  # ends the admin's sessions
    assert dp.post(admin, body).status_code == 401


def test_today_is_duckdbs_local_date_from_the_kept_midnights(monkeypatch):
    zones = ("Pacific/Auckland", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York", "UTC")

    def duckdb_today(tz: str) -> dt.date:
        return period._ask_icu("select timezone($tz, now())::date", {"tz": tz})[0][0]

    for tz in zones:  # a local midnight may pass between the two questions
        before, today, after = duckdb_today(tz), period.today_local(tz), duckdb_today(tz)
        assert today in (before, after), tz
    asked = []
    monkeypatch.setattr(period, "_ask_icu", lambda sql, params: asked.append(params))
    for tz in zones:
        period.today_local(tz)
    assert asked == []  # the year's midnights are kept: what today is costs no question


def test_inputs_that_differ_in_type_are_other_entries(app, results):
    deps = dependencies(app)
    client = signed_in_client(app, "admin")
    as_list = {"dashboard-query.data": {**WEEK_QUERY, "teams": ["t_legal"]}}
    as_text = {"dashboard-query.data": {**WEEK_QUERY, "teams": "t_legal"}}
    assert top_teams(client, deps, as_list) == top_teams(client, deps, as_text) == {"Legal": 1}
    assert results.misses["output"] == 2 * 5  # the five parts of the Dashboard, for each input
