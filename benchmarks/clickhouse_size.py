"""What an event costs on each backend, for docs/scale.md: bytes per event in the Parquet data folder and in
ClickHouse's MergeTree (compressed, on chDB, after the parts merged), and how fast each engine scans the events;
run by hand, not in CI.

    python benchmarks/clickhouse_size.py --events 1000000 --out /work/scratch/<you>/size

Generates the demo organization at about --events events over a year (the demo's 8.3 events per person per day)
into OUT/data, loads it into chDB at OUT/chdb (`clickhouse-init`, `clickhouse-load`), merges the parts, reads
system.parts and system.columns, and times one full scan of the events (per team: events, cost, distinct people)
on chDB and on DuckDB over the Parquet files, CPU time beside wall time. Prints a Markdown section.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

import duckdb

from data import schema
from data.clickhouse import chdb_connection
from data.clickhouse.load import load
from data.clickhouse.schema import init
from data.demo import write_demo

EVENTS_PER_USER_DAY = 8.3  # the demo org's rate (benchmarks/bench.py)
END, TZ, DAYS = dt.date(2026, 11, 20), "America/New_York", 365
SCAN_CH = (
    "select team_id, count() as n, sum(cost_usd) as cost, uniqExact(user_id) as people "
    "from size.events group by team_id"
)
SCAN_DUCKDB = (
    "select team_id, count(*) as n, sum(cost_usd) as cost, count(distinct user_id) as people "
    "from read_parquet(?, hive_partitioning = false) group by team_id"
)


def timed(run) -> tuple[float, float]:
    """(wall, CPU) seconds of `run()`; chDB and DuckDB work in this process's threads, so its CPU time counts."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    data, engine_dir = args.out / "data", args.out / "chdb"
    if not schema.events_dir(data).is_dir():
        write_demo(data, max(10, round(args.events / (EVENTS_PER_USER_DAY * DAYS))), DAYS, seed=42, end=END, tz=TZ)
    files = sorted(schema.events_dir(data).rglob("*.parquet"))
    parquet_bytes = sum(f.stat().st_size for f in files)
    connection = chdb_connection(engine_dir)
    init(connection, "size", TZ)
    loaded = timed(lambda: load(connection, "size", data))
    connection.command("optimize table size.events final")
    parts = connection.arrow(
        "select table, sum(rows) as rows, sum(data_compressed_bytes) as compressed, "
        "sum(data_uncompressed_bytes) as raw, sum(bytes_on_disk) as disk from system.parts "
        "where database = 'size' and active group by table order by table"
    ).to_pylist()
    columns = connection.arrow(
        "select name, data_compressed_bytes as compressed, data_uncompressed_bytes as raw from system.columns "
        "where database = 'size' and table = 'events' order by compressed desc"
    ).to_pylist()
    events = next(p for p in parts if p["table"] == "events")
    n = events["rows"]
    people = duckdb.execute("select count(*) from read_parquet(?)", [str(schema.directory_dir(data) / "users.parquet")])
    users = people.fetchone()[0]
    print(f"## {os.environ.get('BRANCH', 'h24-http')}: bytes per event and scan rates, {n:,} events\n")
    rate = n / users / DAYS
    print(f"load {os.getloadavg()[0]:.1f}; {users:,} people, {DAYS} days: {rate:.2f} events per person per day")
    print(
        f"clickhouse-load: {loaded[0]:.1f} s wall, {loaded[1]:.1f} s CPU ({n / loaded[1]:,.0f} events per CPU second)\n"
    )
    print("| where | bytes | bytes per event |\n|---|---:|---:|")
    print(f"| Parquet files ({len(files)}) | {parquet_bytes:,} | {parquet_bytes / n:.1f} |")
    for p in parts:
        print(f"| chDB {p['table']}: compressed / on disk ({p['rows']:,} rows) | {p['compressed']:,} / {p['disk']:,} "
              f"| {p['compressed'] / n:.1f} / {p['disk'] / n:.1f} |")  # fmt: skip
    print(f"| chDB events uncompressed | {events['raw']:,} | {events['raw'] / n:.1f} |\n")
    print("| events column | compressed bytes per event | uncompressed |\n|---|---:|---:|")
    for c in columns:
        print(f"| {c['name']} | {c['compressed'] / n:.2f} | {c['raw'] / n:.2f} |")
    globbed = [str(f) for f in files]
    con = duckdb.connect()
    con.execute("set threads = 2")
    print("\n| full scan per team (events, cost, distinct people) | wall s | CPU s | events per CPU s |")
    print("|---|---:|---:|---:|")
    for label, run in (
        ("chDB (MergeTree)", lambda: connection.arrow(SCAN_CH)),
        ("DuckDB (Parquet)", lambda: con.execute(SCAN_DUCKDB, [globbed]).fetchall()),
    ):
        run()  # warm: the files in the page cache, the engine's caches filled
        samples = sorted(timed(run) for _ in range(args.samples))
        wall, cpu = samples[len(samples) // 2]
        print(f"| {label}, median of {args.samples} | {wall:.3f} | {cpu:.3f} | {n / cpu:,.0f} |")


if __name__ == "__main__":
    main()
