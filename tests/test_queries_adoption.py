"""Adoption in depth (queries/adoption.py, docs/metrics.md), worked out by hand on the tiny org.

The org of tests/test_people_scope.py (tests/org.py and Kim, u8, who moved from Sales to Legal on 5 March)
in America/New_York, whose clocks go forward on Sunday 8 March 2026, plus a few events of their own
(HABIT_EVENTS). Local days of activity (NY), by person:
    Mia  u4 Engineering, Code Helper: 10 11 12 13 16 17 18 19 20 25 Feb, 2 Mar, 8 Mar (e6, 01:30 EST)
    Sam  u5 Sales, Code Helper:       17 24 Feb, 3 Mar, 8 Mar (e7, 23:30 EDT), 9 Mar (e8, 00:30 EDT: DST)
    Max  u2 Engineering, Drafting:    3 Mar
    Lee  u3 Legal, Drafting:          20 Jan, 3 Mar (e5, 21:00 EST; 4 March in UTC)
    Kim  u8 Sales 2 3 Mar (Code Helper), Legal 5 Mar (Drafting)
    Ada u1, Ivy u7 (Engineering), Noa u6 (Legal): never. Everyone has had access since 5 January.
Each number below holds from the rollups and from the raw events (the oracle, tests/oracle/adoption_*.sql).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from argon2 import PasswordHasher
from flask import Flask

from queries import adoption
from queries.filters import Filters
from queries.period import Period
from queries.scope import Scope
from tests import org
from tests.conftest import make_app
from tests.oracle import raw_events
from tests.test_people_scope import write_event, write_org_with_a_mover

NY = "America/New_York"
WEEK = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8), NY)  # Monday to the Sunday of the DST change
HABIT_EVENTS = [  # event_id, UTC time (10:00 EST), user, team, agent
    *((f"h{day}", f"2026-02-{day:02d} 15:00", "u4", "t_eng", "a_code") for day in (10, 11, 12, 13, 16, 17, 18, 19, 20)),
    ("s17", "2026-02-17 15:00", "u5", "t_sales", "a_code"),
    ("s24", "2026-02-24 15:00", "u5", "t_sales", "a_code"),
    ("l20", "2026-01-20 15:00", "u3", "t_legal", "a_draft"),
]
ORG, MAX, LEE = Scope.organization(), Scope.teams(["t_eng", "t_sales"]), Scope.teams(["t_legal"])


def write_habit_org(folder: Path) -> None:
    write_org_with_a_mover(folder)
    for event_id, at, user, team, agent in HABIT_EVENTS:
        write_event(folder, event_id, at, user, team, agent)


@pytest.fixture(scope="module")
def habit_server(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    folder = tmp_path_factory.mktemp("adoption") / "data"
    write_habit_org(folder)
    return make_app(folder, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(org.PASSWORD),
                    ORG_TIMEZONE=NY)  # fmt: skip


@pytest.fixture(params=["rollups", "raw events"])
def habit_app(request, habit_server: Flask) -> Iterator[Flask]:
    """The app as served (its rollups built by the first question), or answering with the oracle's SQL."""
    app = habit_server
    with app.app_context():
        if request.param == "rollups":
            yield app
            return
        with raw_events():
            yield app


def funnel(scope: Scope, by: str, today: dt.date, period: Period = WEEK) -> dict[str, tuple]:
    frame = adoption.funnel(Filters.asking(period, scope), by, today)
    return {row[0]: row[1:] for row in frame.select("key", *adoption.FUNNEL).iter_rows()}


def test_the_funnel_of_a_period_ending_today(habit_app: Flask) -> None:
    # with access, tried, active, habitual (3 of the 4 weeks 9-15, 16-22, 23 Feb-1 Mar, 2-8 Mar), power (12 days)
    assert funnel(ORG, "org", WEEK.end) == {"org": (8, 5, 5, 2, 1)}  # Mia habitual and power (12 days), Sam habitual
    assert funnel(ORG, "team", WEEK.end) == {
        "t_eng": (4, 2, 2, 1, 1),  # Ada Max Mia Ivy; Max and Mia active
        "t_legal": (3, 2, 2, 0, 0),  # Lee Noa Kim; Lee (Jan and 3 Mar) and Kim (5 Mar), one week each
        "t_sales": (2, 2, 2, 1, 0),  # Sam, and Kim who was active in Sales; Sam habitual (17, 24 Feb, 3 Mar)
    }
    assert funnel(ORG, "agent", WEEK.end) == {"a_code": (8, 3, 3, 2, 1), "a_draft": (8, 3, 3, 0, 0)}
    # Max's teams list Kim (active in Sales); Lee's see Kim's Legal day only
    assert funnel(MAX, "org", WEEK.end) == {"org": (6, 4, 4, 2, 1)}
    assert funnel(LEE, "org", WEEK.end) == {"org": (3, 2, 2, 0, 0)}
    assert funnel(Scope.teams([]), "team", WEEK.end) == {}


def test_the_funnel_judges_only_the_days_that_have_passed(habit_app: Flask) -> None:
    # Thursday 5 March: Mia's 8 March has not come; her 28 days (6 Feb - 5 Mar) hold 11 active days, not power
    assert funnel(ORG, "org", dt.date(2026, 3, 5)) == {"org": (8, 5, 5, 2, 0)}
    # Monday 2 March: Mia and Kim active so far; Sam (17, 24 Feb) tried but not active yet
    assert funnel(ORG, "org", dt.date(2026, 3, 2)) == {"org": (8, 4, 2, 1, 0)}


def test_daily_weekly_and_monthly_active_people_cross_the_dst_change(habit_app: Flask) -> None:
    curves = adoption.active_days(Filters.asking(WEEK, ORG), "org", WEEK.end)
    assert curves["day"].to_list() == [WEEK.start + dt.timedelta(days=i) for i in range(7)]
    assert curves["dau"].to_list() == [2, 4, 0, 1, 0, 0, 2]  # 3 Mar: Lee's 21:00 EST; 8 Mar: Sam's 23:30 EDT
    assert curves["wau"].to_list() == [3, 5, 5, 5, 5, 5, 5]
    assert curves["mau"].to_list() == [3, 5, 5, 5, 5, 5, 5]  # 2 Mar: 3 Feb - 2 Mar, Max and Lee not yet
    sticky = adoption.stickiness(curves).row(0, named=True)
    assert sticky["dau"] == pytest.approx(9 / 7) and sticky["mau"] == pytest.approx(33 / 7)
    assert sticky["stickiness"] == pytest.approx(9 / 33)
    by_team = adoption.active_days(Filters.asking(WEEK, ORG), "team", WEEK.end)
    sales = by_team.filter(pl.col("key") == "t_sales")
    assert sales["dau"].to_list() == [1, 2, 0, 0, 0, 0, 1]  # Kim on 2 and 3 March in Sales, Sam on 3 and 8
    assert sales["mau"].to_list() == [2, 2, 2, 2, 2, 2, 2]
    # a period ending after today: its days up to today only
    assert adoption.active_days(Filters.asking(WEEK, ORG), "org", dt.date(2026, 3, 4)).height == 3


def test_stickiness_of_a_period_and_of_the_week_before_from_one_question(habit_app: Flask) -> None:
    before = Period(dt.date(2026, 2, 23), dt.date(2026, 3, 1), NY)
    # 23 Feb - 1 Mar: Sam on the 24th, Mia on the 25th; Mia and Sam in each day's 28 days (Lee's 20 January not):
    # 2 / 14. 2-8 March as above: 9 / 33.
    week, week_before = adoption.stickiness_over(Filters.asking(WEEK, ORG), [WEEK, before], WEEK.end)
    assert (week["dau"], week["mau"], week["stickiness"]) == pytest.approx((9 / 7, 33 / 7, 9 / 33))
    assert week_before["stickiness"] == pytest.approx(1 / 7)
    # Max's teams (Engineering and Sales: the day sets), Kim in Sales on 2 and 3 March: people a day 2+3+0+0+0+0+2
    # = 7; in the 28 days Mia, Sam, Kim on the 2nd, and Max from the 3rd: 3 + 4 × 6 = 27
    week, week_before = adoption.stickiness_over(Filters.asking(WEEK, MAX), [WEEK, before], WEEK.end)
    assert (week["stickiness"], week_before["stickiness"]) == pytest.approx((7 / 27, 1 / 7))
    # each as its own question answers the same; nobody in the week after the 9th (Sam's 00:30 EDT is the 9th)
    later = Period(dt.date(2026, 3, 10), dt.date(2026, 3, 16), NY)
    alone = adoption.stickiness(adoption.active_days(Filters.asking(WEEK, MAX), "org", WEEK.end)).row(0, named=True)
    assert alone["stickiness"] == pytest.approx(7 / 27)
    assert adoption.stickiness_over(Filters.asking(later, MAX), [later, WEEK], later.end)[0] is None


def curves(scope: Scope, by: str, period: Period = WEEK) -> dict[str, tuple[list[int], list[int], list[int]]]:
    """Per key: its dau, wau and mau day by day, judged on the period's last day."""
    frame = adoption.active_days(Filters.asking(period, scope), by, period.end)
    return {
        key: (rows["dau"].to_list(), rows["wau"].to_list(), rows["mau"].to_list())
        for (key,), rows in frame.partition_by("key", as_dict=True, maintain_order=True).items()
    }


def test_active_people_of_several_teams_or_agents_count_each_person_once(habit_app: Flask) -> None:
    # Sales and Legal, whose keys are not one team's or agent's (no `active_windows` row holds them): Kim, active
    # in Sales on 2 and 3 March and in Legal on 5 March, is one person in each window
    sales_and_legal = Scope.teams(["t_sales", "t_legal"])
    assert curves(sales_and_legal, "org") == {
        "org": ([1, 3, 0, 1, 0, 0, 1], [2, 3, 3, 3, 3, 3, 3], [2, 3, 3, 3, 3, 3, 3]),  # Sam, Lee (3 Mar) and Kim
    }
    assert curves(sales_and_legal, "agent") == {
        "a_code": ([1, 2, 0, 0, 0, 0, 1], [2] * 7, [2] * 7),  # Sam (24 Feb, 3 and 8 Mar), Kim (2 and 3 Mar)
        "a_draft": ([0, 1, 0, 1, 0, 0, 0], [0, 1, 1, 2, 2, 2, 2], [0, 1, 1, 2, 2, 2, 2]),  # Lee 3 Mar, Kim 5 Mar
    }
    # both agents named, by team: a person's days with either agent, once
    by_team = curves(ORG.narrow(agents=["a_code", "a_draft"]), "team")
    assert by_team["t_eng"] == ([1, 1, 0, 0, 0, 0, 1], [1, 2, 2, 2, 2, 2, 2], [1, 2, 2, 2, 2, 2, 2])  # Mia, Max
    assert by_team["t_legal"] == ([0, 1, 0, 1, 0, 0, 0], [0, 1, 1, 2, 2, 2, 2], [0, 1, 1, 2, 2, 2, 2])  # Lee, Kim
    # the windows reach back into the month before: Lee's 20 January is in the 28 days up to 16 February, not 17
    february = Period(dt.date(2026, 2, 15), dt.date(2026, 2, 18), NY)
    assert curves(sales_and_legal, "agent", february) == {
        "a_code": ([0, 0, 1, 0], [0, 0, 1, 1], [0, 0, 1, 1]),  # Sam on 17 February
        "a_draft": ([0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 0, 0]),
    }


def test_cost_per_active_person_and_per_interaction(habit_app: Flask) -> None:
    row = adoption.costs(Filters.asking(WEEK, ORG)).row(0, named=True)
    # local 2-8 March: e1..e7 (e8 is 9 March in NY) and Kim's three: 4.253334 USD, 10 interactions, 5 people
    assert (row["cost_usd"], row["interactions"], row["active_users"]) == (Decimal("4.253334"), 10, 5)
    assert row["cost_per_active_usd"] == Decimal("0.850667")
    assert row["cost_per_interaction_usd"] == Decimal("0.425333")
    rows = adoption.adoption(Filters.asking(WEEK, ORG), "org", WEEK.end).row(0, named=True)
    # the week before (23 Feb - 1 Mar): e0 (0.05) and Sam's 24 Feb (0.01), two people
    assert rows["previous_cost_per_active_usd"] == Decimal("0.030000")
    assert rows["stickiness"] == pytest.approx(9 / 33)
    assert (rows["label"], rows["with_access"], rows["power"]) == ("Organization", 8, 1)


def test_cohorts_by_month_of_first_activity(habit_app: Flask) -> None:
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31), NY)
    frame = adoption.cohorts(Filters.asking(period, ORG), today=dt.date(2026, 3, 8))
    assert frame.select("cohort_month", "size", "month_offset", "active").rows() == [
        (dt.date(2026, 1, 1), 1, 0, 1),  # Lee: January, not February, March again
        (dt.date(2026, 1, 1), 1, 1, 0),
        (dt.date(2026, 1, 1), 1, 2, 1),
        (dt.date(2026, 2, 1), 2, 0, 2),  # Mia and Sam
        (dt.date(2026, 2, 1), 2, 1, 2),
        (dt.date(2026, 3, 1), 2, 0, 2),  # Max and Kim
    ]
    assert frame["active_share"].to_list() == [1.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    # Lee's teams: Lee (January) and Kim, whose first day in Legal is 5 March
    legal = adoption.cohorts(Filters.asking(period, LEE), today=dt.date(2026, 3, 8))
    assert legal.filter(pl.col("month_offset") == 0).select("cohort_month", "size").rows() == [
        (dt.date(2026, 1, 1), 1),
        (dt.date(2026, 3, 1), 1),
    ]


def test_seats_to_reclaim(habit_app: Flask) -> None:
    rows = adoption.reclaim(ORG, NY, 30, today=dt.date(2026, 4, 8))
    assert rows.select("user_id", "last_active", "idle_days").rows() == [
        ("u1", None, 93),  # never: idle since their access (5 January)
        ("u7", None, 93),
        ("u6", None, 93),
        ("u3", dt.date(2026, 3, 3), 36),  # Lee Legal before Max Manager, by name
        ("u2", dt.date(2026, 3, 3), 36),
        ("u8", dt.date(2026, 3, 5), 34),
        ("u4", dt.date(2026, 3, 8), 31),
        ("u5", dt.date(2026, 3, 9), 30),  # 00:30 EDT on 9 March: 30 days before 8 April
    ]
    assert rows.row(0, named=True) == {
        "user_id": "u1", "name": "Ada Admin", "email": "admin@test.example", "team_id": "t_eng",
        "team": "Engineering", "managers": "Max Manager", "access_since": dt.date(2026, 1, 5),
        "last_active": None, "idle_days": 93,
    }  # fmt: skip
    assert "u5" not in adoption.reclaim(ORG, NY, 30, today=dt.date(2026, 4, 7))["user_id"]
    assert adoption.reclaim(ORG, NY, 60, today=dt.date(2026, 4, 8))["user_id"].to_list() == ["u1", "u7", "u6"]
    assert adoption.reclaim(ORG, NY, 90, today=dt.date(2026, 4, 4))["user_id"].to_list() == []  # access 89 days
    # a manager: the people of their teams by the directory (Kim is Legal's), activity in their teams only
    assert adoption.reclaim(MAX, NY, 30, today=dt.date(2026, 4, 8))["user_id"].sort().to_list() == [
        "u1", "u2", "u4", "u5", "u7",
    ]  # fmt: skip
    legal = adoption.reclaim(LEE, NY, 30, today=dt.date(2026, 4, 8))
    assert legal.select("user_id", "last_active").rows() == [
        ("u6", None),
        ("u3", dt.date(2026, 3, 3)),
        ("u8", dt.date(2026, 3, 5)),
    ]
    assert adoption.seats_cost(legal.height, Decimal("19.99")) == Decimal("59.97")
    assert adoption.seats_cost(legal.height, None) is None


def test_unknown_groupings_and_days_are_refused() -> None:
    with pytest.raises(ValueError, match="grouping"):
        adoption.funnel(Filters.asking(WEEK, ORG), "user")
    with pytest.raises(ValueError, match="days"):
        adoption.reclaim(ORG, NY, 45)


def test_agent_adoption_is_the_share_of_active_people_per_agent(habit_app: Flask) -> None:
    # 2-8 March: Mia, Sam, Max, Lee and Kim active; Code Helper Mia, Sam, Kim; Drafting Max, Lee, Kim
    def shares(frame: pl.DataFrame, *columns: str) -> list[tuple]:
        return [(*row[:-1], pytest.approx(row[-1])) for row in frame.select("key", *columns, "share_of_active").rows()]

    rows = adoption.agent_adoption(Filters.asking(WEEK, ORG))
    assert shares(rows, "active_users") == [("a_code", 3, 0.6), ("a_draft", 3, 0.6)]
    # Max's teams: Mia, Sam, Kim (in Sales) with Code Helper, Max alone with Drafting
    assert shares(adoption.agent_adoption(Filters.asking(WEEK, MAX)), "active_users") == [
        ("a_code", 3, 0.75), ("a_draft", 1, 0.25),
    ]  # fmt: skip
    assert shares(adoption.agent_adoption(Filters.asking(WEEK, LEE))) == [("a_draft", 1.0)]  # Lee and Kim (5 March)
    by_agent = adoption.adoption(Filters.asking(WEEK, ORG), "agent", WEEK.end)
    assert shares(by_agent) == [("a_code", 0.6), ("a_draft", 0.6)]


def test_cost_per_interaction_and_per_active_person_per_model(habit_app: Flask) -> None:
    # one model answered everything: 4.253334 USD for 10 interactions and the 5 active people (as the whole org);
    # the week before: 0.06 USD (e0 0.05, Sam's 24 February 0.01) for 2 interactions and 2 people
    rows = adoption.model_costs(Filters.asking(WEEK, ORG)).rows(named=True)
    assert rows == [{
        "key": "claude-sonnet-4.5", "label": "claude-sonnet-4.5", "interactions": 10, "cost_usd": Decimal("4.253334"),
        "cost_per_interaction_usd": Decimal("0.425333"), "cost_per_active_usd": Decimal("0.850667"),
        "previous_cost_per_interaction_usd": Decimal("0.030000"), "previous_cost_per_active_usd": Decimal("0.030000"),
    }]  # fmt: skip
    # Lee's team: Lee's 2.00 (3 March, 21:00 EST) and Kim's 0.01 (5 March); nothing the week before
    legal = adoption.model_costs(Filters.asking(WEEK, LEE)).row(0, named=True)
    assert (legal["cost_per_interaction_usd"], legal["cost_per_active_usd"]) == (Decimal("1.005000"),) * 2
    assert legal["previous_cost_per_active_usd"] is None


def uptake_of(scope: Scope, today: dt.date) -> dict[str, tuple]:
    """Per agent: its first day, its number of days, and (day, users) on the days someone first used it."""
    frame = adoption.uptake(Filters.asking(WEEK, scope), today)
    return {
        agent: (rows["first_day"][0], rows.height, rows.filter(pl.col("new_users") > 0).select("day", "users").rows())
        for (agent,), rows in frame.partition_by("agent_id", as_dict=True, maintain_order=True).items()
    }


def test_an_agents_uptake_from_its_first_day(habit_app: Flask) -> None:
    d = dt.date
    # Code Helper: Mia 10 Feb, Sam 17 Feb, Kim 2 March (06:00 EST); Drafting: Lee 20 Jan, Max 3 March (18:30 EST,
    # 23:30 UTC), Kim 5 March. Every day from the first to 8 March (the DST change) is a row.
    assert uptake_of(ORG, WEEK.end) == {
        "a_code": (d(2026, 2, 10), 27, [(d(2026, 2, 10), 1), (d(2026, 2, 17), 2), (d(2026, 3, 2), 3)]),
        "a_draft": (d(2026, 1, 20), 48, [(d(2026, 1, 20), 1), (d(2026, 3, 3), 2), (d(2026, 3, 5), 3)]),
    }
    # up to today (4 March) only: Kim's Drafting (5 March) has not come
    assert uptake_of(ORG, d(2026, 3, 4))["a_draft"] == (d(2026, 1, 20), 44, [(d(2026, 1, 20), 1), (d(2026, 3, 3), 2)])
    # a manager: the agent's first day in their teams (Max's Drafting on 3 March, not Lee's January)
    assert uptake_of(MAX, WEEK.end)["a_draft"] == (d(2026, 3, 3), 6, [(d(2026, 3, 3), 1)])
    assert uptake_of(LEE, WEEK.end) == {"a_draft": (d(2026, 1, 20), 48, [(d(2026, 1, 20), 1), (d(2026, 3, 5), 2)])}
    frame = adoption.uptake(Filters.asking(WEEK, ORG), WEEK.end)
    last = frame.filter(pl.col("agent_id") == "a_code").row(-1, named=True)
    assert (last["label"], last["day"], last["day_number"], last["users"]) == ("Code Helper", WEEK.end, 26, 3)
    # the view's choice: the newest agent unless one in the scope is asked for
    assert adoption.pick_agent(frame, None) == "a_code" and adoption.pick_agent(frame, "a_draft") == "a_draft"
    assert adoption.pick_agent(frame, "a_other") == "a_code"
    assert adoption.pick_agent(adoption.uptake(Filters.asking(WEEK, LEE), WEEK.end), "a_code") == "a_draft"


def test_cohorts_of_an_agents_first_users(habit_app: Flask) -> None:
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31), NY)
    today = dt.date(2026, 3, 8)
    draft = adoption.agent_cohorts(Filters.asking(period, ORG), "a_draft", today)
    assert draft.select("cohort_month", "size", "month_offset", "active").rows() == [
        (dt.date(2026, 1, 1), 1, 0, 1),  # Lee: January, not February, March again (3 March, 21:00 EST)
        (dt.date(2026, 1, 1), 1, 1, 0),
        (dt.date(2026, 1, 1), 1, 2, 1),
        (dt.date(2026, 3, 1), 2, 0, 2),  # Max and Kim (Kim's Code Helper days do not count)
    ]
    code = adoption.agent_cohorts(Filters.asking(period, ORG), "a_code", today)
    assert code.select("cohort_month", "size", "month_offset", "active").rows() == [
        (dt.date(2026, 2, 1), 2, 0, 2),  # Mia and Sam
        (dt.date(2026, 2, 1), 2, 1, 2),
        (dt.date(2026, 3, 1), 1, 0, 1),  # Kim
    ]
    # a manager: their teams' first users only; an agent outside the scope narrows it to nothing
    assert adoption.agent_cohorts(Filters.asking(period, MAX), "a_draft", today)["size"].to_list() == [1]  # Max
    outside = Filters.asking(period, ORG, agents=("a_code",))
    assert adoption.agent_cohorts(outside, "a_draft", today).is_empty()
