"""Scheduled reports: a relative period, a cadence at a local time, and the due times they make.

Pure date math in the organization's time zone (ORG_TIMEZONE); nothing read or sent here. The run's local
date is its "today": every period is made of whole local days before it (month to date: the 1st of
yesterday's month to yesterday, so a run on the 1st sends the whole month just ended).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from queries.billing_periods import billing_period_containing, previous_billing_period
from queries.period import Period

PERIODS = {
    "last_7_days": "the 7 days before the run",
    "last_week": "the last whole week, Monday to Sunday",
    "last_month": "the last calendar month",
    "month_to_date": "the 1st of the month to the day before the run",
    "last_billing_period": "the last complete billing period (BILLING_ANCHOR_DAY)",
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CADENCE_HELP = "daily, weekly:DAY (mon … sun) or monthly:N (1-31; a shorter month runs on its last day)"
_AT = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
SEARCH_DAYS = 62  # a monthly cadence runs at least once in any 62 days


@dataclass(frozen=True)
class Cadence:
    """daily; weekly on `day` (0 = Monday); monthly on `day` (1-31) — at `at`, local time."""

    every: str
    day: int
    at: dt.time

    @classmethod
    def parse(cls, text: str, at: str) -> Cadence:
        match = _AT.fullmatch((at or "").strip())
        if not match:
            raise ValueError(f"The time {at!r} is not HH:MM (24-hour, local to ORG_TIMEZONE).")
        time = dt.time(int(match[1]), int(match[2]))
        every, _, day = (text or "").strip().lower().partition(":")
        if every == "daily" and not day:
            return cls("daily", 0, time)
        if every == "weekly" and day in WEEKDAYS:
            return cls("weekly", WEEKDAYS.index(day), time)
        if every == "monthly" and day.isdigit() and 1 <= int(day) <= 31:
            return cls("monthly", int(day), time)
        raise ValueError(f"Unknown cadence {text!r}; use {CADENCE_HELP}.")

    @property
    def text(self) -> str:
        """As parsed: daily, weekly:mon, monthly:1."""
        if self.every == "weekly":
            return f"weekly:{WEEKDAYS[self.day]}"
        return "monthly:" + str(self.day) if self.every == "monthly" else "daily"

    def runs_on(self, day: dt.date) -> bool:
        if self.every == "weekly":
            return day.weekday() == self.day
        if self.every == "monthly":
            return day.day == min(self.day, calendar.monthrange(day.year, day.month)[1])
        return True

    def _at(self, day: dt.date, tz: str) -> dt.datetime:
        # zoneinfo's fold=0: a time skipped by a daylight-saving change runs at the instant it would have been
        return dt.datetime.combine(day, self.at, ZoneInfo(tz)).astimezone(dt.UTC)

    def last_due(self, now: dt.datetime, tz: str) -> dt.datetime | None:
        """The latest due time at or before `now` (UTC), within SEARCH_DAYS."""
        today = now.astimezone(ZoneInfo(tz)).date()
        for back in range(SEARCH_DAYS):
            day = today - dt.timedelta(days=back)
            if self.runs_on(day) and (due := self._at(day, tz)) <= now:
                return due
        return None

    def next_due(self, now: dt.datetime, tz: str) -> dt.datetime:
        """The first due time after `now` (UTC)."""
        today = now.astimezone(ZoneInfo(tz)).date()
        for ahead in range(SEARCH_DAYS):
            day = today + dt.timedelta(days=ahead)
            if self.runs_on(day) and (due := self._at(day, tz)) > now:
                return due
        raise AssertionError("every cadence runs within SEARCH_DAYS")  # pragma: no cover


def check_period(name: str) -> str:
    if name not in PERIODS:
        raise ValueError(f"Unknown period {name!r}; use one of {', '.join(PERIODS)}.")
    return name


def report_period(name: str, due: dt.datetime, tz: str, anchor: int) -> Period:
    """The local days the report of a run due at `due` covers."""
    today = due.astimezone(ZoneInfo(tz)).date()
    yesterday = today - dt.timedelta(days=1)
    if name == "last_7_days":
        return Period(today - dt.timedelta(days=7), yesterday, tz)
    if name == "last_week":
        monday = today - dt.timedelta(days=today.weekday() + 7)
        return Period(monday, monday + dt.timedelta(days=6), tz)
    if name == "last_month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return Period(end.replace(day=1), end, tz)
    if name == "month_to_date":
        return Period(yesterday.replace(day=1), yesterday, tz)
    if name == "last_billing_period":
        return previous_billing_period(billing_period_containing(today, anchor, tz), anchor)
    raise ValueError(f"Unknown period {name!r}.")
