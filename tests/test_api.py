"""The JSON API: same gate, same scope, clear 400s; tokens carry their owner's role."""

from __future__ import annotations

import pytest

from tests.conftest import ACCOUNTS, read_only_app

WEEK = "start=2026-03-02&end=2026-03-08"

# One app for the module: its tests only read (the tokens they make are their own); the one that revokes has its own.
app = pytest.fixture(read_only_app, name="app")


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


def test_revoked_tokens_stop_working_and_use_is_audited(own_app):
    app, client = own_app, own_app.test_client()  # "token_rejected" is audited once a minute: another test's hides it
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


# --- Paging ------------------------------------------------------------------------------------------


def walk(client, query: str, headers: dict, limit: int) -> list[dict]:
    """Every page of `query`, following next_cursor to the end."""
    rows, cursor = [], None
    while True:
        url = f"/api/v1/breakdown?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        answer = client.get(url, headers=headers).get_json()
        assert len(answer["rows"]) <= limit
        assert answer["has_more"] == (answer["next_cursor"] is not None)
        rows += answer["rows"]
        if answer["next_cursor"] is None:
            return rows
        assert len(answer["rows"]) == limit
        cursor = answer["next_cursor"]


@pytest.mark.parametrize("by", ["user", "team", "agent", "day"])
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_pages_hold_every_row_once_in_the_answers_order(app, client, by, limit):
    headers = bearer(token_for(app, "admin"))
    whole = client.get(f"/api/v1/breakdown?by={by}&{WEEK}", headers=headers).get_json()
    assert whole["next_cursor"] is None and whole["has_more"] is False
    assert walk(client, f"by={by}&{WEEK}", headers, limit) == whole["rows"]


def test_users_come_busiest_first_then_by_id(app, client):
    # tests/org.py, 2-8 March: Mia (u4) e1 e2 e6; Max (u2) e4, Lee (u3) e5, Sam (u5) e3: one each.
    rows = walk(client, f"by=user&{WEEK}", bearer(token_for(app, "admin")), 1)
    assert [(r["key"], r["interactions"]) for r in rows] == [("u4", 3), ("u2", 1), ("u3", 1), ("u5", 1)]


def test_a_page_has_at_most_limit_rows_and_a_cursor_while_more_remain(app, client):
    headers = bearer(token_for(app, "admin"))
    first = client.get(f"/api/v1/breakdown?by=day&{WEEK}&limit=5", headers=headers).get_json()
    assert [r["key"] for r in first["rows"]] == [f"2026-03-0{d}" for d in range(2, 7)]
    assert first["has_more"] is True
    rest = client.get(f"/api/v1/breakdown?by=day&{WEEK}&limit=10000&cursor={first['next_cursor']}", headers=headers)
    assert [r["key"] for r in rest.get_json()["rows"]] == ["2026-03-07", "2026-03-08"]
    assert rest.get_json()["next_cursor"] is None


@pytest.mark.parametrize("limit", ["0", "-1", "10001", "abc", "1.5", "", "٣"])
def test_a_limit_out_of_bounds_gets_a_400(client, auth, limit):
    auth.login("admin")
    response = client.get(f"/api/v1/breakdown?by=user&{WEEK}&limit={limit}")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "limit must be a whole number from 1 to 10000 (default 1000).",
        "parameter": "limit",
    }


def first_cursor(client, query: str, headers: dict) -> str:
    cursor = client.get(f"/api/v1/breakdown?{query}&limit=1", headers=headers).get_json()["next_cursor"]
    assert cursor
    return cursor


UNKNOWN_CURSOR = {"error": "Unknown cursor: pass the next_cursor of a previous page unchanged.", "parameter": "cursor"}


def test_a_changed_or_forged_cursor_gets_a_400(app, client):
    from itsdangerous import URLSafeSerializer

    headers = bearer(token_for(app, "admin"))
    cursor = first_cursor(client, f"by=user&{WEEK}", headers)
    payload = URLSafeSerializer("test", salt="api.v1.cursor").loads(cursor)
    forged = URLSafeSerializer("another key", salt="api.v1.cursor").dumps(payload)
    changed = URLSafeSerializer("x").dumps({**payload, "after": [0, "u0"]}).split(".")[0] + "." + cursor.split(".")[1]
    for bad in ("nonsense", cursor[:-1], changed, forged):
        response = client.get(f"/api/v1/breakdown?by=user&{WEEK}&cursor={bad}", headers=headers)
        assert response.status_code == 400
        assert response.get_json() == UNKNOWN_CURSOR


@pytest.mark.parametrize(
    "other",
    [
        "by=team&" + WEEK,  # another breakdown
        "by=user&start=2026-03-02&end=2026-03-09",  # another period
        f"by=user&{WEEK}&teams=t_eng",  # a narrower scope
    ],
)
def test_a_cursor_of_another_question_gets_a_400(app, client, other):
    headers = bearer(token_for(app, "admin"))
    cursor = first_cursor(client, f"by=user&{WEEK}", headers)
    response = client.get(f"/api/v1/breakdown?{other}&cursor={cursor}", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "cursor"
    assert response.get_json()["error"].startswith("This cursor belongs to another question")
    # The same question with another limit goes on.
    assert client.get(f"/api/v1/breakdown?by=user&{WEEK}&limit=2&cursor={cursor}", headers=headers).status_code == 200


def test_a_cursor_never_carries_its_scope_to_another_caller(app, client):
    admins = first_cursor(client, f"by=user&{WEEK}", bearer(token_for(app, "admin")))
    for who in ("manager", "legal_manager"):
        response = client.get(f"/api/v1/breakdown?by=user&{WEEK}&cursor={admins}", headers=bearer(token_for(app, who)))
        assert response.status_code == 400
        assert "rows" not in response.get_json()
    # Max (u2) manages Engineering and Sales: his pages hold their people only, Lee (u3) of Legal never.
    managers = walk(client, f"by=user&{WEEK}", bearer(token_for(app, "manager")), 1)
    assert [r["key"] for r in managers] == ["u4", "u2", "u5"]


# --- The JSON itself ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"summary?{WEEK}",
        f"summary?{WEEK}&teams=t_sales",
        *(f"breakdown?by={by}&{WEEK}" for by in ("team", "agent", "user", "day", "week", "month")),
        f"breakdown?by=user&{WEEK}&limit=2",
        "breakdown?by=nope",
        f"breakdown?by=user&{WEEK}&limit=0",
    ],
)
def test_answers_are_byte_for_byte_what_flasks_jsonify_gave(app, client, path):
    response = client.get(f"/api/v1/{path}", headers=bearer(token_for(app, "admin")))
    assert response.mimetype == "application/json"
    with app.app_context():  # what jsonify made of the same body: key order, separators, newline
        assert response.data == app.json.response(response.get_json()).get_data()


def test_text_outside_ascii_is_sent_as_utf8_json():
    import json

    from api.v1 import _json

    body = {"label": "José Ødegård — 研究", "cost_usd": "0.000001", "rows": [], "next_cursor": None}
    data = _json(body).get_data()
    assert json.loads(data) == body
    assert "José".encode() in data
