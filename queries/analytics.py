"""The Analytics tab's questions: usage by agent, by team, over time and by hour of the week."""

from __future__ import annotations

import polars as pl

from queries import run
from queries.filters import Filters, check_one_of
from queries.scope import Scope

STACK_KEYS = ("agent", "team")
OTHER_KEY = "other"
MAX_TOP_N = 20


def agent_stats(filters: Filters) -> pl.DataFrame:
    """Per agent, most used first: key, label, interactions, active_users, interactions_per_active_user,
    errors, error_rate, avg_latency_ms, input_tokens, output_tokens, cost_usd, share.

    Agents of the directory that nobody in scope used are listed with zeros (rates null).
    """
    return run("agent_stats", filters.params())


def team_stats(filters: Filters) -> pl.DataFrame:
    """Per team in scope, also those with no interactions, most used first: key, label, members,
    active_users, adoption, interactions, share, interactions_per_member, cost_usd.

    `members` are the team's people as `usage.adoption` lists a scope's (docs/schema.md, "Who is counted
    where"): active in the team in the period, or in it today with access by the period's end and still
    with the company; `adoption` and `interactions_per_member` are null for a team with no members.
    """
    return run("team_stats", filters.params())


def interactions_over_time_by(filters: Filters, by: str, top_n: int = 5) -> pl.DataFrame:
    """Rows of bucket, bucket_label, key, label, rank, interactions, active_users, cost_usd.

    One row per bucket (`filters.grain`) of the period and per series: the `top_n` agents or teams (`by`) with the
    most interactions in the whole period, then 'other' (label 'Other') for the rest, if any.
    No rows when nothing happened in the period.
    """
    check_one_of(by, STACK_KEYS, "breakdown")
    if not isinstance(top_n, int) or not 1 <= top_n <= MAX_TOP_N:
        raise ValueError(f"top_n must be a whole number from 1 to {MAX_TOP_N}.")
    return run("interactions_over_time_by", filters.params(by=by, top_n=top_n))


def activity_heatmap(filters: Filters) -> pl.DataFrame:
    """168 rows of weekday (ISO, 1 = Monday), hour (0..23, local time), interactions."""
    return run("activity_heatmap", filters.params())


def filter_labels(scope: Scope) -> pl.DataFrame:
    """Rows of kind ('team' | 'agent'), key, label for the teams and agents the scope is narrowed to."""
    return run("filter_labels", scope.params())
