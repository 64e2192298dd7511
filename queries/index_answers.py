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
ANOTHER_TEAM = "Another team"  # a listed person's current team outside the scope (queries/sql/user_activity.sql)


@dataclass(frozen=True)
class _People:
    """The directory's people as the per-person list needs them, lined up with the index's user codes."""

    frame: pl.DataFrame  # user_id, name, email, team_id, team, created_at, active: one row per person
    code: np.ndarray  # each person's user code in the index, -1 when it has no rows of theirs
    place: np.ndarray  # each person's place in the list's order of people: name (missing last), user_id
    created_us: np.ndarray  # created_at as microseconds since the epoch (none: never before a period's end)
    active: np.ndarray  # still with the company (missing: no)
    coded: np.ndarray  # per user code of the index: whether a person of the directory has it
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
        coded=np.isin(np.arange(len(index.user_ids)), frame["code"].drop_nulls().to_numpy()),
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
    """As queries/sql/user_activity.sql: everyone the scope lists (active in it in the period, or of its
    teams with access by the period's end and still with the company), with their figures in the scope,
    first and last activity, and most used agent; busiest first, then by name.

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
    frame, code, place = people.frame, people.code, people.place
    in_scope = np.ones(frame.height, dtype=bool)
    if params["team_ids"] is not None:
        in_scope = frame["team_id"].is_in(params["team_ids"]).fill_null(False).to_numpy()
    access = (people.created_us < (params["to_ts"] - _EPOCH) // dt.timedelta(microseconds=1)) & people.active
    known = code >= 0
    had = known.copy()  # rows in the period and scope
    had[known] = sums.active_days[code[known]] > 0
    unknown = np.flatnonzero((sums.active_days > 0) & ~people.coded)
    if len(unknown):  # active in the scope but gone from the directory: listed too, by user id
        frame, code, place = _with_unknown(people, index, unknown)
        in_scope, access = np.r_[in_scope, np.zeros(len(unknown), bool)], np.r_[access, np.zeros(len(unknown), bool)]
        had = np.r_[had, np.ones(len(unknown), bool)]
    listed = np.flatnonzero((access & in_scope) | had)
    code, had = code[listed], had[listed]
    interactions = _where(had, sums.interactions, code)
    order = np.lexsort((place[listed], -interactions))  # busiest first, then by name
    listed, code, had, interactions = listed[order], code[order], had[order], interactions[order]
    ever_at = np.full(len(index.users), -1, dtype=np.int64)
    ever_at[ever["user_code"].to_numpy()] = np.arange(ever.height)
    ever_rows = _where(code >= 0, ever_at, code, -1)
    return _teams_seen(frame[listed], in_scope[listed]).with_columns(
        pl.Series("interactions", interactions, dtype=pl.Int64),
        pl.Series("active_days", _where(had, sums.active_days, code), dtype=pl.Int64),
        pl.Series("active_working_days", _where(had, sums.working_days, code), dtype=pl.Int64),
        _gather(ever["first_active"], ever_rows),
        _gather(ever["last_active"], ever_rows),
        _gather(people.agents, _where(had, sums.top_agent, code, -1)).alias("most_used_agent"),
    )


def _with_unknown(people: _People, index: UserIndex, codes: np.ndarray) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """The people, then the user codes `codes` as people known only by their user id; the codes and the
    places in the list's order (name, missing last, then user id) of them all."""
    blank = [pl.lit(None, dtype).alias(name) for name, dtype in people.frame.schema.items() if name != "user_id"]
    extra = index.user_ids.gather(codes).to_frame().with_columns(blank).select(people.frame.columns)
    frame = pl.concat([people.frame, extra])
    by_name = frame.select(pl.arg_sort_by(["name", "user_id"], nulls_last=[True, False])).to_series().to_numpy()
    place = np.empty(frame.height, dtype=np.int64)
    place[by_name] = np.arange(frame.height)
    return frame, np.r_[people.code, codes], place


def _teams_seen(rows: pl.DataFrame, in_scope: np.ndarray) -> pl.DataFrame:
    """A person's current team as the viewer may see it: outside the scope, ANOTHER_TEAM and no id (as
    queries/sql/user_activity.sql)."""
    if in_scope.all():
        return rows
    inside = pl.Series(in_scope)
    return rows.with_columns(
        pl.when(inside).then(pl.col("team_id")).alias("team_id"),
        pl.when(pl.col("team_id").is_null()).then(None).when(inside).then(pl.col("team"))
        .otherwise(pl.lit(ANOTHER_TEAM)).alias("team"),
    )


ANSWERS: dict[str, Callable[[UserIndex, Directory, Sql, dict], pl.DataFrame]] = {
    "user_activity": user_activity,
}
