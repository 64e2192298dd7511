"""Reports for people without access: Excel, CSV, HTML and PDF files, from the dialog or the command line."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from auth.scope import scope_for
from auth.session import store
from auth.store import AccountRow
from queries import directory
from queries.filters import Filters, parse_filters
from queries.period import GRAINS, PeriodError
from queries.scope import Scope
from reports.build import check_may_export, report_for_account, report_for_organization
from reports.request import FORMATS, ReportError, ReportRequest
from reports.tables import POINTS

FORMAT_HELP = (
    "xlsx: one workbook; html: one self-contained page; pdf: charts and tables to read or print; csv: one .csv "
    "file for one point, a .zip of CSV files for several (name --out *.zip)."
)
REPORT_SUFFIXES = (".xlsx", ".html", ".htm", ".pdf", ".csv", ".zip")
OUT_KINDS = {
    "xlsx": "an xlsx report is an Excel workbook",
    "html": "an html report is one HTML page",
    "pdf": "a pdf report is one PDF document",
    "csv": "one point in CSV makes a CSV file",
}


@click.command("report")
@click.option("--start", required=True, help="First local day, YYYY-MM-DD.")
@click.option("--end", required=True, help="Last local day, YYYY-MM-DD.")
@click.option("--points", required=True, help=f"Comma-separated: {', '.join(POINTS)}.")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="xlsx", show_default=True, help=FORMAT_HELP)
@click.option("--grain", type=click.Choice(GRAINS), default=None, help="For usage over time [default: fits the period]")
@click.option("--teams", default="", help="Comma-separated team ids to narrow to (each must exist, and be in scope).")
@click.option("--agents", default="", help="Comma-separated agent ids to narrow to (each must exist).")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write, in a folder that exists: .xlsx, .html, .pdf, .csv, or .zip for csv with several points.",
)
@click.option("--as", "as_email", default=None, help="Make it in this account's scope (a manager's teams).")
@with_appcontext
def report_command(start, end, points, fmt, grain, teams, agents, out: Path, as_email) -> None:
    """Write a report file, exactly as the Generate Report dialog would (for scheduled jobs).

    Everything is checked before the report is made: the dates, points, team and agent ids, and
    that --out can be written with the name of what it will hold.
    """
    try:
        account = _account(as_email)
    except ReportError as error:
        raise click.ClickException(str(error)) from None
    viewer = scope_for(account.role, account.user_id) if account else Scope.organization()
    filters = _filters({"start": start, "end": end, "grain": grain, "teams": teams, "agents": agents}, viewer)
    try:
        ask = ReportRequest.asking(filters, tuple(p.strip() for p in points.split(",") if p.strip()), fmt)
    except ReportError as error:
        raise click.ClickException(str(error)) from None
    _check_out(out, ask)
    try:
        unknown = directory.unknown_ids(viewer, ask.teams, ask.agents)
        if unknown:
            raise ReportError(f"--{unknown[0]}: {unknown[1]}")
        report = report_for_account(ask, account) if account else report_for_organization(ask, "command line")
    except ReportError as error:
        raise click.ClickException(str(error)) from None
    try:
        out.write_bytes(report.content)
    except OSError as error:
        raise click.ClickException(f"Could not write {out}: {error.strerror or error}.") from None
    click.echo(f"Wrote {out} ({len(report.content):,} bytes, {report.mimetype}).")


def _filters(options: dict[str, str | None], viewer: Scope) -> Filters:
    """The options' period, grain, teams and agents, by the parser every way in shares."""
    try:
        return parse_filters(options, viewer, current_app.config["ORG_TIMEZONE"])
    except PeriodError as error:
        if error.field:
            raise click.BadParameter(str(error), param_hint=f"--{error.field}") from None
        raise click.ClickException(str(error)) from None


def _account(email: str | None) -> AccountRow | None:
    """The account of --as, which must exist and may export; None for the whole organization."""
    if not email:
        return None
    account = store().account_by_email(email)
    if account is None:
        raise ReportError(f"No account with email {email!r}.")
    check_may_export(account)
    return account


def _check_out(out: Path, ask: ReportRequest) -> None:
    """Before any work: --out can be written, and its name says what it will hold."""
    several_csv = ask.format == "csv" and len(ask.points) > 1
    expected = ".zip" if several_csv else f".{ask.format}"
    suffix = out.suffix.lower()
    if suffix in REPORT_SUFFIXES and suffix != expected and not (suffix == ".htm" and expected == ".html"):
        what = "several points in CSV make a zip of CSV files" if several_csv else OUT_KINDS[ask.format]
        raise click.ClickException(f"--out {out}: {what}; name it {out.with_suffix(expected)}.")
    if out.exists():
        if not os.access(out, os.W_OK):
            raise click.ClickException(f"--out {out}: the file exists and cannot be written.")
        return
    folder = out.parent
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
        raise click.ClickException(f"--out {out}: the folder {folder} {problem}.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise click.ClickException(f"--out {out}: cannot write in the folder {folder}.")


def init_app(app: Flask, serving: bool = False) -> None:
    """The report command; the schedules' store and commands (reports/schedule_cli.py); in a serving process
    with TELEMETRY_SCHEDULES_EVERY set, the scheduler thread."""
    from reports import schedule_cli, schedule_links
    from reports.schedule_store import ScheduleStore

    app.extensions["telemetry_schedules"] = ScheduleStore(app.config["ACCOUNTS_DB"])
    app.register_blueprint(schedule_links.bp)
    app.cli.add_command(report_command)
    for command in schedule_cli.COMMANDS:
        app.cli.add_command(command)
    # Not in a `flask …` command (it runs inside a click context): those end, a server keeps sending.
    if serving and app.config["SCHEDULES_EVERY_SECONDS"] > 0 and click.get_current_context(silent=True) is None:
        from reports.schedule_thread import Scheduler

        Scheduler(app, app.config["SCHEDULES_EVERY_SECONDS"]).start()
