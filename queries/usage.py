"""How much the agents are used and what it costs, for a period and scope."""

from __future__ import annotations

import polars as pl

from queries import run
from queries.filters import Filters, check_one_of
from queries.scope import Scope

BREAKDOWN_KEYS = ("team", "agent", "user")


def summary(filters: Filters) -> pl.DataFrame:
    """One row: interactions, active_users, cost_usd, errors, input_tokens, output_tokens, users_with_access."""
    return run("summary", filters.params())


def interactions_by_key(filters: Filters, by: str) -> pl.DataFrame:
    """Rows of key, label, interactions, active_users, cost_usd per team, agent or user, most first.

    Teams and agents come from one question that answers both (the tabs show both, and a statement costs
    ClickHouse more than its rows), kept once in the result cache for either."""
    check_one_of(by, BREAKDOWN_KEYS, "breakdown")
    if by == "user":
        return run("interactions_by_user", filters.params())
    both = run("interactions_by_team_and_agent", filters.params())
    return both.filter(pl.col("kind") == by).drop("kind")


def adoption(filters: Filters) -> pl.DataFrame:
    """One row: active_users and users_with_access (the people the scope lists: docs/schema.md); the
    summary's answer, so a page asking both runs one question."""
    return summary(filters).select("active_users", "users_with_access")


def data_bounds(scope: Scope, tz: str) -> pl.DataFrame:
    """One row: first_day and last_day with interactions in the scope (local dates; null when none)."""
    return run("data_bounds", {**scope.params(), "tz": tz})


def interactions_over_time(filters: Filters) -> pl.DataFrame:
    """Rows of key (start of each `filters.grain` bucket), label, interactions, active_users, cost_usd; no gaps."""
    return run("interactions_over_time", filters.params())
