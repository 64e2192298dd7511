"""Writes on the ClickHouse backend (chDB): `flask ingest` throughput beside the Parquet backend, and freshness
(an OTLP span posted to the receiver until a question answers with it); run by hand.

    python benchmarks/chdb_writes.py --events 1000000 --rounds 2 --freshness 40

Inputs as benchmarks/ingest.py makes them (the demo's year, a directory of `--people`, no cost sent). Each round,
in alternating order: `flask --app app ingest` of the Parquet file (and of the JSONL file) into a fresh data folder
holding only the directory (TELEMETRY_BACKEND=duckdb: the first write builds the rollups), and into a fresh chDB
database holding only the directory (TELEMETRY_BACKEND=chdb, after `clickhouse-load` of the directory; the
materialized views fill the rollups), then the same file again (every record a duplicate). Each is a child
process: its own count of seconds (what it prints), wall time and CPU seconds (user + system) with start-up, peak
RSS, the 1-minute load average as it started.

Freshness: the app (TELEMETRY_BACKEND=chdb over the last round's database) served by a threaded Werkzeug server in
this process; `--freshness` times, an OTLP/JSON request with one new `invoke_agent` span is posted to /v1/traces,
then /api/v1/summary for the span's day is asked until it counts it: milliseconds from the post until that answer
(and of them, the post's own answer: the receiver acknowledges once the insert is done).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import ingest  # benchmarks/ingest.py, beside this file

PROJECT = Path(__file__).resolve().parents[1]


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=36_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20))
    parser.add_argument("--tz", default="America/New_York")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--formats", default="parquet,jsonl")
    parser.add_argument("--freshness", type=int, default=40, help="OTLP posts timed until visible")
    parser.add_argument("--work", type=Path, help="folder for inputs and targets (default: a temporary one)")
    parser.add_argument("--freshness-on", type=Path, nargs=2, metavar=("CHDB_PATH", "DATA_DIR"),
                        help="only the freshness, on a chDB database (--database) and its data folder")
    parser.add_argument("--database", default="bench", help="CLICKHOUSE_DATABASE, with --freshness-on")  # fmt: skip
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args(argv)
    args.otlp_events, args.before = 0, None  # what ingest.make_inputs reads
    return args


@dataclass
class Run:
    backend: str
    fmt: str
    load: float
    seconds: float
    wall: float
    cpu: float
    rss_mib: float
    written: int
    again_seconds: float
    again_cpu: float
    again_duplicates: int


def _env(backend: str, data_dir: Path, chdb_path: Path, args) -> dict[str, str]:
    env = {**os.environ, "TELEMETRY_DATA_DIR": str(data_dir), "ORG_TIMEZONE": args.tz, "PYTHONPATH": str(PROJECT)}
    if backend == "chdb":
        env |= {"TELEMETRY_BACKEND": "chdb", "CHDB_PATH": str(chdb_path), "CLICKHOUSE_DATABASE": "bench"}
    return env


def _ingest(env: dict, path: Path, fmt: str, args) -> tuple:
    command = [args.python, "-m", "flask", "--app", "app", "ingest", "--format", fmt, str(path)]
    output, wall, rss, cpu = ingest.child(command, PROJECT, env)
    found = ingest._COUNTS.search(output)
    if found is None:
        raise RuntimeError(f"no counts in the output of {command}:\n{output}")
    _read, written, duplicates, _quarantined = (int(g.replace(",", "")) for g in found.groups()[:4])
    return float(found.group(5)), wall, rss, cpu, written, duplicates


def import_twice(backend: str, fmt: str, work: Path, source: Path, args) -> Run:
    from data import schema

    data_dir, chdb_path = work / f"target-{backend}-{fmt}", work / f"chdb-{backend}-{fmt}"
    for folder in (data_dir, chdb_path):
        shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(schema.directory_dir(source), schema.directory_dir(data_dir))
    env = _env(backend, data_dir, chdb_path, args)
    if backend == "chdb":  # the directory into ClickHouse first (not timed)
        ingest.child([args.python, "-m", "flask", "--app", "app", "clickhouse-load", "--from", str(data_dir)],
                     PROJECT, env)  # fmt: skip
    load = os.getloadavg()[0]
    seconds, wall, rss, cpu, written, _dup = _ingest(env, work / ingest.FORMATS[fmt], fmt, args)
    again = _ingest(env, work / ingest.FORMATS[fmt], fmt, args)
    run = Run(backend, fmt, load, seconds, wall, cpu, rss, written, again[0], again[3], again[5])
    print(f"{backend:>7} {fmt:>8}: {seconds:.1f} s ({wall:.1f} wall, {cpu:.1f} CPU), {rss:,.0f} MiB, written "
          f"{written:,}; again {again[0]:.1f} s ({again[3]:.1f} CPU, {again[5]:,} duplicates); load {load:.2f}",
          flush=True)  # fmt: skip
    return run


def _span_body(n: int, at: dt.datetime) -> dict:
    start = int(at.timestamp() * 1e9)
    attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.id": "AGENT", "user.id": "USER",
                  "gen_ai.request.model": "claude-sonnet-4.5"}  # fmt: skip
    return {
        "traceId": f"{n + 1:032x}", "spanId": f"{n + 1:016x}", "name": "invoke_agent",
        "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 900_000_000),
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()]
        + [{"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
           {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "200"}}],
    }  # fmt: skip


def freshness(chdb_path: Path, data_dir: Path, args) -> dict:
    """Post one span at a time and ask the API for its day until it is counted: milliseconds per span."""
    import json

    import polars as pl
    import requests
    from werkzeug.serving import make_server

    from app import create_app
    from data import schema

    token = "bench-ingest-token-0123456789abcdef"
    os.environ |= {"TELEMETRY_BACKEND": "chdb", "CHDB_PATH": str(chdb_path), "CLICKHOUSE_DATABASE": args.database}
    config = {"DATA_DIR": str(data_dir), "SECRET_KEY": "bench", "ORG_TIMEZONE": args.tz, "INGEST_TOKEN": token,
              "ACCOUNTS_DB": str(data_dir / "accounts.sqlite")}  # fmt: skip
    app = create_app(config, with_dash=False)
    store = app.extensions["telemetry_store"]
    with app.app_context():
        account = store.create_account("bench@example.com", "bench-admin", "admin", "x")
        api = {"Authorization": f"Bearer {store.create_token(account)}"}
    users = pl.read_parquet(schema.directory_dir(data_dir) / "users.parquet")
    agents = pl.read_parquet(schema.directory_dir(data_dir) / "agents.parquet")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    day = args.end - dt.timedelta(days=3)
    at = dt.datetime.combine(day, dt.time(15), dt.UTC)
    summary = f"{base}/api/v1/summary?start={day}&end={day}"
    totals, posts, asks = [], [], []
    session = requests.Session()
    try:
        for n in range(args.freshness):
            before = session.get(summary, headers=api).json()["interactions"]
            span = _span_body(10_000_000 + n, at + dt.timedelta(seconds=n))
            text = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
            text = text.replace("USER", users["user_id"][n % users.height]).replace("AGENT", agents["agent_id"][0])
            started = time.perf_counter()
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
            posted = session.post(f"{base}/v1/traces", data=text, headers=headers)
            acknowledged = time.perf_counter()
            assert posted.status_code == 200, posted.text
            tries = 0
            while session.get(summary, headers=api).json()["interactions"] != before + 1:
                tries += 1
            seen = time.perf_counter()
            totals.append((seen - started) * 1000)
            posts.append((acknowledged - started) * 1000)
            asks.append(tries + 1)
    finally:
        server.shutdown()
    def quantile(values: list[float], n: int) -> list[float]:
        return statistics.quantiles(values, n=n, method="inclusive")

    return {
        "n": len(totals), "median": statistics.median(totals), "p95": quantile(totals, n=20)[-1], "max": max(totals),
        "post_median": statistics.median(posts), "post_p95": quantile(posts, n=20)[-1], "asks_max": max(asks),
        "load": os.getloadavg(),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(PROJECT))
    args = parse_arguments(argv)
    if args.freshness_on:
        print(f"freshness: {freshness(*args.freshness_on, args)}", flush=True)
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="chdb-writes-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    source, events = ingest.make_inputs(work, args)
    print(f"inputs: {events:,} events in {time.perf_counter() - started:.0f} s; load {os.getloadavg()}", flush=True)
    runs = []
    for turn in range(args.rounds):
        for fmt in args.formats.split(","):
            order = ("duckdb", "chdb") if turn % 2 == 0 else ("chdb", "duckdb")
            runs.extend(import_twice(backend, fmt, work, source, args) for backend in order)
    print("| format | backend | load | first import s | events/s | wall s | CPU s | events per CPU s | peak RSS MiB "
          "| again s | again CPU s | duplicates |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        print(f"| {r.fmt} | {r.backend} | {r.load:.1f} | {r.seconds:.1f} | {events / r.seconds:,.0f} | {r.wall:.1f} | "
              f"{r.cpu:.1f} | {events / r.cpu:,.0f} | {r.rss_mib:,.0f} | {r.again_seconds:.1f} | {r.again_cpu:.1f} | "
              f"{r.again_duplicates:,} |")  # fmt: skip
    if args.freshness:
        fmt = args.formats.split(",")[-1]
        fresh = freshness(work / f"chdb-chdb-{fmt}", work / f"target-chdb-{fmt}", args)
        print(f"freshness: {fresh}", flush=True)


if __name__ == "__main__":
    main()
