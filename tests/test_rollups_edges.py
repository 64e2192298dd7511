"""Edges of the data the rollups are built from: event files copied in by hand with other types, a write that leaves
a month without events (a purge, an import next to it) leaving what a full build leaves, and builds of the same
events writing the same files."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from data import ingest, schema
from data.ingest.compaction import compact
from data.ingest.purge import Selection
from data.ingest.purge import purge as purge_events
from data.ingest.storage import contract_ts
from data.rollups import build as rollup
from data.rollups.manifest import read_manifest, rollups_check
from tests import org
from tests.test_ingest import NOW, event, jsonl, with_prices
from tests.test_ingest_formats import as_parquet
from tests.test_rollups import TZ, _app, write_demo_org


def _rollup_files(folder: Path) -> dict[str, Path]:
    """Every file and folder of the rollups but the manifest (it names its build), by its path in them."""
    top = folder / "rollups"
    return {str(path.relative_to(top)): path for path in sorted(top.rglob("*")) if path.name != "manifest.json"}


def assert_same_rollups(folder: Path, expected: Path) -> None:
    """The same rollup files and folders, each file holding the same rows (frame-equal), and the bitmaps' length."""
    found, wanted = _rollup_files(folder), _rollup_files(expected)
    assert list(found) == list(wanted)
    for name, path in found.items():
        if path.is_file():
            try:
                assert_frame_equal(_read(path), _read(wanted[name]), check_exact=True)
            except AssertionError as error:
                raise AssertionError(f"{name}: {error}") from None
    assert read_manifest(folder)["capacity"] == read_manifest(expected)["capacity"]


def _read(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path, hive_partitioning=False)


# --- ts in nanoseconds, or without a zone, in a file copied in by hand --------------------------------------------

TS_KINDS: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "ns UTC": lambda ts: ts.dt.cast_time_unit("ns"),
    "ns without a zone": lambda ts: ts.dt.cast_time_unit("ns").dt.replace_time_zone(None),
    "us without a zone": lambda ts: ts.dt.replace_time_zone(None),  # main took it for New York's wall clock
    "ns Paris": lambda ts: ts.dt.cast_time_unit("ns").dt.convert_time_zone("Europe/Paris"),
    "ms UTC": lambda ts: ts.dt.cast_time_unit("ms"),
}


def _rewrite(part: Path, change: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
    change(pl.read_parquet(part, hive_partitioning=False)).write_parquet(part)


@pytest.mark.parametrize("files", ["the first", "every"])
@pytest.mark.parametrize("kind", list(TS_KINDS))
def test_event_files_with_ts_of_another_unit_or_zone_give_the_same_rollups(tmp_path: Path, kind: str, files: str):
    """The tiny org's files rewritten by hand with `ts` as given (the same instants), the first one (whose types
    DuckDB gives every file) or all: `flask rollup` and an import's update write what they write from the
    writer's own files."""
    expected, folder = tmp_path / "expected", tmp_path / "data"
    for each in (expected, folder):
        org.write_org(each)
        with_prices(each)
    parts = sorted(folder.glob("events/utc_date=*/*.parquet"))
    for part in parts[:1] if files == "the first" else parts:
        _rewrite(part, lambda frame: frame.with_columns(TS_KINDS[kind](pl.col("ts"))))
    for each in (expected, folder):
        result = _app(each, TZ).test_cli_runner().invoke(args=["rollup"])
        assert result.exit_code == 0, result.output
    assert_same_rollups(folder, expected)
    batch = jsonl(tmp_path / "more.jsonl", event("more-1", "2026-02-25T23:30:00Z"), event("more-2", user_id="u5"))
    for each in (expected, folder):  # the import's update of a few days
        summary = ingest.ingest_files(each, [batch], now=NOW, tz=TZ)
        assert summary.written == 2 and summary.rollup_error is None
    assert_same_rollups(folder, expected)


def _imported_as_parquet(folder: Path, records: list[dict], alter: Callable[[Path, Path], object]) -> pl.DataFrame:
    """The events stored by importing `records` as a Parquet file, altered first by `alter(source, folder)`, into a
    new org at `folder` (every record written)."""
    org.write_org(folder, [])
    with_prices(folder)
    source = as_parquet(folder.parent / f"{folder.name}.parquet", records)
    alter(source, folder)
    assert ingest.ingest_files(folder, [source], now=NOW, tz=TZ).written == len(records)
    return pl.read_parquet(schema.events_dir(folder) / "*" / "*.parquet").sort("event_id")


def test_a_parquet_import_with_ts_in_nanoseconds_stores_what_microseconds_store(tmp_path: Path) -> None:
    records = [event(f"n{n}", ts=f"2026-03-0{1 + n % 5}T1{n % 10}:00:00.123456Z") for n in range(20)]
    stored = {
        unit: _imported_as_parquet(
            tmp_path / unit,
            records,
            lambda source, _, unit=unit: _rewrite(
                source, lambda frame: frame.with_columns(pl.col("ts").dt.cast_time_unit(unit))
            ),
        )
        for unit in ("us", "ns")
    }
    assert stored["ns"].schema == stored["us"].schema and stored["ns"]["ts"].dtype == schema.UTC_TS
    assert_frame_equal(stored["ns"], stored["us"])
    assert_same_rollups(tmp_path / "ns", tmp_path / "us")


def test_a_file_with_ts_in_nanoseconds_is_compacted_and_purged_as_the_rollups_read_it(tmp_path: Path) -> None:
    """A hand-copied file whose instants have digits below the microsecond: DuckDB reads them rounded to it (half up),
    and a compaction or a purge rewrites them so; main's rewrite refused it ("would lose data")."""
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    day = schema.partition_dir(folder, "2026-03-02")
    extra = {"e1": 499, "e2": 500}  # nanoseconds past the event's instant: 10:00:00.000000 and 15:30:00.000001
    pl.read_parquet(day / "part-0.parquet", hive_partitioning=False).with_columns(
        pl.col("event_id") + "-copy",
        pl.col("ts").dt.cast_time_unit("ns") + pl.duration(nanoseconds=pl.col("event_id").replace_strict(extra)),
    ).write_parquet(day / "by-hand.parquet")
    rollup.build(folder, TZ)
    built = tmp_path / "built"
    shutil.copytree(folder, built)
    assert [(done.files_before, done.files_after) for done in compact(folder)] == [(2, 1)]
    stored = pl.read_parquet(day / "*.parquet").filter(pl.col("event_id").str.ends_with("-copy"))
    assert stored["ts"].dt.microsecond().to_list() == [0, 1] and stored["ts"].dtype == schema.UTC_TS
    assert rollups_check(folder, TZ)[1] is None  # a compaction changes no row: the rollups stand
    rollup.build(folder, TZ)
    assert_same_rollups(folder, built)
    done = purge_events(folder, Selection(event_ids=frozenset({"e1-copy"})), TZ)
    assert done.events == 1 and done.rollup_error is None


def test_nanoseconds_are_rounded_to_the_microsecond_as_duckdb_casts_them(tmp_path: Path) -> None:
    """Half away from zero, before 1970 too (epoch nanoseconds → microseconds worked out by hand), in any zone."""
    nanoseconds = [499, 500, 1_500, 2_500, -499, -500, -1_500, -2_500, -1_000_000_501]
    expected = [0, 1, 2, 3, 0, -1, -2, -3, -1_000_001]
    for zone in ("UTC", None, "Europe/Paris"):
        column = pa.chunked_array([pa.array(nanoseconds, pa.timestamp("ns", zone))])
        assert contract_ts(column).cast(pa.int64()).to_pylist() == expected
        pq.write_table(pa.table({"ts": column}), tmp_path / "ns.parquet")
        cast = "select epoch_us(ts::timestamptz) from read_parquet($path)"
        with duckdb.connect() as con:
            con.execute("set TimeZone = 'UTC'")
            assert [us for (us,) in con.execute(cast, {"path": str(tmp_path / "ns.parquet")}).fetchall()] == expected


def test_a_file_in_nanoseconds_of_a_zone_with_a_repeated_hour_is_compacted(tmp_path: Path) -> None:
    """Paris' clocks go back at 01:00 UTC on 25 October 2026: 00:30 and 01:30 UTC are both 02:30 there. A hand-copied
    file with such instants in nanoseconds of that zone is compacted (the branch's rounding on wall clocks failed:
    "Local time is ambiguous"), each instant rounded to its own microsecond."""
    folder = tmp_path / "data"
    org.write_org(folder)
    day = schema.partition_dir(folder, "2026-10-25")
    day.mkdir()
    instants = {
        "e1": dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),
        "e2": dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),
    }
    source = pl.read_parquet(schema.partition_dir(folder, "2026-03-02") / "part-0.parquet", hive_partitioning=False)
    for name, suffix in (("part-0", ""), ("by-hand", "-copy")):
        source.with_columns(
            pl.col("event_id") + suffix,
            ts=(pl.col("event_id").replace_strict(instants, return_dtype=schema.UTC_TS).dt.cast_time_unit("ns")
                + pl.duration(nanoseconds=500)).dt.convert_time_zone("Europe/Paris"),
        ).write_parquet(day / f"{name}.parquet")  # fmt: skip
    assert [(done.files_before, done.files_after) for done in compact(folder, partitions=["2026-10-25"])] == [(2, 1)]
    stored = pl.read_parquet(day / "*.parquet").sort("event_id")
    one = dt.timedelta(microseconds=1)
    assert stored["ts"].to_list() == [
        instants["e1"] + one,
        instants["e1"] + one,
        instants["e2"] + one,
        instants["e2"] + one,
    ]


def test_an_event_file_with_its_columns_in_another_order_gives_the_same_rollups(tmp_path: Path) -> None:
    """February's only file (a month of its own in New York) copied in by hand with its columns reversed."""
    expected, folder = tmp_path / "expected", tmp_path / "data"
    for each in (expected, folder):
        org.write_org(each)
    _rewrite(folder / "events" / "utc_date=2026-02-25" / "part-0.parquet", lambda f: f.select(reversed(f.columns)))
    for each in (expected, folder):
        rollup.build(each, TZ)
    assert_same_rollups(folder, expected)
    assert compact(folder, partitions=["2026-02-25"])[0].rows == 1
    [part] = schema.partition_dir(folder, "2026-02-25").glob("*.parquet")
    assert pl.read_parquet_schema(part) == schema.EVENTS  # the contract's order


# --- A file copied in by hand without a column -----------------------------------------------------------------------


def _without_latency(folder: Path) -> Path:
    """A copy of 9 March's file (new ids) without `latency_ms`, put beside it by hand; answers its path."""
    day = schema.partition_dir(folder, "2026-03-09")
    frame = pl.read_parquet(day / "part-0.parquet", hive_partitioning=False)
    frame.with_columns(pl.col("event_id") + "-copy").drop("latency_ms").write_parquet(day / "by-hand.parquet")
    return day / "by-hand.parquet"


def _contents(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_compact_and_rollup_name_an_event_file_without_a_column_and_change_nothing(tmp_path: Path) -> None:
    """Main failed the compaction with a bare KeyError and the build in DuckDB's words ("schema mismatch in glob")."""
    folder = tmp_path / "data"
    org.write_rolled_up(folder, _tiny, tz=TZ)
    path = _without_latency(folder)
    before = {name: _contents(folder / name) for name in ("events", "rollups")}
    runner = _app(folder, TZ).test_cli_runner()
    for command in (["compact"], ["rollup"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 1 and f"Error: {path} has no column latency_ms" in result.output, result.output
    assert {name: _contents(folder / name) for name in ("events", "rollups")} == before


def test_a_purge_beside_an_event_file_without_a_column_names_it_and_rewrites_no_date(tmp_path: Path) -> None:
    """Every event purged: main rewrote the dates before 9 March, then failed there with a bare KeyError."""
    folder = tmp_path / "data"
    org.write_rolled_up(folder, _tiny, tz=TZ)
    path = _without_latency(folder)
    before = _contents(folder / "events")
    with pytest.raises(schema.EventFileError, match=f"^{path} has no column latency_ms"):
        purge_events(folder, Selection(first=dt.date(2000, 1, 1)), TZ)
    assert _contents(folder / "events") == before


def test_an_import_beside_an_event_file_without_a_column_writes_its_events(tmp_path: Path) -> None:
    """Main's import failed on the date's duplicate check (Polars: "extra column in file outside of expected
    schema"). Now its event is written, the date left uncompacted, and the rollups' update names the file."""
    folder = tmp_path / "data"
    org.write_rolled_up(folder, _tiny, tz=TZ)
    path = _without_latency(folder)
    batch = jsonl(tmp_path / "more.jsonl", event("more-1", "2026-03-09T12:00:00Z"))
    summary = ingest.ingest_files(folder, [batch], compact_after_files=1, now=NOW, tz=TZ)
    assert summary.written == 1 and summary.compacted == ()
    assert summary.rollup_error.startswith(f"{path} has no column latency_ms")
    assert len(list(path.parent.glob("*.parquet"))) == 3 and path.exists()


# --- A purge that empties a month ------------------------------------------------------------------------------------


def _tiny(folder: Path) -> None:
    org.write_org(folder)
    with_prices(folder)


PURGES = {
    # the tiny org's February in New York: e0 alone (25 February), its UTC date purged
    "the first month": (_tiny, Selection(last=dt.date(2026, 2, 28))),
    # the demo's April (1-20), and the last hours of 31 March in New York: every UTC date from 1 April
    "the last month": (write_demo_org, Selection(first=dt.date(2026, 4, 1))),
    # the demo's February, and 1 March in New York: local February wholly in UTC 1 February .. 1 March
    "a month in the middle": (write_demo_org, Selection(first=dt.date(2026, 2, 1), last=dt.date(2026, 3, 1))),
    # every event
    "every month": (_tiny, Selection(first=dt.date(2000, 1, 1))),
}
EMPTIED = {"the first month": "2026-02", "the last month": "2026-04", "a month in the middle": "2026-02"}


@pytest.mark.parametrize("emptied", list(PURGES))
def test_a_purge_that_empties_a_month_leaves_the_rollups_a_build_of_the_rest_writes(tmp_path: Path, emptied: str):
    write, selection = PURGES[emptied]
    folder = tmp_path / "data"
    org.write_rolled_up(folder, write, tz=TZ)
    done = purge_events(folder, selection, TZ)
    assert done.events and done.rollup_error is None and rollups_check(folder, TZ)[1] is None
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(folder, rebuilt)
    rollup.build(rebuilt, TZ)  # all again, from the events left (the people's codes kept, as every build keeps them)
    assert_same_rollups(folder, rebuilt)
    months = {name.split("/")[1] for name in _rollup_files(folder) if name.startswith("cube/")}
    assert f"month={EMPTIED.get(emptied)}" not in months


def test_an_import_next_to_a_month_without_events_leaves_the_rollups_a_full_build_writes(tmp_path: Path) -> None:
    """An event late on 31 December in New York (1 January in UTC): its update takes in the local days of both UTC
    dates' sides, January's too, which has no event; main wrote January files of no rows, which no build writes."""
    folder = tmp_path / "data"
    org.write_rolled_up(folder, _tiny, tz=TZ)
    summary = ingest.ingest_files(folder, [jsonl(tmp_path / "late.jsonl", event("late", "2026-01-01T03:00:00Z"))],
                                  now=NOW, tz=TZ)  # fmt: skip
    assert summary.written == 1 and summary.rollup_error is None
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(folder, rebuilt)
    rollup.build(rebuilt, TZ)
    assert_same_rollups(folder, rebuilt)
    assert "cube/month=2025-12/part-0.parquet" in _rollup_files(folder)
    # January keeps the sets of the week that ends in it, and its days' trailing windows; no rows of its own
    assert not {f"{table}/month=2026-01" for table in rollup.TABLES} & set(_rollup_files(folder))


# --- The same events, the same files -----------------------------------------------------------------------------


def _demo_with_people_of_no_team(folder: Path) -> None:
    """The demo with a third of its people in no team (their events' team_id null)."""
    write_demo_org(folder)
    people = sorted(pl.read_parquet(folder / "directory" / "users.parquet")["user_id"])
    no_team = pl.when(pl.col("user_id").is_in(people[::3])).then(None).otherwise("team_id").alias("team_id")
    for part in folder.glob("events/utc_date=*/*.parquet"):
        _rewrite(part, lambda frame: frame.with_columns(no_team))


def test_builds_of_the_same_events_with_people_of_no_team_write_the_same_files(tmp_path: Path) -> None:
    """People of no team have sets with the keys of every team's (both null), which main's sort left in any order.
    Built three times, on one thread and on two: every file the same, byte for byte."""
    source = tmp_path / "source"
    _demo_with_people_of_no_team(source)
    digests = []
    for number, threads in enumerate((1, 2, 2)):
        folder = tmp_path / f"build-{number}"
        shutil.copytree(source, folder)
        rollup.build(folder, TZ, threads=threads)
        files = {name: path for name, path in _rollup_files(folder).items() if path.is_file()}
        digests.append({name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files.items()})
    assert any(name.startswith("user_sets/") for name in digests[0])
    assert digests[1] == digests[0] and digests[2] == digests[0]


def test_an_update_with_people_of_no_team_writes_the_rows_of_a_full_build_in_its_order(tmp_path: Path) -> None:
    """An update sorts a month's kept rows with its new ones: the null team last, as the builders' SQL puts it (main
    put it first, so the cube and hours files of an update were in another order than a full build's)."""
    folder = tmp_path / "data"
    org.write_rolled_up(folder, _demo_with_people_of_no_team, tz=TZ)
    full = tmp_path / "full"
    shutil.copytree(folder, full)
    rollup.build(folder, TZ, [dt.date(2026, 3, 7), dt.date(2026, 3, 8), dt.date(2026, 3, 9), dt.date(2026, 4, 1)])
    assert_same_rollups(folder, full)


# --- A column of Parquet's null type (all null, as Polars writes `pl.Null`) in a file copied in by hand --------------

NULL_COLUMNS = ("model", "team_id", "cost_usd", "latency_ms")


def _all_null(folder: Path, column: str, parts: list[Path], typed: bool) -> None:
    """`column` made null in `parts`: of the contract's type (`typed`), or of Parquet's null type."""
    value = pl.lit(None, dtype=schema.EVENTS[column]) if typed else pl.lit(None)
    for part in parts:
        _rewrite(part, lambda frame: frame.with_columns(value.alias(column)))
    if not typed:
        assert pl.read_parquet_schema(parts[0])[column] == pl.Null


@pytest.mark.parametrize("files", ["the first", "every"])
@pytest.mark.parametrize("column", NULL_COLUMNS)
def test_event_files_with_a_column_of_the_null_type_give_the_rollups_of_nulls_of_its_type(
    tmp_path: Path, column: str, files: str
) -> None:
    """Main's build failed in DuckDB's reader ("failed to cast column ... to NULL"): the first file gives every
    file its types. The same rollups as the same nulls written with the contract's type, through `flask rollup`,
    an import's update, a compaction and a purge of that file's date."""
    expected, folder = tmp_path / "expected", tmp_path / "data"
    for each in (expected, folder):
        org.write_org(each)
        with_prices(each)
        parts = sorted(each.glob("events/utc_date=*/*.parquet"))
        _all_null(each, column, parts[:1] if files == "the first" else parts, typed=each == expected)
    for each in (expected, folder):
        result = _app(each, TZ).test_cli_runner().invoke(args=["rollup"])
        assert result.exit_code == 0, result.output
    assert_same_rollups(folder, expected)
    batch = jsonl(tmp_path / "more.jsonl", event("more-1", "2026-02-25T23:30:00Z"), event("more-2", user_id="u5"))
    for each in (expected, folder):  # 25 February: the first file's date, compacted after the import
        summary = ingest.ingest_files(each, [batch], compact_after_files=1, now=NOW, tz=TZ)
        assert summary.written == 2 and summary.rollup_error is None
        assert "2026-02-25" in summary.compacted
    assert_same_rollups(folder, expected)
    first = sorted(folder.glob("events/utc_date=*/*.parquet"))[0]
    assert pl.read_parquet_schema(first) == schema.EVENTS  # rewritten in the contract's types
    for each in (expected, folder):
        done = purge_events(each, Selection(event_ids=frozenset({"e0"})), TZ)
        assert done.events == 1 and done.rollup_error is None
    assert_same_rollups(folder, expected)


def test_a_compaction_and_a_purge_rewrite_a_column_of_the_null_type_in_the_contracts_type(tmp_path: Path) -> None:
    """A hand-copied file beside the writer's (a date's second, not the first file DuckDB reads types from)."""
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    day = schema.partition_dir(folder, "2026-03-02")
    source = pl.read_parquet(day / "part-0.parquet", hive_partitioning=False)
    source.with_columns(pl.col("event_id") + "-copy", pl.lit(None).alias("cost_usd")).write_parquet(
        day / "by-hand.parquet"
    )
    rollup.build(folder, TZ)
    purged = tmp_path / "purged"
    shutil.copytree(folder, purged)
    assert [(done.files_before, done.files_after) for done in compact(folder)] == [(2, 1)]
    done = purge_events(purged, Selection(event_ids=frozenset({"e1-copy"})), TZ)
    assert done.events == 1 and done.rollup_error is None
    for each, left in ((folder, 2), (purged, 1)):
        parts = sorted(schema.partition_dir(each, "2026-03-02").glob("*.parquet"))
        assert [pl.read_parquet_schema(part) for part in parts] == [schema.EVENTS] * len(parts)
        copies = pl.read_parquet(parts).filter(pl.col("event_id").str.ends_with("-copy"))
        assert copies.height == left and copies["cost_usd"].null_count() == left


def test_a_parquet_import_with_a_column_of_the_null_type_stores_it_in_the_contracts_type(tmp_path: Path) -> None:
    """Passes on main: the import casts a null-typed column to the contract's type (data/ingest/readers.py)."""
    records = [event(f"n{n}", ts=f"2026-03-0{1 + n % 5}T1{n % 10}:00:00Z") for n in range(20)]
    stored = {
        kind: _imported_as_parquet(
            tmp_path / kind,
            records,
            lambda source, folder, kind=kind: _all_null(folder, "conversation_id", [source], typed=kind == "typed"),
        )
        for kind in ("typed", "null")
    }
    assert stored["null"].schema == stored["typed"].schema and stored["null"]["conversation_id"].null_count() == 20
    assert_frame_equal(stored["null"], stored["typed"])
    assert_same_rollups(tmp_path / "null", tmp_path / "typed")


def test_a_clickhouse_load_reads_a_column_of_the_null_type_as_nulls_of_its_type(tmp_path: Path) -> None:
    """`clickhouse-load`'s read of a date: each file in the contract's types (no chDB needed to read it)."""
    from data.clickhouse import load

    expected, folder = tmp_path / "expected", tmp_path / "data"
    for each in (expected, folder):
        org.write_org(each)
        _all_null(each, "latency_ms", sorted(each.glob("events/utc_date=2026-03-02/*.parquet")), typed=each == expected)
    day = dt.date(2026, 3, 2)
    assert_frame_equal(load._date_events(folder, day), load._date_events(expected, day))


def test_a_first_file_of_the_null_type_without_a_column_is_named_and_nothing_changes(tmp_path: Path) -> None:
    """Read by name, a missing column would be nulls: the build names the file instead, as for any file."""
    folder = tmp_path / "data"
    org.write_rolled_up(folder, _tiny, tz=TZ)
    _all_null(folder, "model", sorted(folder.glob("events/utc_date=*/*.parquet"))[:1], typed=False)
    path = _without_latency(folder)
    before = {name: _contents(folder / name) for name in ("events", "rollups")}
    result = _app(folder, TZ).test_cli_runner().invoke(args=["rollup"])
    assert result.exit_code == 1 and f"Error: {path} has no column latency_ms" in result.output, result.output
    assert {name: _contents(folder / name) for name in ("events", "rollups")} == before
