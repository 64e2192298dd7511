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
