"""How long a person waits in the browser: tab switches and fresh page loads in headless Chromium.

    python benchmarks/browser.py --data benchmarks/out/10000000 [--before ../other-checkout] --samples 10

Serves --data with gunicorn on loopback (one worker, 8 threads, as benchmarks/bench.py), once from this
checkout and, with --before, once more from another checkout (an older commit: both on the same data,
measured in the same run, turn about). Signs in as an admin and as a manager of one team, in Debian's
headless Chromium driven by Selenium (as tests/test_browser_*.py), and measures

- a tab switch: from a click on a tab's link (the filters kept in the URL) until the tab is ready;
- a fresh load: from navigating to a tab's URL until it is ready;
- the callback requests (POST /_dash-update-component) each one made, counted as the page sends them;
- per tab switch, what the page's main thread did (Chrome's Performance.getMetrics in thread time, before
  the click and when ready): its CPU time, script, style and layout time, and how many times it worked out
  styles and layout. A busy machine stretches the wall time; these it distorts far less. Chrome's script
  time leaves out the scripts run as promise jobs (React's commit of a page, in dash-renderer's), so CPU is
  more than script + style + layout;
- and the CPU time of all of Chromium's processes meanwhile (the compositor, rasterizing and the GPU
  process's drawing, on the same 2 cores as the main thread and the server), and the server's;
- per fresh load, the same: the new page's main thread from its start (its metrics start with the page), all of
  Chromium's CPU and the server's from the navigation until ready.

Ready is defined in tests/page_ready.py (no loading state left, every chart drawn, every grid showing
rows; checked in the page every few milliseconds, and held for a moment), which the browser tests use too.

The data folder is only read: the report jobs' cache and the accounts go into a scratch folder that
holds links to the data folder's files. Prints Markdown tables and writes them, with the load average,
into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import serving  # benchmarks/serving.py, beside this file

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
from tests import page_ready  # noqa: E402 (the project's root is put on the path first)

RESULTS = PROJECT / "benchmarks" / "RESULTS.md"
PASSWORD = "bench-password-123"  # noqa: S105 (a throwaway account in a throwaway store)
THREADS = 8
TABS = {"dashboard": "/telemetry", "analytics": "/telemetry/analytics", "users": "/telemetry/users",
        "billing": "/telemetry/billing", "adoption": "/telemetry/adoption"}  # fmt: skip
LINKS = {slug: f"shell-nav-{slug}" for slug in TABS}
LINKED = ("directory", "events", "rollups", ".version", ".ingest.lock")  # what the app reads of a data folder


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a data folder with current rollups (only read)")
    parser.add_argument("--before", type=Path, help="another checkout to measure on the same data, in turn")
    parser.add_argument("--samples", type=int, default=10, help="per tab, role and kind")
    parser.add_argument("--tabs", default=",".join(TABS), help="a subset of the tabs, comma-separated")
    parser.add_argument("--start", help="the period's first day [default: 30 days to the data's last day]")
    parser.add_argument("--end", help="the period's last day [default: the data's last day]")
    parser.add_argument("--duckdb-threads", type=int, default=2)
    parser.add_argument("--tz", default="America/New_York")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args(argv)


# --- Servers ---------------------------------------------------------------------------------------


def people(folder: Path) -> dict[str, dict]:
    """An admin (anyone in the directory) and the manager of one team, as directory rows."""
    import polars as pl

    users = pl.read_parquet(folder / "directory" / "users.parquet")
    managers = pl.read_parquet(folder / "directory" / "team_managers.parquet")
    counts = managers.group_by("user_id").len().filter(pl.col("len") == 1).sort("user_id")
    manager_id = counts["user_id"][0]
    manager = users.filter(pl.col("user_id") == manager_id).row(0, named=True)
    admin = users.filter(pl.col("user_id") != manager_id).row(0, named=True)
    return {"admin": admin, "manager": manager}


def linked_copy(data: Path, scratch: Path) -> Path:
    """A folder of links to the data folder's files: what the app writes beside them stays in scratch."""
    folder = scratch / "data"
    folder.mkdir()
    for name in LINKED:
        if (data / name).exists():
            (folder / name).symlink_to((data / name).resolve())
    return folder


def start_server(checkout: Path, data: Path, scratch: Path, accounts: dict[str, dict], args) -> tuple:
    """gunicorn serving `checkout`'s app on `data` (through links); answers the process and its URL."""
    from auth.passwords import hash_password
    from auth.store import Store

    scratch.mkdir(parents=True)
    accounts_db = scratch / "accounts.sqlite"
    store, hashed = Store(accounts_db), hash_password(PASSWORD)
    for role, person in accounts.items():
        store.create_account(person["email"], person["user_id"], role, hashed)
    env = {"TELEMETRY_DATA_DIR": str(linked_copy(data, scratch)), "TELEMETRY_ACCOUNTS_DB": str(accounts_db),
           "SECRET_KEY": "bench", "ORG_TIMEZONE": args.tz,
           "TELEMETRY_DUCKDB_THREADS": str(args.duckdb_threads)}  # fmt: skip
    port, log = serving.free_port(), scratch / "gunicorn.log"
    command = [str(serving.GUNICORN), "app:create_app()", "--bind", f"127.0.0.1:{port}", "--workers", "1",
               "--threads", str(THREADS), "--no-control-socket"]  # fmt: skip
    with log.open("w") as out:
        server = subprocess.Popen(
            command, cwd=checkout, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base, server, log)
    return server, base


def wait_until_up(base: str, server: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    """The first answer of a busy machine can take longer than serving.wait_until_up's reads allow."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{base}/login", timeout=30).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.5)
    serving.stop(server)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")


# --- The browser -----------------------------------------------------------------------------------


def chromium(profile: Path):
    """Debian's headless Chromium, with the flags the browser tests use."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1400,1000", f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    page_ready.install(driver)
    return driver


def sign_in(driver, base: str, email: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + "/login")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 60).until(lambda d: "/telemetry" in d.current_url)


def fresh_load(driver, url: str, server=None) -> dict:
    """The load's time and requests; what the new page's main thread did until ready (its metrics start with the
    page), all of Chromium's CPU and the server's meanwhile (ms, counts)."""
    browser_before, server_before = browser_cpu(driver), server_cpu(server)
    result = page_ready.fresh_load(driver, url)
    after = main_thread(driver)
    for key, value in after.items():
        scale = 1 if key in ("recalcs", "layouts") else 1000
        result[key] = ((value - browser_before) if key == "browser" else value) * scale
    result["server"] = (server_cpu(server) - server_before) * 1000
    return result


# Chrome's names, and ours: durations are in seconds of the main thread's CPU (timeDomain threadTicks)
MAIN_THREAD = {"ThreadTime": "cpu", "ScriptDuration": "script", "RecalcStyleDuration": "style",
               "LayoutDuration": "layout", "RecalcStyleCount": "recalcs", "LayoutCount": "layouts"}  # fmt: skip


def main_thread(driver) -> dict[str, float]:
    driver.execute_cdp_cmd("Performance.enable", {"timeDomain": "threadTicks"})  # per page; a no-op once on
    metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    found = {MAIN_THREAD[m["name"]]: m["value"] for m in metrics if m["name"] in MAIN_THREAD}
    return {**found, "browser": browser_cpu(driver)}


def browser_cpu(driver) -> float:
    """CPU seconds (user + system) of every Chromium process chromedriver started, so far."""
    import psutil

    total = 0.0
    for process in psutil.Process(driver.service.process.pid).children(recursive=True):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:  # a renderer or helper that ended meanwhile
            continue
        total += times.user + times.system
    return total


def server_cpu(server) -> float:
    """CPU seconds (user + system) of the server's processes (gunicorn's and its worker's) so far; 0 without one."""
    import psutil

    if server is None:
        return 0.0
    total = 0.0
    root = psutil.Process(server.pid)
    for process in (root, *root.children(recursive=True)):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def switch_tab(driver, slug: str, server=None) -> dict:
    """The switch's time and requests, and what the main thread did from the click until ready, and the server's
    CPU meanwhile (ms, counts)."""
    before, server_before = main_thread(driver), server_cpu(server)
    result = page_ready.switch_tab(driver, LINKS[slug], TABS[slug])
    after = main_thread(driver)
    for key, value in after.items():
        scale = 1 if key in ("recalcs", "layouts") else 1000
        result[key] = (value - before[key]) * scale
    result["server"] = (server_cpu(server) - server_before) * 1000
    return result


# --- Sampling --------------------------------------------------------------------------------------


def quantiles(values: list[float]) -> tuple[float, float]:
    """Median and 95th percentile (inclusive method; with 10 samples, between the two largest)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0], ordered[0]
    return statistics.median(ordered), statistics.quantiles(ordered, n=20, method="inclusive")[18]


def measure(drivers: dict, bases: dict, query: str, samples: int, loads: list, tabs: list[str], servers: dict) -> dict:
    """Samples of every (version, role, kind, tab), versions in turn within each round; the load average
    is noted in `loads` after the first round, in the middle and at the end."""
    found: dict[tuple, list[dict]] = {}
    order = list(tabs)
    for round_ in range(samples + 1):  # round 0 warms the server and the browser's cache: not counted
        for (version, role), driver in drivers.items():
            base, server = bases[version], servers.get(version)
            for slug in order:
                result = fresh_load(driver, f"{base}{TABS[slug]}{query}", server)
                if round_:
                    found.setdefault((version, role, "fresh load", slug), []).append(result)
            shown = order[-1] if len(order) > 1 else next(slug for slug in TABS if slug != order[0])
            fresh_load(driver, f"{base}{TABS[shown]}{query}")
            for slug in order:  # from another tab: every switch lands on a tab other than the one shown
                result = switch_tab(driver, slug, server)
                if round_:
                    found.setdefault((version, role, "tab switch", slug), []).append(result)
        order = order[1:] + order[:1]  # vary which tab each one is switched from
        if round_ in (0, samples // 2, samples):
            loads.append(os.getloadavg())
        print(f"round {round_}/{samples} done, load average {os.getloadavg()[0]:.2f}", flush=True)
    return found


# --- Report ----------------------------------------------------------------------------------------


def table(found: dict, versions: list[str]) -> str:
    lines = ["| kind | role | tab | " + " | ".join(f"{v} median | {v} p95 | {v} requests" for v in versions) + " |",
             "|---|---|---|" + "---:|---:|---:|" * len(versions)]  # fmt: skip
    for kind in ("tab switch", "fresh load"):
        for role in ("admin", "manager"):
            for slug in tabs_of(found):
                cells = []
                for version in versions:
                    results = found[(version, role, kind, slug)]
                    median, p95 = quantiles([r["ms"] for r in results])
                    cells.append(f"{median:.0f} | {p95:.0f} | {_range([r['requests'] for r in results])}")
                lines.append(f"| {kind} | {role} | {slug} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def tabs_of(found: dict) -> list[str]:
    return [slug for slug in TABS if any(key[3] == slug for key in found)]


def _range(counts: list[int]) -> str:
    low, high = min(counts), max(counts)
    return str(low) if low == high else f"{low}–{high}"


def overall(found: dict, versions: list[str]) -> str:
    lines = ["| kind | " + " | ".join(f"{v} median | {v} p95" for v in versions) + " |",
             "|---|" + "---:|---:|" * len(versions)]  # fmt: skip
    for kind in ("tab switch", "fresh load"):
        cells = []
        for version in versions:
            values = [
                r["ms"] for key, results in found.items() if key[0] == version and key[2] == kind for r in results
            ]
            median, p95 = quantiles(values)
            cells.append(f"{median:.0f} | {p95:.0f}")
        lines.append(f"| {kind} (all tabs, both roles) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main_thread_table(found: dict, versions: list[str], kind: str = "tab switch") -> str:
    """Medians of what the main thread did, per tab and role, with all of Chromium's CPU and the server's."""
    head = " | ".join(
        f"{v} CPU | {v} script | {v} style + layout | {v} recalcs + layouts | {v} browser CPU | {v} server CPU"
        for v in versions
    )
    lines = [f"| role | tab | {head} |", "|---|---|" + "---:|---:|---:|---:|---:|---:|" * len(versions)]
    for role in ("admin", "manager"):
        for slug in tabs_of(found):
            cells = []
            for version in versions:
                results = found[(version, role, kind, slug)]
                keys = (*MAIN_THREAD.values(), "browser", "server")
                median = {key: statistics.median(r[key] for r in results) for key in keys}
                cells.append(f"{median['cpu']:.0f} | {median['script']:.0f} | {median['style'] + median['layout']:.0f}"
                             f" | {median['recalcs'] + median['layouts']:.0f} | {median['browser']:.0f}"
                             f" | {median['server']:.0f}")  # fmt: skip
            lines.append(f"| {role} | {slug} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(args, versions: dict[str, str], found: dict, loads: list[tuple[float, float, float]], events: str) -> str:
    names = list(versions)
    before = f" --before {args.before}" if args.before else ""
    described = ", ".join(f"{name} = commit {commit}" for name, commit in versions.items())
    load_text = ", ".join(f"{a:.2f}/{b:.2f}/{c:.2f}" for a, b, c in loads)
    return f"""<!-- browser -->
## In the browser: tab switches and fresh loads, {events}

`python benchmarks/browser.py --data {args.data}{before} --samples {args.samples}`
on {dt.date.today().isoformat()}: {described}. Headless Chromium 1400×1000 (Debian's, through Selenium), the app
under gunicorn (one worker, {THREADS} threads) on loopback, period {args.start} to {args.end}. Per tab, role and
kind {args.samples} samples after a first round that is not counted (so the answers are mostly warm in the
server's cache, as for a person moving between tabs); versions measured in turn within each round.
Milliseconds until ready: the URL is the tab's, Dash has no callback pending, nothing shows a loading state,
every chart is drawn and every grid shows rows (held for {page_ready.STABLE_MS} ms; the time is when it first held).
Requests: POST {page_ready.CALLBACK_PATH} made meanwhile (the range when it varied).
Load average (1/5/15 min) after the first round, in the middle and at the end: {load_text}.

{overall(found, names)}

{table(found, names)}

Tab switches, the page's main thread from the click until ready (medians; ms of its CPU time, and how many
times it worked out styles and layout), and the CPU ms of all Chromium's processes and of the server meanwhile:

{main_thread_table(found, names)}

Fresh loads, the new page's main thread from its start until ready (its metrics start with the page) and the CPU
ms of all Chromium's processes and of the server from the navigation until ready (medians):

{main_thread_table(found, names, "fresh load")}
<!-- /browser -->"""


def merge(existing: str, section: str) -> str:
    pattern = re.compile(r"<!-- browser -->.*?<!-- /browser -->", re.S)
    if pattern.search(existing):
        return pattern.sub(lambda _m: section, existing)
    return existing.rstrip("\n") + "\n\n" + section + "\n"


def data_days(folder: Path) -> tuple[str, str]:
    days = sorted(p.name.split("=", 1)[1] for p in (folder / "events").glob("utc_date=*"))
    return days[0], days[-1]


def git_commit(checkout: Path) -> str:
    return subprocess.run(["git", "-C", str(checkout), "describe", "--always", "--dirty"], capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    data = args.data.resolve()
    _first, last = data_days(data)
    args.end = args.end or (dt.date.fromisoformat(last) - dt.timedelta(days=1)).isoformat()
    args.start = args.start or (dt.date.fromisoformat(args.end) - dt.timedelta(days=29)).isoformat()
    query = f"?start={args.start}&end={args.end}"
    checkouts = {"after": PROJECT}
    if args.before:
        checkouts = {"before": args.before.resolve(), **checkouts}
    versions = {name: git_commit(path) for name, path in checkouts.items()}
    accounts = people(data)
    loads = []
    servers, drivers = {}, {}
    with tempfile.TemporaryDirectory(prefix="browser-bench-") as scratch:
        try:
            bases = {}
            for name, checkout in checkouts.items():
                servers[name], bases[name] = start_server(checkout, data, Path(scratch) / name, accounts, args)
            for name in checkouts:
                for role, person in accounts.items():
                    drivers[(name, role)] = chromium(Path(scratch) / f"chromium-{name}-{role}")
                    sign_in(drivers[(name, role)], bases[name], person["email"])
            found = measure(drivers, bases, query, args.samples, loads, args.tabs.split(","), servers)
        finally:
            for driver in drivers.values():
                driver.quit()
            for server in servers.values():
                serving.stop(server)
    events = f"data `{data.name}`" if not data.name.isdigit() else f"about {int(data.name):,} events"
    section = render(args, versions, found, loads, events)
    print(section)
    if not args.no_write:
        args.out.write_text(merge(args.out.read_text() if args.out.exists() else "", section))


if __name__ == "__main__":
    main()
