"""`flask --app app clickhouse-init`: the ClickHouse schema made or brought up to date (docs/clickhouse.md).

Idempotent: tables are created if missing; the materialized views are made with the rollup tables they fill,
and when the organization's zone changes (their local days change) the rollups are dropped, made again and
filled from the events. A database made before a numbered migration (`MIGRATIONS`) gets the rollups it adds:
each made with its view, then filled from the events already there; and loses those it drops (`DROPS`), views
first. What was applied is kept in `telemetry_meta` (format, zone, migration).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from data.clickhouse import ChdbConnection, ClickHouseError, codes, database_name

SQL_DIR = Path(__file__).parent / "sql"
FORMAT = "1"  # raised with any change to the tables or views below: clickhouse-init then makes the rollups again
# the rollups each numbered migration adds to a database made before it (a new database gets them all at once)
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("user_month", "person_month"),
    2: ("user_totals",),
    3: (),  # it added user_weeks, which 5 drops: a database before 3 is not given it
    4: ("people_days", "people_weeks", "people_months"),
    5: (),
    6: ("active_windows",),
}
# the rollups (tables and views) a migration drops: user_sets and user_weeks, `uniqExact` states of the ids that no
# question reads since the people bitmaps (4), while their views ran on every insert
DROPS: dict[int, tuple[str, ...]] = {5: ("user_sets", "user_weeks")}
MIGRATION = max(MIGRATIONS)
ROLLUPS = ("cube", "hours", "user_day", *(t for n in sorted(MIGRATIONS) for t in MIGRATIONS[n]))
# the column each rollup's local-month partition is of (toYYYYMM(column))
MONTH_OF = {"user_month": "month", "person_month": "month", "people_weeks": "month", "people_months": "month"}
# rollups of people's codes (user_codes, data/clickhouse/codes.py): everyone there is numbered before they fill
CODED = ("people_days", "people_weeks", "people_months")
# rollups of a person's whole history, not partitioned: their view reads another rollup (user_month), made first
WHOLE = ("user_totals",)
# rollups of windows of days ending on each day: their view reads another rollup (people_days), made first, and a
# local month's rows hold people of the month before too (the 27 days before each day)
WINDOWS = ("active_windows",)
_ZONE = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")
VERSION = "data_version"  # telemetry_meta: a token each write puts anew (the result cache's key: queries/clickhouse.py)
_bumps = itertools.count(1)
_bumped = 0  # this process's bumps so far: a reader that kept a token sees at once that this process wrote since


def statements(name: str, database: str, tz: str = "UTC") -> list[str]:
    """The statements of sql/<name>.sql with the database and zone put in (both checked: they come from
    configuration and go into DDL, where ClickHouse takes no parameters)."""
    if not _ZONE.fullmatch(tz):
        raise ClickHouseError(f"{tz!r} is not a time zone name.")
    text = (SQL_DIR / f"{name}.sql").read_text()
    text = text.replace("$database", database_name(database)).replace("$tz", tz)
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in body.split(";") if part.strip()]


def rollup_select(table: str, database: str, tz: str) -> str:
    """The select that makes a rollup table's rows from events (sql/rollups/<table>.sql)."""
    return statements(f"rollups/{table}", database, tz)[0]


def applied(tz: str) -> dict[str, str]:
    """What telemetry_meta records of an init for zone `tz`."""
    return {"format": FORMAT, "tz": tz, "migration": str(MIGRATION)}


@dataclass(frozen=True)
class Applied:
    created: bool  # the database's tables were made now
    rebuilt: bool  # the rollups were made (again) and filled from the events
    migrated: tuple[int, ...] = ()  # the numbered migrations applied now (their rollups made and filled)


def tables(connection: ChdbConnection, database: str) -> set[str]:
    """The names of the database's tables (none before clickhouse-init made it)."""
    found = connection.arrow("select name from system.tables where database = {db:String}", {"db": database})
    return set(found.column("name").to_pylist())


def refuse_cluster(connection: ChdbConnection, database: str, what: str) -> None:
    """Refuse to run `what` on a database in the cluster form (`clickhouse-init --cluster`): its statements are
    the single server's, which would replace the Distributed tables and copy the Replicated ones' paths."""
    if "events_local" in tables(connection, database_name(database)):
        raise ClickHouseError(
            f"{database} is in the cluster form (it has events_local): {what} runs on a single server only. "
            "Change a cluster with the DDL of `flask --app app clickhouse-init --cluster NAME` (docs/scale.md)."
        )


def meta(connection: ChdbConnection, database: str) -> dict[str, str]:
    """What clickhouse-init last applied ({} before it ever ran)."""
    name = database_name(database)
    if "telemetry_meta" not in tables(connection, name):
        return {}
    rows = connection.arrow(f"select key, argMax(value, at) as value from {name}.telemetry_meta group by key")  # noqa: S608
    return dict(zip(rows.column("key").to_pylist(), rows.column("value").to_pylist(), strict=True))


def data_version(connection: ChdbConnection, database: str) -> str:
    """The token the database's last write left in telemetry_meta ('' before any)."""
    name = database_name(database)
    rows = connection.arrow(
        f"select argMax(value, at) as token from {name}.telemetry_meta where key = {{k:String}}",  # noqa: S608
        {"k": VERSION},
    )
    return rows.column("token")[0].as_py() if rows.num_rows else ""


def bump_version(connection: ChdbConnection, database: str) -> None:
    """A new data version: called once a write's rows are in (a reader that took the old token meanwhile keeps newer
    rows under it, never older rows under the new one)."""
    global _bumped
    name = database_name(database)
    connection.command(
        f"insert into {name}.telemetry_meta (key, value) values ({{k:String}}, toString(generateUUIDv4()))",  # noqa: S608
        {"k": VERSION},
    )
    _bumped = next(_bumps)


def bumped() -> int:
    """How many times this process bumped a data version."""
    return _bumped


def init(connection: ChdbConnection, database: str, tz: str) -> Applied:
    """Create or migrate the organization's database for zone `tz`."""
    name = database_name(database)
    refuse_cluster(connection, name, "clickhouse-init")
    before = meta(connection, name)
    connection.command(f"create database if not exists {name}")
    for statement in statements("functions", name) + statements("tables", name):
        connection.command(statement)
    rebuild = before.get("format") != FORMAT or before.get("tz") != tz
    if rebuild:
        _drop_rollups(connection, name, tuple(t for n in sorted(DROPS) for t in DROPS[n]))
        _make_rollups(connection, name, tz, ROLLUPS)
        _record(connection, name, applied(tz))
        bump_version(connection, name)
        return Applied(created=not before, rebuilt=True)
    done = int(before.get("migration", "0"))
    migrated = tuple(n for n in sorted(MIGRATIONS) if n > done)
    for number in migrated:
        _drop_rollups(connection, name, DROPS.get(number, ()))
        if MIGRATIONS[number]:
            _make_rollups(connection, name, tz, MIGRATIONS[number])
        _record(connection, name, {"migration": str(number)})
    if migrated:
        bump_version(connection, name)
    return Applied(created=False, rebuilt=False, migrated=migrated)


def _make_rollups(connection: ChdbConnection, name: str, tz: str, rollups: tuple[str, ...]) -> None:
    """Rollup tables (dropped first if there) made with their views, then filled from the events already there:
    run with ingestion stopped (an event inserted meanwhile would be counted by the view and by the fill)."""
    _drop_rollups(connection, name, rollups)  # no insert may reach a table being made again
    for statement in statements("rollup_tables", name, tz):
        connection.command(statement)  # `if not exists`: the rollups kept are left as they are
    if set(rollups) & set(CODED):
        codes.number(connection, name)  # the people already there (user_codes: made by tables.sql)
    for table in rollups:
        select = rollup_select(table, name, tz)
        connection.command(f"create materialized view {name}.{table}_mv to {name}.{table} as {select}")
        connection.command(f"insert into {name}.{table} {select}")


def _drop_rollups(connection: ChdbConnection, name: str, rollups: tuple[str, ...]) -> None:
    """Rollup tables dropped if there, each after its view."""
    for table in rollups:
        connection.command(f"drop view if exists {name}.{table}_mv")
        connection.command(f"drop table if exists {name}.{table}")


def _record(connection: ChdbConnection, name: str, values: dict[str, str]) -> None:
    insert = f"insert into {name}.telemetry_meta (key, value) values ({{k:String}}, {{v:String}})"  # noqa: S608
    for key, value in values.items():
        connection.command(insert, {"k": key, "v": value})
