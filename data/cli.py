"""Data commands: `seed-demo` writes the demo organization into DATA_DIR; `ingest`, `compact` and
`import-directory` bring real events and the directory in (data/ingest/); `purge` removes events
(data/ingest/purge.py); `rollup` builds the rollups (data/rollups/)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

import queries
from auth.session import store
from data import schema
from data.clickhouse import ClickHouseError
from data.clickhouse import cli as clickhouse_cli
from data.clickhouse.writes import ClickHouseStore, configured_store
from data.demo import DemoDataExistsError, check_arguments, write_demo
from data.ingest import (
    DEFAULT_COMPACT_AFTER_FILES,
    FORMATS,
    DirectoryImportError,
    IngestError,
    commit,
    compact,
    import_directory,
    ingest_files,
    locked,
    purge,
)
from data.rollups import build as rollup
from data.rollups.manifest import current_manifest


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
    package = schema.code_package_holding(out_dir)
    if package is not None:
        raise click.BadParameter(f"{out_dir} is inside the code's {package}/ package; use a folder of its own.")
    try:
        check_arguments(users, days, tz)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    started = time.perf_counter()
    try:
        summary = write_demo(out_dir, users, days, seed, _as_date(end), tz, overwrite)
    except DemoDataExistsError as error:
        raise click.ClickException(str(error)) from None
    with locked(out_dir):
        rollup.build(out_dir, tz)
    click.echo(
        f"Seeded {summary.events:,} events, {summary.users:,} users, {summary.teams} teams, "
        f"{summary.agents} agents, {summary.first_date}..{summary.last_date} ({tz}) "
        f"into {out_dir}, rolled up, in {time.perf_counter() - started:.1f} s."
    )


def _as_date(value: datetime | None) -> date | None:
    return value.date() if value else None


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Format of every file  [default: from each file's extension: .jsonl .csv .parquet .json]",
)
@with_appcontext
def ingest_command(paths: tuple[Path, ...], fmt: str | None) -> None:
    """Import interaction events; records that break the contract go to quarantine with the reason.

    Exits with status 1 if any record was quarantined.
    """
    config = current_app.config
    started = time.perf_counter()
    try:
        summary = ingest_files(
            Path(config["DATA_DIR"]),
            paths,
            fmt,
            compact_after_files=int(config.get("COMPACT_AFTER_FILES", DEFAULT_COMPACT_AFTER_FILES)),
            team_attribute=config.get("TEAM_ATTRIBUTE", "team.id"),
            tz=config["ORG_TIMEZONE"],
            store=_store(),
        )
    except (IngestError, ClickHouseError) as error:
        raise click.ClickException(str(error)) from None
    counts = f"read {summary.read:,}, written {summary.written:,}, duplicates {summary.duplicates:,}, "
    counts += f"quarantined {summary.quarantined:,}"
    if summary.ignored:
        counts += f", ignored spans {summary.ignored:,}"
    click.echo(f"{counts} ({time.perf_counter() - started:.1f} s)")
    _echo_rollups(summary.rollups, summary.rollup_error)
    if summary.compacted:
        click.echo(f"compacted: {', '.join(summary.compacted)}")
    for reason, count in summary.reasons[:10]:
        click.echo(f"  {count:,} × {reason}", err=True)
    for path in summary.quarantine_files:
        click.echo(f"quarantine: {path}", err=True)
    if summary.quarantined:
        click.get_current_context().exit(1)


@click.command("compact")
@click.option(
    "--date",
    "dates",
    multiple=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="UTC date of a partition to compact (repeatable)  [default: every date with 2+ files]",
)
@with_appcontext
def compact_command(dates: tuple[datetime, ...]) -> None:
    """Merge each event partition's files into one file sorted by time."""
    try:
        done = compact(Path(current_app.config["DATA_DIR"]), [d.date().isoformat() for d in dates] or None)
    except schema.EventFileError as error:
        raise click.ClickException(str(error)) from None
    if not done:
        click.echo("Nothing to compact.")
    for item in done:
        click.echo(f"{item.utc_date}: {item.files_before} files -> {item.files_after} ({item.rows:,} rows)")


def _echo_rollups(builds: Iterable[rollup.Build], error: str | None) -> None:
    """What the write did to the rollups (it keeps them: data/ingest/commit.py)."""
    for done in builds:
        click.echo(f"rollups: {done.days} local days updated ({done.seconds:.1f} s)")
    if error:
        click.echo(f"rollups: not updated ({error}); the app reads raw events until `flask --app app rollup` succeeds",
                   err=True)  # fmt: skip


@click.command("import-directory")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_directory_command(files: tuple[Path, ...]) -> None:
    """Replace directory files (users, teams, team_managers, agents, prices; .csv or .parquet).

    All of them are validated first; if anything is wrong, nothing is replaced.
    """
    try:
        written = import_directory(Path(current_app.config["DATA_DIR"]), files, store=_store())
    except DirectoryImportError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        raise click.ClickException("Nothing was imported.") from None
    except ClickHouseError as error:
        raise click.ClickException(str(error)) from None
    for name, rows in written.items():
        click.echo(f"{name}: {rows:,} rows")


@click.command("rollup")
@click.option(
    "--day",
    "days",
    multiple=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Local day to re-aggregate (repeatable)  [default: all of them, from scratch]",
)
@click.option("--if-stale", is_flag=True, help="Only if the rollups do not match the events (for `make run`).")
@with_appcontext
def rollup_command(days: tuple[datetime, ...], if_stale: bool) -> None:
    """Build the rollups the tabs read (per local day × team × agent, × model, × hour, × user).

    Every write keeps them up to date by itself; run this after event files were copied into the data
    folder by hand, or after ORG_TIMEZONE changed (the pages say when it is needed).
    """
    config = current_app.config
    data_dir = Path(config["DATA_DIR"])
    with locked(data_dir):  # first: taking it marks what a writer that died left (data/ingest/storage.py)
        if if_stale and current_manifest(data_dir, config["ORG_TIMEZONE"]) is not None:
            click.echo("Rollups are up to date.")
            return
        try:
            done = rollup.build(data_dir, config["ORG_TIMEZONE"], [d.date() for d in days] or None)
        except schema.EventFileError as error:
            raise click.ClickException(str(error)) from None
    rows = ", ".join(f"{table} {count:,} rows" for table, count in done.rows.items())
    click.echo(f"Rolled up {done.days:,} local days in {done.months} months ({rows}) in {done.seconds:.1f} s.")


@click.command("purge")
@click.option("--event-id", "event_ids", multiple=True, help="An event id to remove (repeatable).")
@click.option(
    "--event-ids", "ids_file", type=click.Path(dir_okay=False, path_type=Path), help="A file of event ids, one a line."
)
@click.option(
    "--source",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An input file (any format ingest reads): the events whose event_id appears in it.",
)
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default=None, help="Format of --source  [default: by its extension]"
)
@click.option("--user", "user_id", default=None, help="The events of this user_id (e.g. an erasure request).")
@click.option("--from", "first", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="First UTC date of ts.")
@click.option("--to", "last", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Last UTC date of ts.")
@click.option("--dry-run", is_flag=True, help="Only show what would be removed.")
@with_appcontext
def purge_command(
    event_ids: tuple[str, ...],
    ids_file: Path | None,
    source: Path | None,
    fmt: str | None,
    user_id: str | None,
    first: datetime | None,
    last: datetime | None,
    dry_run: bool,
) -> None:
    """Remove events: those every selector given matches (AND); at least one selector is required.

    Each UTC date is rewritten atomically and the rollups updated; audited. Try --dry-run first.
    """
    config = current_app.config
    data_dir = Path(config["DATA_DIR"])
    try:
        destination = _store()
        ids = None
        if event_ids or ids_file:
            ids = frozenset(event_ids) | (purge.read_id_list(ids_file) if ids_file else frozenset())
        from_source = None
        if source is not None:
            from_source = purge.source_ids(data_dir, source, fmt, config.get("TEAM_ATTRIBUTE", "team.id"), destination)
        selection = purge.Selection(ids, from_source, user_id, _as_date(first), _as_date(last))
        files = {"event_ids_file": ids_file, "source": source}
        selectors = {**selection.describe(), **{k: str(v) for k, v in files.items() if v is not None}}

        def audit(action: str, done: purge.Purge) -> None:
            store().audit("cli", action, _purge_detail(selectors, done), None)

        done = purge.purge(data_dir, selection, config["ORG_TIMEZONE"], dry_run=dry_run, audit=audit, store=destination)
    except (purge.PurgeError, schema.EventFileError, ClickHouseError) as error:
        raise click.ClickException(str(error)) from None
    for item in done.dates:
        left = "date left empty" if item.kept == 0 else f"{item.kept:,} left"
        click.echo(f"{item.utc_date}: {item.events:,} interactions, ${item.cost_usd:,} ({left})")
    totals = f"{done.events:,} interactions (${done.cost_usd:,}) from {len(done.dates)} UTC dates"
    if dry_run:
        click.echo(f"Dry run: would remove {totals}; nothing changed.")
        return
    if done.rollups is not None:
        click.echo(f"rollups: {done.rollups.days} local days updated ({done.rollups.seconds:.1f} s)")
    if done.rollup_error and destination is not None:
        click.echo(f"rollups: not made again ({done.rollup_error}); the next write makes them again", err=True)
    elif done.rollup_error:
        click.echo(
            f"rollups: not updated ({done.rollup_error}); the app reads raw events until "
            "`flask --app app rollup` succeeds",
            err=True,
        )
    if done.rollup_error:
        store().audit("cli", "purge_rollups_failed", {"error": done.rollup_error}, None)
    click.echo(f"Purged {totals}.")
    if done.rollup_error:
        click.get_current_context().exit(1)


def _store() -> ClickHouseStore | None:
    """Where the writes go: the organization's ClickHouse database on that backend, else the data folder."""
    return configured_store(Path(current_app.config["DATA_DIR"]))


def init_app(app: Flask) -> None:
    app.extensions[queries.REBUILD] = commit.rebuild_rollups  # what the readers call on stale rollups
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(ingest_command)
    app.cli.add_command(compact_command)
    app.cli.add_command(import_directory_command)
    app.cli.add_command(rollup_command)
    app.cli.add_command(purge_command)
    clickhouse_cli.init_app(app)


def _purge_detail(selectors: dict, done: purge.Purge) -> dict:
    """What a purge's audit entries record: its selectors and what it removed."""
    return {
        "selectors": selectors,
        "events": done.events,
        "cost_usd": str(done.cost_usd),
        "utc_dates": len(done.dates),
        "first_date": done.dates[0].utc_date if done.dates else None,
        "last_date": done.dates[-1].utc_date if done.dates else None,
    }
