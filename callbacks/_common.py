"""What every tab's callbacks share: reading the URL's filters and the viewer's scope."""

from __future__ import annotations

import datetime as dt

from flask import current_app

from auth.scope import current_scope
from queries.filters import Filters, parse_filters
from queries.period import Period, today_local
from queries.scope import Scope


def org_timezone() -> str:
    return current_app.config["ORG_TIMEZONE"]


# "Today" by DuckDB's rules (`today_local`) is one small DuckDB query; it stays the same until the next
# local midnight (by the same rules), so it is asked again only then. zone -> (today, from, until).
_days: dict[str, tuple[dt.date, dt.datetime, dt.datetime]] = {}


def local_today(tz: str) -> dt.date:
    """`queries.period.today_local(tz)`, asked of DuckDB once per local day instead of per callback."""
    now = dt.datetime.now(dt.UTC)
    known = _days.get(tz)
    if known is not None and known[1] <= now < known[2]:
        return known[0]
    today = today_local(tz)
    day = Period(today, today, tz)
    _days[tz] = (today, day.from_ts, day.to_ts)
    return today


def resolve(query: dict | None) -> tuple[Filters, Scope]:
    """Filters from the page's query (untrusted) and the scope they narrow, decided on the server.

    Raises PeriodError (its message is for the user) when the period is malformed or backwards, or
    the query is not what a page sends (not a mapping, ids that are not text): the browser is not trusted.
    """
    filters = parse_filters(query or {}, org_timezone())
    return filters, filters.scope(current_scope())
