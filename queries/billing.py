"""The Billing tab's questions: what a period cost in total, per team, agent, model and day, and where it is heading.

Sums are exact DECIMAL(38, 6) from SQL. `cost_cents` columns are the display cents, allocated with
`queries.money.allocate_cents` so a breakdown's cents add up to the rounded total exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from queries import run
from queries.filters import Filters, check_one_of
from queries.money import allocate_cents
from queries.period import Period

COST_KEYS = ("team", "agent", "model")
RUN_RATE_DAYS = 7  # the projection's run rate: mean daily cost over this many complete days before today
CENTS = pl.Decimal(38, 2)


def with_cents(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `cost_cents`: each row's cost in cents, the cents adding up to the rounded total."""
    cents = allocate_cents(frame["cost_usd"].to_list())
    return frame.with_columns(pl.Series("cost_cents", cents, dtype=CENTS))


def total_cost(filters: Filters) -> Decimal:
    """The exact cost of the period in the scope (summary.sql's cost_usd)."""
    return run("summary", filters.params())["cost_usd"][0]


def cost_by_key(filters: Filters, by: str) -> pl.DataFrame:
    """Rows of key, label, interactions, cost_usd, share, cost_cents per team, agent or model; most expensive first.

    Only keys with interactions in the period; `share` is the key's part of the scope's exact total (null if $0).
    """
    check_one_of(by, COST_KEYS, "breakdown")
    return with_cents(run("cost_by_key", filters.params(by=by)))


def cost_by_day(filters: Filters) -> pl.DataFrame:
    """Rows of key (local date), label, interactions, cost_usd, cost_cents for every day of the period."""
    return with_cents(run("cost_by_day", filters.params()))


@dataclass(frozen=True)
class Projection:
    """Where the current billing period's cost is heading at the recent daily run rate.

    projected = to_date + the rest of today + run_rate × remaining_days, where to_date is the cost from
    the period's first day up to now (today so far included), run_rate the mean daily cost of the
    RUN_RATE_DAYS complete days before today (days without use count as $0), the rest of today what a
    day at the run rate would still add to today's cost so far (nothing once today has passed it), and
    remaining_days the days after today.
    """

    period: Period
    today: dt.date
    to_date: Decimal
    rate_period: Period
    rate_total: Decimal
    today_so_far: Decimal = Decimal(0)

    @property
    def run_rate(self) -> Decimal:
        return self.rate_total / self.rate_period.days

    @property
    def elapsed_days(self) -> int:
        return (self.today - self.period.start).days + 1

    @property
    def remaining_days(self) -> int:
        return (self.period.end - self.today).days

    @property
    def rest_of_today(self) -> Decimal:
        return max(Decimal(0), self.run_rate - self.today_so_far)

    @property
    def projected(self) -> Decimal:
        return self.to_date + self.rest_of_today + self.run_rate * self.remaining_days


def run_rate_period(today: dt.date, tz: str) -> Period:
    """The RUN_RATE_DAYS complete local days before today."""
    return Period(today - dt.timedelta(days=RUN_RATE_DAYS), today - dt.timedelta(days=1), tz)


def projection(filters: Filters, today: dt.date) -> Projection:
    """The projection of `filters.period`, which must contain `today` (the current billing period)."""
    period = filters.period
    if not period.start <= today <= period.end:
        raise ValueError(f"Only a period containing today ({today:%Y-%m-%d}) can be projected.")
    rate_period = run_rate_period(today, period.tz)
    to_date = total_cost(filters.for_period(Period(period.start, today, period.tz)))
    today_so_far = total_cost(filters.for_period(Period(today, today, period.tz)))
    rate_total = total_cost(filters.for_period(rate_period))
    return Projection(period, today, to_date, rate_period, rate_total, today_so_far)
