"""The ClickHouse backend's commands: `clickhouse-init` makes or migrates the organization's database,
`clickhouse-load --from DATA_DIR` moves a Parquet data folder into it (docs/clickhouse.md)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from data.clickhouse import ClickHouseError, Connection, connect, database_of
from data.clickhouse.cluster import cluster_statements
from data.clickhouse.load import load
from data.clickhouse.schema import init
from data.ingest.storage import locked


def configured() -> tuple[Connection, str]:
    """The configured ClickHouse (a server at CLICKHOUSE_URL, or chDB at CHDB_PATH) and the organization's
    database."""
    try:
        return connect(current_app.config)
    except ClickHouseError as error:
        raise click.ClickException(str(error)) from None


@click.command("clickhouse-init")
@click.option(
    "--cluster",
    metavar="NAME",
    help="Print the DDL for cluster NAME (ON CLUSTER, Replicated engines, Distributed tables) instead of running it.",
)
@with_appcontext
def clickhouse_init_command(cluster: str | None) -> None:
    """Create or migrate the ClickHouse tables, views and functions (rollups made again when the zone changed).

    Run it with ingestion stopped: rollups made again are filled from the events already there.
    """
    if cluster:
        _print_cluster_ddl(cluster)
        return
    connection, database = configured()
    try:
        with _writer_lock():  # it may give codes and fill rollups: no other write meanwhile
            applied = init(connection, database, current_app.config["ORG_TIMEZONE"])
    except ClickHouseError as error:
        raise click.ClickException(str(error)) from None
    done = "created" if applied.created else "brought up to date"
    rollups = "; rollups made and filled from the events" if applied.rebuilt else ""
    if applied.migrated:
        numbers = ", ".join(str(n) for n in applied.migrated)
        rollups = f"; migration {numbers} applied (rollups made, filled or dropped)"
    click.echo(f"ClickHouse database {database} {done}{rollups}.")


@click.command("clickhouse-load")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A Parquet data folder (events/ and directory/).",
)
@with_appcontext
def clickhouse_load_command(source: Path) -> None:
    """Load a Parquet data folder's directory and events into ClickHouse: only the events it lacks (run it
    again after a failure, or for a folder that grew since: nothing is counted twice)."""
    connection, database = configured()
    try:
        with _writer_lock():  # the writes' lock: the load gives people their codes (data/clickhouse/codes.py)
            init(connection, database, current_app.config["ORG_TIMEZONE"])
            done = load(connection, database, source)
    except ClickHouseError as error:
        raise click.ClickException(str(error)) from None
    people = done.directory.get("users", 0)
    click.echo(
        f"Loaded {done.events:,} events in {done.batches} batches from {done.dates} UTC dates "
        f"({done.duplicates:,} already there) and the directory ({people:,} people) into {database}."
    )


def _writer_lock():
    """The organization's one-writer lock, the one ingest, the receiver, import-directory and purge take (the data
    folder's): waited for, as they wait for it."""
    return locked(Path(current_app.config["DATA_DIR"]))


def _print_cluster_ddl(cluster: str) -> None:
    """The organization's DDL in its cluster form, to run with clickhouse-client on a node (docs/scale.md)."""
    config = current_app.config
    try:
        found = cluster_statements(database_of(config), config["ORG_TIMEZONE"], cluster)
    except ClickHouseError as error:
        raise click.ClickException(str(error)) from None
    click.echo("".join(f"{statement};\n\n" for statement in found), nl=False)


def init_app(app) -> None:
    app.cli.add_command(clickhouse_init_command)
    app.cli.add_command(clickhouse_load_command)
