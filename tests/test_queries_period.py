"""Periods at the edges: calendar limits, presets that would overflow, and local midnight as DuckDB sees it."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from queries.billing_periods import billing_periods
from queries.filters import parse_filters, parse_ids, parse_period
from queries.period import MAX_DAYS, Period, PeriodError, matching_preset, preset_period
from queries.scope import Scope

TODAY = dt.date(2026, 11, 25)
EPOCH = dt.date(1970, 1, 1)


def test_all_time_reaches_back_at_most_max_days():
    everything = preset_period("all", TODAY, "UTC", EPOCH)  # one stray event from an unset clock
    assert (everything.start, everything.end) == (TODAY - dt.timedelta(days=MAX_DAYS - 1), TODAY)
    assert preset_period("all", TODAY, "UTC", dt.date(2026, 2, 25)).start == dt.date(2026, 2, 25)
    assert preset_period("all", TODAY, "UTC", None) == Period(TODAY, TODAY)
    week = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8))
    assert matching_preset(week, TODAY, EPOCH) == "custom"
    assert matching_preset(everything, TODAY, EPOCH) == "all"


def test_billing_periods_reach_back_at_most_max_days():
    periods = billing_periods(EPOCH, TODAY, 1, "UTC")
    assert periods[0] == Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert len(periods) == 121  # ten years and a bit, not 683 months back to 1970
    assert periods[-1].start <= TODAY - dt.timedelta(days=MAX_DAYS - 1) <= periods[-1].end


@pytest.mark.parametrize("name", ["last_99999999", "last_0", "last_3661", "nonsense", "", "last_"])
def test_preset_names_that_cannot_be_periods_are_refused(name):
    with pytest.raises(PeriodError):
        preset_period(name, TODAY, "UTC")


@pytest.mark.parametrize("name", [None, 7, ["last_7"], {"a": 1}])
def test_presets_that_are_not_text_are_refused(name):
    with pytest.raises(PeriodError, match="Unknown period preset"):
        preset_period(name, TODAY, "UTC")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("9999-12-31", "9999-12-31"),
        ("0001-01-01", "0001-01-02"),
        ("1999-12-31", "2000-01-05"),
        ("2101-01-01", "2101-01-02"),
    ],
)
def test_dates_outside_2000_to_2100_are_refused_with_a_message(start, end):
    with pytest.raises(PeriodError, match="out of range; pick a date from 2000-01-01 to 2100-12-31"):
        parse_period(start, end, "UTC")


def test_the_first_and_last_dates_a_person_may_pick_work():
    first = parse_period("2000-01-01", "2000-01-31", "UTC")
    assert first.previous() == Period(dt.date(1999, 12, 1), dt.date(1999, 12, 31))  # the comparison still exists
    assert first.params()["from_ts"] == dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    last = parse_period("2100-12-01", "2100-12-31", "Pacific/Kiritimati")
    assert last.to_ts == dt.datetime(2100, 12, 31, 10, tzinfo=dt.UTC)  # UTC+14


def test_periods_where_date_arithmetic_would_overflow_are_refused():
    for start, end in ((dt.date(1, 1, 1), dt.date(1, 1, 2)), (dt.date(9999, 12, 31), dt.date(9999, 12, 31))):
        with pytest.raises(PeriodError, match="Dates must be between"):
            Period(start, end)


@pytest.mark.parametrize(
    "query",
    [
        "not a mapping",
        ["start", "2026-03-02"],
        {"start": 20260302, "end": "2026-03-08"},
        {"start": "2026-03-02", "end": "2026-03-08", "teams": 5},
        {"start": "2026-03-02", "end": "2026-03-08", "agents": ["a_code", 7]},
        {"start": "2026-03-02", "end": "2026-03-08", "teams": {"t_eng": 1}},
    ],
)
def test_malformed_filters_are_a_period_error(query):
    with pytest.raises(PeriodError):
        parse_filters(query, Scope.organization(), "UTC", default=Period(TODAY, TODAY))


def test_ids_from_a_list_or_text():
    assert parse_ids("t_eng, t_sales,,t_eng") == ("t_eng", "t_sales")
    assert parse_ids(["t_eng", " ", "t_sales"]) == ("t_eng", "t_sales")
    assert parse_ids(None) == () and parse_ids("") == ()


# Local midnight: the instants that bound a period must be where DuckDB's `timezone($tz, ts)::date`
# (ICU) changes day, since the queries count days that way. Python's zoneinfo reads another copy of the
# tz database, which disagrees for some zones and dates (e.g. British Columbia from November 2026).

ZONES_AND_DAYS = [
    ("America/New_York", dt.date(2026, 3, 7), 4),  # spring forward on 8 March, fall back on 1 November
    ("America/New_York", dt.date(2026, 10, 30), 4),
    ("America/Vancouver", dt.date(2026, 10, 30), 6),
    ("America/Havana", dt.date(2026, 3, 6), 4),  # clocks change at midnight
    ("America/Havana", dt.date(2026, 10, 30), 4),
    ("Atlantic/Azores", dt.date(2026, 10, 23), 4),  # back from 01:00 to 00:00: midnight happens twice
    ("Africa/Casablanca", dt.date(2026, 2, 13), 4),
    ("Australia/Lord_Howe", dt.date(2026, 4, 3), 4),  # half an hour
    ("Asia/Kolkata", dt.date(2026, 3, 7), 2),
]


@pytest.mark.parametrize(("tz", "first", "days"), ZONES_AND_DAYS)
def test_local_midnight_is_where_duckdb_changes_day(tz, first, days):
    con = duckdb.connect()
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        start = Period(day, day, tz).from_ts
        on, before = con.sql(
            "select timezone($tz, $ts)::date, timezone($tz, $ts - interval 1 microsecond)::date",
            params={"tz": tz, "ts": start},
        ).fetchall()[0]
        assert (on, before) == (day, day - dt.timedelta(days=1)), (tz, day, start)


def test_new_york_dst_week_by_hand():
    week = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8), "America/New_York")
    assert week.from_ts == dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC)  # EST, UTC-5
    assert week.to_ts == dt.datetime(2026, 3, 9, 4, tzinfo=dt.UTC)  # EDT, UTC-4: a 23-hour Sunday


# --- The comparison period: one rule (docs/architecture.md, "Comparisons") -----------------------------


@pytest.mark.parametrize("days", [1, 6, 7, 8, 13, 14, 30, 31, 90, 366])
@pytest.mark.parametrize("start", [dt.date(2026, 3, 2), dt.date(2026, 11, 7), dt.date(2026, 12, 31)])
def test_a_period_is_compared_with_the_same_weekdays_whole_weeks_before(start, days):
    period = Period(start, start + dt.timedelta(days=days - 1))
    before = period.previous()
    assert before.days == period.days
    assert before.start.weekday() == period.start.weekday()  # a Sunday against a Sunday
    assert (period.start - before.start).days % 7 == 0
    assert before.end < period.start  # the two never overlap
    assert (period.start - before.start).days < period.days + 7  # and nothing is skipped beyond a week


def test_the_last_30_days_are_compared_with_30_days_5_weeks_earlier():
    period = Period(dt.date(2026, 11, 7), dt.date(2026, 12, 6))  # Saturday to Sunday
    assert period.previous() == Period(dt.date(2026, 10, 3), dt.date(2026, 11, 1))  # Saturday to Sunday
    assert period.comparison_shift().text == "same weekdays 5 weeks earlier"
    assert Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8)).comparison_shift().text == "same weekdays a week earlier"


@pytest.mark.parametrize(
    ("start", "end", "previous", "text"),
    [
        # month to date: the same days of the month before
        ("2026-12-01", "2026-12-06", ("2026-11-01", "2026-11-06"), "same days a month earlier"),
        # a whole month against the whole month before, however long
        ("2026-03-01", "2026-03-31", ("2026-02-01", "2026-02-28"), "same days a month earlier"),
        ("2026-02-01", "2026-02-28", ("2026-01-01", "2026-01-31"), "same days a month earlier"),
        ("2028-03-01", "2028-03-31", ("2028-02-01", "2028-02-29"), "same days a month earlier"),  # leap year
        # a day the shorter month lacks: its last day
        ("2026-03-01", "2026-03-30", ("2026-02-01", "2026-02-28"), "same days a month earlier"),
        ("2026-05-01", "2026-05-30", ("2026-04-01", "2026-04-30"), "same days a month earlier"),
        # quarter and year to date, across a year end
        ("2026-01-01", "2026-02-10", ("2025-11-01", "2025-12-10"), "same days 2 months earlier"),
        ("2026-10-01", "2026-12-06", ("2026-07-01", "2026-09-06"), "same days 3 months earlier"),
        ("2026-01-01", "2026-12-06", ("2025-01-01", "2025-12-06"), "same days a year earlier"),
    ],
)
def test_a_period_from_a_months_first_day_is_compared_with_the_same_days_of_the_months_before(
    start, end, previous, text
):
    period = Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    assert period.previous() == Period(*(dt.date.fromisoformat(day) for day in previous))
    assert period.comparison_shift().text == text


def test_the_comparison_period_has_local_midnights_across_daylight_saving():
    # New York moves its clocks on Sunday 8 March 2026: the week after is compared with the week of the change
    week = Period(dt.date(2026, 3, 9), dt.date(2026, 3, 15), "America/New_York")
    before = week.previous()
    assert before == Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8), "America/New_York")
    assert before.from_ts == dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC)  # EST
    assert before.to_ts == dt.datetime(2026, 3, 9, 4, tzinfo=dt.UTC) == week.from_ts  # EDT: a 167-hour week
    # and a month to date in a zone that goes back in autumn
    november = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 3), "Europe/Berlin").previous()
    assert (november.start, november.end) == (dt.date(2026, 10, 1), dt.date(2026, 10, 3))
    assert november.from_ts == dt.datetime(2026, 9, 30, 22, tzinfo=dt.UTC)  # CEST


def test_kpis_compare_complete_days_like_for_like():
    from queries.period import comparison

    month = Period(dt.date(2026, 12, 1), dt.date(2026, 12, 6))
    today = comparison(month, dt.date(2026, 12, 6))  # today is still filling: 1-5 December against 1-5 November
    assert (today.current, today.previous) == (
        Period(dt.date(2026, 12, 1), dt.date(2026, 12, 5)),
        Period(dt.date(2026, 11, 1), dt.date(2026, 11, 5)),
    )
    assert today.partial
    later = comparison(month, dt.date(2026, 12, 7))  # over: all of it, as `previous()`
    assert (later.current, later.previous, later.partial) == (month, month.previous(), False)
    last_30 = Period(dt.date(2026, 11, 7), dt.date(2026, 12, 6))
    so_far = comparison(last_30, dt.date(2026, 12, 6))
    assert so_far.current == Period(dt.date(2026, 11, 7), dt.date(2026, 12, 5))
    assert so_far.previous == Period(dt.date(2026, 10, 3), dt.date(2026, 10, 31))  # the same shift: 5 weeks
    only_today = comparison(Period(dt.date(2026, 12, 6), dt.date(2026, 12, 6)), dt.date(2026, 12, 6))
    assert (only_today.current, only_today.previous, only_today.partial) == (None, None, True)
