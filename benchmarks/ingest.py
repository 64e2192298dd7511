"""Time `flask ingest` on each format, before and after a change, beside DuckDB; run by hand.

    python benchmarks/ingest.py --events 1000000 --people 36000 --before f4b0aba

Makes a demo organization over a year (data/demo/), widens its directory to `--people` people (the
events are shared out among everyone of each team), and writes the same events as JSONL, CSV,
Parquet (the contract's columns and types) and OTLP/JSON (one `invoke_agent` span per event, a
thousand spans per line as the Collector's file exporter writes them); no cost is sent, so every
record is priced from the directory. Then, for each format and each code (this checkout, and
`--before`: a folder or a git revision, checked out in a detached worktree for the run), in turns:
`flask --app app ingest` into a fresh folder holding only the directory (the first write builds the
rollups inside the import), then the same file again (every record a duplicate). Each is a child
process: the command's own count of seconds (it prints it), the wall time with start-up, the
child's peak RSS and the load average (1 minute) when it started. The baseline, in the same run:
DuckDB reading the Parquet file and writing the same rows into date partitions (COPY … PARTITION_BY).
`--memory-events N` also imports an N-event Parquet file (the events repeated under new ids) with
this checkout only, for its peak RSS. `--out` merges the table into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
FORMATS = {"jsonl": "events.jsonl", "csv": "events.csv", "parquet": "events.parquet", "otlp-json": "events.json"}
EVENTS_PER_USER_DAY = 8.3  # the demo org's rate (benchmarks/bench.py)
SECTION = "ingest-formats"
NAMES = {"jsonl": "JSONL", "csv": "CSV", "parquet": "Parquet", "otlp-json": "OTLP/JSON"}
_COUNTS = re.compile(r"read ([\d,]+), written ([\d,]+), duplicates ([\d,]+), quarantined ([\d,]+).*\(([\d.]+) s\)")
_ROLLUPS = re.compile(r"rollups: [\d,]+ local days updated \(([\d.]+) s\)")


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=36_000, help="people in the directory")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument("--tz", default="America/New_York", help="ORG_TIMEZONE of the imports")
    parser.add_argument("--before", help="the code to compare with: a checkout's folder or a git revision")
    parser.add_argument("--rounds", type=int, default=2, help="turns of each format (old and new alternate)")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated subset")
    parser.add_argument(
        "--otlp-events", type=int, default=20_000, help="OTLP/JSON: the first N events only, in the first round only"
    )
    parser.add_argument("--memory-events", type=int, default=0, help="also import this many events as Parquet")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--out", type=Path, help="merge the table into this Markdown file (RESULTS.md)")
    return parser.parse_args(argv)


@dataclass
class Run:
    label: str  # "before" | "after" | "duckdb"
    fmt: str
    events: int
    seconds: float  # the command's own count (DuckDB: the COPY)
    wall: float  # the child process, start-up included
    rss_mib: float
    cpu: float  # the child's CPU seconds (user + system), start-up included: less sensitive to the load
    load: float  # 1-minute load average when it started
    written: int = 0
    rollups: float = 0.0  # of `seconds`, the rollup build inside the import (what it prints)
    duplicates: int = 0
    quarantined: int = 0
    again_seconds: float = 0.0
    again_rss_mib: float = 0.0
    again_duplicates: int = 0


# --- Inputs ------------------------------------------------------------------------------------------


def make_inputs(work: Path, args: argparse.Namespace) -> tuple[Path, int]:
    """The demo's directory widened to `--people`, and the events in every format; answers the folder
    holding `directory/` and the number of events."""
    import polars as pl

    from data import schema
    from data.demo import write_demo

    source = work / "source"
    users = max(10, round(args.events / (EVENTS_PER_USER_DAY * args.days)))
    write_demo(source, users, args.days, 42, args.end)
    people = widen_directory(schema.directory_dir(source), args.people)
    frame = pl.scan_parquet(schema.events_dir(source) / "*" / "*.parquet", hive_partitioning=False)
    frame = frame.head(args.events).collect()
    frame = share_out(frame, people).with_columns(pl.lit(None, dtype=schema.COST).alias("cost_usd"))
    frame = frame.select(schema.EVENTS.names()).cast(dict(schema.EVENTS))
    frame.write_parquet(work / FORMATS["parquet"], row_group_size=100_000)
    texts = frame.drop("cost_usd").with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"))
    texts.write_ndjson(work / FORMATS["jsonl"])
    texts.write_csv(work / FORMATS["csv"])
    write_otlp(frame.head(args.otlp_events), work / FORMATS["otlp-json"])
    shutil.rmtree(schema.events_dir(source))
    return source, frame.height


def widen_directory(folder: Path, people: int):
    """users.parquet with `people` rows: the demo's, then copies of them (new ids and emails, same teams)."""
    import polars as pl

    users = pl.read_parquet(folder / "users.parquet")
    extra = people - users.height
    if extra > 0:
        copies = pl.concat([users] * (extra // users.height + 1)).head(extra).with_row_index("n")
        copies = copies.with_columns(
            pl.format("u_extra_{}", "n").alias("user_id"),
            pl.format("extra{}@acme.example", "n").alias("email"),
            pl.lit("member").alias("role"),
        ).drop("n")
        users = pl.concat([users, copies.select(users.columns)])
        users.write_parquet(folder / "users.parquet", compression="zstd")
    return users


def share_out(events, users):
    """Each event's person: one of everyone in its team, picked by the event id's hash."""
    import polars as pl

    teams = users.select("user_id", "team_id").with_columns(k=pl.int_range(pl.len()).over("team_id"))
    sizes = teams.group_by("team_id").agg(size=pl.len())
    picked = (
        events.join(sizes, on="team_id", how="left", maintain_order="left")
        .with_columns(k=(pl.col("event_id").hash(7) % pl.col("size")).cast(pl.Int64))
        .join(teams.rename({"user_id": "person"}), on=["team_id", "k"], how="left", maintain_order="left")
    )
    return picked.with_columns(pl.coalesce("person", "user_id").alias("user_id")).select(events.columns)


def write_otlp(frame, path: Path, spans_per_line: int = 1000) -> None:
    """One `invoke_agent` span per event in OTLP/JSON, `spans_per_line` spans to a document per line."""
    import polars as pl

    def attribute(key: str, value: pl.Expr, kind: str = "stringValue") -> pl.Expr:
        quoted = pl.concat_str(pl.lit('"'), value, pl.lit('"')) if kind == "stringValue" else value
        return pl.concat_str(pl.lit(f'{{"key":"{key}","value":{{"{kind}":'), quoted, pl.lit("}}"))

    start = pl.col("ts").dt.epoch("us") * 1000
    index = pl.int_range(1, pl.len() + 1)
    span = pl.concat_str(
        pl.lit('{"traceId":"'),
        index.map_batches(lambda s: s.cast(pl.String).str.pad_start(32, "0"), return_dtype=pl.String),
        pl.lit('","spanId":"'),
        index.map_batches(lambda s: s.cast(pl.String).str.pad_start(16, "0"), return_dtype=pl.String),
        pl.lit('","name":"invoke_agent","kind":1,"startTimeUnixNano":"'),
        start.cast(pl.String),
        pl.lit('","endTimeUnixNano":"'),
        (start + pl.col("latency_ms").cast(pl.Int64) * 1_000_000).cast(pl.String),
        pl.lit('","attributes":['),
        pl.concat_str(
            attribute("gen_ai.operation.name", pl.lit("invoke_agent")),
            attribute("gen_ai.agent.id", pl.col("agent_id")),
            attribute("user.id", pl.col("user_id")),
            attribute("team.id", pl.col("team_id")),
            attribute("gen_ai.request.model", pl.col("model")),
            attribute("gen_ai.conversation.id", pl.col("conversation_id")),
            attribute("gen_ai.usage.input_tokens", pl.col("input_tokens").cast(pl.String), "intValue"),
            attribute("gen_ai.usage.output_tokens", pl.col("output_tokens").cast(pl.String), "intValue"),
            separator=",",
        ),
        pl.lit('],"status":{"code":'),
        pl.when(pl.col("status") == "error").then(pl.lit("2")).otherwise(pl.lit("1")),
        pl.lit("}}"),
    )
    lines = (
        frame.select(span.alias("span"), (pl.int_range(pl.len()) // spans_per_line).alias("line"))
        .group_by("line", maintain_order=True)
        .agg(pl.col("span").str.join(","))
        .select(
            pl.concat_str(
                pl.lit('{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":'),
                pl.lit('{"stringValue":"bench"}}]},"scopeSpans":[{"scope":{"name":"bench"},"spans":['),
                pl.col("span"),
                pl.lit("]}]}]}"),
            )
        )
    )
    with open(path, "w", encoding="utf-8") as out:
        for (line,) in lines.iter_rows():
            out.write(line + "\n")


def repeated_parquet(source: Path, target: Path, times: int) -> int:
    """The Parquet input `times` over, each copy under new event ids, written a copy at a time."""
    import polars as pl
    import pyarrow.parquet as pq

    frame = pl.read_parquet(source)
    with pq.ParquetWriter(target, frame.to_arrow().schema) as out:
        for copy in range(times):
            out.write_table(frame.with_columns(pl.col("event_id") + f"-{copy}").to_arrow(), row_group_size=100_000)
    return frame.height * times


# --- Runs ----------------------------------------------------------------------------------------------


def child(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[str, float, float, float]:
    """Output, wall seconds, peak RSS (MiB) and CPU seconds (user + system) of a child process.

    The peak comes from GNU time (`/usr/bin/time -f %M`): the rusage of a child forked from this process
    starts at this process's own peak (Linux keeps it across exec), so `wait4` alone would floor it there."""
    with tempfile.NamedTemporaryFile(prefix="rss-") as peak:
        timed = (
            ["/usr/bin/time", "-f", "%U %S %M", "-o", peak.name, *command]
            if Path("/usr/bin/time").exists()
            else command
        )
        started = time.perf_counter()
        process = subprocess.run(timed, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - started
        output = process.stdout.decode()
        if process.returncode not in (0, 1):  # 1: something was quarantined
            raise RuntimeError(f"{command} failed ({process.returncode}):\n{output}")
        lines = Path(peak.name).read_text().split()
    if len(lines) < 3:
        return output, wall, float("nan"), float("nan")
    return output, wall, int(lines[-1]) / 1024, float(lines[-3]) + float(lines[-2])


def ingest(code: Path, data_dir: Path, path: Path, fmt: str, args: argparse.Namespace) -> tuple:
    env = {**os.environ, "TELEMETRY_DATA_DIR": str(data_dir), "ORG_TIMEZONE": args.tz, "PYTHONPATH": str(code)}
    command = [args.python, "-m", "flask", "--app", "app", "ingest", "--format", fmt, str(path)]
    output, wall, rss, cpu = child(command, code, env)
    found = _COUNTS.search(output)
    if found is None:
        raise RuntimeError(f"no counts in the output of {command}:\n{output}")
    read, written, duplicates, quarantined = (int(g.replace(",", "")) for g in found.groups()[:4])
    rollups = sum(float(s) for s in _ROLLUPS.findall(output))
    return float(found.group(5)), wall, rss, written, duplicates, quarantined, cpu, rollups


def import_twice(label: str, code: Path, fmt: str, work: Path, source: Path, events: int, args) -> Run:
    from data import schema

    target = work / f"target-{label}-{fmt}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(schema.directory_dir(source), schema.directory_dir(target))
    path = work / FORMATS[fmt]
    load = os.getloadavg()[0]
    seconds, wall, rss, written, duplicates, quarantined, cpu, rollups = ingest(code, target, path, fmt, args)
    again = ingest(code, target, path, fmt, args)
    shutil.rmtree(target, ignore_errors=True)
    run = Run(label, fmt, events, seconds, wall, rss, cpu, load, written, rollups, duplicates, quarantined)
    run.again_seconds, run.again_rss_mib, run.again_duplicates = again[0], again[2], again[4]
    print(f"{label:>6} {fmt:>9}: {seconds:.1f} s (rollups {rollups:.1f}; {wall:.1f} wall, {cpu:.1f} CPU), "
          f"{rss:,.0f} MiB, written {written:,}, again {again[0]:.1f} s ({again[6]:.2f} CPU, {again[4]:,} duplicates), "
          f"load {load:.2f}",
          flush=True)  # fmt: skip
    return run


_DUCKDB = """
import sys, time, duckdb
con = duckdb.connect()
con.execute("set timezone = 'UTC'")
started = time.perf_counter()
con.execute(
    "copy (select *, cast(timezone('UTC', ts) as date) as utc_date from read_parquet($source)) "
    "to '" + sys.argv[2] + "' (format parquet, compression zstd, partition_by (utc_date))",
    {"source": sys.argv[1]},
)
print(f"seconds={time.perf_counter() - started}")
"""


def duckdb_baseline(work: Path, events: int, args: argparse.Namespace) -> Run:
    target = work / "duckdb-events"
    shutil.rmtree(target, ignore_errors=True)
    load = os.getloadavg()[0]
    command = [args.python, "-c", _DUCKDB, str(work / FORMATS["parquet"]), str(target)]
    output, wall, rss, cpu = child(command, work, dict(os.environ))
    seconds = float(re.search(r"seconds=([\d.]+)", output).group(1))
    shutil.rmtree(target, ignore_errors=True)
    print(
        f"duckdb   parquet: {seconds:.2f} s ({wall:.1f} wall, {cpu:.1f} CPU), {rss:,.0f} MiB, load {load:.2f}",
        flush=True,
    )
    return Run("duckdb", "parquet", events, seconds, wall, rss, cpu, load)


def checkout(before: str, work: Path) -> tuple[Path, str, bool]:
    """The old code's folder, its commit, and whether we made it (a detached worktree, removed after)."""
    if Path(before).is_dir():
        folder = Path(before).resolve()
        made = False
    else:
        folder = work / "before"
        subprocess.run(["git", "-C", str(PROJECT), "worktree", "add", "--detach", str(folder), before], check=True)
        made = True
    commit = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return folder, commit.stdout.strip() if commit.returncode == 0 else folder.name, made  # not git: its name


def head() -> str:
    commit = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(PROJECT), "status", "--porcelain"], capture_output=True, text=True)
    return commit.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


# --- The table -----------------------------------------------------------------------------------------


def render(runs: list[Run], events: int, args, before_commit: str | None, memory: Run | None) -> str:
    duck = [r for r in runs if r.label == "duckdb"]
    duck_best = min(r.seconds for r in duck) if duck else None
    lines = [
        f"<!-- {SECTION}:{args.events} -->",
        f"## Import of each format, before and after (issue 19), {events:,} events",
        "",
        f"`python benchmarks/ingest.py --events {args.events} --people {args.people} --rounds {args.rounds}"
        + (f" --before {args.before}`" if args.before else "`")
        + f" on {date.today():%Y-%m-%d}: {events:,} demo events over {args.days} days, a directory of "
        f"{args.people:,} people, no cost sent (every record priced), into a fresh folder holding only the "
        f"directory, `flask ingest` with ORG_TIMEZONE={args.tz}: its first write builds the rollups inside the "
        "import. Seconds are the command's own count (what it prints, start-up excluded), of which rollups: the "
        "rollup build inside it (what it prints); wall and CPU (user + system, of the child) include start-up. "
        "Load: the 1-minute load average as each run started (2 cores, shared with other work). "
        f"OTLP/JSON: the first {args.otlp_events:,} events, in the first round only. "
        f"Before: {before_commit or '-'}; after: {head()}. Old and new take turns, in alternating order.",
        "",
        f"- {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs; "
        f"Python {platform.python_version()}",
        "",
        "| format | code | load | first import s | events/s | of which rollups s | wall s | CPU s | peak RSS MiB | "
        "re-import s | events/s | re-import RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        if run.label == "duckdb":
            lines.append(
                f"| Parquet → date partitions | DuckDB `COPY` | {run.load:.2f} | {run.seconds:.2f} | "
                f"{run.events / run.seconds:,.0f} | | {run.wall:.1f} | {run.cpu:.1f} | {run.rss_mib:,.0f} | | | |"
            )
            continue
        lines.append(
            f"| {NAMES[run.fmt]}{'' if run.events == events else f' ({run.events:,})'} | {run.label} | "
            f"{run.load:.2f} | {run.seconds:.1f} | {run.events / run.seconds:,.0f} | {run.rollups:.1f} | "
            f"{run.wall:.1f} | {run.cpu:.1f} | {run.rss_mib:,.0f} | "
            f"{run.again_seconds:.1f} | {run.events / run.again_seconds:,.0f} | "
            f"{run.again_rss_mib:,.0f} |"
        )
    lines.append("")
    if duck_best:
        for label in ("before", "after"):
            best = [r.seconds for r in runs if r.label == label and r.fmt == "parquet"]
            if best:
                lines.append(f"- Parquet {label}: best {min(best):.1f} s, {min(best) / duck_best:.1f}× DuckDB's best "
                             f"({duck_best:.2f} s)")  # fmt: skip
    if memory is not None:
        lines.append(
            f"- {memory.written:,} events as one Parquet file (the events above repeated under new ids), this "
            f"code: {memory.seconds:.1f} s ({memory.written / memory.seconds:,.0f} events/s; rollups "
            f"{memory.rollups:.1f} s of it), peak RSS "
            f"{memory.rss_mib:,.0f} MiB, load {memory.load:.2f} as it started"
        )
    lines.append(f"<!-- /{SECTION}:{args.events} -->")
    return "\n".join(lines) + "\n"


def merge(existing: str, events: int, table: str) -> str:
    pattern = re.compile(rf"<!-- {SECTION}:{events} -->.*?<!-- /{SECTION}:{events} -->\n", re.S)
    if pattern.search(existing):
        return pattern.sub(lambda _m: table, existing)
    return existing.rstrip("\n") + "\n\n" + table


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(PROJECT))
    args = parse_arguments(argv)
    formats = args.formats.split(",")
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    before = made = before_commit = None
    try:
        if args.before:
            before, before_commit, made = checkout(args.before, work)
        started = time.perf_counter()
        source, events = make_inputs(work, args)
        print(f"inputs: {events:,} events in {time.perf_counter() - started:.0f} s", flush=True)
        codes = [("after", PROJECT)] + ([("before", before)] if before else [])
        runs: list[Run] = []
        for turn in range(args.rounds):
            runs.append(duckdb_baseline(work, events, args))
            for fmt in formats:
                if fmt == "otlp-json" and turn:
                    continue  # slow before: once
                count = min(events, args.otlp_events) if fmt == "otlp-json" else events
                for label, code in codes if turn % 2 == 0 else reversed(codes):
                    runs.append(import_twice(label, code, fmt, work, source, count, args))
        memory = None
        if args.memory_events:
            from data import schema

            times = -(-args.memory_events // events)
            big = work / "big.parquet"
            total = repeated_parquet(work / FORMATS["parquet"], big, times)
            target = work / "target-memory"
            shutil.copytree(schema.directory_dir(source), schema.directory_dir(target))
            load = os.getloadavg()[0]
            seconds, wall, rss, written, _dup, _q, cpu, rollups = ingest(PROJECT, target, big, "parquet", args)
            memory = Run("after", "parquet", total, seconds, wall, rss, cpu, load, written, rollups)
            print(f"memory: {total:,} events, {seconds:.1f} s, peak RSS {rss:,.0f} MiB", flush=True)
        order = [*FORMATS]
        runs.sort(key=lambda r: (r.label != "duckdb", order.index(r.fmt)))  # stable: turns stay in order
        table = render(runs, events, args, before_commit, memory)
        print(table)
        if args.out:
            args.out.write_text(merge(args.out.read_text() if args.out.exists() else "", args.events, table))
    finally:
        if made:
            subprocess.run(["git", "-C", str(PROJECT), "worktree", "remove", "--force", str(before)], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
