"""Spend against budgets: what the organization, each team and each agent spent per day of a period, and in all.

The thresholds, projections and alerts built on it are in alerts/; the periods (billing or calendar month) in
queries/billing_periods.py and queries/period.py.
"""

from __future__ import annotations

import polars as pl

from queries import run
from queries.filters import Filters


def budget_spend_by_day(filters: Filters) -> pl.DataFrame:
    """Rows of scope_kind (org, team, agent), scope_id (null for org), day, cost_usd, cumulative_usd.

    Every day of the period for the organization (the filters' scope); for a team or an agent, every day
    once it has any cost in the period (none at all: no rows, its spend is $0). Exact DECIMAL sums.
    """
    return run("budget_spend_by_day", filters.params())
