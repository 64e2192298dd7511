"""/api/v1: summary and breakdowns as JSON, within the caller's scope (gate and scope in auth/)."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from auth.scope import current_scope
from queries import directory, usage
from queries.db import DataFolderError
from queries.filters import parse_ids
from queries.period import GRAINS, Period, PeriodError, parse_date
from queries.scope import Scope

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


def _period() -> Period:
    dates = {}
    for name in ("start", "end"):
        try:
            dates[name] = parse_date(request.args.get(name), name)
        except PeriodError as error:
            raise BadParameter(name, str(error)) from None
    try:
        return Period(dates["start"], dates["end"], current_app.config["ORG_TIMEZONE"])
    except PeriodError as error:
        raise BadParameter("end", str(error)) from None


def _scope() -> Scope:
    """The caller's scope, narrowed by `teams` and `agents` (comma-separated ids), each of which it must see."""
    wanted = {}
    for name in ("teams", "agents"):
        try:
            wanted[name] = parse_ids(request.args.get(name), name)
        except PeriodError as error:
            raise BadParameter(name, str(error)) from None
    viewer = current_scope()
    unknown = directory.unknown_ids(viewer, wanted["teams"], wanted["agents"])
    if unknown:
        raise BadParameter(*unknown)
    return viewer.narrow(wanted["teams"], wanted["agents"])


def _money(value: Decimal) -> str:
    return format(Decimal(value), "f")


@bp.get("/summary")
def summary() -> ResponseReturnValue:
    period = _period()
    row = usage.summary(period, _scope()).row(0, named=True)
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
    period = _period()
    scope = _scope()
    if by in GRAINS:
        frame = usage.interactions_over_time(period, by, scope)
    else:
        frame = usage.interactions_by_key(by, period, scope)
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
