"""Billing tab's period: the URL's dates, else the current billing period; the tab's one period selector.

Choosing a billing period writes its dates into the URL, so the filter bar and the URL stay the one
source of truth. Every function takes an optional `today` for tests.
"""

from __future__ import annotations

import datetime as dt

import dash
from dash import ClientsideFunction, Input, Output, State, no_update
from flask import current_app

from auth.scope import current_scope
from callbacks._common import org_timezone, page_filters
from callbacks._url import keep_in_url
from layouts import ids
from queries import usage
from queries.billing_periods import billing_periods, is_billing_period, period_label
from queries.filters import Filters, default_period, parse_period_text, period_text, query_from_search, search_with
from queries.period import Period, PeriodError, today_local

MAX_PERIOD_OPTIONS = 36  # billing periods in the selector, newest first


def anchor_day() -> int:
    return int(current_app.config["BILLING_ANCHOR_DAY"])


def today_or_local(today: dt.date | None) -> dt.date:
    return today or today_local(org_timezone())


def current_period(today: dt.date) -> Period:
    return default_period(org_timezone(), today, anchor_day())


def billing_filters(query: dict | None, today: dt.date) -> Filters:
    """The page's filters, with this tab's default period (the current billing period); PeriodError for a bad one."""
    return page_filters(query, default=current_period(today))


def update_period_options(query: dict | None, today: dt.date | None = None) -> tuple[list[dict], str | None, str]:
    """The newest MAX_PERIOD_OPTIONS billing periods with data (and the current one, and the one the URL
    shows), newest first; the one the URL shows selected, named even when it is not a billing period: the
    tab's one period control (the filter bar's preset is hidden here) always says what is shown."""
    today = today_or_local(today)
    tz, anchor = org_timezone(), anchor_day()
    current = current_period(today)
    try:
        filters = billing_filters(query, today)
        scope, shown = filters.scope, filters.period
    except PeriodError:
        scope, shown = current_scope(), None
    bounds = usage.data_bounds(scope, tz).row(0, named=True)
    periods = billing_periods(bounds["first_day"], bounds["last_day"], anchor, tz) if bounds["first_day"] else []
    periods = sorted(set(periods) | {current}, key=lambda p: p.start, reverse=True)[:MAX_PERIOD_OPTIONS]
    if shown is not None and is_billing_period(shown, anchor) and shown not in periods:
        periods = sorted([*periods, shown], key=lambda p: p.start, reverse=True)  # the one the URL asks for
    options = [
        {"label": period_label(p) + (" (current)" if p == current else ""), "value": period_text(p)} for p in periods
    ]
    if shown is None:
        return options, None, ""
    if not is_billing_period(shown, anchor):
        custom = {"label": f"{period_label(shown)} (custom dates)", "value": period_text(shown)}
        note = f"Showing {period_label(shown)} ({shown.days:,} days) from the dates above."
        return [custom, *options], period_text(shown), note
    if shown == current:
        elapsed = (today - shown.start).days + 1
        note = f"{shown.days} days · today is day {elapsed} of {shown.days}"
        if not (query or {}).get("start") and not (query or {}).get("end"):
            note += " · this tab opens on the current billing period"
        return options, period_text(shown), note
    return options, period_text(shown), f"{shown.days} days"


def update_period_control(query: dict | None, today: dt.date | None = None) -> tuple:
    """`update_period_options`, and the value it sets kept beside it: the browser tells a period chosen in
    the selector from the one the tab set (assets/shell.js, `billingPeriodChosen`), and asks the server
    (`update_url`) only for a choice."""
    options, value, note = update_period_options(query, today)
    return options, value, note, value


def update_url(value: str | None, search: str | None, today: dt.date | None = None) -> str:
    """The URL with the chosen billing period's dates; nothing when it already shows that period."""
    if not isinstance(value, str) or "/" not in value:
        return no_update
    today = today_or_local(today)
    try:
        chosen = parse_period_text(value, org_timezone())
    except PeriodError:
        return no_update
    if not is_billing_period(chosen, anchor_day()):
        return no_update
    try:
        shown = billing_filters(query_from_search(search), today).period
    except PeriodError:
        shown = None
    if chosen == shown:
        return no_update  # the selector was only set to what the URL (or this tab's default) shows
    try:
        return search_with(search, start=chosen.start.isoformat(), end=chosen.end.isoformat())
    except PeriodError:  # a malformed URL from the browser
        return no_update


def register_period_choice(app: dash.Dash) -> None:
    """A period chosen in the selector goes to the server for its URL; the selector set by the tab asks nothing."""
    # Through a store of this page, not the shell's location, which would fire it each time the page is drawn.
    app.clientside_callback(
        ClientsideFunction("telemetry", "billingPeriodChosen"),
        Output(ids.BILLING_PERIOD_CHOSEN, "data"),
        Input(ids.BILLING_PERIOD, "value"),
        State(ids.BILLING_PERIOD_SHOWN, "data"),
        prevent_initial_call=True,
    )
    keep_in_url(app, ids.BILLING_NEW_SEARCH, [(update_url, Input(ids.BILLING_PERIOD_CHOSEN, "data"))])
