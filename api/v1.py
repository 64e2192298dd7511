"""/api/v1: summary and breakdowns as JSON, within the caller's scope (gate and scope in auth/)."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from auth.scope import current_scope
from queries import directory, usage
from queries.db import DataFolderError
from queries.filters import Filters, parse_filters
from queries.period import GRAINS, PeriodError

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

BREAKDOWNS = ("team", "agent", "user", *GRAINS)


class BadParameter(ValueError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@bp.errorhandler(BadParameter)
def bad_parameter(error: BadParameter) -> ResponseReturnValue:
    return jsonify({"error": str(error), "parameter": error.parameter}), 400


@bp.errorhandler(DataFolderError)
def unreadable_data(error: DataFolderError) -> ResponseReturnValue:
    """Not the caller's fault, and not over until someone fixes the file: 503, naming it."""
    current_app.logger.error("API: %s", error, exc_info=error)
    return jsonify({"error": str(error)}), 503


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
    return jsonify(
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
    period = filters.period
    frame = usage.interactions_over_time(filters) if by in GRAINS else usage.interactions_by_key(filters, by)
    rows = [
        {
            "key": str(row["key"]),
            "label": row["label"],
            "interactions": row["interactions"],
            "active_users": row["active_users"],
            "cost_usd": _money(row["cost_usd"]),
        }
        for row in frame.iter_rows(named=True)
    ]
    return jsonify({"by": by, "start": period.start.isoformat(), "end": period.end.isoformat(), "rows": rows})
