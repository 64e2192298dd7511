"""The JSON API: same gate, same scope, clear 400s; tokens carry their owner's role."""

from __future__ import annotations

import pytest

from tests.conftest import ACCOUNTS

WEEK = "start=2026-03-02&end=2026-03-08"


def token_for(app, who: str) -> str:
    store = app.extensions["telemetry_store"]
    return store.create_token(store.account_by_email(ACCOUNTS[who][0]).id)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_summary_for_an_admin(client, auth):
    auth.login("admin")
    assert client.get(f"/api/v1/summary?{WEEK}").get_json() == {
        "interactions": 6,
        "active_users": 4,
        "cost_usd": "3.723334",
        "start": "2026-03-02",
        "end": "2026-03-08",
    }


def test_breakdown_by_team_with_a_managers_token_stays_in_scope(app, client):
    response = client.get(f"/api/v1/breakdown?by=team&{WEEK}", headers=bearer(token_for(app, "manager")))
    assert response.status_code == 200
    assert response.get_json()["rows"] == [
        {"key": "t_eng", "label": "Engineering", "interactions": 4, "active_users": 2, "cost_usd": "0.723333"},
        {"key": "t_sales", "label": "Sales", "interactions": 1, "active_users": 1, "cost_usd": "1.000001"},
    ]


def test_breakdown_by_day_lists_every_day(app, client):
    rows = client.get(f"/api/v1/breakdown?by=day&{WEEK}", headers=bearer(token_for(app, "admin"))).get_json()["rows"]
    assert [r["key"] for r in rows] == [f"2026-03-0{d}" for d in range(2, 9)]
    assert [r["interactions"] for r in rows] == [2, 2, 1, 0, 0, 0, 1]


def test_a_manager_cannot_reach_another_teams_users(app, client):
    rows = client.get(f"/api/v1/breakdown?by=user&{WEEK}", headers=bearer(token_for(app, "legal_manager")))
    assert [r["key"] for r in rows.get_json()["rows"]] == ["u3"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("by=model&" + WEEK, "by"),
        ("by=team&start=2026-13-01&end=2026-03-08", "start"),
        ("by=team&start=2026-03-02", "end"),
        ("by=team&start=2026-03-08&end=2026-03-02", "end"),
    ],
)
def test_bad_parameters_get_a_400_naming_them(client, auth, query, parameter):
    auth.login("admin")
    response = client.get(f"/api/v1/breakdown?{query}")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter


def test_credentials_are_required_and_members_are_forbidden(app, client):
    assert client.get(f"/api/v1/summary?{WEEK}").status_code == 401
    assert client.get(f"/api/v1/summary?{WEEK}", headers=bearer("tlm_forged")).status_code == 401
    assert client.get(f"/api/v1/summary?{WEEK}", headers=bearer(token_for(app, "member"))).status_code == 403


def test_revoked_tokens_stop_working_and_use_is_audited(app, client):
    store = app.extensions["telemetry_store"]
    token = token_for(app, "admin")
    assert client.get(f"/api/v1/summary?{WEEK}", headers=bearer(token)).status_code == 200
    store.revoke_tokens(store.account_by_email(ACCOUNTS["admin"][0]).id)
    assert client.get(f"/api/v1/summary?{WEEK}", headers=bearer(token)).status_code == 401
    actions = [e["action"] for e in store.audit_entries(5)]
    assert "token_use" in actions and "token_rejected" in actions


@pytest.mark.parametrize(
    ("who", "query", "expected"),
    [
        ("admin", "teams=t_sales", {"interactions": 1, "active_users": 1, "cost_usd": "1.000001"}),
        ("admin", "agents=a_draft", {"interactions": 2, "active_users": 2, "cost_usd": "2.333333"}),
        ("manager", "teams=t_eng,t_sales&agents=a_code", {"interactions": 4, "cost_usd": "1.390001"}),
    ],
)
def test_teams_and_agents_narrow_the_answer(app, client, who, query, expected):
    # tests/org.py, 2-8 March: Sales e3; Drafting e4 (u2) and e5 (u3); Max's teams with Code Helper e1 e2 e3 e6.
    answer = client.get(f"/api/v1/summary?{WEEK}&{query}", headers=bearer(token_for(app, who))).get_json()
    assert {key: answer[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("who", "query", "parameter", "message"),
    [
        ("admin", "teams=t_nope", "teams", "Unknown team 't_nope': not in the directory."),
        ("admin", "agents=a_sales,a_code,a_x", "agents", "Unknown agents 'a_sales', 'a_x': not in the directory."),
        ("manager", "teams=t_legal", "teams", "Unknown team 't_legal': not in the teams you can see."),
        ("manager", "teams=t_nope", "teams", "Unknown team 't_nope': not in the teams you can see."),
    ],
)
def test_unknown_team_or_agent_ids_get_a_400_naming_them(app, client, who, query, parameter, message):
    for path in ("summary?", "breakdown?by=team&"):
        response = client.get(f"/api/v1/{path}{WEEK}&{query}", headers=bearer(token_for(app, who)))
        assert response.status_code == 400
        assert response.get_json() == {"error": message, "parameter": parameter}
