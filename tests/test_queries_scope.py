"""The scope predicate (queries/sql/macros.sql) through real questions on the tiny org (tests/org.py), from
the raw events and from the rollups: NULL allows every team (agent), an empty list none, a list those."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from queries import analytics, directory, usage, users
from queries.cache import bypassed
from queries.filters import Filters
from queries.period import Period
from queries.scope import Scope
from tests import org
from tests.conftest import make_app
from tests.oracle import raw_events

# Monday 2 to Sunday 8 March 2026, UTC: e1..e6 (tests/org.py).
WEEK = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8), "UTC")


def scope(teams: list[str] | None, agents: list[str] | None) -> Scope:
    return Scope(None if teams is None else frozenset(teams), "test", None if agents is None else frozenset(agents))


@pytest.fixture(params=["rollups", "raw events"])
def scoped_app(request, tmp_path: Path, password_hash: str) -> Iterator[Flask]:
    """The app as served (from its rollups), or answering with the oracle's SQL."""
    folder = tmp_path / "data"
    org.write_org_rolled_up(folder)
    app = make_app(folder, password_hash)
    if request.param == "rollups":
        yield app
        return
    with raw_events():
        yield app


def test_params_are_the_ids_or_none():
    assert Scope.organization().params() == {"team_ids": None, "agent_ids": None}
    assert Scope.teams(()).params() == {"team_ids": [], "agent_ids": None}
    assert scope(["t_sales", "t_eng"], ["a_code"]).params() == {
        "team_ids": ["t_eng", "t_sales"],
        "agent_ids": ["a_code"],
    }


@pytest.mark.parametrize(
    ("teams", "agents", "expected"),
    [
        (None, None, (6, 4)),  # every event of the week: u4, u5, u2, u3
        ([], None, (0, 0)),  # no team: nothing at all
        (None, [], (0, 0)),  # no agent: nothing at all
        ([], [], (0, 0)),
        (["t_legal"], None, (1, 1)),  # e5 by u3
        (["t_eng"], None, (4, 2)),  # e1 e2 e4 e6 by u4 u2
        (None, ["a_draft"], (2, 2)),  # e4 e5 by u2 u3
        (["t_eng", "t_sales"], ["a_code"], (4, 2)),  # e1 e2 e3 e6 by u4 u5
        (["t_eng"], ["a_draft"], (1, 1)),  # e4 by u2
        (["t_nowhere"], None, (0, 0)),  # a team with no events
    ],
)
def test_the_summary_counts_what_the_scope_allows(scoped_app, teams, agents, expected):
    with scoped_app.app_context(), bypassed():
        row = usage.summary(Filters.asking(WEEK, scope(teams, agents))).row(0, named=True)
    assert (row["interactions"], row["active_users"]) == expected


def test_the_catalogue_and_directory_follow_the_scope(scoped_app):
    with scoped_app.app_context(), bypassed():
        # every agent of the catalogue, used or not, unless the scope allows no team or no agent
        legal = analytics.agent_stats(Filters.asking(WEEK, scope(["t_legal"], None)))
        assert list(zip(legal["key"], legal["interactions"], strict=True)) == [("a_draft", 1), ("a_code", 0)]
        assert analytics.agent_stats(Filters.asking(WEEK, scope([], None))).is_empty()
        assert analytics.agent_stats(Filters.asking(WEEK, scope(None, []))).is_empty()
        # teams and their members (the directory's people of each team)
        every = analytics.team_stats(Filters.asking(WEEK, scope(None, None)))
        assert dict(zip(every["key"], every["members"], strict=True)) == {"t_eng": 4, "t_sales": 1, "t_legal": 2}
        assert analytics.team_stats(Filters.asking(WEEK, scope(["t_legal"], None)))["key"].to_list() == ["t_legal"]
        assert analytics.team_stats(Filters.asking(WEEK, scope([], None))).is_empty()
        assert directory.teams_in_scope(scope(None, None))["team_id"].sort().to_list() == [
            "t_eng",
            "t_legal",
            "t_sales",
        ]
        assert directory.teams_in_scope(scope(["t_sales"], None))["team_id"].to_list() == ["t_sales"]
        assert directory.teams_in_scope(scope([], None)).is_empty()
        # the people listed: all seven with every team; Lee (active) and Noa (never) in Legal; none in no team
        assert users.user_activity(Filters.asking(WEEK, scope(None, None)), today=WEEK.end).height == 7
        legal_people = users.user_activity(Filters.asking(WEEK, scope(["t_legal"], None)), today=WEEK.end)
        assert sorted(legal_people["user_id"]) == ["u3", "u6"]
        assert users.user_activity(Filters.asking(WEEK, scope([], None)), today=WEEK.end).is_empty()
        # the filter chips name only what the scope is narrowed to
        assert analytics.filter_labels(scope(None, None)).is_empty()
        assert analytics.filter_labels(scope(["t_legal"], [])).rows() == [("team", "t_legal", "Legal")]


def test_every_team_is_a_cache_key_no_list_of_ids_is() -> None:
    kept = {Scope(None, "Teams"): "every team"}  # the caches key on the scope itself
    assert Scope(None, "Teams") in kept
    assert Scope(frozenset({"all"}), "Teams") not in kept and Scope(None, "Teams", frozenset({"all"})) not in kept
