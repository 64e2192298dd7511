"""Billing periods: the organization's cycle from `BILLING_ANCHOR_DAY` of one month to the day before it in the next.

Pure date math on local dates in the organization's time zone; no data read here.
With anchor 15, 15 Jan – 14 Feb, 15 Feb – 14 Mar (28 days, 29 in a leap year), 15 Dec – 14 Jan.
An anchor past a month's last day starts that month's period on its last day, as card billing does:
with anchor 31, 31 Jan – 27 Feb, 28 Feb – 30 Mar, 31 Mar – 29 Apr, 30 Apr – 30 May (29 Feb in a leap year).
"""

from __future__ import annotations

import datetime as dt

from queries.period import MAX_DAYS, Period, add_months

MIN_ANCHOR, MAX_ANCHOR = 1, 31  # a month shorter than the anchor starts its period on its last day


def billing_period_containing(day: dt.date, anchor: int, tz: str) -> Period:
    """The billing period that `day` (a local date) falls in."""
    if not isinstance(anchor, int) or not MIN_ANCHOR <= anchor <= MAX_ANCHOR:
        raise ValueError(f"The billing anchor day must be a day of the month from {MIN_ANCHOR} to {MAX_ANCHOR}.")
    start = add_months(day, 0, anchor)  # the month's anchor day, or its last day if the month is shorter
    if day < start:
        start = add_months(day, -1, anchor)
    return Period(start, add_months(start, 1, anchor) - dt.timedelta(days=1), tz)


def previous_billing_period(period: Period, anchor: int) -> Period:
    """The billing period just before the one that starts on `period.start`."""
    return billing_period_containing(period.start - dt.timedelta(days=1), anchor, period.tz)


def is_billing_period(period: Period, anchor: int) -> bool:
    """Whether these dates are exactly one billing period of the cycle."""
    return billing_period_containing(period.start, anchor, period.tz) == period


def billing_periods(first_day: dt.date, last_day: dt.date, anchor: int, tz: str) -> list[Period]:
    """Every billing period from the one holding `first_day` to the one holding `last_day`, newest first.

    At most MAX_DAYS back from `last_day`, as "All time": one stray, very old event does not make
    hundreds of periods.
    """
    if last_day < first_day:
        raise ValueError(f"The last day ({last_day:%Y-%m-%d}) is before the first ({first_day:%Y-%m-%d}).")
    first_day = max(first_day, last_day - dt.timedelta(days=MAX_DAYS - 1))
    period = billing_period_containing(last_day, anchor, tz)
    periods = [period]
    while period.start > first_day:
        period = previous_billing_period(period, anchor)
        periods.append(period)
    return periods


def period_label(period: Period) -> str:
    """`15 Oct – 14 Nov 2026`; both years when the period crosses a year end: `15 Dec 2026 – 14 Jan 2027`."""
    start, end = period.start, period.end
    first = f"{start.day} {start:%b}" if start.year == end.year else f"{start.day} {start:%b %Y}"
    return f"{first} – {end.day} {end:%b %Y}"
