"""Texts the tabs and the report files write alike: a day, and a change against the comparison period.

Here rather than in layouts/_components.py (which takes these from here) because the report files are made
below the pages: the Dashboard's KPI cards and the report's summary say a change in the same words.
"""

from __future__ import annotations

import datetime as dt

from queries.billing_periods import period_label
from queries.period import Period

# One date style on every tab and in the report's texts, "3 Mar 2026" (layouts/_components.py has the rest).
DAY = "%-d %b %Y"


def format_day(day: dt.date) -> str:
    """A local date as every tab writes it: 3 Mar 2026."""
    return day.strftime(DAY)


def format_dates(period: Period) -> str:
    """A period's dates: `2 Mar – 8 Mar 2026`, or one day: `2 Mar 2026`."""
    return format_day(period.start) if period.days == 1 else period_label(period)


def relative_change(current: float, previous: float) -> tuple[str, int]:
    """A change of a count or an amount, "▲ 12.3%", and its direction: 1 up, -1 down, 0 none to show."""
    if previous == 0:
        return ("new", 0) if current else ("no change", 0)
    change = (float(current) - float(previous)) / float(previous) * 100
    if abs(change) < 0.05:
        return "0.0%", 0
    return f"{'▲' if change > 0 else '▼'} {abs(change):,.1f}%", 1 if change > 0 else -1


def point_change(current: float, previous: float) -> tuple[str, int]:
    """A change of a rate (a share of 0..1) in percentage points, and its direction: 74.4% -> 75.6% is
    "▲ 1.2 pp", not a relative 1.7%."""
    points = (float(current) - float(previous)) * 100
    if abs(points) < 0.05:
        return "0.0 pp", 0
    return f"{'▲' if points > 0 else '▼'} {abs(points):,.1f} pp", 1 if points > 0 else -1


def no_data_before(compared_start: dt.date, first_day: dt.date | None) -> str | None:
    """What is said instead of a change when the comparison period starts before the first day with data
    (a large rise from nothing otherwise); None when it does not."""
    if first_day is not None and compared_start < first_day:
        return f"no data before {format_day(first_day)}"
    return None
