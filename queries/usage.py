"""How much the agents are used and what it costs, for a period and scope."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data import schema
from queries import cursor, database
from queries.db import run
from queries.filters import Filters
from queries.scope import Scope

BREAKDOWN_KEYS = ("team", "agent", "user")


def summary(filters: Filters) -> pl.DataFrame:
    """One row: interactions, active_users, cost_usd, errors, input_tokens, output_tokens, users_with_access."""
    return run(cursor(), "summary", filters.params())


def interactions_by_key(filters: Filters, by: str) -> pl.DataFrame:
    """Rows of key, label, interactions, active_users, cost_usd per team, agent or user."""
    if by not in BREAKDOWN_KEYS:
        raise ValueError(f"Unknown breakdown {by!r}; use one of {', '.join(BREAKDOWN_KEYS)}.")
    return run(cursor(), "interactions_by_key", filters.params(by=by))


def adoption(filters: Filters) -> pl.DataFrame:
    """One row: active_users and users_with_access (the people the scope lists: docs/schema.md); the
    summary's answer, so a page asking both runs one question."""
    return summary(filters).select("active_users", "users_with_access")


def data_bounds(scope: Scope, tz: str) -> pl.DataFrame:
    """One row: first_day and last_day with interactions in the scope (local dates; null when none).

    Exact, without reading every event (it runs on every change of the URL): the partition folders'
    names say which UTC dates have events, so the first day is in the oldest partitions that hold any
    of the scope's events and the last day in the newest. It reads the oldest and the newest partition
    and, while one of them has none of the scope's events, the next 2, 4, 8… partitions on that side.
    """
    dates = schema.partition_dates(database().data_dir)
    first = last = None
    if dates:
        first, last = _bounds_among(scope, tz, dates[:1], dates[-1:])
    start, width = 1, 2
    while first is None and start < len(dates):  # the oldest partitions hold none of the scope's events
        first, _ = _bounds_among(scope, tz, dates[start : start + width], [])
        start, width = start + width, width * 2
    end, width = len(dates) - 1, 2
    while first is not None and last is None and end > 0:  # stops at the partition holding `first`
        _, last = _bounds_among(scope, tz, [], dates[max(0, end - width) : end])
        end, width = end - width, width * 2
    return pl.DataFrame({"first_day": [first], "last_day": [last]}, schema={"first_day": pl.Date, "last_day": pl.Date})


def _bounds_among(scope: Scope, tz: str, head: list[dt.date], tail: list[dt.date]) -> tuple:
    """The first local day with the scope's events in partitions `head`, the last in `tail` (None: none)."""
    params = {
        **scope.params(),
        "tz": tz,
        "head_from": head[0] if head else None,
        "head_to": head[-1] if head else None,
        "tail_from": tail[0] if tail else None,
        "tail_to": tail[-1] if tail else None,
    }
    return run(cursor(), "data_bounds", params).row(0)


def interactions_over_time(filters: Filters) -> pl.DataFrame:
    """Rows of key (start of each `filters.grain` bucket), label, interactions, active_users, cost_usd; no gaps."""
    return run(cursor(), "interactions_over_time", filters.params())
