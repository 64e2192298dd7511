"""How fast each tab answers, through the real HTTP callback endpoint; run by hand, not in CI.

    make bench EVENTS=1000000
    python benchmarks/bench.py --events 1000000 --samples 20

Generates the demo organization at about --events events over --days days into
benchmarks/out/<events>/ (kept for the next run), serves the app with gunicorn on loopback in its own
process (one worker, 8 threads; benchmarks/bench_server.py adds the paths that empty its caches), logs
in as an admin and as a manager, and for each tab sends all of its data callbacks at once (as the
browser does) for randomized 30-day and full-year periods and scopes: cold (result cache and callback
outputs emptied) and warm (the same request again). Baselines in the same run: the same
callbacks with the result cache turned off (DuckDB straight over the raw events), and pandas reading
the Parquet and grouping per question, for the Dashboard KPIs and the by-agent breakdown.
Prints a Markdown table and writes it to benchmarks/RESULTS.md with the machine description.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date, timedelta
from multiprocessing import get_context
from pathlib import Path

import psutil
import serving  # benchmarks/serving.py, beside this file

PROJECT = Path(__file__).resolve().parents[1]
OUT = PROJECT / "benchmarks" / "out"
RESULTS = PROJECT / "benchmarks" / "RESULTS.md"
EVENTS_PER_USER_DAY = 8.3  # the demo org's rate (1,000 users × 180 days ≈ 1.5M events)
END = date(2026, 11, 20)
TZ = "America/New_York"
PASSWORD = "bench-password-123"  # noqa: S105 (a throwaway account in a throwaway store)
TABS = ("dashboard", "analytics", "users", "billing", "adoption")
SPANS = {"30 days": 30, "full year": 365}
THREADS = 8  # gunicorn threads of the one worker: a tab sends up to 8 callbacks at once


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="about this many events")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--samples", type=int, default=20, help="randomized periods and scopes per cell")
    parser.add_argument(
        "--raw-samples", type=int, default=None, help="samples of the raw baselines per cell [default: --samples]"
    )
    parser.add_argument("--rebuild-rollups", action="store_true", help="time a full rollup build even if current")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--duckdb-threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--data", type=Path, help="a built data folder to measure instead of the generated demo")
    parser.add_argument("--tabs", nargs="+", choices=TABS, default=list(TABS), help="only these tabs")
    parser.add_argument(
        "--backend",
        choices=("duckdb", "chdb"),
        default="duckdb",
        help="the server's backend: chdb answers from --chdb-path (clickhouse-load of --data)",
    )
    parser.add_argument("--cold-only", action="store_true", help="no warm answers (only the cold ones are measured)")
    parser.add_argument("--chdb-path", type=Path, help="the chDB engine's folder (CHDB_PATH), with --backend chdb")
    parser.add_argument("--clickhouse-database", default="telemetry", help="CLICKHOUSE_DATABASE, with --backend chdb")
    args = parser.parse_args(argv)
    if args.backend == "chdb" and (args.chdb_path is None or args.data is None):
        parser.error("--backend chdb needs --chdb-path and --data (the Parquet folder it was loaded from)")
    return args


# --- Data ------------------------------------------------------------------------------------------


def ensure_data(events: int, days: int) -> tuple[Path, float | None]:
    """The demo org of about `events` events, generated once; answers the folder and the seconds taken."""
    from data.demo import has_data, write_demo

    folder = OUT / str(events)
    if has_data(folder):
        return folder, None
    users = max(10, round(events / (EVENTS_PER_USER_DAY * days)))
    started = time.perf_counter()
    write_demo(folder, users, days, seed=42, end=END, tz=TZ)
    return folder, time.perf_counter() - started


def ensure_rollups(folder: Path, rebuild: bool) -> tuple[float | None, int]:
    """Rollups current for the data (built if not, or if asked); the seconds a build took and peak RSS."""
    from data.rollups.manifest import current_manifest

    if current_manifest(folder, TZ) is not None and not rebuild:
        return None, 0
    return _timed_command(folder, ["rollup"])


def _timed_command(folder: Path, arguments: list[str]) -> tuple[float, int]:
    """Seconds and peak RSS (MiB, sampled every 50 ms) of `flask --app app <arguments>` on the data folder."""
    import subprocess

    import psutil

    env = {**os.environ, "TELEMETRY_DATA_DIR": str(folder), "ORG_TIMEZONE": TZ, "SECRET_KEY": "bench"}
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", *arguments], cwd=PROJECT, env=env)
    watched, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, watched.memory_info().rss)
        time.sleep(0.05)
    if child.returncode:
        raise RuntimeError(f"flask {' '.join(arguments)} failed with exit code {child.returncode}")
    return time.perf_counter() - started, peak // 2**20


def time_export(folder: Path, first: date, last: date) -> tuple[float, int, int]:
    """Seconds, peak RSS (MiB) and bytes of a full-year per-user Excel report made by the CLI."""
    start = max(first, last - timedelta(days=364))
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "per-user.xlsx"
        arguments = ["report", "--start", f"{start}", "--end", f"{last}", "--points", "summary,per_user,not_adopted"]
        seconds, peak = _timed_command(folder, [*arguments, "--format", "xlsx", "--out", str(out)])
        return seconds, peak, out.stat().st_size


def count_events(folder: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in (folder / "events").glob("*/*.parquet"))


# --- The app on loopback ---------------------------------------------------------------------------


def people(folder: Path) -> tuple[dict, dict]:
    """An admin (anyone in the directory) and a manager of at least one team, as directory rows."""
    import polars as pl

    users = pl.read_parquet(folder / "directory" / "users.parquet")
    managers = pl.read_parquet(folder / "directory" / "team_managers.parquet")
    manager_id = managers["user_id"].sort()[0]
    manager = users.filter(pl.col("user_id") == manager_id).row(0, named=True)
    admin = users.filter(pl.col("user_id") != manager_id).row(0, named=True)
    return admin, manager


def backend_env(args: argparse.Namespace, folder: Path, scratch: Path) -> dict[str, str]:
    """The server's backend settings: DuckDB over `folder`, or chDB at --chdb-path with a data folder of its own
    (the app's lock, caches and quarantine; no events: they are in ClickHouse)."""
    if args.backend == "duckdb":
        return {"TELEMETRY_DATA_DIR": str(folder)}
    (scratch / "app").mkdir(exist_ok=True)
    return {"TELEMETRY_DATA_DIR": str(scratch / "app"), "TELEMETRY_BACKEND": "chdb",
            "CHDB_PATH": str(args.chdb_path.resolve()), "CLICKHOUSE_DATABASE": args.clickhouse_database}  # fmt: skip


def start_server(folder: Path, scratch: Path, duckdb_threads: int, backend: dict[str, str] | None = None):
    """The app under gunicorn in its own process (one worker, THREADS threads), as in production; answers
    the process, its URL and the admin and manager it has accounts for. `backend` (`backend_env`) replaces
    the DuckDB data folder's settings."""
    from auth.passwords import hash_password
    from auth.store import Store

    accounts_db = scratch / "accounts.sqlite"
    store, hashed = Store(accounts_db), hash_password(PASSWORD)
    admin, manager = people(folder)
    store.create_account(admin["email"], admin["user_id"], "admin", hashed)
    store.create_account(manager["email"], manager["user_id"], "manager", hashed)
    env = {"TELEMETRY_DATA_DIR": str(folder), "TELEMETRY_ACCOUNTS_DB": str(accounts_db), "SECRET_KEY": "bench",
           "ORG_TIMEZONE": TZ, "TELEMETRY_DUCKDB_THREADS": str(duckdb_threads)} | (backend or {})  # fmt: skip
    port, log = serving.free_port(), scratch / "gunicorn.log"
    server = serving.serve("benchmarks.bench_server:create()", env, port, 1, THREADS, log)
    base = f"http://127.0.0.1:{port}"
    try:
        serving.wait_until_up(base, server, log)
    except BaseException:
        serving.stop(server)  # never left running
        raise
    return server, base, {"admin": admin, "manager": manager}


def control(base: str, action: str) -> None:
    """One of benchmarks/bench_server.py's paths: cold, raw or ours."""
    import requests

    requests.post(f"{base}/__bench__/{action}", timeout=60).raise_for_status()


def in_process_app(folder: Path, scratch: Path, duckdb_threads: int):
    """The app in this process, for the per-question comparison with pandas (no HTTP)."""
    from app import create_app

    return create_app(
        {"DATA_DIR": str(folder), "SECRET_KEY": "bench", "ACCOUNTS_DB": str(scratch / "in-process.sqlite"),
         "ORG_TIMEZONE": TZ, "DUCKDB_THREADS": duckdb_threads},  # fmt: skip
        with_dash=False,
    )


def login(base: str, email: str):
    import requests

    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{base}/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        headers={"Origin": base},
        allow_redirects=False,
    )
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"login as {email} failed: HTTP {answer.status_code}")
    return session


# The Users grid's rows and the Adoption tab's idle seats come a block at a time (AG Grid's infinite row model):
# the first block is part of opening the tab, asked for with the period's query as state.
FIRST_BLOCK = {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}}
BLOCK_GRIDS = {"users": "users-grid", "adoption": "adoption-reclaim"}


def block_input(tab: str) -> list[dict]:
    return [{"id": BLOCK_GRIDS.get(tab), "property": "getRowsRequest"}]


def tab_callbacks(session, base: str, tabs: tuple[str, ...] = TABS) -> dict[str, list[dict]]:
    """Per tab, the server's callbacks the browser sends when the period changes: those whose only input is the
    page's `<tab>-query` Store, and its grid's first block (Users, Adoption)."""
    dependencies = session.get(f"{base}/_dash-dependencies").json()
    found = {}
    for tab in tabs:
        wanted = ([{"id": f"{tab}-query", "property": "data"}], block_input(tab))
        found[tab] = [d for d in dependencies
                      if [dict(i) for i in d["inputs"]] in wanted and not d.get("clientside_function")]  # fmt: skip
    return found


def callback_body(dependency: dict, tab: str, query: dict) -> dict:
    """The request dash-renderer sends for one of `tab_callbacks`, for the period and scope in `query`."""
    sys.path.insert(0, str(PROJECT))
    from tests.dash_payloads import payload

    grid = block_input(tab)[0]["id"]
    return payload(dependency, {f"{tab}-query.data": query, f"{grid}.getRowsRequest": FIRST_BLOCK})


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process tree (the server: gunicorn and its worker) so far."""
    total = 0.0
    for process in serving.tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def answer_tab(session, base: str, tab: str, callbacks: list[dict], query: dict, pool: ThreadPoolExecutor) -> float:
    """Seconds to answer all the tab's callbacks, sent together (as the browser does)."""
    from tests.dash_payloads import CALLBACK_URL

    bodies = [callback_body(d, tab, query) for d in callbacks]

    def post(body: dict) -> None:
        answer = session.post(base + CALLBACK_URL, json=body, headers={"Origin": base})
        if answer.status_code not in (200, 204):
            raise RuntimeError(f"{body['output']}: HTTP {answer.status_code} {answer.text[:200]}")

    started = time.perf_counter()
    list(pool.map(post, bodies))
    return time.perf_counter() - started


# --- Sampling --------------------------------------------------------------------------------------


def random_query(rng: random.Random, span: int, first: date, last: date, teams: list[str]) -> dict:
    """A period of `span` days ending on a random day of the data (clamped to its start), maybe narrowed."""
    latest_start = max(first, last - timedelta(days=span - 1))
    start = latest_start - timedelta(days=rng.randint(0, min(60, (latest_start - first).days)))
    query = {"start": f"{start:%Y-%m-%d}", "end": f"{start + timedelta(days=span - 1):%Y-%m-%d}"}
    if teams and rng.random() < 0.3:
        query["teams"] = rng.sample(teams, k=min(len(teams), rng.randint(1, 2)))
    return query


def quantiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered) * 1000, p95 * 1000


# --- pandas baseline -------------------------------------------------------------------------------


def pandas_kpis_and_agents(folder: Path, query: dict, team_ids: list[str] | None) -> float:
    """What a plain Dash app does per callback: read the period's columns, filter, group by."""
    import pandas as pd

    from queries.filters import parse_period

    period = parse_period(query["start"], query["end"], TZ)
    started = time.perf_counter()
    frame = pd.read_parquet(
        folder / "events",
        columns=["ts", "user_id", "team_id", "agent_id", "status", "cost_usd", "input_tokens", "output_tokens"],
        filters=[
            ("utc_date", ">=", f"{period.from_ts.date()}"),
            ("utc_date", "<=", f"{period.to_ts.date()}"),
        ],
    )
    frame = frame[(frame["ts"] >= pd.Timestamp(period.from_ts)) & (frame["ts"] < pd.Timestamp(period.to_ts))]
    if team_ids is not None:
        frame = frame[frame["team_id"].isin(team_ids)]
    _kpis = {
        "interactions": len(frame),
        "active_users": frame["user_id"].nunique(),
        "cost_usd": frame["cost_usd"].sum(),
        "errors": int((frame["status"] == "error").sum()),
        "input_tokens": frame["input_tokens"].sum(),
        "output_tokens": frame["output_tokens"].sum(),
    }
    kpis_done = time.perf_counter()
    frame2 = pd.read_parquet(
        folder / "events",
        columns=["ts", "user_id", "team_id", "agent_id", "cost_usd"],
        filters=[("utc_date", ">=", f"{period.from_ts.date()}"), ("utc_date", "<=", f"{period.to_ts.date()}")],
    )
    frame2 = frame2[(frame2["ts"] >= pd.Timestamp(period.from_ts)) & (frame2["ts"] < pd.Timestamp(period.to_ts))]
    if team_ids is not None:
        frame2 = frame2[frame2["team_id"].isin(team_ids)]
    _agents = frame2.groupby("agent_id").agg(
        interactions=("user_id", "size"), active_users=("user_id", "nunique"), cost_usd=("cost_usd", "sum")
    )
    return kpis_done - started, time.perf_counter() - kpis_done


PANDAS_MEMORY_GIB = 16  # the pandas baseline's address-space cap: at 100M events a year does not fit


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (PANDAS_MEMORY_GIB * 2**30, PANDAS_MEMORY_GIB * 2**30))


def pandas_in_child(pool, folder: Path, query: dict, team_ids: list[str] | None) -> tuple[float, float] | None:
    """`pandas_kpis_and_agents` in a process capped at PANDAS_MEMORY_GIB; None if it ran out of memory."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return pool.submit(pandas_kpis_and_agents, folder, query, team_ids).result()
    except (MemoryError, BrokenProcessPool):
        return None


def ours_kpis_and_agents(app, query: dict, scope) -> tuple[float, float]:
    """The same two questions through the query layer (the cache as it is)."""
    from queries import usage
    from queries.filters import Filters, parse_period

    filters = Filters.asking(parse_period(query["start"], query["end"], TZ), scope)
    previous = filters.for_period(filters.period.previous())
    with app.app_context():
        started = time.perf_counter()
        usage.summary(filters)
        usage.summary(previous)
        usage.adoption(filters)
        usage.adoption(previous)
        kpis_done = time.perf_counter()
        usage.interactions_by_key(filters, "agent")
        return kpis_done - started, time.perf_counter() - kpis_done


# --- Report ----------------------------------------------------------------------------------------


def machine() -> str:
    import duckdb
    import polars

    model = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        total_kib = int(info.readline().split()[1])
    try:
        import pandas

        pandas_version = pandas.__version__
    except ImportError:
        pandas_version = "not installed"
    return (
        f"- CPU: {model}, {os.cpu_count()} logical CPUs (nproc {len(os.sched_getaffinity(0))})\n"
        f"- Memory: {total_kib / 2**20:.1f} GiB\n"
        f"- {platform.platform()}; Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"Polars {polars.__version__}, pandas {pandas_version}"
    )


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(PROJECT))
    args = parse_arguments(argv)
    rng = random.Random(args.seed)
    folder, generated = (args.data, None) if args.data else ensure_data(args.events, args.days)
    events = count_events(folder)
    print(f"data: {folder} ({events:,} events{'' if generated is None else f', generated in {generated:.0f} s'})")
    rollup_build = ensure_rollups(folder, args.rebuild_rollups)
    if rollup_build[0] is not None:
        print(f"rollups built in {rollup_build[0]:.1f} s (peak RSS {rollup_build[1]:,} MiB)")
    raw_samples = args.samples if args.raw_samples is None else args.raw_samples

    import polars as pl

    from queries import cache
    from queries.scope import Scope

    results = cache.result_cache()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        server, base, who = start_server(folder, scratch, args.duckdb_threads, backend_env(args, folder, scratch))
        app = in_process_app(folder, scratch, args.duckdb_threads)
        sessions = {role: login(base, who[role]["email"]) for role in who}
        callbacks = tab_callbacks(sessions["admin"], base, tuple(args.tabs))
        teams = pl.read_parquet(folder / "directory" / "teams.parquet")["team_id"].sort().to_list()
        managed = (
            pl.read_parquet(folder / "directory" / "team_managers.parquet")
            .filter(pl.col("user_id") == who["manager"]["user_id"])["team_id"]
            .to_list()
        )
        with app.app_context():
            from queries import usage

            bounds = usage.data_bounds(Scope.organization(), TZ).row(0, named=True)
        first, last = bounds["first_day"], bounds["last_day"]
        print(f"period of the data: {first} .. {last}; callbacks per tab: "
              + ", ".join(f"{tab} {len(found)}" for tab, found in callbacks.items()))

        pool = ThreadPoolExecutor(max_workers=8)
        for tab in args.tabs:  # warm-up: first-request work (imports, views, connections) is not measured
            answer_tab(sessions["admin"], base, tab, callbacks[tab], random_query(rng, 30, first, last, []), pool)
        plan = {  # the same randomized periods and scopes for ours and for the raw baseline
            (tab, span_name): [(role := rng.choice(("admin", "manager")),
                                random_query(rng, span, first, last, teams if role == "admin" else managed))
                               for _sample in range(args.samples)]
            for tab in args.tabs for span_name, span in SPANS.items()
        }  # fmt: skip
        ours, cold_cpu = {}, {}
        for (tab, span_name), samples in plan.items():
            cold, warm, cpu = [], [], []
            for role, query in samples:
                control(base, "cold")  # no kept results, callback outputs or row selections
                before = cpu_seconds(server.pid)
                cold.append(answer_tab(sessions[role], base, tab, callbacks[tab], query, pool))
                cpu.append(cpu_seconds(server.pid) - before)
                if not args.cold_only:
                    warm.append(answer_tab(sessions[role], base, tab, callbacks[tab], query, pool))
            ours[tab, span_name] = (*quantiles(cold), *(quantiles(warm) if warm else (float("nan"),) * 2))
            cold_cpu[tab, span_name] = quantiles(cpu)
            cpu_median, cpu_p95 = cold_cpu[tab, span_name]
            print(f"  {tab} | {span_name} | " + " | ".join(f"{v:.1f}" for v in ours[tab, span_name])
                  + f" | cold CPU median {cpu_median:.0f} ms, p95 {cpu_p95:.0f} ms", flush=True)  # fmt: skip
        # the server's memory before the raw baseline, whose scans of the raw events use much more
        server_rss = serving.high_water_marks(server.pid) / 2**20
        server_now = [value / 2**20 for value in serving.rss_and_pss(server.pid)]
        # Before the baselines too: pandas' child fills 16 GiB and pushes the event files out of the page
        # cache (the export measured after it took 13.4 s, the same code before it 7-8 s).
        if args.backend == "duckdb":
            export = time_export(folder, first, last)
            print(f"full-year per-user Excel report: {export[0]:.1f} s, peak RSS {export[1]:,} MiB, {export[2]:,} B")
        else:  # `flask report` is a second process: it cannot open the chDB engine the server holds
            export = None
        rows = []
        for (tab, span_name), samples in plan.items():
            raw = []
            for role, query in samples[:raw_samples]:  # DuckDB straight over the raw events, nothing kept
                control(base, "raw")
                raw.append(answer_tab(sessions[role], base, tab, callbacks[tab], query, pool))
                control(base, "ours")
            rows.append((tab, span_name, *ours[tab, span_name], *(quantiles(raw) if raw else (0, 0))))
            print("  raw " + " | ".join(str(v) if isinstance(v, str) else f"{v:.1f}" for v in rows[-1]), flush=True)
        serving.stop(server)

        pandas_rows = []
        try:
            import pandas  # noqa: F401

            have_pandas = True
        except ImportError:
            have_pandas = False
        if have_pandas and raw_samples:
            # warm-up, as for the server above: the in-process app's first questions load the cube,
            # the bitmaps and the directory (once per process, not per period)
            ours_kpis_and_agents(app, random_query(rng, 30, first, last, []), Scope.organization())
            for span_name, span in SPANS.items():
                ours_cold_k, ours_cold_a, ours_warm_k, ours_warm_a, pd_k, pd_a = [], [], [], [], [], []
                for _ in range(raw_samples):
                    role = rng.choice(("admin", "manager"))
                    query = random_query(rng, span, first, last, teams if role == "admin" else managed)
                    chosen = query.get("teams")
                    team_ids = managed if role == "manager" else chosen
                    scope = Scope.organization() if team_ids is None else Scope.teams(team_ids)
                    results.clear()
                    k, a = ours_kpis_and_agents(app, query, scope)
                    ours_cold_k.append(k)
                    ours_cold_a.append(a)
                    k, a = ours_kpis_and_agents(app, query, scope)
                    ours_warm_k.append(k)
                    ours_warm_a.append(a)
                    with ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=_cap_memory) as child:
                        timed = pandas_in_child(child, folder, query, team_ids)
                    if timed is not None:
                        pd_k.append(timed[0])
                        pd_a.append(timed[1])
                    else:
                        print(f"  pandas ran out of memory ({PANDAS_MEMORY_GIB} GiB) on {span_name}", flush=True)
                for question, cold_s, warm_s, pd_s in (
                    ("KPIs", ours_cold_k, ours_warm_k, pd_k),
                    ("by agent", ours_cold_a, ours_warm_a, pd_a),
                ):
                    # None: pandas did not finish within its memory cap in any sample
                    pandas_rows.append(
                        (question, span_name, quantiles(cold_s), quantiles(warm_s), quantiles(pd_s) if pd_s else None)
                    )
        pool.shutdown()

    extra = {"rollup_build": rollup_build, "export": export, "raw_samples": raw_samples, "cold_cpu": cold_cpu}
    extra["server_now"] = server_now
    table = render(args, events, folder, generated, rows, pandas_rows, server_rss, rss_mib(), extra)
    print(table)
    args.out.write_text(merge(args.out.read_text() if args.out.exists() else "", args.events, table))
    print(f"written to {args.out}")


HEADER = """# Benchmark results

Written by `make bench EVENTS=…` (`benchmarks/bench.py`); one section per data size, the latest run of
each. Times are milliseconds for the server to answer all of a tab's data callbacks, sent together over
HTTP on loopback by a logged-in session (as the browser sends them when the period changes; on the Users
tab with the grid's first block of rows), over randomized periods and scopes (admin, admin narrowed to
one or two teams, a manager). The server is the app under gunicorn in its own process (one worker,
8 threads, as `make run`), so the benchmark's HTTP clients do not share its CPU time or memory.
Cold: the result cache and the callback outputs emptied first
(through a loopback-only path that `benchmarks/bench_server.py` adds; the rollups and the data
version stay, as on a running server in use); warm: the same
request again; raw DuckDB: no rollups and nothing kept, DuckDB straight over the raw events, as before
rollups existed.
"""


def _rollup_line(build: tuple[float | None, int]) -> str:
    if build[0] is None:
        return "- Rollup build: not timed in this run (current already; `--rebuild-rollups` times one)"
    return f"- Full rollup build (`flask --app app rollup`): {build[0]:.1f} s, peak RSS {build[1]:,} MiB"


def _export_line(export: tuple[float, int, int] | None) -> str:
    if export is None:
        return "- Full-year per-user Excel report: not timed on chDB (`flask report` cannot open the server's engine)"
    return (
        f"- Full-year per-user Excel report (`flask report --format xlsx`, summary + per user + not adopted): "
        f"{export[0]:.1f} s, peak RSS {export[1]:,} MiB, {export[2] / 1024:,.0f} KiB file"
    )


def merge(existing: str, events: int, section: str) -> str:
    """RESULTS.md with this size's section put in (replacing the previous run's) and the header renewed."""
    found = {
        (m.group(1), int(m.group(2))): m.group(0)
        for m in re.finditer(r"<!-- (\w+):(\d+) -->.*?<!-- /\1:\2 -->\n", existing, flags=re.DOTALL)
    }
    found[("events", events)] = section
    ordered = sorted(found, key=lambda kind_size: (kind_size[0] != "events", kind_size[1]))
    return "\n".join([HEADER, "## Machine", "", machine(), "", *(found[key] for key in ordered)])


def render(args, events, folder, generated, rows, pandas_rows, server_rss, total_rss, extra) -> str:
    lines = [
        f"<!-- events:{args.events} -->",
        f"## {events:,} events (`--events {args.events}`)",
        "",
        f"`python benchmarks/bench.py --events {args.events} --samples {args.samples}` on {date.today():%Y-%m-%d}: "
        f"{events:,} demo events over {args.days} days (org time zone {TZ}), {args.samples} samples per cell "
        f"({extra['raw_samples']} for the raw baselines); backend: {args.backend}.",
        "",
        "### Tabs",
        "",
        "Cold CPU: the server's CPU time (user + system, gunicorn and its worker) per cold answer.",
        "",
        "| tab | period | cold median | cold p95 | cold CPU median | cold CPU p95 | warm median | warm p95 "
        "| raw DuckDB median | raw DuckDB p95 | cold / raw (p95) | warm / raw (p95) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tab, span, cm, cp, wm, wp, rm, rp in rows:
        rp = rp or float("nan")  # no raw baseline in this run
        um, up = extra["cold_cpu"][tab, span]
        lines.append(
            f"| {tab} | {span} | {cm:.0f} | {cp:.0f} | {um:.0f} | {up:.0f} | {wm:.1f} | {wp:.1f} | {rm:.0f} | {rp:.0f} "
            f"| {cp / rp:.3f} | {wp / rp:.4f} |"
        )
    if pandas_rows:
        lines += [
            "",
            "### Against pandas (read the period's Parquet columns, filter, group by; per question)",
            "",
            "In process, no HTTP. KPIs: ours runs the four queries the KPI callback runs (summary and adoption, "
            "period and previous period); pandas computes the period's KPIs once. By agent: interactions, "
            "active users and cost per agent.",
            "",
            "| question | period | ours cold median | ours cold p95 | ours warm median | ours warm p95 "
            "| pandas median | pandas p95 | cold / pandas (p95) | warm / pandas (p95) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for question, span, (cm, cp), (wm, wp), found in pandas_rows:
            if found is None:
                lines.append(
                    f"| {question} | {span} | {cm:.0f} | {cp:.0f} | {wm:.2f} | {wp:.2f} "
                    f"| out of memory ({PANDAS_MEMORY_GIB} GiB cap) | | | |"
                )
                continue
            pm, pp = found
            lines.append(
                f"| {question} | {span} | {cm:.0f} | {cp:.0f} | {wm:.2f} | {wp:.2f} | {pm:.0f} | {pp:.0f} "
                f"| {cp / pp:.4f} | {wp / pp:.5f} |"
            )
    lines += [
        "",
        "### Memory",
        "",
        f"- Server (gunicorn, master and its one worker), after every tab's measurements and before the raw "
        f"baseline (which reads the raw events with far more memory): peak RSS {server_rss:,.0f} MiB (the sum "
        f"of each process's VmHWM); RSS then {extra['server_now'][0]:,.0f} MiB, PSS {extra['server_now'][1]:,.0f} MiB",
        f"- This benchmark's own process (HTTP clients, the in-process comparison with pandas): peak RSS "
        f"{total_rss:,.0f} MiB; pandas runs in a child capped at {PANDAS_MEMORY_GIB} GiB",
        f"- Data: {folder.relative_to(PROJECT) if folder.is_relative_to(PROJECT) else folder}"
        + ("" if generated is None else f", generated in {generated:.0f} s"),
        "",
        "### Rollups and export",
        "",
        _rollup_line(extra["rollup_build"]),
        _export_line(extra["export"]),
        f"<!-- /events:{args.events} -->",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
