"""Who uses the agents and how often: per-user activity, adoption, and one user's detail."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from queries import directory_table, run
from queries.filters import Filters
from queries.period import Period, today_local

# The frequency classes, defined here and nowhere else; the Users tab shows these texts as tooltips.
FREQUENCY_CLASSES = {
    "daily": "Active on at least 60% of the working days (Monday to Friday) of the period.",
    "weekly": "Active on at least one day per week of the period on average, but not daily.",
    "occasional": "Some activity in the period, less than one day per week on average.",
    "inactive": "Used an agent in this scope before this period, but not during it.",
    "not adopted": "Has never used an agent in this scope, up to the end of the period.",
}
ACTIVITY_COLUMNS = (
    "user_id", "name", "email", "team_id", "team", "created_at", "active", "interactions", "active_days",
    "active_working_days", "first_active", "last_active",
)  # fmt: skip
LOCAL_TIMES = ("first_active", "last_active")  # instants in `user_activity.sql`'s answer, local in its frame
USAGE_BUCKETS = ((1, 1), (2, 5), (6, 20), (21, 50), (51, 100), (101, 250), (251, 500), (501, None))


def working_days(period: Period) -> int:
    """Monday-to-Friday days in the period (public holidays are not known here)."""
    return int(np.busday_count(period.start, period.end + dt.timedelta(days=1)))


def elapsed(period: Period, today: dt.date) -> Period:
    """The part of the period up to today: days still to come cannot count against anyone."""
    return Period(period.start, max(period.start, min(period.end, today)), period.tz)


def frequency_class(period: Period) -> pl.Expr:
    """The class of each user row of `user_activity`, by the definitions above (pass the elapsed period)."""
    workdays = working_days(period)
    daily = (pl.col("active_working_days") * 5 >= workdays * 3) if workdays else pl.lit(False)  # 60%, in integers
    return (
        pl.when(pl.col("first_active").is_null())
        .then(pl.lit("not adopted"))
        .when(pl.col("interactions") == 0)
        .then(pl.lit("inactive"))
        .when(daily)
        .then(pl.lit("daily"))
        .when(pl.col("active_days") * 7 >= period.days)
        .then(pl.lit("weekly"))
        .otherwise(pl.lit("occasional"))
        .alias("frequency")
    )


def people_activity(filters: Filters, today: dt.date | None = None) -> pl.DataFrame:
    """Everyone the scope lists in the period (docs/schema.md, "Who is counted where"; also those with no
    interactions), with their activity in the scope and frequency class, busiest first, then by name; the
    class is judged on the days of the period up to today. `user_activity` adds their most used agent."""
    period = filters.period
    today = today or today_local(period.tz)

    def finish(frame: pl.DataFrame) -> pl.DataFrame:
        # local wall-clock times, as the rest of the app shows them (in Polars: a tenth of DuckDB's cost here)
        local = [pl.col(c).dt.convert_time_zone(period.tz).dt.replace_time_zone(None) for c in LOCAL_TIMES]
        return with_directory(frame.with_columns(*local)).with_columns(frequency_class(elapsed(period, today)))

    # kept finished: the Users tab's cards, grid and charts all read it
    return run("user_activity", filters.params(), then=finish, then_depends_on=(today, period.tz))


def with_directory(activity: pl.DataFrame) -> pl.DataFrame:
    """`user_activity.sql`'s rows with each person's name, email, team (by name; 'Another team' for one the
    scope does not have, its id hidden), access date and status from the directory, busiest first, then by
    name (missing names last)."""
    people = directory_table("users").select("user_id", "name", "email", pl.col("team_id").alias("own_team"),
                                          "created_at", "active").with_row_index("by_name")  # fmt: skip
    teams = directory_table("teams").select("team_id", pl.col("name").alias("team"))
    team = (
        pl.when(pl.col("team_id").is_not_null())
        .then(pl.coalesce("team", "team_id"))
        .when(pl.col("own_team").is_not_null())
        .then(pl.lit("Another team"))
    )
    joined = activity.join(people, on="user_id", how="left").join(teams, on="team_id", how="left")
    # The directory keeps its people in name order (queries/db.py DIRECTORY_ORDER): their position sorts as
    # (name, id), one integer key with the interactions, a third of the cost of sorting on the strings; a
    # person not in the directory has none, and the list is then sorted on the names. One thread: 30,000
    # rows cost less CPU sorted in one than split among several.
    if joined["by_name"].null_count():
        order = [pl.col("interactions"), pl.col("name"), pl.col("user_id")]
        descending, nulls_last = [True, False, False], True
    else:
        order = [pl.col("interactions").neg() * (people.height + 1) + pl.col("by_name")]
        descending, nulls_last = [False], False
    columns = (*ACTIVITY_COLUMNS[:4], team.alias("team"), *ACTIVITY_COLUMNS[5:])
    return joined.sort(order, descending=descending, nulls_last=nulls_last, multithreaded=False).select(columns)


def most_used_agents(filters: Filters, user_ids: list[str] | None = None) -> pl.DataFrame:
    """Per person (of `user_ids`; None: everyone) with interactions in the period and scope: the agent they
    used most (of equals, the first agent id), by name."""
    return run("most_used_agents", filters.params(user_ids=user_ids))


def with_most_used_agent(filters: Filters, rows: pl.DataFrame, everyone: bool = False) -> pl.DataFrame:
    """`rows` of `people_activity` with each one's most used agent (`most_used_agent`, before `frequency`):
    asked for their people only, unless `everyone` (the rows are most of the list: one answer, kept)."""
    agents = most_used_agents(filters, None if everyone else rows["user_id"].to_list())
    joined = rows.join(agents, on="user_id", how="left", maintain_order="left")
    return joined.select(*(c for c in rows.columns if c != "frequency"), "most_used_agent", "frequency")


def user_activity(filters: Filters, today: dt.date | None = None) -> pl.DataFrame:
    """`people_activity` with everyone's most used agent (reports, exports, a grid sorted or searched)."""
    return with_most_used_agent(filters, people_activity(filters, today), everyone=True)


def adoption_curve(filters: Filters) -> pl.DataFrame:
    """Per local day: adopted_users so far and users_with_access so far."""
    return run("adoption_curve", filters.params())


def user_in_scope(filters: Filters, user_id: str) -> dict | None:
    """The row of `user_activity` of a person the viewer's scope lists in the period, else None (never
    another team's person: only someone with activity in the scope, or of its teams)."""
    rows = people_activity(filters).filter(pl.col("user_id") == user_id)
    return with_most_used_agent(filters, rows).row(0, named=True) if rows.height else None


def user_daily_activity(filters: Filters, user_id: str) -> pl.DataFrame:
    return run("user_daily_activity", filters.params(user_id=user_id))


def user_agents(filters: Filters, user_id: str) -> pl.DataFrame:
    return run("user_agents", filters.params(user_id=user_id))


def usage_buckets(activity: pl.DataFrame) -> pl.DataFrame:
    """How many active users fall in each band of interactions per user (1, 2-5, 6-20, …)."""
    counts = activity["interactions"]
    rows = []
    for low, high in USAGE_BUCKETS:
        inside = (counts >= low) if high is None else ((counts >= low) & (counts <= high))
        label = f"{low}+" if high is None else (str(low) if low == high else f"{low}–{high}")
        rows.append({"band": label, "users": int(inside.sum())})
    return pl.DataFrame(rows, schema={"band": pl.String, "users": pl.Int64})


def top_share(activity: pl.DataFrame, share_of_users: float = 0.1) -> float:
    """The share of interactions made by the most active `share_of_users` of active users."""
    counts = activity.filter(pl.col("interactions") > 0)["interactions"].sort(descending=True)
    if counts.is_empty():
        return 0.0
    top = max(1, int(np.ceil(len(counts) * share_of_users)))
    return float(counts.head(top).sum() / counts.sum())
