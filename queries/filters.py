"""The filters every tab shares, read from the URL's query string: period, teams, agents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from queries.period import DEFAULT_PRESET, Period, PeriodError, parse_period, preset_period, today_local
from queries.scope import Scope

MAX_IDS = 500
FILTER_KEYS = ("start", "end", "teams", "agents")


@dataclass(frozen=True)
class Filters:
    period: Period
    teams: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()

    def scope(self, viewer: Scope) -> Scope:
        """The viewer's scope narrowed by these filters (never widened)."""
        return viewer.narrow(self.teams, self.agents)


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


def parse_ids(value: str | list[str] | None, name: str = "ids") -> tuple[str, ...]:
    """Comma-separated ids (or a list of them), de-duplicated, order kept; PeriodError for anything else."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise PeriodError(f"The {name} filter must be a list of ids.")
    ids = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    if len(ids) > MAX_IDS:
        raise PeriodError(f"Too many ids in one filter (at most {MAX_IDS}).")
    return ids


def parse_filters(query: Mapping[str, str | list[str]], tz: str, today: dt.date | None = None) -> Filters:
    """The one place URL values become filters; anything malformed (a bad period, ids that are not
    text, a query that is not a mapping) raises PeriodError with a clear message."""
    if not isinstance(query, Mapping):
        raise PeriodError("The page's filters could not be read; pick a period above.")
    start, end = query.get("start"), query.get("end")
    if not start and not end:
        period = preset_period(DEFAULT_PRESET, today or today_local(tz), tz)
    else:
        period = parse_period(_single(start), _single(end), tz)
    return Filters(period, parse_ids(query.get("teams"), "teams"), parse_ids(query.get("agents"), "agents"))


def _single(value: str | list[str] | None) -> str | None:
    return value[-1] if isinstance(value, list) and value else value
