"""Questions the rollups answer in Polars, from the user index and the directory, rather than in SQL.

The question itself is still its SQL file (queries/sql/<name>.sql, over the raw events), and the answer
here must be the same frame, rows in the same order: tests/test_rollups.py compares the two for every
period and scope. What differs is only the join: 30,000 people to their figures took DuckDB 70-80 ms
(four hash joins of registered frames, and materialising the strings again), Polars joins and a sort
18 ms (20-40 beside a tab's other work), numpy by user code (the directory lined up with the index once
per version) 12 ms. Local times are still DuckDB's (queries/sql/from_rollups/local_activity_times.sql):
Polars' time-zone data is not ICU's.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable
from concurrent.futures import wait
from dataclasses import dataclass

import numpy as np
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


@dataclass(frozen=True)
class _People:
    """The directory's people as the per-person list needs them, lined up with the index's user codes."""

    frame: pl.DataFrame  # user_id, name, email, team_id, team, created_at, active: one row per person
    code: np.ndarray  # each person's user code in the index, -1 when it has no rows of theirs
    place: np.ndarray  # each person's place in the list's order of people: name (missing last), user_id
    created_us: np.ndarray  # created_at as microseconds since the epoch (none: never before a period's end)
    active: np.ndarray  # still with the company (missing: no)
    agents: pl.Series  # per agent code of the index: its directory name, else its id


def _people(index: UserIndex, directory: Directory) -> _People:
    """`_People` of this directory version and index: worked out once (15-40 ms at 30,000 people), not per answer."""
    sources = (directory("users"), directory("teams"), directory("agents"))
    return index.derived("people", sources, lambda: _work_out_people(*sources, index))


def _work_out_people(users: pl.DataFrame, teams: pl.DataFrame, agents: pl.DataFrame, index: UserIndex) -> _People:
    team_names = teams.select("team_id", pl.col("name").alias("team_name"))
    codes = pl.DataFrame({"user_id": index.user_ids, "code": np.arange(len(index.user_ids), dtype=np.int64)})
    frame = (
        users.lazy()
        .select("user_id", "name", "email", "team_id", "created_at", "active")
        .join(team_names.lazy(), on="team_id", how="left", maintain_order="left")
        .join(codes.lazy(), on="user_id", how="left", maintain_order="left")
        .with_columns(pl.coalesce("team_name", "team_id").alias("team"))
        .collect()
    )
    by_name = frame.select(pl.arg_sort_by(["name", "user_id"], nulls_last=[True, False])).to_series().to_numpy()
    place = np.empty(frame.height, dtype=np.int64)
    place[by_name] = np.arange(frame.height)
    labels = (
        pl.DataFrame({"agent_id": index.agent_ids.rename("agent_id")})
        .join(agents.select("agent_id", "name"), on="agent_id", how="left", maintain_order="left")
        .select(pl.coalesce("name", "agent_id"))
        .to_series()
    )
    return _People(
        frame=frame.select("user_id", "name", "email", "team_id", "team", "created_at", "active"),
        code=frame["code"].fill_null(-1).to_numpy(),
        place=place,
        created_us=frame["created_at"].dt.epoch("us").fill_null(np.iinfo(np.int64).max).to_numpy(),
        active=frame["active"].fill_null(False).to_numpy(),
        agents=labels,
    )


def _where(chosen: np.ndarray, values: np.ndarray, code: np.ndarray, otherwise: int = 0) -> np.ndarray:
    """`values` at `code` where `chosen`, else `otherwise` (as int64; codes elsewhere are not looked at)."""
    found = np.full(len(code), otherwise, dtype=np.int64)
    found[chosen] = values[code[chosen]]
    return found


def _gather(column: pl.Series, positions: np.ndarray) -> pl.Series:
    """`column` at `positions`, null where a position is -1."""
    at = pl.Series(positions)
    return column.gather(at.set(at < 0, None))


def user_activity(index: UserIndex, directory: Directory, sql: Sql, params: dict) -> pl.DataFrame:
    """As queries/sql/user_activity.sql: everyone in the scope with access by the period's end who is still
    active or had interactions in it, with their figures, first and last activity, and most used agent;
    busiest first, then by name.

    Put together by user code, with numpy, rather than by joining on user ids: the joins and the sort of
    30,000 people took 20-40 ms, as long as the sums themselves."""
    # Local times (DuckDB, on the request's cursor) while this thread sums per user (numpy): neither
    # holds Python's lock for long, and nothing else uses the cursor meanwhile (the per-person list for
    # 30 days at 100M: 85 -> 71-79 ms). If no pool thread has started it by then, it runs here.
    times = process_pool("index-answer", 2).submit(contextvars.copy_context().run, sql, "local_activity_times", params)
    try:
        sums = index.user_sums(params)
        people = _people(index, directory)
    except BaseException:
        if not times.cancel():
            wait([times])  # never leave the cursor busy past the request
        raise
    ever = sql("local_activity_times", params) if times.cancel() else times.result()
    access = people.created_us < (params["to_ts"] - _EPOCH) // dt.timedelta(microseconds=1)
    if not params["all_teams"]:
        access &= people.frame["team_id"].is_in(params["team_ids"]).fill_null(False).to_numpy()
    known = people.code >= 0
    had = known.copy()  # rows in the period and scope
    had[known] = sums.active_days[people.code[known]] > 0
    listed = np.flatnonzero(access & (people.active | had))
    code, had = people.code[listed], had[listed]
    interactions = _where(had, sums.interactions, code)
    order = np.lexsort((people.place[listed], -interactions))  # busiest first, then by name
    listed, code, had, interactions = listed[order], code[order], had[order], interactions[order]
    ever_at = np.full(len(index.users), -1, dtype=np.int64)
    ever_at[ever["user_code"].to_numpy()] = np.arange(ever.height)
    ever_rows = _where(code >= 0, ever_at, code, -1)
    return people.frame[listed].with_columns(
        pl.Series("interactions", interactions, dtype=pl.Int64),
        pl.Series("active_days", _where(had, sums.active_days, code), dtype=pl.Int64),
        pl.Series("active_working_days", _where(had, sums.working_days, code), dtype=pl.Int64),
        _gather(ever["first_active"], ever_rows),
        _gather(ever["last_active"], ever_rows),
        _gather(people.agents, _where(had, sums.top_agent, code, -1)).alias("most_used_agent"),
    )


ANSWERS: dict[str, Callable[[UserIndex, Directory, Sql, dict], pl.DataFrame]] = {
    "adoption": adoption,
    "user_activity": user_activity,
}
