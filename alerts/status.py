"""Where each budget stands: spend so far in its period, % used, the projection at period end (the Billing tab's
method, `queries.billing.Projection`) and the day it is projected to run out. Read by the checker and the tabs."""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from alerts.store import Budget
from queries.billing import RUN_RATE_DAYS, Projection, run_rate_period
from queries.billing_periods import billing_period_containing
from queries.budgets import budget_spend_by_day
from queries.filters import Filters
from queries.period import Period
from queries.scope import Scope

ANOMALY_DAYS = 14  # a day's cost is compared with the median of this many days before it
WINDOW_DAYS = ANOMALY_DAYS + 1  # the days before today read once: the run rate's and the anomalies'
assert WINDOW_DAYS >= RUN_RATE_DAYS


def budget_period(cadence: str, day: dt.date, anchor: int, tz: str) -> Period:
    """The budget's period holding `day`: the billing period (as the Billing tab's), or the calendar month."""
    if cadence == "billing":
        return billing_period_containing(day, anchor, tz)
    last = calendar.monthrange(day.year, day.month)[1]
    return Period(day.replace(day=1), day.replace(day=last), tz)


@dataclass(frozen=True)
class Daily:
    """One scope's days of a period in order, with each day's cost and the running total (Python lists: a
    few hundred budgets are read one by one, where a Polars filter each would cost more than the SQL)."""

    days: list[dt.date]
    cost_usd: list[Decimal]
    cumulative_usd: list[Decimal]

    def frame(self) -> pl.DataFrame:
        money = pl.Decimal(38, 6)
        return pl.DataFrame({"day": self.days, "cost_usd": pl.Series(self.cost_usd, dtype=money),
                             "cumulative_usd": pl.Series(self.cumulative_usd, dtype=money)})  # fmt: skip


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    period: Period
    today: dt.date
    spent: Decimal  # from the period's first day up to today (the whole period once it is over)
    days: Daily  # every day of the period
    projection: Projection | None  # None for a period that does not hold today

    @property
    def daily(self) -> pl.DataFrame:
        """day, cost_usd, cumulative_usd: every day of the period."""
        return self.days.frame()

    @property
    def used(self) -> Decimal:
        """The share of the budget spent (1 is all of it)."""
        return self.spent / self.budget.amount_usd

    @property
    def run_out(self) -> dt.date | None:
        """The day the budget is used up: the day it was, or at the run rate the day it will be within the
        period; None if it lasts the period."""
        amount = self.budget.amount_usd
        if self.spent >= amount:
            over = [d for d, total in zip(self.days.days, self.days.cumulative_usd, strict=True) if total >= amount]
            return over[0] if over else self.today
        if self.projection is None or self.projection.run_rate <= 0:
            return None
        left = amount - self.spent - self.projection.rest_of_today
        day = self.today if left <= 0 else self.today + dt.timedelta(days=math.ceil(left / self.projection.run_rate))
        return day if day <= self.period.end else None


def _by_scope(frame: pl.DataFrame) -> dict[tuple[str, str], Daily]:
    found: dict[tuple[str, str], Daily] = {}
    for kind, ident, day, cost, total in frame.iter_rows():
        daily = found.get((kind, ident or ""))
        if daily is None:
            daily = found[(kind, ident or "")] = Daily([], [], [])
        daily.days.append(day)
        daily.cost_usd.append(cost)
        daily.cumulative_usd.append(total)
    return found


def _empty(period: Period) -> Daily:
    days = [period.start + dt.timedelta(days=i) for i in range(period.days)]
    return Daily(days, [Decimal(0)] * len(days), [Decimal(0)] * len(days))


@dataclass(frozen=True)
class Spend:
    """The spend the statuses are read from: per budget period, and the days before today; by scope."""

    today: dt.date
    periods: dict[Period, dict[tuple[str, str], Daily]]
    window: dict[tuple[str, str], Daily]

    @classmethod
    def read(cls, periods: set[Period], today: dt.date, tz: str) -> Spend:
        org = Scope.organization()
        frames = {p: _by_scope(budget_spend_by_day(Filters.asking(p, org, "day"))) for p in periods}
        window = Period(today - dt.timedelta(days=WINDOW_DAYS), today, tz)
        return cls(today, frames, _by_scope(budget_spend_by_day(Filters.asking(window, org, "day"))))

    def daily(self, period: Period, scope: tuple[str, str]) -> Daily:
        found = self.periods[period].get(scope)
        return _empty(period) if found is None else found

    def window_costs(self, scope: tuple[str, str]) -> dict[dt.date, Decimal]:
        found = self.window.get(scope)
        return {} if found is None else dict(zip(found.days, found.cost_usd, strict=True))


def budget_status(budget: Budget, period: Period, spend: Spend) -> BudgetStatus:
    today = spend.today
    scope = (budget.scope_kind, budget.scope_id)
    daily = spend.daily(period, scope)
    upto = bisect.bisect_right(daily.days, min(today, period.end))
    spent = daily.cumulative_usd[upto - 1] if upto else Decimal(0)
    projection = None
    if period.start <= today <= period.end:
        costs = spend.window_costs(scope)
        rate_period = run_rate_period(today, period.tz)
        rate_total = sum((costs.get(d, Decimal(0)) for d in _days(rate_period)), Decimal(0))
        projection = Projection(period, today, spent, rate_period, rate_total, costs.get(today, Decimal(0)))
    return BudgetStatus(budget, period, today, spent, daily, projection)


def _days(period: Period) -> list[dt.date]:
    return [period.start + dt.timedelta(days=i) for i in range(period.days)]


def statuses(budgets: list[Budget], today: dt.date, anchor: int, tz: str) -> tuple[list[BudgetStatus], Spend]:
    """Every budget's status in its current period, from one query per distinct period and one for the days
    before today."""
    periods = {cadence: budget_period(cadence, today, anchor, tz) for cadence in {b.cadence for b in budgets}}
    spend = Spend.read(set(periods.values()), today, tz)
    return [budget_status(b, periods[b.cadence], spend) for b in budgets], spend
