"""What a report asks for, and the signed ticket that carries it to a background job."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from queries.filters import Filters, parse_period
from queries.period import GRAINS, Period, PeriodError
from queries.scope import Scope
from reports.tables import POINTS

FORMATS = {
    "xlsx": "Excel (.xlsx)",
    "csv": "CSV (zip when several)",
    "html": "HTML (one self-contained file)",
    "pdf": "PDF (to read, print or forward)",
}
TICKET_MAX_AGE_SECONDS = 15 * 60
_SALT = "telemetry-report"


class ReportError(ValueError):
    """A report that cannot be made as asked; the message is for the person asking."""


@dataclass(frozen=True)
class ReportRequest:
    start: dt.date
    end: dt.date
    points: tuple[str, ...]
    format: str
    grain: str
    teams: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.points:
            raise ReportError("Choose at least one data point.")
        unknown = [p for p in self.points if p not in POINTS]
        if unknown:
            raise ReportError(f"Unknown data point {unknown[0]!r}; use some of {', '.join(POINTS)}.")
        if self.format not in FORMATS:
            raise ReportError(f"Unknown format {self.format!r}; use one of {', '.join(FORMATS)}.")
        if self.grain not in GRAINS:
            raise ReportError(f"Unknown grain {self.grain!r}; use one of {', '.join(GRAINS)}.")
        try:
            Period(self.start, self.end)
        except PeriodError as error:
            raise ReportError(str(error)) from None

    @classmethod
    def asking(cls, filters: Filters, points: tuple[str, ...], format: str) -> ReportRequest:  # noqa: A002
        """The request for `points` in `format` over what `filters` ask (the teams and agents as asked:
        the report is made in the scope of whoever runs it)."""
        period = filters.period
        return cls(period.start, period.end, points, format, filters.grain, filters.teams, filters.agents)

    def period(self, tz: str) -> Period:
        return Period(self.start, self.end, tz)

    def filters(self, viewer: Scope, tz: str) -> Filters:
        """What the report asks, in `viewer`'s scope (narrowed by the teams and agents asked)."""
        return Filters.asking(self.period(tz), viewer, self.grain, self.teams, self.agents)


def sign_ticket(secret: str, request: ReportRequest, email: str, sid: str | None) -> str:
    """The request and who asked, signed: the background job trusts nothing from the browser but this."""
    body = {**asdict(request), "start": request.start.isoformat(), "end": request.end.isoformat()}
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps({"request": body, "email": email, "sid": sid})


def read_ticket(secret: str, ticket: str) -> tuple[ReportRequest, str, str | None]:
    """The request, email and session id of a ticket this server signed in the last 15 minutes."""
    try:
        data = URLSafeTimedSerializer(secret, salt=_SALT).loads(ticket, max_age=TICKET_MAX_AGE_SECONDS)
    except BadSignature:
        raise ReportError("This report request has expired or was not issued here; choose Generate again.") from None
    body = data["request"]
    period = parse_period(body["start"], body["end"], "UTC")  # signed here: the dates are ours
    request = ReportRequest(
        start=period.start,
        end=period.end,
        points=tuple(body["points"]),
        format=body["format"],
        grain=body["grain"],
        teams=tuple(body["teams"]),
        agents=tuple(body["agents"]),
    )
    return request, data["email"], data["sid"]
