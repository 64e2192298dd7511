"""Questions the rollups answer in Polars, from the user index and the directory, rather than in SQL.

The question itself is still its SQL file (queries/sql/<name>.sql, over the raw events), and the answer
here must be the same frame: tests/test_rollups.py compares the two for every period and scope. What
differs is only the join: 30,000 people to their figures took DuckDB 70-80 ms (four hash joins of
registered frames, and materialising the strings again), Polars 15-20 ms. Local times are still
DuckDB's (queries/sql/from_rollups/local_activity_times.sql): Polars' time-zone data is not ICU's.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable
from concurrent.futures import wait

import polars as pl

from queries.pools import process_pool
from queries.user_index import UserIndex

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
Directory = Callable[[str], pl.DataFrame]  # a directory table by name (users, teams, agents), as DuckDB has it
Sql = Callable[[str, dict], pl.DataFrame]  # runs queries/sql/from_rollups/<name>.sql, with the idx_* it reads


def _before(column: str, instant: dt.datetime) -> pl.Expr:
    """`column` (an instant) earlier than `instant`, whatever names their zones carry (UTC, Etc/UTC)."""
    return pl.col(column).dt.epoch("us") < (instant - _EPOCH) // dt.timedelta(microseconds=1)


def _with_access(directory: Directory, params: dict) -> pl.LazyFrame:
    """The directory's people in the scope who had access by the period's end (still active or not)."""
    users = directory("users").lazy().filter(_before("created_at", params["to_ts"]))
    return users if params["all_teams"] else users.filter(pl.col("team_id").is_in(params["team_ids"]))


def adoption(index: UserIndex, directory: Directory, sql: Sql, params: dict) -> pl.DataFrame:
    """As queries/sql/adoption.sql: active users, and the people with access (active ones, and anyone
    with interactions in the period)."""
    active = index.active_users(params)["user_id"]
    with_access = _with_access(directory, params).filter(pl.col("active") | pl.col("user_id").is_in(active.implode()))
    counts = {"active_users": active.len(), "users_with_access": with_access.select(pl.len()).collect().item()}
    return pl.DataFrame(counts, schema={"active_users": pl.Int64, "users_with_access": pl.Int64})


def user_activity(index: UserIndex, directory: Directory, sql: Sql, params: dict) -> pl.DataFrame:
    """As queries/sql/user_activity.sql: everyone in the scope with access by the period's end who is still
    active or had interactions in it, with their figures, first and last activity, and most used agent."""
    # Local times (DuckDB, on the request's cursor) while this thread sums per user (numpy): neither
    # holds Python's lock for long, and nothing else uses the cursor meanwhile (the per-person list for
    # 30 days at 100M: 85 -> 71-79 ms). If no pool thread has started it by then, it runs here.
    times = process_pool("index-answer", 2).submit(contextvars.copy_context().run, sql, "local_activity_times", params)
    try:
        per_user = index.per_user(params).select("user_id", "interactions", "active_days", "active_working_days",
                                                 "top_agent_id")  # fmt: skip
    except BaseException:
        if not times.cancel():
            wait([times])  # never leave the cursor busy past the request
        raise
    ever = sql("local_activity_times", params) if times.cancel() else times.result()
    users = _with_access(directory, params)
    teams = directory("teams").lazy().select("team_id", pl.col("name").alias("team_name"))
    agents = directory("agents").lazy().select(pl.col("agent_id").alias("top_agent_id"), pl.col("name").alias("agent"))
    answer = (
        users.select("user_id", "name", "email", "team_id", "created_at", "active")
        .join(per_user.lazy(), on="user_id", how="left")
        .filter(pl.col("active") | pl.col("interactions").is_not_null())
        .join(ever.lazy(), on="user_id", how="left")
        .join(teams, on="team_id", how="left")
        .join(agents, on="top_agent_id", how="left")
    )
    return answer.select(
        "user_id", "name", "email", "team_id",
        pl.coalesce("team_name", "team_id").alias("team"),
        "created_at", "active",
        *(pl.col(c).fill_null(0) for c in ("interactions", "active_days", "active_working_days")),
        "first_active", "last_active",
        pl.coalesce("agent", "top_agent_id").alias("most_used_agent"),
    ).collect()  # fmt: skip


ANSWERS: dict[str, Callable[[UserIndex, Directory, Sql, dict], pl.DataFrame]] = {
    "adoption": adoption,
    "user_activity": user_activity,
}
