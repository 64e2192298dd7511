"""Users queries on the tiny org, and the frequency classes at each boundary; numbers worked by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from data import schema
from queries import users
from queries.filters import Filters
from queries.period import Period
from queries.scope import Scope
from tests.conftest import read_only_app

ORG = Scope.organization()
MAX = Scope.teams({"t_eng", "t_sales"})
NY = "America/New_York"
WEEK = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8))


# One app for the module: its tests only read. A result cache of each test's own (`results`): the tests ask in UTC and
# in New York, the folder's rollups are rebuilt for the zone asked, and an answer kept is keyed by its SQL's
# parameters, which for some questions do not hold the zone.
app = pytest.fixture(read_only_app, name="app")


@pytest.fixture(autouse=True)
def _context(app, results):
    with app.app_context():
        yield


def by_user(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["user_id"]: row for row in frame.iter_rows(named=True)}


def test_every_person_is_listed_with_or_without_interactions():
    rows = by_user(users.user_activity(Filters.asking(WEEK, ORG)))
    assert sorted(rows) == ["u1", "u2", "u3", "u4", "u5", "u6", "u7"]
    assert {u: r["frequency"] for u, r in rows.items()} == {
        "u1": "not adopted",
        "u2": "weekly",  # one active day in a 7-day period is one per week
        "u3": "weekly",
        "u4": "weekly",
        "u5": "weekly",
        "u6": "not adopted",
        "u7": "not adopted",
    }
    mia = rows["u4"]
    assert (mia["interactions"], mia["active_days"], mia["active_working_days"]) == (3, 2, 1)  # 2 and 8 March
    assert mia["most_used_agent"] == "Code Helper"
    assert mia["last_active"] == dt.datetime(2026, 3, 8, 6, 30)


def test_local_times_in_new_york_across_dst():
    rows = by_user(users.user_activity(Filters.asking(Period(WEEK.start, WEEK.end, NY), ORG)))
    sam = rows["u5"]
    # e3 09:00Z is 04:00 EST on the 3rd; e7 03:30Z on the 9th is 23:30 EDT on the 8th; e8 is after the period
    assert sam["first_active"] == dt.datetime(2026, 3, 3, 4, 0)
    assert sam["last_active"] == dt.datetime(2026, 3, 8, 23, 30)
    assert (sam["interactions"], sam["active_days"], sam["active_working_days"]) == (2, 2, 1)
    assert rows["u4"]["first_active"] == dt.datetime(2026, 2, 25, 7, 0)


def test_inactive_means_used_before_but_not_in_the_period():
    rows = by_user(users.user_activity(Filters.asking(Period(dt.date(2026, 3, 9), dt.date(2026, 3, 15)), ORG)))
    assert {u: r["frequency"] for u, r in rows.items() if r["frequency"] == "inactive"} == {
        "u2": "inactive",
        "u3": "inactive",
        "u4": "inactive",
    }
    assert rows["u5"]["frequency"] == "weekly"  # e7 and e8 on 9 March (UTC)


def test_a_manager_sees_only_people_of_their_teams():
    assert sorted(users.user_activity(Filters.asking(WEEK, MAX))["user_id"]) == ["u1", "u2", "u4", "u5", "u7"]
    assert users.user_in_scope(Filters.asking(WEEK, MAX), "u3") is None
    assert users.user_in_scope(Filters.asking(WEEK, Scope.teams({"t_legal"})), "u3")["name"] == "Lee Legal"


FOUR_WEEKS = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 29))  # 28 days, 20 working days


@pytest.mark.parametrize(
    ("active_days", "active_working_days", "expected"),
    [
        (12, 12, "daily"),  # 12 of 20 working days is exactly 60%
        (14, 11, "weekly"),  # 55% of working days; 14 days in 4 weeks is more than one a week
        (4, 4, "weekly"),  # exactly one day per week on average
        (3, 3, "occasional"),  # less than one a week
        (1, 0, "occasional"),  # a single weekend day
    ],
)
def test_frequency_class_boundaries(active_days, active_working_days, expected):
    assert users.working_days(FOUR_WEEKS) == 20
    frame = pl.DataFrame(
        {
            "first_active": [dt.datetime(2026, 1, 1)],
            "interactions": [active_days * 3],
            "active_days": [active_days],
            "active_working_days": [active_working_days],
        }
    )
    assert frame.select(users.frequency_class(FOUR_WEEKS))["frequency"][0] == expected


def test_no_interactions_ever_and_none_in_the_period():
    frame = pl.DataFrame(
        {
            "first_active": [None, dt.datetime(2026, 1, 1)],
            "interactions": [0, 0],
            "active_days": [0, 0],
            "active_working_days": [0, 0],
        },
        schema_overrides={"first_active": pl.Datetime},
    )
    assert frame.select(users.frequency_class(FOUR_WEEKS))["frequency"].to_list() == ["not adopted", "inactive"]


def test_adoption_curve():
    curve = users.adoption_curve(Filters.asking(WEEK, ORG))
    assert curve["adopted_users"].to_list() == [1, 3, 4, 4, 4, 4, 4]  # u4 (25 Feb), u5 and u2 (3rd), u3 (4th)
    assert curve["users_with_access"].to_list() == [7] * 7
    assert users.adoption_curve(Filters.asking(WEEK, MAX))["adopted_users"].to_list() == [1, 3, 3, 3, 3, 3, 3]


def test_one_users_detail():
    daily = users.user_daily_activity(Filters.asking(WEEK, ORG), "u4")
    assert daily["interactions"].to_list() == [2, 0, 0, 0, 0, 0, 1]
    agents = users.user_agents(Filters.asking(WEEK, ORG), "u4")
    assert agents.select("agent", "interactions", "errors").rows() == [("Code Helper", 3, 1)]
    assert str(agents["cost_usd"][0]) == "0.390000"
    assert users.user_agents(Filters.asking(WEEK, Scope.teams({"t_legal"})), "u4").is_empty()


def test_concentration():
    activity = users.user_activity(Filters.asking(WEEK, ORG))
    bands = dict(users.usage_buckets(activity).rows())
    assert (bands["1"], bands["2–5"], bands["501+"]) == (3, 1, 0)
    assert users.top_share(activity, 0.1) == 0.5  # the top 1 of 4 active users (Mia) made 3 of 6


def test_days_still_to_come_do_not_count_against_anyone():
    # The week of 2-8 March seen on Wednesday the 4th: 3 days so far, 3 working days.
    period = users.elapsed(WEEK, dt.date(2026, 3, 4))
    assert (period.start, period.end, users.working_days(period)) == (dt.date(2026, 3, 2), dt.date(2026, 3, 4), 3)
    frame = pl.DataFrame(
        {"first_active": [dt.datetime(2026, 1, 1)], "interactions": [2], "active_days": [2], "active_working_days": [2]}
    )
    assert frame.select(users.frequency_class(period))["frequency"][0] == "daily"  # 2 of 3 working days
    assert frame.select(users.frequency_class(WEEK))["frequency"][0] == "weekly"  # 2 of 5 had the week ended


def test_people_without_access_in_the_period_are_not_listed(own_app, data_dir):
    path = schema.directory_dir(data_dir) / "users.parquet"  # rewritten: its own app and folder, not the module's
    with own_app.app_context():
        people = pl.read_parquet(path)
        late = people.with_columns(
            pl.when(pl.col("user_id") == "u6")
            .then(pl.lit(dt.datetime(2026, 6, 1, tzinfo=dt.UTC)))
            .otherwise(pl.col("created_at"))
            .alias("created_at"),
            pl.when(pl.col("user_id") == "u7").then(False).otherwise(pl.col("active")).alias("active"),
        )
        late.write_parquet(path)
        rows = users.user_activity(Filters.asking(WEEK, ORG))
        # Noa joins in June and Ivy has left with no use in the week: neither had access then
        assert sorted(rows["user_id"]) == ["u1", "u2", "u3", "u4", "u5"]
        assert users.adoption_curve(Filters.asking(WEEK, ORG))["users_with_access"].to_list() == [5] * 7


def _activity(counts: dict[str, int]) -> pl.DataFrame:
    """Rows as `user_activity.sql` returns them: ids, the team's id, the figures."""
    ts = pl.Datetime("us", "UTC")
    return pl.DataFrame(
        {
            "user_id": list(counts),
            "team_id": [None] * len(counts),
            "interactions": list(counts.values()),
            "active_days": [1] * len(counts),
            "active_working_days": [1] * len(counts),
            "first_active": [None] * len(counts),
            "last_active": [None] * len(counts),
        },
        schema_overrides={"team_id": pl.String, "first_active": ts, "last_active": ts},
    )


def test_the_list_is_busiest_first_then_by_name_then_by_id():
    # equal counts go by name: Ivy, Mia, Sam; Noa alone, Ada and Max last
    rows = users.with_directory(_activity({"u5": 3, "u6": 7, "u4": 3, "u1": 0, "u7": 3, "u2": 0}))
    assert rows["user_id"].to_list() == ["u6", "u7", "u4", "u5", "u1", "u2"]
    assert rows["name"].to_list()[:2] == ["Noa Never", "Ivy Idle"]
    assert rows.columns[:7] == ["user_id", "name", "email", "team_id", "team", "created_at", "active"]


def test_a_person_missing_from_the_directory_comes_after_the_named_with_as_many():
    # no name: after the names of their count, and among those without one by id
    rows = users.with_directory(_activity({"u5": 3, "ghost": 3, "u4": 3, "a_ghost": 3, "u6": 9}))
    assert rows["user_id"].to_list() == ["u6", "u4", "u5", "a_ghost", "ghost"]
    assert rows.filter(pl.col("user_id") == "ghost")["team"].to_list() == [None]
