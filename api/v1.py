"""/api/v1: summary and breakdowns as JSON, within the caller's scope (gate and scope in auth/)."""

from __future__ import annotations

from decimal import Decimal

import orjson
from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from api.paging import Order, Pager, PagingError, parse_limit, question_id
from auth.scope import current_scope
from queries import directory, usage
from queries.db import DataFolderError
from queries.filters import Filters, parse_filters
from queries.period import GRAINS, PeriodError

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

BREAKDOWNS = ("team", "agent", "user", *GRAINS)
# The order of a breakdown's rows, which its pages follow: most interactions first, then by id; time in order.
BY_KEY_ORDER = Order((("interactions", True), ("key", False)))
OVER_TIME_ORDER = Order((("key", False),))


class BadParameter(ValueError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def _json(body: dict, status: int = 200) -> Response:
    """`body` as JSON by orjson, in the format Flask's jsonify gave: keys sorted, compact, a final newline.

    Every value is already text, a whole number, a boolean or null (money and dates are made text
    here, so that their format is the API's and not a JSON library's)."""
    return Response(orjson.dumps(body, option=orjson.OPT_SORT_KEYS) + b"\n", status, mimetype="application/json")


@bp.errorhandler(BadParameter)
@bp.errorhandler(PagingError)
def bad_parameter(error: BadParameter | PagingError) -> ResponseReturnValue:
    return _json({"error": str(error), "parameter": error.parameter}, 400)


@bp.errorhandler(DataFolderError)
def unreadable_data(error: DataFolderError) -> ResponseReturnValue:
    """Not the caller's fault, and not over until someone fixes the file: 503, naming it."""
    current_app.logger.error("API: %s", error, exc_info=error)
    return _json({"error": str(error)}, 503)


def _filters(grain: str | None = None) -> Filters:
    """`start` and `end` (both required), and `teams` and `agents` (comma-separated ids, each of which the
    caller must see), in the caller's scope."""
    values = {name: request.args.get(name) for name in ("start", "end", "teams", "agents")}
    viewer = current_scope()
    try:
        filters = parse_filters({**values, "grain": grain}, viewer, current_app.config["ORG_TIMEZONE"])
    except PeriodError as error:
        raise BadParameter(error.field or "start", str(error)) from None
    unknown = directory.unknown_ids(viewer, filters.teams, filters.agents)
    if unknown:
        raise BadParameter(*unknown)
    return filters


def _money(value: Decimal) -> str:
    return format(Decimal(value), "f")


@bp.get("/summary")
def summary() -> ResponseReturnValue:
    filters = _filters()
    period = filters.period
    row = usage.summary(filters).row(0, named=True)
    return _json(
        {
            "interactions": row["interactions"],
            "active_users": row["active_users"],
            "cost_usd": _money(row["cost_usd"]),
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        }
    )


@bp.get("/breakdown")
def breakdown() -> ResponseReturnValue:
    by = request.args.get("by", "")
    if by not in BREAKDOWNS:
        raise BadParameter("by", f"Unknown breakdown {by!r}; use one of {', '.join(BREAKDOWNS)}.")
    filters = _filters(by if by in GRAINS else None)
    period, scope = filters.period, filters.scope
    limit = parse_limit(request.args.get("limit"))
    question = question_id("breakdown", by, period.start.isoformat(), period.end.isoformat(), period.tz, scope.params())
    pager = Pager(current_app.secret_key, question, OVER_TIME_ORDER if by in GRAINS else BY_KEY_ORDER)
    after = pager.resume(request.args.get("cursor"))
    frame = usage.interactions_over_time(filters) if by in GRAINS else usage.interactions_by_key(filters, by)
    page = pager.page(frame, limit, after)
    rows = [
        {
            "key": str(row["key"]),
            "label": row["label"],
            "interactions": row["interactions"],
            "active_users": row["active_users"],
            "cost_usd": _money(row["cost_usd"]),
        }
        for row in page.rows.iter_rows(named=True)
    ]
    return _json(
        {
            "by": by,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "rows": rows,
            "has_more": page.next_cursor is not None,
            "next_cursor": page.next_cursor,
        }
    )
