"""/api/v1/adoption, /api/v1/cohorts and /api/v1/reclaim on the tiny org (tests/org.py, UTC), by hand.

Local (UTC) days of activity: Mia u4 25 Feb, 2 and 8 Mar; Sam u5 3 and 9 Mar; Max u2 3 Mar; Lee u3 4 Mar.
Ada u1, Ivy u7 and Noa u6 never. Everyone has had access since 5 January; the periods asked have passed.
"""

from __future__ import annotations

import pytest

from app import ConfigError, create_app
from tests.conftest import read_only_app
from tests.test_api import WEEK, bearer, token_for

app = pytest.fixture(read_only_app, name="app")  # one app for the module: its tests only read

ROUTES = (f"adoption?by=org&{WEEK}", f"cohorts?{WEEK}", "reclaim?days=30", f"uptake?{WEEK}", f"model-costs?{WEEK}")


def get(app, client, who: str, path: str) -> dict:
    response = client.get(f"/api/v1/{path}", headers=bearer(token_for(app, who)))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_adoption_of_the_organization(app, client):
    answer = get(app, client, "admin", f"adoption?by=org&{WEEK}")
    assert (answer["by"], answer["start"], answer["end"]) == ("org", "2026-03-02", "2026-03-08")
    assert answer["has_more"] is False
    assert answer["rows"] == [
        {
            "key": "org", "label": "Organization",
            "with_access": 7, "tried": 4, "active": 4, "habitual": 0, "power": 0,  # Mia: 2 of the 4 weeks only
            "dau": "0.714286", "wau": "3.428571", "mau": "3.428571",  # DAU 1 2 1 0 0 0 1; WAU, MAU 1 3 4 4 4 4 4
            "stickiness": "0.208333",  # 5 / 24
            "interactions": 6, "active_users": 4, "cost_usd": "3.723334",
            "cost_per_active_usd": "0.930834", "cost_per_interaction_usd": "0.620556",
            "previous_cost_per_active_usd": "0.050000",  # 23 Feb - 1 Mar: Mia's e0
            "previous_cost_per_interaction_usd": "0.050000",
            "share_of_active": "1.000000",
        }
    ]  # fmt: skip


def test_adoption_by_team_for_a_manager_stays_in_their_teams(app, client):
    rows = get(app, client, "manager", f"adoption?by=team&{WEEK}")["rows"]
    assert [row["key"] for row in rows] == ["t_eng", "t_sales"]
    eng, sales = rows
    funnel = ("with_access", "tried", "active", "habitual", "power")
    assert [eng[k] for k in funnel] == [4, 2, 2, 0, 0]  # Ada Max Mia Ivy; Max and Mia
    assert [sales[k] for k in funnel] == [1, 1, 1, 0, 0]
    assert (eng["stickiness"], eng["cost_per_active_usd"]) == ("0.230769", "0.361667")  # 3/13; 0.723333 / 2
    assert (sales["label"], sales["cost_per_active_usd"]) == ("Sales", "1.000001")
    legal = get(app, client, "legal_manager", f"adoption?by=agent&{WEEK}")["rows"]
    assert [(row["key"], row["with_access"], row["active"]) for row in legal] == [("a_code", 2, 0), ("a_draft", 2, 1)]


def test_agent_adoption_and_an_agents_cohorts(app, client):
    # Mia and Sam used Code Helper, Max Drafting, of the 3 active people of Max's teams
    rows = get(app, client, "manager", f"adoption?by=agent&{WEEK}")["rows"]
    assert [(row["key"], row["share_of_active"]) for row in rows] == [("a_code", "0.666667"), ("a_draft", "0.333333")]
    # an agent's first users: Drafting's, in March (Max and Lee)
    cohorts = get(app, client, "admin", f"cohorts?{WEEK}&agents=a_draft")["rows"]
    assert [(row["cohort_month"], row["size"], row["active"]) for row in cohorts] == [("2026-03-01", 2, 2)]


def test_an_agents_uptake_and_the_cost_per_model(app, client):
    # Lee's team: Drafting from Lee's 4 March (UTC) to 8 March, one person
    answer = get(app, client, "legal_manager", f"uptake?{WEEK}")
    assert [(row["agent_id"], row["day"], row["day_number"], row["users"]) for row in answer["rows"]] == [
        ("a_draft", f"2026-03-0{day}", day - 4, 1) for day in range(4, 9)
    ]
    assert answer["rows"][0] == {"agent_id": "a_draft", "label": "Drafting", "first_day": "2026-03-04",
                                 "day": "2026-03-04", "day_number": 0, "new_users": 1, "users": 1}  # fmt: skip
    # Max's teams: 1.723334 USD for 5 interactions and 3 people; the week before Mia's 0.05 USD
    rows = get(app, client, "manager", f"model-costs?{WEEK}")["rows"]
    assert rows == [{
        "key": "claude-sonnet-4.5", "label": "claude-sonnet-4.5", "interactions": 5, "cost_usd": "1.723334",
        "cost_per_interaction_usd": "0.344667", "cost_per_active_usd": "0.574445",
        "previous_cost_per_interaction_usd": "0.050000", "previous_cost_per_active_usd": "0.050000",
    }]  # fmt: skip


def test_adoption_pages_follow_the_keys(app, client):
    first = get(app, client, "admin", f"adoption?by=team&{WEEK}&limit=2")
    assert [row["key"] for row in first["rows"]] == ["t_eng", "t_legal"] and first["has_more"]
    rest = get(app, client, "admin", f"adoption?by=team&{WEEK}&limit=2&cursor={first['next_cursor']}")
    assert [row["key"] for row in rest["rows"]] == ["t_sales"] and not rest["has_more"]


def test_cohorts(app, client):
    rows = get(app, client, "admin", "cohorts?start=2026-02-01&end=2026-03-31")["rows"]
    assert rows == [
        {"cohort_month": "2026-02-01", "size": 1, "month_offset": 0, "active": 1, "active_share": "1.000000"},
        {"cohort_month": "2026-02-01", "size": 1, "month_offset": 1, "active": 1, "active_share": "1.000000"},
        {"cohort_month": "2026-03-01", "size": 3, "month_offset": 0, "active": 3, "active_share": "1.000000"},
    ]
    legal = get(app, client, "legal_manager", "cohorts?start=2026-02-01&end=2026-03-31")["rows"]
    assert [(row["cohort_month"], row["size"]) for row in legal] == [("2026-03-01", 1)]  # Lee


def test_seats_to_reclaim_in_each_scope(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SEAT_COST_USD", 19.5)  # as create_app reads SEAT_COST_USD=19.5 (tests/test_app.py)
    answer = get(app, client, "admin", "reclaim?days=90")
    assert [row["user_id"] for row in answer["rows"]] == ["u1", "u2", "u3", "u4", "u5", "u6", "u7"]
    assert (answer["days"], answer["seats"]) == (90, 7)
    assert (answer["seat_cost_usd"], answer["seats_cost_usd"]) == ("19.5", "136.50")
    sam = answer["rows"][4]
    assert {k: sam[k] for k in ("name", "team_id", "team", "managers", "access_since", "last_active")} == {
        "name": "Sam Sales", "team_id": "t_sales", "team": "Sales", "managers": "Max Manager",
        "access_since": "2026-01-05", "last_active": "2026-03-09",
    }  # fmt: skip
    manager = get(app, client, "manager", "reclaim?days=30")
    assert [row["user_id"] for row in manager["rows"]] == ["u1", "u2", "u4", "u5", "u7"]
    legal = get(app, client, "legal_manager", "reclaim?days=60&limit=1")
    assert [row["user_id"] for row in legal["rows"]] == ["u3"] and legal["seats"] == 2 and legal["has_more"]


def test_seat_cost_is_null_unless_set(app, client):
    answer = get(app, client, "admin", "reclaim")
    assert (answer["days"], answer["seat_cost_usd"], answer["seats_cost_usd"]) == (30, None, None)


@pytest.mark.parametrize(
    ("who", "path", "parameter"),
    [
        ("admin", f"adoption?by=user&{WEEK}", "by"),
        ("admin", "adoption?by=team&start=2026-03-02", "end"),
        ("admin", "cohorts?start=2026-13-01&end=2026-03-08", "start"),
        ("admin", "reclaim?days=45", "days"),
        ("manager", "reclaim?teams=t_legal", "teams"),
        ("manager", f"adoption?{WEEK}&teams=t_legal", "teams"),
    ],
)
def test_bad_parameters_get_a_400_naming_them(app, client, who, path, parameter):
    response = client.get(f"/api/v1/{path}", headers=bearer(token_for(app, who)))
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter


@pytest.mark.parametrize("path", ROUTES)
def test_credentials_are_required_and_members_are_refused(app, client, path):
    assert client.get(f"/api/v1/{path}").status_code == 401
    assert client.get(f"/api/v1/{path}", headers=bearer(token_for(app, "member"))).status_code == 403


def test_seat_cost_comes_from_the_environment(monkeypatch, tmp_path):
    settings = {"TESTING": True, "DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "t"}
    monkeypatch.setenv("SEAT_COST_USD", "12.5")
    assert create_app(settings, with_dash=False).config["SEAT_COST_USD"] == 12.5
    monkeypatch.setenv("SEAT_COST_USD", "a lot")
    with pytest.raises(ConfigError, match="SEAT_COST_USD='a lot'"):
        create_app(settings, with_dash=False)
