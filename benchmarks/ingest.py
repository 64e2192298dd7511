"""Time a JSONL import of demo events into an empty data folder; run by hand.

    python benchmarks/ingest.py --events 1000000

Makes a demo organization (data/demo/), writes its first N events as JSONL in the platform's
format (ISO timestamps with Z, no cost_usd unless --with-cost, so every record is priced from
directory/prices.parquet), then imports the file with `ingest_files` into a fresh folder that has
only the directory. Prints the import's throughput, then a re-import (every record a duplicate) and
a full compaction, and checks that the rows on disk equal the rows sent. Temporary folders are
removed afterwards.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=2000, help="demo org size (enough for --events)")
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument("--with-cost", action="store_true", help="send cost_usd instead of pricing")
    return parser.parse_args(argv)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_jsonl(source: Path, target: Path, events: int, with_cost: bool) -> int:
    import polars as pl

    from data import schema

    frame = pl.scan_parquet(schema.events_dir(source) / "*" / "*.parquet", hive_partitioning=False)
    frame = frame.head(events).with_columns(
        pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"),
        pl.col("cost_usd").cast(pl.String),
    )
    if not with_cost:
        frame = frame.drop("cost_usd")
    collected = frame.collect()
    collected.write_ndjson(target)
    return collected.height


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(PROJECT))
    import polars as pl

    # Loaded as `flask ingest` has it, with the app: the query layer's first import (Flask, DuckDB, the
    # rollup builder's user index: 0.3 s) is not the import's work.
    import queries  # noqa: F401
    from data import schema
    from data.demo import write_demo
    from data.ingest import compact, ingest_files

    args = parse_arguments(argv)
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    try:
        source, target = work / "source", work / "target"
        write_demo(source, args.users, args.days, 42, args.end)
        path = work / "events.jsonl"
        sent = write_jsonl(source, path, args.events, args.with_cost)
        size = path.stat().st_size
        shutil.copytree(schema.directory_dir(source), schema.directory_dir(target))

        started = time.perf_counter()
        first = ingest_files(target, [path], "jsonl")
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = ingest_files(target, [path], "jsonl")
        reimport_seconds = time.perf_counter() - started
        started = time.perf_counter()
        compacted = compact(target, [first.partitions[-1]])
        compact_seconds = time.perf_counter() - started

        on_disk = pl.scan_parquet(schema.events_dir(target) / "*" / "*.parquet", hive_partitioning=False)
        expected = pl.scan_parquet(schema.events_dir(source) / "*" / "*.parquet", hive_partitioning=False)
        same = on_disk.sort("event_id").collect().equals(expected.head(sent).sort("event_id").collect())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"events={sent:,} bytes_per_event={size / sent:.0f} "
        f"written={first.written:,} quarantined={first.quarantined:,} partitions={len(first.partitions)} "
        f"seconds={seconds:.1f} events_per_s={sent / seconds:,.0f}\n"
        f"reimport: duplicates={again.duplicates:,} seconds={reimport_seconds:.1f} "
        f"events_per_s={sent / reimport_seconds:,.0f}\n"
        f"compact one date ({compacted[0].rows:,} rows, rewritten): seconds={compact_seconds:.2f}\n"
        f"rows on disk equal the demo's rows: {same}; peak_rss_mib={peak_rss_mib():,.0f}"
    )


if __name__ == "__main__":
    main()
