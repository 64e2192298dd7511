"""A reporting period: inclusive local dates in the organization's time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

GRAINS = ("day", "week", "month")
MAX_DAYS = 3660


class PeriodError(ValueError):
    """A period the user asked for that cannot be shown; the message is shown to them."""


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    tz: str = "UTC"

    def __post_init__(self) -> None:
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

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        length = dt.timedelta(days=self.days)
        return Period(self.start - length, self.end - length, self.tz)

    def params(self) -> dict:
        """Bound parameters every events query takes: instants, UTC partition dates and zone."""
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


def _local_midnight(day: dt.date, tz: str) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(tz))
    return local.astimezone(dt.UTC)


def parse_date(text: str | None, name: str) -> dt.date:
    """An ISO date from a URL or form, with a message that names the field."""
    if not text:
        raise PeriodError(f"Missing {name} date; use YYYY-MM-DD.")
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise PeriodError(f"The {name} date {text!r} is not a date; use YYYY-MM-DD.") from None


def parse_period(start: str | None, end: str | None, tz: str) -> Period:
    """The one place query-string or form dates become a Period."""
    return Period(parse_date(start, "start"), parse_date(end, "end"), tz)


def parse_grain(text: str | None) -> str:
    if text not in GRAINS:
        raise PeriodError(f"Unknown grain {text!r}; use one of {', '.join(GRAINS)}.")
    return text


def auto_grain(days: int) -> str:
    """The grain that fits a period's length: day up to ~3 months, week up to a year, month beyond."""
    if days <= 92:
        return "day"
    return "week" if days <= 366 else "month"


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
DEFAULT_PRESET = "last_30"


def preset_period(name: str, today: dt.date, tz: str, first_day: dt.date | None = None) -> Period:
    """The dates a preset means today; "all" starts at the first day with data (`first_day`)."""
    if name.startswith("last_") and name[5:].isdigit():
        return Period(today - dt.timedelta(days=int(name[5:]) - 1), today, tz)
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
        return Period(min(first_day or today, today), today, tz)
    raise PeriodError(f"Unknown period preset {name!r}.")


def matching_preset(period: Period, today: dt.date, first_day: dt.date | None = None) -> str:
    """The preset that gives exactly these dates today, else "custom"."""
    for name in PRESETS:
        if name != "custom" and preset_period(name, today, period.tz, first_day) == period:
            return name
    return "custom"


def today_local(tz: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(tz)).date()


def last_days(days: int, tz: str, today: dt.date | None = None) -> Period:
    """The `days` local days ending today, the default view."""
    end = today or today_local(tz)
    return Period(end - dt.timedelta(days=days - 1), end, tz)
