"""`clickhouse-init --cluster NAME`: the DDL in its cluster form (data/clickhouse/cluster.py), checked as text and
by chDB's parser (chDB has no ClickHouse Keeper to run it)."""

from __future__ import annotations

import pytest

pytest.importorskip("chdb", reason="chDB is in requirements.txt: `make test` installs it")

from data.clickhouse import ClickHouseError  # noqa: E402
from data.clickhouse.cluster import cluster_statements  # noqa: E402
from data.clickhouse.load import load  # noqa: E402
from data.clickhouse.schema import FORMAT, MIGRATION, init  # noqa: E402
from tests.conftest import make_app  # noqa: E402

TZ = "America/New_York"


def _one(statements: list[str], start: str) -> str:
    found = [s for s in statements if s.startswith(start)]
    assert len(found) == 1, start
    return found[0]


def test_every_statement_runs_on_the_cluster_and_parses(chdb) -> None:
    statements = cluster_statements("acme", TZ, "telemetry")
    # the database, the 2 rollups migration 5 dropped (view, table, local table), 5 functions, 7 tables unsharded
    # (directory, meta, the people codes), events and 10 rollups local + Distributed, 10 views, what was applied
    # recorded
    assert len(statements) == 1 + 2 * 3 + 5 + 7 + 2 * 11 + 10 + 1
    engine = chdb
    for statement in statements:
        # the record is inserted on one node: telemetry_meta replicates it to every other
        assert " on cluster telemetry" in statement or statement.startswith("insert into acme.telemetry_meta")
        engine.arrow(f"explain ast {statement}")  # raises if ClickHouse cannot parse it


def test_the_cluster_ddl_records_its_format_and_zone_as_clickhouse_init_does() -> None:
    assert cluster_statements("acme", TZ, "telemetry")[-1] == (
        "insert into acme.telemetry_meta (key, value) values "  # noqa: S608
        f"('format', '{FORMAT}'), ('tz', '{TZ}'), ('migration', '{MIGRATION}')"
    )


def test_init_and_load_refuse_a_database_in_the_cluster_form(chdb, tmp_path) -> None:
    engine = chdb
    engine.command("create database if not exists clustered")
    engine.command("create table if not exists clustered.events_local (event_id String) engine = MergeTree order by ()")
    with pytest.raises(ClickHouseError, match="clustered is in the cluster form .* clickhouse-init runs on a single"):
        init(engine, "clustered", TZ)
    (tmp_path / "events").mkdir()
    with pytest.raises(ClickHouseError, match="clickhouse-load runs on a single server only"):
        load(engine, "clustered", tmp_path)
    engine.command("drop database clustered")


def test_events_are_sharded_by_person_and_replicated_per_shard() -> None:
    statements = cluster_statements("acme", TZ, "telemetry")
    local = _one(statements, "create table if not exists acme.events_local on cluster telemetry (")
    assert "engine = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/acme/events', '{replica}')" in local
    assert local.endswith("partition by toYYYYMM(ts)\norder by (team_id, agent_id, ts, event_id)")
    assert _one(statements, "create table if not exists acme.events on cluster") == (
        "create table if not exists acme.events on cluster telemetry as acme.events_local\n"
        "engine = Distributed(telemetry, acme, events_local, cityHash64(user_id))"
    )


def test_each_view_aggregates_its_node_events_into_its_local_rollup() -> None:
    statements = cluster_statements("acme", TZ, "telemetry")
    for rollup, engine in (("cube", "AggregatingMergeTree"), ("user_day", "AggregatingMergeTree")):
        view = _one(statements, f"create materialized view if not exists acme.{rollup}_mv")
        assert f"on cluster telemetry to acme.{rollup}_local as select" in view
        assert "from acme.events_local" in view and "from acme.events\n" not in view
        assert "toDate(ts, 'America/New_York') as day" in view
        local = _one(statements, f"create table if not exists acme.{rollup}_local")
        assert f"Replicated{engine}('/clickhouse/tables/{{shard}}/acme/{rollup}', '{{replica}}')" in local


def test_the_rollups_a_migration_dropped_are_dropped_first_views_before_tables() -> None:
    """user_sets and user_weeks (dropped by migration 5): the same DDL brings a cluster made before up to date."""
    statements = cluster_statements("acme", TZ, "telemetry")
    assert statements[1:7] == [
        f"drop {kind} if exists acme.{name} on cluster telemetry"
        for rollup in ("user_sets", "user_weeks")
        for kind, name in (("view", f"{rollup}_mv"), ("table", rollup), ("table", f"{rollup}_local"))
    ]
    assert not [s for s in statements[7:] if "user_sets" in s or "user_weeks" in s]


def test_the_view_of_whole_histories_reads_its_node_user_month() -> None:
    statements = cluster_statements("acme", TZ, "telemetry")
    view = _one(statements, "create materialized view if not exists acme.user_totals_mv")
    assert "on cluster telemetry to acme.user_totals_local as select" in view
    assert "from acme.user_month_local\n" in view and "from acme.user_month\n" not in view


def test_the_directory_is_a_full_copy_on_every_node() -> None:
    statements = cluster_statements("acme", TZ, "telemetry")
    users = _one(statements, "create table if not exists acme.users on cluster")
    assert "engine = ReplicatedMergeTree('/clickhouse/tables/all/acme/users', '{replica}')" in users
    meta = _one(statements, "create table if not exists acme.telemetry_meta on cluster")
    assert "ReplicatedReplacingMergeTree('/clickhouse/tables/all/acme/telemetry_meta', '{replica}', at)" in meta
    assert not [s for s in statements if "acme.users_local" in s]


def test_clickhouse_init_cluster_prints_the_ddl_without_connecting(data_dir, password_hash) -> None:
    app = make_app(data_dir, password_hash, CLICKHOUSE_DATABASE="acme", ORG_TIMEZONE=TZ)
    done = app.test_cli_runner().invoke(args=["clickhouse-init", "--cluster", "telemetry"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("create database if not exists acme on cluster telemetry;\n\n")
    assert done.output.count(";\n\n") == len(cluster_statements("acme", TZ, "telemetry"))
    refused = app.test_cli_runner().invoke(args=["clickhouse-init", "--cluster", "tele-metry"])
    assert refused.exit_code != 0 and "'tele-metry' is not a cluster name" in refused.output


def test_the_people_codes_are_a_replicated_copy_on_every_node_the_bitmap_views_join() -> None:
    """user_codes is replicated whole to every node (one path), as the directory: each shard's bitmap views join
    their node's copy with the node's events."""
    statements = cluster_statements("acme", TZ, "telemetry")
    codes = _one(statements, "create table if not exists acme.user_codes on cluster")
    assert "engine = ReplicatedMergeTree('/clickhouse/tables/all/acme/user_codes', '{replica}')" in codes
    assert not [s for s in statements if "acme.user_codes_local" in s]
    for rollup in ("people_days", "people_weeks", "people_months"):
        view = _one(statements, f"create materialized view if not exists acme.{rollup}_mv")
        assert f"on cluster telemetry to acme.{rollup}_local as select" in view
        assert "from acme.events_local as events\ninner join acme.user_codes as codes" in view


def test_the_windows_view_reads_its_node_people_days() -> None:
    """active_windows is kept from the rows inserted into the node's people_days: a person's events, and so their
    codes, live on one shard, so each shard's windows are disjoint sets that groupBitmapMerge ORs exactly."""
    statements = cluster_statements("acme", TZ, "telemetry")
    view = _one(statements, "create materialized view if not exists acme.active_windows_mv")
    assert "on cluster telemetry to acme.active_windows_local as select" in view
    assert "from acme.people_days_local\n" in view and "from acme.people_days\n" not in view
