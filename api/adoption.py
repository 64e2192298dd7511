"""/api/v1/adoption, /api/v1/cohorts, /api/v1/uptake, /api/v1/model-costs and /api/v1/reclaim (docs/metrics.md): the
Adoption section as JSON, in the caller's scope, paged as the breakdowns are (api/paging.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import polars as pl
from flask import current_app, request
from flask.typing import ResponseReturnValue

from api.paging import Order, Pager, parse_limit, question_id
from api.v1 import BadParameter, _filters, _json, _money, bp
from auth.scope import current_scope
from queries import adoption, directory
from queries.filters import Filters, parse_ids
from queries.period import PeriodError

ADOPTION_ORDER = Order((("key", False),))
COHORT_ORDER = Order((("cohort_month", False), ("month_offset", False)))
RECLAIM_ORDER = Order((("user_id", False),))
UPTAKE_ORDER = Order((("agent_id", False), ("day_number", False)))


def _text(value: object) -> object:
    """A value as the API sends it: money, ratios and dates as text, whole numbers as they are, null."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return _money(value)
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _paged(name: str, frame, order: Order, *parts: object) -> tuple[list[dict], str | None]:
    """The page of `frame` the request asks for (`limit`, `cursor`), its rows as the API sends them."""
    limit = parse_limit(request.args.get("limit"))
    pager = Pager(current_app.secret_key, question_id(name, *parts), order)
    page = pager.page(frame, limit, pager.resume(request.args.get("cursor")))
    rows = [{key: _text(value) for key, value in row.items()} for row in page.rows.iter_rows(named=True)]
    return rows, page.next_cursor


@bp.get("/adoption")
def adoption_by_key() -> ResponseReturnValue:
    """The funnel, active people, stickiness and costs per key (`by`: org, team or agent)."""
    by = request.args.get("by", "org")
    if by not in adoption.BY:
        raise BadParameter("by", f"Unknown grouping {by!r}; use one of {', '.join(adoption.BY)}.")
    filters = _filters()
    period = filters.period
    frame = adoption.adoption(filters, by)
    rows, cursor = _paged("adoption", frame, ADOPTION_ORDER, by, str(period.start), str(period.end), period.tz,
                          filters.scope.params())  # fmt: skip
    body = {"by": by, "start": period.start.isoformat(), "end": period.end.isoformat(), "rows": rows}
    return _json({**body, "has_more": cursor is not None, "next_cursor": cursor})


def _period_rows(name: str, question: Callable[[Filters], pl.DataFrame], order: Order) -> ResponseReturnValue:
    """A period's rows of one adoption question, a page at a time."""
    filters = _filters()
    period = filters.period
    frame = question(filters)
    rows, cursor = _paged(name, frame, order, str(period.start), str(period.end), period.tz, filters.scope.params())
    body = {"start": period.start.isoformat(), "end": period.end.isoformat(), "rows": rows}
    return _json({**body, "has_more": cursor is not None, "next_cursor": cursor})


@bp.get("/cohorts")
def cohorts() -> ResponseReturnValue:
    """Rows of cohort_month, size, month_offset, active, active_share."""
    return _period_rows("cohorts", adoption.cohorts, COHORT_ORDER)


@bp.get("/uptake")
def uptake() -> ResponseReturnValue:
    """Rows of agent_id, label, first_day, day, day_number, new_users, users: each agent of the scope from its first
    interaction in it up to the period's end (or today)."""
    return _period_rows("uptake", adoption.uptake, UPTAKE_ORDER)


@bp.get("/model-costs")
def model_costs() -> ResponseReturnValue:
    """Per model: interactions, cost, cost per interaction and its part of the cost per active person, and both for
    the comparison period."""
    return _period_rows("model-costs", adoption.model_costs, ADOPTION_ORDER)


@bp.get("/reclaim")
def reclaim() -> ResponseReturnValue:
    """The scope's seats idle for `days` (30, 60 or 90) days, by user id, and what they cost a month."""
    text = request.args.get("days", "30")
    if text not in {str(days) for days in adoption.RECLAIM_DAYS}:
        raise BadParameter("days", f"days must be one of {', '.join(map(str, adoption.RECLAIM_DAYS))}.")
    days = int(text)
    viewer = current_scope()
    try:
        teams, agents = parse_ids(request.args.get("teams"), "teams"), parse_ids(request.args.get("agents"), "agents")
    except PeriodError as error:
        raise BadParameter(error.field or "teams", str(error)) from None
    unknown = directory.unknown_ids(viewer, teams, agents)
    if unknown:
        raise BadParameter(*unknown)
    scope, tz = viewer.narrow(teams, agents), current_app.config["ORG_TIMEZONE"]
    frame = adoption.reclaim(scope, tz, days)
    rows, cursor = _paged("reclaim", frame, RECLAIM_ORDER, days, tz, scope.params())
    seat = seat_cost_usd()
    seats_cost = adoption.seats_cost(frame.height, seat)
    return _json(
        {
            "days": days,
            "seats": frame.height,
            "seat_cost_usd": None if seat is None else _money(seat),
            "seats_cost_usd": None if seats_cost is None else _money(seats_cost),
            "rows": rows,
            "has_more": cursor is not None,
            "next_cursor": cursor,
        }
    )


def seat_cost_usd() -> Decimal | None:
    """SEAT_COST_USD, a seat's price per person per month, if set."""
    value = current_app.config.get("SEAT_COST_USD")
    return None if value in (None, "") else Decimal(str(value))
