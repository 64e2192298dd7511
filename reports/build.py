"""One code path for every report, from the dialog or the command line: tables in, a file out."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, has_request_context, request

from auth.scope import scope_for
from auth.session import store
from auth.store import AccountRow
from queries import directory
from queries.filters import Filters
from queries.scope import Scope
from reports.csv_zip import table_csv, write_csv_zip
from reports.html import write_html
from reports.meta import ReportMeta
from reports.pdf import write_pdf
from reports.request import ReportError, ReportRequest
from reports.tables import POINTS, Table, build_table
from reports.xlsx import write_xlsx

Progress = Callable[[int, int, str], None]
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "zip": "application/zip",
    "html": "text/html",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class ReportFile:
    filename: str
    mimetype: str
    content: bytes


def scope_label(scope: Scope) -> str:
    """Whose numbers these are, in words: the organization, or the named teams."""
    if scope.team_ids is None:
        label = "Whole organization"
    else:
        names = directory.teams_in_scope(scope)["name"].to_list()
        label = "Teams: " + (", ".join(names) if names else "none")
    if scope.agent_ids is not None:
        agents = directory.agents()
        names = agents.filter(agents["agent_id"].is_in(sorted(scope.agent_ids)))["name"].to_list()
        label += " · Agents: " + (", ".join(names) if names else "none")
    return label


def _tables(points: tuple[str, ...], filters: Filters, progress: Progress | None) -> Iterator[Table]:
    for done, point in enumerate(points):
        if progress:
            progress(done, len(points), POINTS[point][0])
        yield build_table(point, filters)
    if progress:
        progress(len(points), len(points), "Writing the file")


def build_report(
    ask: ReportRequest, scope: Scope, generated_by: str, progress: Progress | None = None
) -> ReportFile:
    """The report as asked, within `scope` (already decided on the server for whoever asked)."""
    tz = current_app.config["ORG_TIMEZONE"]
    filters = ask.filters(scope, tz)
    meta = ReportMeta(
        scope_label=scope_label(filters.scope),
        period_label=f"{ask.start.isoformat()} to {ask.end.isoformat()}",
        generated_at=dt.datetime.now(dt.UTC),
        generated_by=generated_by,
        timezone=tz,
    )
    stem = f"telemetry-report-{ask.start.isoformat()}-to-{ask.end.isoformat()}"
    tables = _tables(ask.points, filters, progress)
    if ask.format == "csv":
        if len(ask.points) == 1:
            only = next(tables)
            return ReportFile(f"telemetry-{only.key.replace('_', '-')}-{ask.start}-to-{ask.end}.csv",
                              MIMETYPES["csv"], table_csv(only))  # fmt: skip
        out = io.BytesIO()
        write_csv_zip(out, tables)
        return ReportFile(f"{stem}.zip", MIMETYPES["zip"], out.getvalue())
    summary = build_table("summary", filters)
    if ask.format == "html":
        out = io.BytesIO()
        write_html(out, meta, summary, tables)
        return ReportFile(f"{stem}.html", MIMETYPES["html"], out.getvalue())
    if ask.format == "pdf":
        out = io.BytesIO()
        write_pdf(out, meta, summary, tables)
        return ReportFile(f"{stem}.pdf", MIMETYPES["pdf"], out.getvalue())
    with tempfile.TemporaryDirectory(prefix="telemetry-report-") as folder:
        path = Path(folder) / f"{stem}.xlsx"
        write_xlsx(path, meta, summary, tables)
        return ReportFile(path.name, MIMETYPES["xlsx"], path.read_bytes())


def check_may_export(account: AccountRow) -> None:
    if account.disabled or account.role not in ("admin", "manager"):
        raise ReportError("This account may not export reports.")


def report_for_account(ask: ReportRequest, account: AccountRow, progress: Progress | None = None) -> ReportFile:
    """A report in the account's own scope, written to the audit log."""
    check_may_export(account)
    report = build_report(ask, scope_for(account.role, account.user_id), account.email, progress)
    _audit(account.email, ask, report)
    return report


def report_for_organization(ask: ReportRequest, generated_by: str) -> ReportFile:
    """A report of the whole organization, for scheduled jobs on the server (the CLI without --as)."""
    report = build_report(ask, Scope.organization(), generated_by)
    _audit(generated_by, ask, report)
    return report


def _audit(actor: str, ask: ReportRequest, report: ReportFile) -> None:
    detail = {
        "what": "report", "points": ",".join(ask.points), "format": ask.format, "start": str(ask.start),
        "end": str(ask.end), "teams": ",".join(ask.teams), "agents": ",".join(ask.agents), "file": report.filename,
        "bytes": len(report.content),
    }  # fmt: skip
    address = request.remote_addr if has_request_context() else None
    store().audit(actor, "export", detail, address)
