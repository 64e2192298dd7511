"""People lists and event figures agree (docs/schema.md, "Who is counted where").

The tiny org (tests/org.py) plus Kim (u8), who moved from Sales to Legal mid-week: her events of 2 and
3 March name Sales, the one of 5 March names Legal, and the directory says Legal. Max manages
Engineering and Sales, Lee manages Legal, Ada is an admin. Every number below is worked out by hand, and
is the same whether the raw events or the rollups answer.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from flask import Flask

from auth.scope import scope_for
from data import schema
from queries import analytics, usage, users
from queries.filters import Filters
from queries.period import Period
from queries.scope import Scope
from reports.build import report_for_account
from reports.request import ReportRequest
from tests import org
from tests.conftest import ACCOUNTS, make_app
from tests.oracle import raw_events
from tests.test_api import bearer, token_for

WEEK = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8))
KIM = ("u8", "Kim Mover", "kim@test.example", "t_legal", "member")
KIM_EVENTS = [  # event_id, UTC time, team, agent
    ("m1", "2026-03-02 11:00", "t_sales", "a_code"),
    ("m2", "2026-03-03 11:00", "t_sales", "a_code"),
    ("m3", "2026-03-05 11:00", "t_legal", "a_draft"),
]
VIEWERS = ("admin", "manager", "legal_manager")


def write_org_with_a_mover(folder: Path) -> None:
    """tests/org.py, and Kim with her three events (in their own files, as a later import writes them)."""
    org.write_org(folder)
    path = schema.directory_dir(folder) / "users.parquet"
    people = pl.read_parquet(path)
    kim = dict(zip(("user_id", "name", "email", "team_id", "role"), KIM, strict=True))
    kim |= {"created_at": people["created_at"][0], "active": True}
    pl.concat([people, pl.DataFrame([kim], schema=schema.USERS)]).write_parquet(path)
    for event_id, at, team, agent in KIM_EVENTS:
        write_event(folder, event_id, at, "u8", team, agent)


@pytest.fixture(params=["rollups", "raw events"])
def mover_app(request, tmp_path: Path, password_hash: str) -> Iterator[Flask]:
    """The app as served (from its rollups), or answering with the oracle's SQL."""
    folder = tmp_path / "data"
    org.write_rolled_up(folder, write_org_with_a_mover)
    app = make_app(folder, password_hash)
    if request.param == "rollups":
        yield app
        return
    with raw_events():
        yield app


def viewer_scope(who: str) -> Scope:
    _email, user_id, role = ACCOUNTS[who]
    return scope_for(role, user_id)


def report_rows(app: Flask, who: str) -> list[dict]:
    ask = ReportRequest(WEEK.start, WEEK.end, ("per_user",), "csv", "day")
    with app.test_request_context():
        account = app.extensions["telemetry_store"].account_by_email(ACCOUNTS[who][0])
        report = report_for_account(ask, account)
    return list(csv.DictReader(io.StringIO(report.content.decode("utf-8-sig"))))


# Per viewer: the people listed (Users tab, per-user report), those with activity and their interactions.
EXPECTED = {
    "admin": ({"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"}, {"u2": 1, "u3": 1, "u4": 3, "u5": 1, "u8": 3}),
    "manager": ({"u1", "u2", "u4", "u5", "u7", "u8"}, {"u2": 1, "u4": 3, "u5": 1, "u8": 2}),  # Kim: Sales only
    "legal_manager": ({"u3", "u6", "u8"}, {"u3": 1, "u8": 1}),  # Kim: Legal only
}


@pytest.mark.parametrize("who", VIEWERS)
def test_every_view_lists_the_people_its_active_users_count(mover_app: Flask, who: str) -> None:
    listed, active = EXPECTED[who]
    with mover_app.app_context():
        scope = viewer_scope(who)
        summary = usage.summary(Filters.asking(WEEK, scope)).row(0, named=True)
        adoption = usage.adoption(Filters.asking(WEEK, scope)).row(0, named=True)
        people = users.user_activity(Filters.asking(WEEK, scope))
        curve = users.adoption_curve(Filters.asking(WEEK, scope))
    with_activity = people.filter(pl.col("interactions") > 0)
    assert set(people["user_id"]) == listed and people.height == len(listed)  # each person once
    assert dict(with_activity.select("user_id", "interactions").rows()) == active
    assert summary["active_users"] == adoption["active_users"] == len(active)
    assert summary["interactions"] == with_activity["interactions"].sum()
    assert adoption["users_with_access"] == people.height  # the adoption's denominator is the list
    assert curve["users_with_access"][-1] == people.height
    assert (curve["adopted_users"] <= curve["users_with_access"]).all()

    response = mover_app.test_client().get(
        f"/api/v1/breakdown?by=user&start={WEEK.start}&end={WEEK.end}", headers=bearer(token_for(mover_app, who))
    )
    assert {row["key"]: row["interactions"] for row in response.get_json()["rows"]} == active

    names = dict(people.select("email", "user_id").rows())
    report = {names[row["Email"]]: int(row["Interactions"]) for row in report_rows(mover_app, who)}
    assert set(report) == listed
    assert {user: count for user, count in report.items() if count} == active


def test_kim_is_in_both_managers_lists_with_only_their_teams_activity(mover_app: Flask) -> None:
    with mover_app.app_context():
        for who, agent, days in (("manager", "Code Helper", [1, 1, 0, 0, 0, 0, 0]),
                                 ("legal_manager", "Drafting", [0, 0, 0, 1, 0, 0, 0])):  # fmt: skip
            scope = viewer_scope(who)
            kim = users.user_activity(Filters.asking(WEEK, scope)).filter(pl.col("user_id") == "u8").row(0, named=True)
            assert kim["most_used_agent"] == agent
            assert users.user_in_scope(Filters.asking(WEEK, scope), "u8")["name"] == "Kim Mover"  # her detail opens
            assert users.user_daily_activity(Filters.asking(WEEK, scope), "u8")["interactions"].to_list() == days
        manager = users.user_activity(Filters.asking(WEEK, viewer_scope("manager"))).filter(pl.col("user_id") == "u8")
        # her current team is not Max's: he sees that she is elsewhere, not where
        assert manager.select("team_id", "team").row(0) == (None, "Another team")
        legal = users.user_activity(Filters.asking(WEEK, viewer_scope("legal_manager")))
        legal = legal.filter(pl.col("user_id") == "u8")
        assert legal.select("team_id", "team").row(0) == ("t_legal", "Legal")
        # the week after, Kim has no Sales activity: she is no longer in Max's lists, nor can he open her
        later = Period(dt.date(2026, 3, 9), dt.date(2026, 3, 15))
        assert "u8" not in users.user_activity(Filters.asking(later, viewer_scope("manager")))["user_id"].to_list()
        assert users.user_in_scope(Filters.asking(later, viewer_scope("manager")), "u8") is None


def test_adoption_never_passes_100_percent(mover_app: Flask) -> None:
    sales = Scope.teams({"t_sales"})
    with mover_app.app_context():
        adoption = usage.adoption(Filters.asking(WEEK, sales)).row(0, named=True)
        stats = analytics.team_stats(Filters.asking(WEEK, viewer_scope("manager")))
        teams = {row["key"]: row for row in stats.iter_rows(named=True)}
        curve = users.adoption_curve(Filters.asking(WEEK, viewer_scope("manager")))
    # Sam and Kim used an agent in Sales; Sam is its only member in the directory: both are its people
    assert (adoption["active_users"], adoption["users_with_access"]) == (2, 2)
    assert (teams["t_sales"]["members"], teams["t_sales"]["active_users"], teams["t_sales"]["adoption"]) == (2, 2, 1.0)
    assert (teams["t_eng"]["members"], teams["t_eng"]["active_users"]) == (4, 2)
    # Max's people: Ada, Max, Mia, Sam, Ivy and Kim; Mia adopted in February, Kim on the 2nd, Max and Sam the 3rd
    assert curve["users_with_access"].to_list() == [6] * 7
    assert curve["adopted_users"].to_list() == [2, 4, 4, 4, 4, 4, 4]


def test_someone_gone_from_the_directory_is_still_listed_with_their_activity(mover_app: Flask) -> None:
    path = schema.directory_dir(Path(mover_app.config["DATA_DIR"])) / "users.parquet"
    pl.read_parquet(path).filter(pl.col("user_id") != "u5").write_parquet(path)  # Sam's row deleted by hand
    for who in ("admin", "manager"):
        with mover_app.app_context():
            scope = viewer_scope(who)
            summary = usage.summary(Filters.asking(WEEK, scope)).row(0, named=True)
            adoption = usage.adoption(Filters.asking(WEEK, scope)).row(0, named=True)
            people = users.user_activity(Filters.asking(WEEK, scope))
        sam = people.filter(pl.col("user_id") == "u5").row(0, named=True)
        assert (sam["name"], sam["team"], sam["interactions"], sam["frequency"]) == (None, None, 1, "weekly")
        assert people.filter(pl.col("interactions") > 0).height == summary["active_users"]
        assert adoption["users_with_access"] == people.height


def write_event(folder: Path, event_id: str, at: str, user: str, team: str, agent: str) -> None:
    """One event (UTC instant `at`, ISO) in a file of its own in its date's partition."""
    ts = dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC)
    row = {
        "event_id": event_id, "ts": ts, "user_id": user, "team_id": team, "agent_id": agent,
        "model": "claude-sonnet-4.5", "conversation_id": f"c_{event_id}", "input_tokens": 100,
        "output_tokens": 20, "cost_usd": Decimal("0.010000"), "latency_ms": 500, "status": "ok",
    }  # fmt: skip
    target = schema.partition_dir(folder, ts.date().isoformat())
    target.mkdir(parents=True, exist_ok=True)
    pl.DataFrame([row], schema=schema.EVENTS).write_parquet(target / f"part-{event_id}.parquet")
