"""What is asked, as one frozen value: `Filters` (period, scope, grain and the teams and agents asked).

Every way in makes it here, with one parser: the page URL (callbacks), the API's parameters (api/v1.py),
the report dialog (callbacks/report.py) and the report command (reports/). The date parser, the default
period and the default grain are defined here and nowhere else. A query takes the `Filters` intact;
`Filters.params()` is the one place it becomes the SQL's bound parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlencode

from queries.billing_periods import billing_period_containing
from queries.period import GRAINS, MAX_DATE, MIN_DATE, Period, PeriodError, preset_period, today_local
from queries.scope import Scope

MAX_IDS = 500
DEFAULT_PRESET = "last_30"  # the period a page shows when its URL names none (the Billing tab aside)


# --- The one parser of what a person typed or picked ----------------------------------------------


def parse_date(text: str | None, name: str) -> dt.date:
    """An ISO date from a URL, a form or a command line, with a message that names the field."""
    if not text:
        raise PeriodError(f"Missing {name} date; use YYYY-MM-DD.", name)
    if not isinstance(text, str):
        raise PeriodError(f"The {name} date must be text in the form YYYY-MM-DD.", name)
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"The {name} date {text!r} is not a date; use YYYY-MM-DD.", name) from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise PeriodError(
            f"The {name} date {text!r} is out of range; pick a date from {MIN_DATE:%Y-%m-%d} to {MAX_DATE:%Y-%m-%d}.",
            name,
        )
    return day


def parse_instant(text: str, name: str) -> dt.datetime:
    """An ISO date and time (UTC unless it has an offset) as an aware UTC instant: a command's --now, a
    stored time stamp."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise PeriodError(f"The {name} {text!r} is not a date and time; use YYYY-MM-DDTHH:MM.", name) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def parse_period(start: str | None, end: str | None, tz: str) -> Period:
    """Two dates as text become a Period; a backwards or too long one is the end's fault."""
    first, last = parse_date(start, "start"), parse_date(end, "end")
    try:
        return Period(first, last, tz)
    except PeriodError as error:
        raise PeriodError(str(error), "end") from None


def period_text(period: Period) -> str:
    """A period as one piece of text (an ISO 8601 interval): the value of a period a list offers."""
    return f"{period.start.isoformat()}/{period.end.isoformat()}"


def parse_period_text(text: str | None, tz: str) -> Period:
    """The period `period_text` wrote."""
    if not isinstance(text, str) or "/" not in text:
        raise PeriodError("Choose a period.")
    start, _, end = text.partition("/")
    return parse_period(start, end, tz)


def parse_grain(text: str | None) -> str:
    if text not in GRAINS:
        raise PeriodError(f"Unknown grain {text!r}; use one of {', '.join(GRAINS)}.", "grain")
    return text


def check_one_of(value: object, allowed: tuple, what: str) -> None:
    """ValueError naming what is allowed, unless `value` is one of `allowed` (a question's own argument: the
    wiring has checked what a person asked already)."""
    if value not in allowed:
        raise ValueError(f"Unknown {what} {value!r}; use one of {', '.join(map(str, allowed))}.")


def parse_ids(value: str | list[str] | None, name: str = "ids") -> tuple[str, ...]:
    """Comma-separated ids (or a list of them), de-duplicated, order kept; PeriodError for anything else."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise PeriodError(f"The {name} filter must be a list of ids.", name)
    ids = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    if len(ids) > MAX_IDS:
        raise PeriodError(f"Too many ids in one filter (at most {MAX_IDS}).", name)
    return ids


# --- The defaults, each decided once ------------------------------------------------------------


def default_period(tz: str, today: dt.date | None = None, billing_anchor: int | None = None) -> Period:
    """The period shown when none is asked: the last 30 days; on the Billing tab (`billing_anchor`
    given) the current billing period."""
    today = today or today_local(tz)
    if billing_anchor is not None:
        return billing_period_containing(today, billing_anchor, tz)
    return preset_period(DEFAULT_PRESET, today, tz)


def default_grain(period: Period) -> str:
    """The grain that fits a period's length: day up to ~3 months, week up to a year, month beyond."""
    if period.days <= 92:
        return "day"
    return "week" if period.days <= 366 else "month"


# --- The value ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What a view, an API call or a report asks, decided on the server and passed intact to every query.

    `scope` is the viewer's scope narrowed (never widened) by `teams` and `agents`, the cross-filter as
    asked (the filter bar, the Analytics tab's chips and clicks): kept to show and to write back.
    """

    period: Period
    scope: Scope
    grain: str
    teams: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.period, Period) or not isinstance(self.scope, Scope):
            raise TypeError("Filters need a Period and a Scope.")
        parse_grain(self.grain)

    @classmethod
    def asking(
        cls,
        period: Period,
        viewer: Scope,
        grain: str | None = None,
        teams: tuple[str, ...] = (),
        agents: tuple[str, ...] = (),
    ) -> Filters:
        """`viewer`'s scope narrowed by `teams` and `agents`; the grain that fits the period unless one is asked."""
        grain = default_grain(period) if grain is None else grain
        return cls(period, viewer.narrow(teams, agents), grain, tuple(teams), tuple(agents))

    def for_period(self, period: Period) -> Filters:
        """The same question over another period (the previous one, the days so far)."""
        return replace(self, period=period)

    def params(self, **extra: object) -> dict:
        """The SQL's bound parameters: the one place Filters become them, right before `queries.run`."""
        units = {"period_units": self.period.units("period"), "grain_units": self.period.units(self.grain)}
        return {**self.period.params(), **self.scope.params(), "grain": self.grain, **units, **extra}


def parse_filters(
    values: Mapping[str, object],
    viewer: Scope,
    tz: str,
    *,
    default: Period | None = None,
    read_grain: bool = True,
) -> Filters:
    """The one place asked-for text becomes Filters: `start`, `end`, `teams`, `agents` and `grain`, each
    text or a list of text (the last one counts), from a URL, the API's parameters, the report dialog or
    the command line.

    Without `start` and `end` the period is `default`, or, when there is none, both are required. An
    empty `grain` is the default one; `read_grain=False` ignores it (a tab without a grain control).
    Anything malformed raises PeriodError, naming the field (`error.field`) when there is one.
    """
    period = asked_period(values, tz, default)
    teams, agents = parse_ids(values.get("teams"), "teams"), parse_ids(values.get("agents"), "agents")
    grain = _single(values.get("grain")) if read_grain else None
    return Filters.asking(period, viewer, parse_grain(grain) if grain else None, teams, agents)


def asked_period(values: Mapping[str, object], tz: str, default: Period | None = None) -> Period:
    """The period part of `parse_filters` alone (a page's layout needs no scope to size its controls)."""
    if not isinstance(values, Mapping):
        raise PeriodError("The page's filters could not be read; pick a period above.")
    start, end = _single(values.get("start")), _single(values.get("end"))
    return default if default is not None and not start and not end else parse_period(start, end, tz)


def _single(value: object) -> object:
    return value[-1] if isinstance(value, list) and value else value


# --- The URL's query string ---------------------------------------------------------------------------


def query_from_search(search: str | None) -> dict[str, str]:
    """`?a=1&b=2` as a dict of the last value per key (what Dash pages pass to layouts).

    Raises PeriodError when `search` (from the browser) is not text.
    """
    if search is not None and not isinstance(search, str):
        raise PeriodError("The page's address could not be read.")
    parsed = parse_qs((search or "").lstrip("?"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}


def search_with(search: str | None, **updates: str | list[str] | None) -> str:
    """The query string with some keys replaced (None or empty removes a key), others kept."""
    query = query_from_search(search)
    for key, value in updates.items():
        text = ",".join(value) if isinstance(value, list | tuple) else value
        if text:
            query[key] = text
        else:
            query.pop(key, None)
    return f"?{urlencode(query, safe=',')}" if query else ""
