"""Reports for people without access: Excel, CSV and HTML files, from the dialog or the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from auth.session import store
from queries.period import GRAINS, PeriodError, auto_grain, parse_date
from reports.build import report_for_account, report_for_organization
from reports.request import FORMATS, ReportError, ReportRequest
from reports.tables import POINTS


def _date(value: str, name: str) -> dt.date:
    try:
        return parse_date(value, name)
    except PeriodError as error:
        raise click.BadParameter(str(error), param_hint=f"--{name}") from None


@click.command("report")
@click.option("--start", required=True, help="First local day, YYYY-MM-DD.")
@click.option("--end", required=True, help="Last local day, YYYY-MM-DD.")
@click.option("--points", required=True, help=f"Comma-separated: {', '.join(POINTS)}.")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="xlsx", show_default=True)
@click.option("--grain", type=click.Choice(GRAINS), default=None, help="For usage over time [default: fits the period]")
@click.option("--teams", default="", help="Comma-separated team ids to narrow to.")
@click.option("--agents", default="", help="Comma-separated agent ids to narrow to.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "as_email", default=None, help="Make it in this account's scope (a manager's teams).")
@with_appcontext
def report_command(start, end, points, fmt, grain, teams, agents, out: Path, as_email) -> None:
    """Write a report file, exactly as the Generate Report dialog would (for scheduled jobs)."""
    first, last = _date(start, "start"), _date(end, "end")
    try:
        ask = ReportRequest(
            start=first, end=last, points=tuple(p.strip() for p in points.split(",") if p.strip()), format=fmt,
            grain=grain or auto_grain((last - first).days + 1),
            teams=tuple(t for t in teams.split(",") if t), agents=tuple(a for a in agents.split(",") if a),
        )  # fmt: skip
        if as_email:
            account = store().account_by_email(as_email)
            if account is None:
                raise click.ClickException(f"No account with email {as_email!r}.")
            report = report_for_account(ask, account)
        else:
            report = report_for_organization(ask, "command line")
    except ReportError as error:
        raise click.ClickException(str(error)) from None
    out.write_bytes(report.content)
    click.echo(f"Wrote {out} ({len(report.content):,} bytes, {report.mimetype}).")


def init_app(app: Flask) -> None:
    app.cli.add_command(report_command)
