"""Analytics queries on the tiny org (tests/org.py); every expected number is worked out by hand.

The events of the week 2026-03-02 (Mon) .. 2026-03-08 (Sun), in UTC and in New York local time
(EST, UTC-5, until 2026-03-08 02:00; EDT, UTC-4, after):

    id  UTC               NY local          user team    agent   cost      status
    e1  Mon 02 10:00      Mon 02 05:00      u4   t_eng   a_code  0.100000  ok
    e2  Mon 02 15:30      Mon 02 10:30      u4   t_eng   a_code  0.250000  error
    e3  Tue 03 09:00      Tue 03 04:00      u5   t_sales a_code  1.000001  ok
    e4  Tue 03 23:30      Tue 03 18:30      u2   t_eng   a_draft 0.333333  ok
    e5  Wed 04 02:00      Tue 03 21:00      u3   t_legal a_draft 2.000000  ok
    e6  Sun 08 06:30      Sun 08 01:30 EST  u4   t_eng   a_code  0.040000  ok
    e7  Mon 09 03:30      Sun 08 23:30 EDT  u5   t_sales a_code  0.500000  ok   (NY week only)
    e8  Mon 09 04:30      Mon 09 00:30 EDT  u5   t_sales a_code  0.700000  ok   (neither)

e0 (2026-02-25, u4, t_eng, a_code, 0.05) is before the week. Every event has 1,000 input and 200
output tokens and 900 ms latency. Members (all active, created 2026-01-05): Engineering u1 u2 u4 u7,
Sales u5, Legal u3 u6.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from queries import analytics, usage
from queries.filters import Filters
from queries.period import Period, PeriodError
from queries.scope import Scope
from tests.conftest import read_only_app

ORG = Scope.organization()
MAX = Scope.teams({"t_eng", "t_sales"})
NOBODY = Scope.teams(())
NY = "America/New_York"
AGENT_COLUMNS = (
    "key", "label", "interactions", "active_users", "interactions_per_active_user", "errors", "error_rate",
    "cost_usd",
)  # fmt: skip
TEAM_COLUMNS = (
    "key", "label", "members", "active_users", "adoption", "interactions", "share", "interactions_per_member",
    "cost_usd",
)  # fmt: skip


def week(tz: str = "UTC") -> Period:
    return Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8), tz)


def rows(frame, columns) -> list[tuple]:
    return frame.select(columns).rows()


# One app for the module: its tests only read. A result cache of each test's own (`results`): the tests ask in UTC and
# in New York, the folder's rollups are rebuilt for the zone asked, and an answer kept is keyed by its SQL's
# parameters, which for some questions do not hold the zone.
app = pytest.fixture(read_only_app, name="app")


@pytest.fixture(autouse=True)
def _context(app, results):
    with app.app_context():
        yield


# By agent


def test_agents_utc_week():
    frame = analytics.agent_stats(Filters.asking(week(), ORG))
    # a_code: e1 e2 e3 e6 by u4 u5, e2 failed; a_draft: e4 e5 by u2 u3.
    assert rows(frame, AGENT_COLUMNS) == [
        ("a_code", "Code Helper", 4, 2, 2.0, 1, 0.25, Decimal("1.390001")),
        ("a_draft", "Drafting", 2, 2, 1.0, 0, 0.0, Decimal("2.333333")),
    ]
    assert rows(frame, ("avg_latency_ms", "input_tokens", "output_tokens")) == [(900.0, 4000, 800), (900.0, 2000, 400)]
    assert frame["share"].to_list() == pytest.approx([4 / 6, 2 / 6])


def test_agents_new_york_week_crosses_dst():
    # e7 (23:30 EDT on Sunday the 8th) joins Code Helper: 5 interactions, still u4 and u5.
    assert rows(analytics.agent_stats(Filters.asking(week(NY), ORG)), AGENT_COLUMNS) == [
        ("a_code", "Code Helper", 5, 2, 2.5, 1, 0.2, Decimal("1.890001")),
        ("a_draft", "Drafting", 2, 2, 1.0, 0, 0.0, Decimal("2.333333")),
    ]


def test_agents_in_a_managers_scope():
    # Engineering and Sales: e4 is Drafting's only use there (u2); Legal's e5 is out.
    assert rows(analytics.agent_stats(Filters.asking(week(), MAX)), AGENT_COLUMNS) == [
        ("a_code", "Code Helper", 4, 2, 2.0, 1, 0.25, Decimal("1.390001")),
        ("a_draft", "Drafting", 1, 1, 1.0, 0, 0.0, Decimal("0.333333")),
    ]


def test_agents_narrowed_to_one_agent():
    frame = analytics.agent_stats(Filters.asking(week(), ORG.narrow(agents=["a_draft"])))
    assert rows(frame, AGENT_COLUMNS) == [("a_draft", "Drafting", 2, 2, 1.0, 0, 0.0, Decimal("2.333333"))]


def test_unused_agents_are_listed_with_zeros():
    april = Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    assert rows(analytics.agent_stats(Filters.asking(april, ORG)), AGENT_COLUMNS) == [
        ("a_code", "Code Helper", 0, 0, None, 0, None, Decimal("0")),
        ("a_draft", "Drafting", 0, 0, None, 0, None, Decimal("0")),
    ]


def test_agents_empty_period_and_empty_scope():
    # 2025: the agents did not exist yet (created 2026-01-05); a scope with no teams sees nothing.
    assert analytics.agent_stats(Filters.asking(Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31)), ORG)).is_empty()
    assert analytics.agent_stats(Filters.asking(week(), NOBODY)).is_empty()


# By team


def test_teams_utc_week():
    # Engineering e1 e2 e4 e6 by u4 u2 (4 members); Legal e5 by u3 (2 members); Sales e3 by u5 (1 member).
    frame = analytics.team_stats(Filters.asking(week(), ORG))
    assert rows(frame, TEAM_COLUMNS) == [
        ("t_eng", "Engineering", 4, 2, 0.5, 4, pytest.approx(4 / 6), 1.0, Decimal("0.723333")),
        ("t_legal", "Legal", 2, 1, 0.5, 1, pytest.approx(1 / 6), 0.5, Decimal("2.000000")),
        ("t_sales", "Sales", 1, 1, 1.0, 1, pytest.approx(1 / 6), 1.0, Decimal("1.000001")),
    ]


def test_teams_new_york_week():
    # Sales gains e7 (u5 again): 2 interactions for its one member.
    assert rows(analytics.team_stats(Filters.asking(week(NY), ORG)), TEAM_COLUMNS) == [
        ("t_eng", "Engineering", 4, 2, 0.5, 4, pytest.approx(4 / 7), 1.0, Decimal("0.723333")),
        ("t_sales", "Sales", 1, 1, 1.0, 2, pytest.approx(2 / 7), 2.0, Decimal("1.500001")),
        ("t_legal", "Legal", 2, 1, 0.5, 1, pytest.approx(1 / 7), 0.5, Decimal("2.000000")),
    ]


def test_teams_without_interactions_are_listed():
    # Drafting was used by u2 (Engineering, e4) and u3 (Legal, e5); Sales stays, with zeros.
    frame = analytics.team_stats(Filters.asking(week(), ORG.narrow(agents=["a_draft"])))
    assert rows(frame, TEAM_COLUMNS) == [
        ("t_eng", "Engineering", 4, 1, 0.25, 1, 0.5, 0.25, Decimal("0.333333")),
        ("t_legal", "Legal", 2, 1, 0.5, 1, 0.5, 0.5, Decimal("2.000000")),
        ("t_sales", "Sales", 1, 0, 0.0, 0, 0.0, 0.0, Decimal("0")),
    ]


def test_teams_in_a_managers_scope_never_show_other_teams():
    frame = analytics.team_stats(Filters.asking(week(), MAX))
    assert rows(frame, TEAM_COLUMNS) == [
        ("t_eng", "Engineering", 4, 2, 0.5, 4, 0.8, 1.0, Decimal("0.723333")),
        ("t_sales", "Sales", 1, 1, 1.0, 1, 0.2, 1.0, Decimal("1.000001")),
    ]
    assert analytics.team_stats(Filters.asking(week(), MAX.narrow(["t_legal"]))).is_empty()
    assert analytics.team_stats(Filters.asking(week(), NOBODY)).is_empty()


def test_teams_in_an_empty_period():
    # Nobody had access before 2026-01-05: no members, so no adoption; every team still listed.
    frame = analytics.team_stats(Filters.asking(Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31)), ORG))
    assert rows(frame, TEAM_COLUMNS) == [
        ("t_eng", "Engineering", 0, 0, None, 0, None, None, Decimal("0")),
        ("t_legal", "Legal", 0, 0, None, 0, None, None, Decimal("0")),
        ("t_sales", "Sales", 0, 0, None, 0, None, None, Decimal("0")),
    ]


# Over time


def series(frame) -> dict[tuple[str, str], int]:
    return {(row["bucket_label"], row["label"]): row["interactions"] for row in frame.iter_rows(named=True)}


def test_daily_by_agent_in_new_york_top_one_and_other():
    # Code Helper (5) is the top agent; Drafting (2) becomes Other. Local days as in the table above.
    frame = analytics.interactions_over_time_by(Filters.asking(week(NY), ORG, "day"), "agent", top_n=1)
    days = ["2026-03-0" + str(d) for d in range(2, 9)]
    expected = {(day, name): 0 for day in days for name in ("Code Helper", "Other")}
    expected |= {
        ("2026-03-02", "Code Helper"): 2,  # e1, e2
        ("2026-03-03", "Code Helper"): 1,  # e3
        ("2026-03-03", "Other"): 2,  # e4 18:30, e5 21:00
        ("2026-03-08", "Code Helper"): 2,  # e6 01:30 EST, e7 23:30 EDT
    }
    assert series(frame) == expected
    assert frame.height == 14
    assert frame.filter(frame["key"] == "other")["cost_usd"].sum() == Decimal("2.333333")
    assert frame["key"].unique().sort().to_list() == ["a_code", "other"]


def test_weekly_by_team_without_other():
    frame = analytics.interactions_over_time_by(Filters.asking(week(), ORG, "week"), "team", top_n=5)
    # Ties (Legal 1, Sales 1) rank by id: t_legal before t_sales.
    assert frame.select("bucket_label", "key", "label", "rank", "interactions").rows() == [
        ("2026-03-02", "t_eng", "Engineering", 1, 4),
        ("2026-03-02", "t_legal", "Legal", 2, 1),
        ("2026-03-02", "t_sales", "Sales", 3, 1),
    ]


def test_monthly_by_team_top_one():
    # February: e0 (Engineering). March: Engineering e1 e2 e4 e6; Other e3 e5 e7 e8.
    months = Period(dt.date(2026, 2, 1), dt.date(2026, 3, 31))
    frame = analytics.interactions_over_time_by(Filters.asking(months, ORG, "month"), "team", top_n=1)
    assert frame.select("bucket_label", "label", "interactions", "cost_usd").rows() == [
        ("2026-02-01", "Engineering", 1, Decimal("0.050000")),
        ("2026-02-01", "Other", 0, Decimal("0")),
        ("2026-03-01", "Engineering", 4, Decimal("0.723333")),
        ("2026-03-01", "Other", 4, Decimal("4.200001")),
    ]


def test_over_time_in_a_managers_scope():
    frame = analytics.interactions_over_time_by(Filters.asking(week(), MAX, "week"), "team", top_n=5)
    assert frame.select("label", "interactions").rows() == [("Engineering", 4), ("Sales", 1)]


def test_over_time_empty_period_has_no_series():
    empty = Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert analytics.interactions_over_time_by(Filters.asking(empty, ORG, "day"), "agent").is_empty()


def test_over_time_refuses_unknown_arguments():
    with pytest.raises(ValueError, match="Unknown breakdown"):
        analytics.interactions_over_time_by(Filters.asking(week(), ORG, "day"), "user; drop table events")
    with pytest.raises(PeriodError, match="Unknown grain"):
        analytics.interactions_over_time_by(Filters.asking(week(), ORG, "hour"), "agent")
    with pytest.raises(ValueError, match="top_n"):
        analytics.interactions_over_time_by(Filters.asking(week(), ORG, "day"), "agent", top_n=0)


# Weekday x hour


def busy_cells(frame) -> dict[tuple[int, int], int]:
    return {(row["weekday"], row["hour"]): n for row in frame.iter_rows(named=True) if (n := row["interactions"])}


def test_heatmap_utc():
    frame = analytics.activity_heatmap(Filters.asking(week(), ORG))
    assert frame.height == 168
    assert frame.select("weekday", "hour").rows()[:2] == [(1, 0), (1, 1)]
    assert busy_cells(frame) == {(1, 10): 1, (1, 15): 1, (2, 9): 1, (2, 23): 1, (3, 2): 1, (7, 6): 1}


def test_heatmap_new_york_local_hours_across_dst():
    frame = analytics.activity_heatmap(Filters.asking(week(NY), ORG))
    assert busy_cells(frame) == {(1, 5): 1, (1, 10): 1, (2, 4): 1, (2, 18): 1, (2, 21): 1, (7, 1): 1, (7, 23): 1}


def test_heatmap_scoped_and_empty():
    managers = {(1, 10): 1, (1, 15): 1, (2, 9): 1, (2, 23): 1, (7, 6): 1}  # all but Legal's e5
    assert busy_cells(analytics.activity_heatmap(Filters.asking(week(), MAX))) == managers
    empty = analytics.activity_heatmap(Filters.asking(Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31)), ORG))
    assert empty.height == 168 and busy_cells(empty) == {}


# Filter chips


def test_filter_labels_only_name_teams_the_scope_allows():
    assert analytics.filter_labels(ORG).is_empty()
    assert analytics.filter_labels(ORG.narrow(["t_legal"], ["a_code"])).rows() == [
        ("agent", "a_code", "Code Helper"),
        ("team", "t_legal", "Legal"),
    ]
    assert analytics.filter_labels(MAX.narrow(["t_legal"])).is_empty()


# The breakdowns add up to the Dashboard's numbers


@pytest.mark.parametrize(
    ("period", "scope"),
    [
        (week(), ORG),
        (week(NY), ORG),
        (week(), MAX),
        (week(NY), ORG.narrow(agents=["a_code"])),
        (Period(dt.date(2026, 2, 1), dt.date(2026, 3, 31), NY), MAX.narrow(["t_sales"])),
        (Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31)), ORG),
    ],
)
def test_breakdowns_add_up_to_the_summary(period, scope):
    total = usage.summary(Filters.asking(period, scope)).row(0, named=True)
    agents = analytics.agent_stats(Filters.asking(period, scope))
    teams = analytics.team_stats(Filters.asking(period, scope))
    assert agents["interactions"].sum() == teams["interactions"].sum() == total["interactions"]
    assert agents["cost_usd"].sum() == teams["cost_usd"].sum() == total["cost_usd"]
    assert agents["errors"].sum() == total["errors"]
    assert agents["input_tokens"].sum() == total["input_tokens"]
    assert teams["members"].sum() == usage.adoption(Filters.asking(period, scope))["users_with_access"][0]
    for grain in ("day", "week", "month"):
        for by in ("agent", "team"):
            frame = analytics.interactions_over_time_by(Filters.asking(period, scope, grain), by, top_n=1)
            assert frame["interactions"].sum() == total["interactions"]
            assert frame["cost_usd"].sum() == total["cost_usd"]
    assert analytics.activity_heatmap(Filters.asking(period, scope))["interactions"].sum() == total["interactions"]
