"""A reporting period: inclusive local dates in the organization's time zone.

Local dates follow DuckDB's time-zone rules (ICU), the ones every query uses to give an event its
local date (`timezone($tz, ts)`); see `_local_midnight`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import polars as pl

GRAINS = ("day", "week", "month")
MAX_DAYS = 3660
# Dates a person may ask for (queries.filters.parse_date). A Period itself may reach further, e.g. the period before
# one that starts on MIN_DATE, but never to where date arithmetic overflows (year 1 or 9999).
MIN_DATE, MAX_DATE = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
_EARLIEST, _LATEST = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


class PeriodError(ValueError):
    """A period (or filter) the user asked for that cannot be shown; the message is shown to them.

    `field` names what was wrong (start, end, grain, teams, agents) when known: the API answers with it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if not (isinstance(self.start, dt.date) and isinstance(self.end, dt.date)):
            raise PeriodError("A period needs a start and an end date.")
        if self.start < _EARLIEST or self.end > _LATEST:
            raise PeriodError(f"Dates must be between {MIN_DATE:%Y-%m-%d} and {MAX_DATE:%Y-%m-%d}.")
        if self.end < self.start:
            raise PeriodError(f"The period ends ({self.end:%Y-%m-%d}) before it starts ({self.start:%Y-%m-%d}).")
        if self.days > MAX_DAYS:
            raise PeriodError(f"The period is longer than {MAX_DAYS} days.")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def from_ts(self) -> dt.datetime:
        """The first instant of the period: local midnight of `start`, as UTC."""
        return _local_midnight(self.start, self.tz)

    @property
    def to_ts(self) -> dt.datetime:
        """The first instant after the period (exclusive bound), as UTC."""
        return _local_midnight(self.end + dt.timedelta(days=1), self.tz)

    def units(self, grain: str) -> list[dict]:
        """The rollup units (`cover`) of each bucket of this period at `grain`, as the SQL binds them."""
        return list(cover(self.start, self.end, grain))

    def previous(self) -> Period:
        """The period this one is compared with: the same days `comparison_shift()` earlier."""
        return self.comparison_shift().back(self)

    def comparison_shift(self) -> Shift:
        """How far back the comparison lies, one rule for every comparison (docs/architecture.md,
        "Comparisons"): a period that starts on a month's first day (month or quarter to date, a
        month, a year) against the same days of the month(s) before; any other against as many days
        just before it, moved back to whole weeks so that weekdays line up (a Sunday against a Sunday)."""
        if self.start.day == 1:
            return Shift("month", (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1)
        return Shift("week", -(-self.days // 7))

    def params(self) -> dict:
        """Bound parameters every events query takes: the local days, instants, UTC partition dates and
        zone."""
        from_ts, to_ts = self.from_ts, self.to_ts
        return {
            "start_date": self.start,
            "end_date": self.end,
            "from_ts": from_ts,
            "to_ts": to_ts,
            "from_utc_date": from_ts.date(),
            "to_utc_date": (to_ts - dt.timedelta(microseconds=1)).date(),
            "tz": self.tz,
        }


def bucket_of(day: dt.date, start: dt.date, grain: str) -> dt.date:
    """The first day of `day`'s bucket: its day, ISO week or month, or the period's start ('period')."""
    if grain == "period":
        return start
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


@lru_cache(maxsize=1024)
def cover(start: dt.date, end: dt.date, grain: str) -> tuple[dict, ...]:
    """The fewest rollup units (whole months, whole ISO weeks, single days) that cover each bucket of the
    period from `start` to `end` (grain 'day', 'week', 'month', or 'period': the whole period is one
    bucket), as {bucket, kind, start}. A unit never reaches past the period or its bucket, so distinct
    users are the OR of the covering units' bitmaps (rollup user_sets): a day takes its month if that is
    whole, else its week if that is whole, else itself. Worked out here rather than in SQL: a period has
    at most a few hundred days, and planning the same in DuckDB cost each question 2-3 ms.
    """
    units: dict[tuple, dict] = {}
    day = start
    while day <= end:
        bucket = bucket_of(day, start, grain)
        month = day.replace(day=1)
        month_end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        week = day - dt.timedelta(days=day.weekday())
        week_end = week + dt.timedelta(days=6)
        if start <= month and month_end <= end and bucket_of(month, start, grain) == bucket_of(month_end, start, grain):
            unit = ("month", month)
        elif start <= week and week_end <= end and bucket_of(week, start, grain) == bucket_of(week_end, start, grain):
            unit = ("week", week)
        else:
            unit = ("day", day)
        units.setdefault((bucket, *unit), {"bucket": bucket, "kind": unit[0], "start": unit[1]})
        day += dt.timedelta(days=1)
    return tuple(units.values())


@dataclass(frozen=True)
class Shift:
    """Whole weeks or whole months back: where a period's comparison lies (`Period.comparison_shift`)."""

    unit: str  # "week" or "month"
    count: int

    def back(self, period: Period) -> Period:
        """`period` moved back: by whole weeks, or to the same days of the month `count` months before (the
        last day of a month stays the last day: 1-31 March against 1-28 February)."""
        if self.unit == "week":
            weeks = dt.timedelta(weeks=self.count)
            return Period(period.start - weeks, period.end - weeks, period.tz)
        return Period(_months_back(period.start, self.count), _months_back(period.end, self.count), period.tz)

    @property
    def text(self) -> str:
        """What is compared, in a person's words: "same weekdays 5 weeks earlier"."""
        if self.unit == "week":
            return "same weekdays a week earlier" if self.count == 1 else f"same weekdays {self.count} weeks earlier"
        if self.count % 12 == 0:
            years = self.count // 12
            return "same days a year earlier" if years == 1 else f"same days {years} years earlier"
        return "same days a month earlier" if self.count == 1 else f"same days {self.count} months earlier"


def _months_back(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` months before; a month's last day, or a day the shorter month
    lacks, becomes that month's last day."""
    at_end = (day + dt.timedelta(days=1)).day == 1
    return add_months(day, -months, 31 if at_end else day.day)


def add_months(day: dt.date, months: int, day_of_month: int) -> dt.date:
    """Day `day_of_month` of the month `months` after `day`'s (before, if negative), or that month's last day if
    it is shorter."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, min(day_of_month, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Comparison:
    """A period's KPIs compared like for like: `current`, the period's complete days (all of them, or those
    before today when it reaches today: today is still filling), against `previous`, the same days
    `shift` earlier. Both are None when no day of the period is complete yet."""

    period: Period
    current: Period | None
    previous: Period | None
    shift: Shift

    @property
    def partial(self) -> bool:
        """Whether today (or days to come) are left out: the period is not over."""
        return self.current != self.period


def comparison(period: Period, today: dt.date) -> Comparison:
    """What `period`'s KPIs are compared with on `today` (see `Comparison`)."""
    shift = period.comparison_shift()
    last_complete = min(period.end, today - dt.timedelta(days=1))
    if last_complete < period.start:
        return Comparison(period, None, None, shift)
    current = period if last_complete == period.end else Period(period.start, last_complete, period.tz)
    return Comparison(period, current, shift.back(current), shift)


# Local midnight and today are asked of DuckDB, not computed with Python's zoneinfo: the queries give
# each event its local date with DuckDB's ICU rules, and the system's tz database that zoneinfo reads
# can differ from ICU's (America/Vancouver from November 2026, Africa/Casablanca, historical changes
# at midnight in Havana or the Azores…). With Python's midnights, an event in such an hour would be
# counted in a period but on none of its days. One tiny in-memory DuckDB per process answers, for a
# whole year of days at once (each statement costs a few milliseconds, whatever its size), and the
# answers are kept.
_MIDNIGHTS_SQL = Path(__file__).parent / "sql" / "local_midnights.sql"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_icu_lock = threading.Lock()
_icu: tuple[int, duckdb.DuckDBPyConnection] | None = None


def _ask_icu(sql: str, params: dict) -> list[tuple]:
    """The rows `sql` answers, from this process's small, file-less DuckDB."""
    global _icu
    with _icu_lock:
        if _icu is None or _icu[0] != os.getpid():  # a forked worker opens its own
            con = duckdb.connect(":memory:", config={"threads": 1, "enable_external_access": False})
            _icu = (os.getpid(), con)
        return _icu[1].sql(sql, params=params).fetchall()


@lru_cache(maxsize=256)
def _local_midnights(year: int, tz: str) -> dict[dt.date, dt.datetime]:
    """The first instant of each local day of `year` in zone `tz`, as UTC, by DuckDB's (ICU) rules.

    That is local 00:00 at the UTC offset in force the day before or the day after, the earlier one
    that DuckDB reads as on that day or later: when clocks go back from 01:00 to 00:00 the day starts
    at the first 00:00 (DuckDB's `timezone(tz, timestamp)` alone would give the second), and when they
    skip from 00:00 to 01:00 it starts at the change. So `[from_ts, to_ts)` holds exactly the events
    that `timezone($tz, ts)::date` puts on the period's days.
    """
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    rows = _ask_icu(_MIDNIGHTS_SQL.read_text(), {"first": first, "last": last, "tz": tz})
    return {day: _EPOCH + dt.timedelta(microseconds=micros) for day, micros in rows}


def _local_midnight(day: dt.date, tz: str) -> dt.datetime:
    """The first instant of local day `day` in zone `tz`, as UTC (see `_local_midnights`)."""
    return _local_midnights(day.year, tz)[day]


def known_timezone(tz: str) -> bool:
    """Whether DuckDB (the queries), Python (the demo) and Polars (local times in tables) all know the
    zone `tz` by this name: `localtime` is a zone to Python only, `Factory` not to Polars."""
    return isinstance(tz, str) and _known_timezone(tz)


@lru_cache(maxsize=64)
def _known_timezone(tz: str) -> bool:
    """`known_timezone`, asked once per name and process: every app checks its ORG_TIMEZONE at start."""
    try:
        ZoneInfo(tz)
        pl.Series([_EPOCH]).dt.convert_time_zone(tz)
    except (ZoneInfoNotFoundError, ValueError, pl.exceptions.PolarsError):
        return False
    return bool(_ask_icu("select count(*) from pg_timezone_names() where name = $tz", {"tz": tz})[0][0])


PRESETS = {
    "last_7": "Last 7 days",
    "last_30": "Last 30 days",
    "last_90": "Last 90 days",
    "mtd": "Month to date",
    "last_month": "Last month",
    "qtd": "Quarter to date",
    "ytd": "Year to date",
    "all": "All time",
    "custom": "Custom range",
}


def preset_period(name: str, today: dt.date, tz: str, first_day: dt.date | None = None) -> Period:
    """The dates a preset means today; "all" starts at the first day with data (`first_day`), but
    never more than MAX_DAYS days before today (one stray, very old event must not break it)."""
    if not isinstance(name, str):
        raise PeriodError("Unknown period preset.")
    if name.startswith("last_") and name[5:].isdigit():
        days = int(name[5:])
        if not 1 <= days <= MAX_DAYS:
            raise PeriodError(f"A period runs from 1 to {MAX_DAYS} days.")
        return Period(today - dt.timedelta(days=days - 1), today, tz)
    if name == "mtd":
        return Period(today.replace(day=1), today, tz)
    if name == "last_month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return Period(end.replace(day=1), end, tz)
    if name == "qtd":
        return Period(dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today, tz)
    if name == "ytd":
        return Period(dt.date(today.year, 1, 1), today, tz)
    if name == "all":
        earliest = today - dt.timedelta(days=MAX_DAYS - 1)
        return Period(min(max(first_day or today, earliest), today), today, tz)
    raise PeriodError(f"Unknown period preset {name!r}.")


def matching_preset(period: Period, today: dt.date, first_day: dt.date | None = None) -> str:
    """The preset that gives exactly these dates today, else "custom"."""
    for name in PRESETS:
        if name != "custom" and preset_period(name, today, period.tz, first_day) == period:
            return name
    return "custom"


def today_local(tz: str) -> dt.date:
    """Today's local date, by the same (DuckDB) rules as `_local_midnight`: the latest day that has begun (a
    local date is at most a day from the UTC one)."""
    now = dt.datetime.now(dt.UTC)
    tomorrow = now.date() + dt.timedelta(days=1)
    days = (tomorrow - dt.timedelta(days=back) for back in range(3))
    return next(day for day in days if _local_midnight(day, tz) <= now)
