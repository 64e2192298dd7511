"""The DDL of `clickhouse-init` in the form for a cluster (`clickhouse-init --cluster NAME` prints it; docs/scale.md):
the same files (sql/functions.sql, sql/tables.sql, sql/rollup_tables.sql, sql/rollups/*.sql) with each statement
`ON CLUSTER`, the events and the rollups sharded, the directory on every node; first, the rollups a migration
dropped (`DROPS`) are dropped if there, so that the same DDL brings a cluster made before up to date.

- events and each rollup: a `<name>_local` table on every node, its engine made Replicated (ZooKeeper path per
  shard, `{shard}` and `{replica}` from each server's macros), and `<name>` a Distributed table over them, so the
  questions' SQL reads `db.events`, `db.cube`… as on one server. Events are sharded by person
  (`cityHash64(user_id)`): a person's events, and so their `user_day` rows, live on one shard, and each shard's
  distinct-people bitmaps are disjoint, which `groupBitmapMerge` over the shards ORs exactly.
- each materialized view reads its node's `events_local` (`active_windows`' reads `people_days_local`) and writes
  its `<rollup>_local`: a block inserted on a replica is aggregated there once, and the other replicas fetch the
  aggregated parts (replicas never run views on fetched parts).
- the directory and telemetry_meta: Replicated with one path for the whole cluster, a full copy on every node, so
  that the questions' joins with it stay local to each shard.

Not run here (chDB has no ClickHouse Keeper); the tests check the text, and that chDB's parser takes every
statement.
"""

from __future__ import annotations

import re

from data.clickhouse import ClickHouseError, database_name
from data.clickhouse.schema import DROPS, ROLLUPS, applied, rollup_select, statements

SHARDED = ("events", *ROLLUPS)
SHARD_KEY = {"events": "cityHash64(user_id)"}  # rollups are never inserted through their Distributed table
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_TABLE = re.compile(r"create table if not exists (\w+)\.(\w+)(.*?)\bengine = (\w+)(\((.*?)\))?(.*)", re.DOTALL)


def _replicated(engine: str, args: str | None, path: str) -> str:
    given = f", {args}" if args else ""
    return f"Replicated{engine}('{path}', '{{replica}}'{given})"


def _table(statement: str, cluster: str) -> list[str]:
    found = _TABLE.fullmatch(statement)
    if not found:
        raise ValueError(f"not a table of the expected form: {statement[:60]}")
    database, name, columns, engine, _, args, rest = found.groups()
    if name not in SHARDED:
        path = f"/clickhouse/tables/all/{database}/{name}"
        return [
            f"create table if not exists {database}.{name} on cluster {cluster}{columns}"
            f"engine = {_replicated(engine, args, path)}{rest}"
        ]
    path = f"/clickhouse/tables/{{shard}}/{database}/{name}"
    key = SHARD_KEY.get(name, "rand()")
    return [
        f"create table if not exists {database}.{name}_local on cluster {cluster}{columns}"
        f"engine = {_replicated(engine, args, path)}{rest}",
        f"create table if not exists {database}.{name} on cluster {cluster} as {database}.{name}_local\n"
        f"engine = Distributed({cluster}, {database}, {name}_local, {key})",
    ]


def cluster_statements(database: str, tz: str, cluster: str) -> list[str]:
    """Every statement that makes the organization's database on cluster `cluster` (a name from the servers'
    remote_servers), for zone `tz`."""
    name = database_name(database)
    if not _NAME.fullmatch(cluster):
        raise ClickHouseError(f"{cluster!r} is not a cluster name (letters, digits and _, not starting with a digit).")
    found = [f"create database if not exists {name} on cluster {cluster}"]
    for rollup in (t for n in sorted(DROPS) for t in DROPS[n]):  # those a migration dropped, views first
        found.append(f"drop view if exists {name}.{rollup}_mv on cluster {cluster}")
        for table in (rollup, f"{rollup}_local"):
            found.append(f"drop table if exists {name}.{table} on cluster {cluster}")
    for function in statements("functions", name):  # create or replace function NAME as …
        found.append(function.replace(" as ", f" on cluster {cluster} as ", 1))
    for table in statements("tables", name) + statements("rollup_tables", name, tz):
        found.extend(_table(table, cluster))
    for rollup in ROLLUPS:
        # a view fires on the inserts into its shard's table: the events', user_month's (user_totals) or people_days'
        # (active_windows)
        select = re.sub(
            rf"\bfrom ({name}\.(?:events|user_month|people_days))\b", r"from \1_local", rollup_select(rollup, name, tz)
        )
        found.append(
            f"create materialized view if not exists {name}.{rollup}_mv on cluster {cluster} "
            f"to {name}.{rollup}_local as {select}"
        )
    # recorded as clickhouse-init records it (the zone is checked by `statements`, FORMAT is ours)
    values = ", ".join(f"('{key}', '{value}')" for key, value in applied(tz).items())
    found.append(f"insert into {name}.telemetry_meta (key, value) values {values}")  # noqa: S608
    return found
