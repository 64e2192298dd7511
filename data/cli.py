"""Data commands: `flask --app app seed-demo` writes the demo organization into DATA_DIR."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from data.demo import DemoDataExistsError, check_arguments, write_demo


@click.command("seed-demo")
@click.option("--users", type=int, default=1000, show_default=True, help="People in the org.")
@click.option("--days", type=int, default=180, show_default=True, help="Local days of events.")
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed, same data.")
@click.option(
    "--end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last local day with data (YYYY-MM-DD)  [default: today in ORG_TIMEZONE]",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write events/ and directory/ into  [default: DATA_DIR]",
)
@click.option("--overwrite", is_flag=True, help="Replace the events and directory already there.")
@with_appcontext
def seed_demo_command(
    users: int, days: int, seed: int, end: datetime | None, out: Path | None, overwrite: bool
) -> None:
    """Write a realistic demo organization (people, teams, agents, events) into the data folder."""
    out_dir = out or Path(current_app.config["DATA_DIR"])
    tz = current_app.config["ORG_TIMEZONE"]
    try:
        check_arguments(users, days, tz)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    started = time.perf_counter()
    try:
        summary = write_demo(out_dir, users, days, seed, _as_date(end), tz, overwrite)
    except DemoDataExistsError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Seeded {summary.events:,} events, {summary.users:,} users, {summary.teams} teams, "
        f"{summary.agents} agents, {summary.first_date}..{summary.last_date} ({tz}) "
        f"into {out_dir} in {time.perf_counter() - started:.1f} s."
    )


def _as_date(value: datetime | None) -> date | None:
    return value.date() if value else None


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
