"""How much the agents are used and what it costs, for a period and scope."""

from __future__ import annotations

import polars as pl

from queries import cursor
from queries.db import run
from queries.period import Period, parse_grain
from queries.scope import Scope

BREAKDOWN_KEYS = ("team", "agent", "user")


def _params(period: Period, scope: Scope, **extra) -> dict:
    return {**period.params(), **scope.params(), **extra}


def summary(period: Period, scope: Scope) -> pl.DataFrame:
    """One row: interactions, active_users, cost_usd, errors, input_tokens, output_tokens."""
    return run(cursor(), "summary", _params(period, scope))


def interactions_by_key(by: str, period: Period, scope: Scope) -> pl.DataFrame:
    """Rows of key, label, interactions, active_users, cost_usd per team, agent or user."""
    if by not in BREAKDOWN_KEYS:
        raise ValueError(f"Unknown breakdown {by!r}; use one of {', '.join(BREAKDOWN_KEYS)}.")
    return run(cursor(), "interactions_by_key", _params(period, scope, by=by))


def adoption(period: Period, scope: Scope) -> pl.DataFrame:
    """One row: active_users and users_with_access (in the directory by the period's end)."""
    return run(cursor(), "adoption", _params(period, scope))


def data_bounds(scope: Scope, tz: str) -> pl.DataFrame:
    """One row: first_day and last_day with interactions (local dates; null when none)."""
    return run(cursor(), "data_bounds", {**scope.params(), "tz": tz})


def interactions_over_time(period: Period, grain: str, scope: Scope) -> pl.DataFrame:
    """Rows of key (bucket start date), label, interactions, active_users, cost_usd; no gaps."""
    return run(cursor(), "interactions_over_time", _params(period, scope, grain=parse_grain(grain)))
