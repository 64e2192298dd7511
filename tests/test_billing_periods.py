"""Billing periods from the anchor day: month and year ends, February, leap years. Dates worked out on a calendar."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queries.billing_periods import (
    billing_period_containing,
    billing_periods,
    is_billing_period,
    period_label,
    previous_billing_period,
)
from queries.period import Period

D = dt.date
NY = "America/New_York"


def bounds(period: Period) -> tuple[dt.date, dt.date]:
    return period.start, period.end


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 3, 1), (D(2026, 3, 1), D(2026, 3, 31))),
        (D(2026, 3, 31), (D(2026, 3, 1), D(2026, 3, 31))),
        (D(2026, 4, 30), (D(2026, 4, 1), D(2026, 4, 30))),
        (D(2026, 2, 14), (D(2026, 2, 1), D(2026, 2, 28))),
        (D(2028, 2, 29), (D(2028, 2, 1), D(2028, 2, 29))),  # leap year
        (D(2026, 12, 31), (D(2026, 12, 1), D(2026, 12, 31))),
        (D(2027, 1, 1), (D(2027, 1, 1), D(2027, 1, 31))),
    ],
)
def test_anchor_1_is_the_calendar_month(day, expected):
    assert bounds(billing_period_containing(day, 1, "UTC")) == expected


@pytest.mark.parametrize(
    ("day", "expected", "days"),
    [
        (D(2026, 3, 14), (D(2026, 2, 15), D(2026, 3, 14)), 28),  # over the end of February
        (D(2026, 2, 15), (D(2026, 2, 15), D(2026, 3, 14)), 28),
        (D(2028, 2, 29), (D(2028, 2, 15), D(2028, 3, 14)), 29),  # leap year: one day longer
        (D(2028, 3, 14), (D(2028, 2, 15), D(2028, 3, 14)), 29),
        (D(2026, 3, 15), (D(2026, 3, 15), D(2026, 4, 14)), 31),
        (D(2026, 1, 31), (D(2026, 1, 15), D(2026, 2, 14)), 31),
        (D(2026, 12, 20), (D(2026, 12, 15), D(2027, 1, 14)), 31),  # over the year end
        (D(2027, 1, 14), (D(2026, 12, 15), D(2027, 1, 14)), 31),
        (D(2027, 1, 15), (D(2027, 1, 15), D(2027, 2, 14)), 31),
        (D(2026, 11, 14), (D(2026, 10, 15), D(2026, 11, 14)), 31),
        (D(2026, 11, 15), (D(2026, 11, 15), D(2026, 12, 14)), 30),
    ],
)
def test_anchor_15_runs_from_the_15th_to_the_14th(day, expected, days):
    period = billing_period_containing(day, 15, "UTC")
    assert bounds(period) == expected
    assert period.days == days


def test_anchor_28_around_february():
    assert bounds(billing_period_containing(D(2026, 2, 27), 28, "UTC")) == (D(2026, 1, 28), D(2026, 2, 27))
    assert bounds(billing_period_containing(D(2026, 2, 28), 28, "UTC")) == (D(2026, 2, 28), D(2026, 3, 27))
    assert bounds(billing_period_containing(D(2028, 2, 29), 28, "UTC")) == (D(2028, 2, 28), D(2028, 3, 27))
    assert bounds(billing_period_containing(D(2026, 12, 31), 28, "UTC")) == (D(2026, 12, 28), D(2027, 1, 27))


def test_the_period_keeps_the_organization_time_zone():
    period = billing_period_containing(D(2026, 3, 8), 1, NY)
    assert period.tz == NY
    # Local midnights: EST (-5) on 1 March, EDT (-4) on 1 April after the change on the 8th.
    assert period.from_ts == dt.datetime(2026, 3, 1, 5, tzinfo=dt.UTC)
    assert period.to_ts == dt.datetime(2026, 4, 1, 4, tzinfo=dt.UTC)


@pytest.mark.parametrize("anchor", [0, 32, -1])
def test_anchor_outside_1_to_31_is_refused(anchor):
    with pytest.raises(ValueError, match="from 1 to 31"):
        billing_period_containing(D(2026, 3, 1), anchor, "UTC")


# Late anchors start a shorter month's period on its last day (card billing), worked out on a calendar:
# February 2027 has 28 days, February 2028 has 29. Newest first, from January's period to April's.
LATE_ANCHORS = {
    (2027, 29): [(D(2027, 3, 29), D(2027, 4, 28)), (D(2027, 2, 28), D(2027, 3, 28)), (D(2027, 1, 29), D(2027, 2, 27))],
    (2027, 30): [(D(2027, 3, 30), D(2027, 4, 29)), (D(2027, 2, 28), D(2027, 3, 29)), (D(2027, 1, 30), D(2027, 2, 27))],
    (2027, 31): [(D(2027, 3, 31), D(2027, 4, 29)), (D(2027, 2, 28), D(2027, 3, 30)), (D(2027, 1, 31), D(2027, 2, 27))],
    (2028, 29): [(D(2028, 3, 29), D(2028, 4, 28)), (D(2028, 2, 29), D(2028, 3, 28)), (D(2028, 1, 29), D(2028, 2, 28))],
    (2028, 30): [(D(2028, 3, 30), D(2028, 4, 29)), (D(2028, 2, 29), D(2028, 3, 29)), (D(2028, 1, 30), D(2028, 2, 28))],
    (2028, 31): [(D(2028, 3, 31), D(2028, 4, 29)), (D(2028, 2, 29), D(2028, 3, 30)), (D(2028, 1, 31), D(2028, 2, 28))],
}


@pytest.mark.parametrize(("year", "anchor"), list(LATE_ANCHORS))
def test_late_anchors_around_february_in_common_and_leap_years(year, anchor):
    expected = LATE_ANCHORS[(year, anchor)]
    periods = billing_periods(expected[-1][0], expected[0][0], anchor, "UTC")
    assert [bounds(p) for p in periods] == expected
    for newer, older in zip(periods, periods[1:], strict=False):
        assert older.end + dt.timedelta(days=1) == newer.start  # no gap, no overlap
    for day, (start, end) in [(start, (start, end)) for start, end in expected] + [
        (end, (start, end)) for start, end in expected
    ]:
        assert bounds(billing_period_containing(day, anchor, "UTC")) == (start, end)


def test_anchor_31_follows_each_month_end():
    """Jan 31 -> Feb 28 (29 in a leap year) -> Mar 31 -> Apr 30 -> May 31, as a card statement does."""
    for year, february in ((2027, 28), (2028, 29)):
        starts = [billing_period_containing(D(year, m, 15), 31, "UTC").start for m in range(2, 7)]
        assert starts == [D(year, 1, 31), D(year, 2, february), D(year, 3, 31), D(year, 4, 30), D(year, 5, 31)]
        assert is_billing_period(Period(D(year, 2, february), D(year, 3, 30)), 31)
        assert bounds(previous_billing_period(Period(D(year, 3, 31), D(year, 4, 29)), 31)) == (
            D(year, 2, february),
            D(year, 3, 30),
        )


def test_periods_between_two_days_newest_first_over_a_year_end():
    periods = billing_periods(D(2026, 11, 20), D(2027, 2, 3), 15, "UTC")
    assert [bounds(p) for p in periods] == [
        (D(2027, 1, 15), D(2027, 2, 14)),
        (D(2026, 12, 15), D(2027, 1, 14)),
        (D(2026, 11, 15), D(2026, 12, 14)),
    ]


def test_periods_with_anchor_1_over_a_leap_february():
    periods = billing_periods(D(2028, 1, 31), D(2028, 3, 1), 1, "UTC")
    assert [bounds(p) for p in periods] == [
        (D(2028, 3, 1), D(2028, 3, 31)),
        (D(2028, 2, 1), D(2028, 2, 29)),
        (D(2028, 1, 1), D(2028, 1, 31)),
    ]


def test_one_day_gives_one_period_and_backwards_days_are_refused():
    assert [bounds(p) for p in billing_periods(D(2026, 3, 14), D(2026, 3, 14), 15, "UTC")] == [
        (D(2026, 2, 15), D(2026, 3, 14))
    ]
    with pytest.raises(ValueError, match="before the first"):
        billing_periods(D(2026, 3, 2), D(2026, 3, 1), 1, "UTC")


def test_previous_period_and_is_billing_period():
    march = Period(D(2026, 3, 15), D(2026, 4, 14))
    assert bounds(previous_billing_period(march, 15)) == (D(2026, 2, 15), D(2026, 3, 14))
    assert bounds(previous_billing_period(Period(D(2027, 1, 1), D(2027, 1, 31)), 1)) == (
        D(2026, 12, 1),
        D(2026, 12, 31),
    )
    assert is_billing_period(march, 15)
    assert not is_billing_period(march, 1)
    assert not is_billing_period(Period(D(2026, 3, 15), D(2026, 4, 13)), 15)


def test_labels():
    assert period_label(Period(D(2026, 10, 15), D(2026, 11, 14))) == "15 Oct – 14 Nov 2026"
    assert period_label(Period(D(2026, 3, 1), D(2026, 3, 31))) == "1 Mar – 31 Mar 2026"
    assert period_label(Period(D(2026, 12, 15), D(2027, 1, 14))) == "15 Dec 2026 – 14 Jan 2027"


@given(
    st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 12, 31)),
    st.integers(min_value=0, max_value=800),
    st.integers(min_value=1, max_value=31),
)
def test_periods_tile_the_calendar(first, length, anchor):
    """No gap, no overlap: each period starts the day after the next-older one ends, on the anchor day
    or, in a shorter month, on its last day."""
    last = first + dt.timedelta(days=length)
    periods = billing_periods(first, last, anchor, "UTC")
    assert periods[0].start <= last <= periods[0].end
    assert periods[-1].start <= first <= periods[-1].end
    for newer, older in zip(periods, periods[1:], strict=False):
        assert older.end + dt.timedelta(days=1) == newer.start
    for period in periods:
        month_days = calendar.monthrange(period.start.year, period.start.month)[1]
        assert period.start.day == min(anchor, month_days)
        assert 28 <= period.days <= 31
