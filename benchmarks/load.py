"""Many people at once on the production server: gunicorn as `make run` serves it; run by hand, not in CI.

    pip install -r requirements-bench.txt
    python benchmarks/load.py --events 10000000 --seconds 60

Serves the app with `gunicorn "app:create_app()" --workers 1 --threads 8` on a free loopback port, over
the data folder given by --data (default: benchmarks/out/<events>/, generated once as bench.py does),
with a throwaway accounts database holding one account per simulated user (half admins, half
managers). Then locust (headless, in this process) runs --users simulated people for --seconds: each
logs in through /login, then opens tabs one after another, sending all of the tab's data callbacks to
/_dash-update-component at once (as the browser does) for a random 30-day or full-year period, and
thinks 1-5 s between tabs. Prints requests, errors (an answer other than 200, a callback that failed on
the server, no answer, an error in gunicorn's log, a worker replaced), median / p95 / max milliseconds
per request, and the peak RSS of gunicorn's process tree; writes them to a marked section
(`<!-- load:<events> -->`) of benchmarks/RESULTS.md, replacing the previous run's for that size.
Exits 1 if there was any error. Uses bench.py's helpers (data, password, login, the tabs' callbacks).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import bench  # benchmarks/bench.py, beside this file
import gevent
import gevent.pool
import psutil
import serving  # benchmarks/serving.py
from locust import HttpUser, between, task
from locust.clients import LocustHttpAdapter
from locust.env import Environment
from locust.exception import StopUser
from urllib3.util.retry import Retry

PROJECT = bench.PROJECT
SHELL_ERROR = "shell-error"  # layouts.ids.SHELL_ERROR: where a failed callback shows its alert
RESENT: list[str] = []  # requests sent again by BrowserResend, for the report


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="about this many events (names the folder)")
    parser.add_argument("--days", type=int, default=365, help="days of demo data, if it must be generated")
    parser.add_argument("--data", type=Path, help="data folder (default: benchmarks/out/<events>/)")
    parser.add_argument("--users", type=int, default=20, help="simulated people at once")
    parser.add_argument("--seconds", type=float, default=60, help="how long the users keep opening tabs")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 5.0), metavar=("MIN", "MAX"))
    parser.add_argument("--workers", type=int, default=1, help="as `make run`")
    parser.add_argument("--threads", type=int, default=8, help="as `make run`")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=bench.RESULTS)
    return parser.parse_args(argv)


# --- Accounts and the data's shape -----------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    email: str
    user_id: str
    role: str
    teams: tuple[str, ...]  # a manager's teams; for an admin, the teams to narrow to sometimes


def people(folder: Path, count: int) -> list[Person]:
    """`count` directory people with accounts to be: every other one a manager of some team."""
    import polars as pl

    directory = folder / "directory"
    users = pl.read_parquet(directory / "users.parquet").sort("user_id")
    managed = pl.read_parquet(directory / "team_managers.parquet").group_by("user_id").agg("team_id").sort("user_id")
    all_teams = tuple(pl.read_parquet(directory / "teams.parquet")["team_id"].sort())
    admins = users.filter(~pl.col("user_id").is_in(managed["user_id"].implode())).head((count + 1) // 2)
    found = [Person(row["email"], row["user_id"], "admin", all_teams) for row in admins.iter_rows(named=True)]
    emails = dict(zip(users["user_id"], users["email"], strict=True))
    for row in managed.head(count // 2).iter_rows(named=True):
        found.append(Person(emails[row["user_id"]], row["user_id"], "manager", tuple(sorted(row["team_id"]))))
    return found


def roles(who: list[Person]) -> str:
    admins = sum(person.role == "admin" for person in who)
    return f"{admins} admins and {len(who) - admins} managers"


def create_accounts(accounts_db: Path, who: list[Person]) -> None:
    """Accounts in a throwaway store, all with bench.py's password (the data folder is left as it is)."""
    from auth.passwords import hash_password
    from auth.store import Store

    store, hashed = Store(accounts_db), hash_password(bench.PASSWORD)
    for person in who:
        store.create_account(person.email, person.user_id, person.role, hashed)


def data_days(folder: Path) -> tuple[date, date]:
    """The first and last UTC date with an events partition (close enough to pick random periods)."""
    days = sorted(p.name.split("=", 1)[1] for p in (folder / "events").glob("utc_date=*"))
    return date.fromisoformat(days[0]), date.fromisoformat(days[-1])


# --- gunicorn -------------------------------------------------------------------------------------


def serve(folder: Path, accounts_db: Path, port: int, args: argparse.Namespace, log: Path) -> subprocess.Popen:
    """gunicorn as `make run` starts it."""
    env = {"TELEMETRY_DATA_DIR": str(folder), "TELEMETRY_ACCOUNTS_DB": str(accounts_db), "SECRET_KEY": "load",
           "ORG_TIMEZONE": bench.TZ}  # fmt: skip
    return serving.serve("app:create_app()", env, port, args.workers, args.threads, log)


def logged_errors(log: Path) -> list[str]:
    """Errors gunicorn or the app logged (a worker timing out, an exception behind a 200 answer)."""
    marks = ("[ERROR]", "[CRITICAL]", "ERROR in ", "Traceback")
    return [f"server log: {line[:200]}" for line in log.read_text().splitlines() if any(m in line for m in marks)]


class MemoryWatch:
    """The peak of the summed RSS of a process and all its descendants, sampled every `every` seconds."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.root, self.every, self.peak, self.peak_pss = psutil.Process(pid), every, 0, 0

    def sample(self) -> int:
        """RSS summed; also PSS summed (see serving.rss_and_pss)."""
        total, shared_once = serving.rss_and_pss(self.root.pid)
        self.peak = max(self.peak, total)
        self.peak_pss = max(self.peak_pss, shared_once)
        return total

    def run(self) -> None:
        while True:
            self.sample()
            gevent.sleep(self.every)

    def high_water_marks(self) -> int:
        """The sum of each process's own peak RSS (VmHWM): an upper bound of the sampled peak."""
        return serving.high_water_marks(self.root.pid)


# --- The simulated people --------------------------------------------------------------------------


@dataclass
class Plan:
    """What the users share: accounts to take, the tabs' callbacks, the data's days, and what happened."""

    accounts: list[Person]
    callbacks: dict[str, list[dict]]
    first: date
    last: date
    seed: int
    requests: list[tuple[str, float]] = field(default_factory=list)  # (tab and period, milliseconds)
    tab_opens: list[float] = field(default_factory=list)  # seconds until all of a tab's callbacks answered
    errors: list[str] = field(default_factory=list)
    logins: int = 0
    roles: str = ""  # e.g. "10 admins and 10 managers"
    # Every callback request, so the end waits for them: stopping kills the users, and a user killed while
    # waiting for its tab would leave its requests running into the server's shutdown (refused).
    inflight: gevent.pool.Group = field(default_factory=gevent.pool.Group)
    stopping: bool = False  # set at the end: no new tab opens


def is_answer(response) -> str | None:
    """None for a good callback answer; else what is wrong with it."""
    if response.status_code == 0:  # no answer: the request raised
        return f"no answer: {response.error!r}"
    if response.status_code != 200:
        return f"HTTP {response.status_code} {response.text[:120]!r}"
    side = response.json().get("sideUpdate") or {}
    return f"callback failed: {str(side[SHELL_ERROR])[:200]}" if SHELL_ERROR in side else None


class BrowserResend(Retry):
    """Send a request again, once, when the server closed its kept-alive connection without answering.

    gunicorn's threaded worker closes a connection left idle for its keep-alive time (2 s) from its main
    loop; a request that arrives on it at that moment gets no answer at all, and a browser sends such a
    request again on a new connection. Only that case (no response, not even a status line) is resent;
    each resend is listed in the report, and a worker that died is caught by the worker check instead.
    """

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        again = super().increment(method, url, response, error, _pool, _stacktrace)  # raises when not resent
        RESENT.append(f"{url}: {error!r}")
        return again


def resending_adapter() -> LocustHttpAdapter:
    resend = BrowserResend(total=1, connect=0, read=1, other=0, allowed_methods=None)  # POST too, as browsers do
    return LocustHttpAdapter(pool_manager=None, max_retries=resend)


class TabUser(HttpUser):
    """A person: logs in, then opens tabs with random periods, thinking between them."""

    plan: Plan  # set by run_users() before the users start
    wait_time = between(1, 5)

    def on_start(self) -> None:
        self.person = self.plan.accounts.pop()
        self.rng = random.Random(f"{self.plan.seed}-{self.person.email}")
        self.client.mount("http://", resending_adapter())
        self.client.cookies.update(bench.login(self.host, self.person.email).cookies)
        self.plan.logins += 1

    @task
    def open_tab(self) -> None:
        if self.plan.stopping:
            raise StopUser()
        tab = self.rng.choice(bench.TABS)
        span_name, span = self.rng.choice(list(bench.SPANS.items()))
        query = bench.random_query(self.rng, span, self.plan.first, self.plan.last, list(self.person.teams))
        bodies = [bench.callback_body(d, tab, query) for d in self.plan.callbacks[tab]]
        started = time.perf_counter()
        gevent.joinall([self.plan.inflight.spawn(self.post, body, f"{tab} {span_name}") for body in bodies])
        self.plan.tab_opens.append(time.perf_counter() - started)

    def post(self, body: dict, name: str) -> None:
        from tests.dash_payloads import CALLBACK_URL

        headers = {"Origin": self.host}
        with self.client.post(CALLBACK_URL, json=body, headers=headers, name=name, catch_response=True) as answer:
            problem = is_answer(answer)
            if problem:
                answer.failure(problem)


def record(plan: Plan) -> tuple[Callable, Callable]:
    """Listeners for locust's events: every request's time, and anything that went wrong."""

    def on_request(name: str, response_time: float, exception: BaseException | None = None, **_kw) -> None:
        plan.requests.append((name, response_time))
        if exception is not None:
            plan.errors.append(f"{name}: {exception}")

    def on_user_error(user_instance, exception: BaseException, tb) -> None:
        plan.errors.append(f"user error: {exception!r}")

    return on_request, on_user_error


def run_users(base: str, plan: Plan, args: argparse.Namespace) -> float:
    """The users for --seconds (their tabs in flight then are answered, not cut); answers the seconds taken."""
    TabUser.plan, TabUser.wait_time = plan, between(*args.think)
    environment = Environment(user_classes=[TabUser], host=base, stop_timeout=120)
    on_request, on_user_error = record(plan)
    environment.events.request.add_listener(on_request)
    environment.events.user_error.add_listener(on_user_error)
    runner = environment.create_local_runner()
    started = time.perf_counter()
    runner.start(args.users, spawn_rate=max(1.0, args.users / 4))  # all logged in within about 4 s
    gevent.sleep(args.seconds)
    plan.stopping = True
    runner.quit()
    if not plan.inflight.join(timeout=120):
        plan.errors.append(f"{len(plan.inflight)} requests still unanswered 120 s after the end")
    return time.perf_counter() - started


# --- Report ----------------------------------------------------------------------------------------


def summary(milliseconds: list[float]) -> tuple[int, float, float, float]:
    if not milliseconds:
        return 0, 0.0, 0.0, 0.0
    median, p95 = bench.quantiles([m / 1000 for m in milliseconds])
    return len(milliseconds), median, p95, max(milliseconds)


def render(args: argparse.Namespace, events: int, folder: Path, plan: Plan, took: float, server: dict) -> str:
    import locust

    lines = [
        f"<!-- load:{args.events} -->",
        f"## Load: {args.users} users for {args.seconds:.0f} s on {events:,} events (`--events {args.events}`)",
        "",
        f"`python benchmarks/load.py --events {args.events} --users {args.users} --seconds {args.seconds:.0f}` "
        f"on {date.today():%Y-%m-%d}, code {code_version()}: `gunicorn \"app:create_app()\" --workers {args.workers} "
        f"--threads {args.threads}` on loopback, started just before (no warm-up); locust {locust.__version__} "
        f"headless on the same machine; {plan.roles}, each logged in through /login, then opening random tabs "
        f"(all of a tab's callbacks at once) for random 30-day and full-year periods, thinking "
        f"{args.think[0]:g}-{args.think[1]:g} s between tabs; {took:.0f} s in all.",
        "",
        bench.machine(),
        f"- Load average (1 min) before the users: {server['load'][0]:.1f}, after: {server['load'][1]:.1f} "
        "(the load script and anything else running share the CPUs with gunicorn)",
        "",
        "| requests | count | median ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        row("every callback request", summary([ms for _name, ms in plan.requests])),
        *(row(name, summary([ms for n, ms in plan.requests if n == name])) for name in names(plan)),
        row("tab opens (all of a tab's callbacks answered)", summary([s * 1000 for s in plan.tab_opens])),
        "",
        f"- Logins: {plan.logins}; errors (an answer other than 200, a callback that failed on the server, no "
        f"answer, an error in the server's log, a worker replaced): **{len(plan.errors)}**",
        *(f"  - {error[:300]}" for error in plan.errors[:5]),
        f"- Requests sent again after the server closed their kept-alive connection without answering (as a "
        f"browser does; gunicorn's keep-alive is 2 s): {len(RESENT)}",
        f"- Peak RSS of gunicorn (master + {args.workers} workers, summed, sampled every 0.25 s): "
        f"{server['peak'] / 2**20:,.0f} MiB; the sum of each process's own peak (VmHWM): "
        f"{server['hwm'] / 2**20:,.0f} MiB; peak PSS summed (shared pages counted once): "
        f"{server['pss'] / 2**20:,.0f} MiB; gunicorn's exit code after SIGTERM: {server['exit']}",
        f"- Data: {folder.relative_to(PROJECT) if folder.is_relative_to(PROJECT) else folder} ({folders(folder)})",
        f"<!-- /load:{args.events} -->",
        "",
    ]
    return "\n".join(lines)


def folders(folder: Path) -> str:
    return ", ".join(sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")))


def names(plan: Plan) -> list[str]:
    return sorted({name for name, _ms in plan.requests}, key=in_tab_order)


def code_version() -> str:
    """The commit, and whether the work tree differs from it (the server runs the work tree)."""
    def git(*words: str) -> str:
        return subprocess.run(["git", *words], cwd=PROJECT, capture_output=True, text=True).stdout.strip()

    changed = len(git("status", "--porcelain").splitlines())
    return git("rev-parse", "--short", "HEAD") + (f" + {changed} uncommitted changed or new files" if changed else "")


def in_tab_order(name: str) -> tuple[int, int]:
    """"dashboard 30 days" before "dashboard full year" before "analytics 30 days": the tabs' order."""
    tab, span = name.split(" ", 1)
    return bench.TABS.index(tab), list(bench.SPANS).index(span)


def row(label: str, figures: tuple[int, float, float, float]) -> str:
    count, median, p95, peak = figures
    return f"| {label} | {count:,} | {median:.0f} | {p95:.0f} | {peak:.0f} |"


def put_section(existing: str, events: int, section: str) -> str:
    """RESULTS.md with this size's load section replaced where it was, or added at the end."""
    import re

    pattern = re.compile(rf"<!-- load:{events} -->.*?<!-- /load:{events} -->\n?", flags=re.DOTALL)
    if pattern.search(existing):
        return pattern.sub(lambda _m: section, existing, count=1)
    return existing.rstrip("\n") + "\n\n" + section


# --- Main ------------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> tuple[Path, int]:
    """The data folder (generated once, as bench.py does) and its number of events."""
    if args.data is not None:
        folder = args.data.resolve()
    else:
        folder, generated = bench.ensure_data(args.events, args.days)
        if generated is not None:
            print(f"generated {folder} in {generated:.0f} s")
    events = bench.count_events(folder)
    print(f"data: {folder} ({events:,} events)", flush=True)
    return folder, events


def measure(folder: Path, scratch: Path, args: argparse.Namespace) -> tuple[Plan, float, dict]:
    who = people(folder, args.users)
    accounts_db = scratch / "accounts.sqlite"
    create_accounts(accounts_db, who)
    port, log = serving.free_port(), scratch / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    server = serve(folder, accounts_db, port, args, log)
    try:
        serving.wait_until_up(base, server, log)
        watch = MemoryWatch(server.pid)
        watcher = gevent.spawn(watch.run)
        callbacks = bench.tab_callbacks(bench.login(base, who[0].email), base)
        print("callbacks per tab: " + ", ".join(f"{tab} {len(found)}" for tab, found in callbacks.items()), flush=True)
        plan = Plan(list(reversed(who)), callbacks, *data_days(folder), args.seed, roles=roles(who))
        workers, load_before = serving.worker_pids(server), os.getloadavg()[0]
        took = run_users(base, plan, args)
        peak = max(watch.peak, watch.sample())
        figures = {"load": (load_before, os.getloadavg()[0]), "peak": peak, "pss": watch.peak_pss}
        watcher.kill()
        figures["hwm"] = watch.high_water_marks()
        if serving.worker_pids(server) != workers:
            plan.errors.append(f"a worker was replaced during the run (died or timed out): see {log.name}")
    finally:
        exit_code = serving.stop(server)
    plan.errors += logged_errors(log)
    return plan, took, {**figures, "exit": exit_code}


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(PROJECT))
    args = parse_arguments(argv)
    folder, events = prepare(args)
    with tempfile.TemporaryDirectory() as scratch:
        plan, took, server = measure(folder, Path(scratch), args)
    section = render(args, events, folder, plan, took, server)
    print(section)
    for error in plan.errors[:10]:
        print("error:", error)
    for resent in RESENT[:10]:
        print("sent again:", resent)
    args.out.write_text(put_section(args.out.read_text() if args.out.exists() else "", args.events, section))
    print(f"written to {args.out}")
    if plan.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
