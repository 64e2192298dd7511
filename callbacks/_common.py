"""What every tab's callbacks share: reading the URL's filters and the viewer's scope."""

from __future__ import annotations

from flask import current_app

from auth.scope import current_scope
from queries.filters import Filters, parse_filters
from queries.scope import Scope


def org_timezone() -> str:
    return current_app.config["ORG_TIMEZONE"]


def resolve(query: dict | None) -> tuple[Filters, Scope]:
    """Filters from the page's query (untrusted) and the scope they narrow, decided on the server.

    Raises PeriodError (its message is for the user) when the period is malformed or backwards, or
    the query is not what a page sends (not a mapping, ids that are not text): the browser is not trusted.
    """
    filters = parse_filters(query or {}, org_timezone())
    return filters, filters.scope(current_scope())
