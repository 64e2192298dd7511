"""Where the browser spends a tab switch: a Chromium performance trace of each switch, summed up.

    python benchmarks/browser_trace.py --data <data folder> [--tabs analytics,billing,adoption] [--samples 3]

Serves --data from this checkout (as benchmarks/browser.py, whose server, accounts and browser it uses), signs
in as an admin, and traces each switch to a tab (from the Dashboard) through the DevTools protocol: from the
click until the tab is ready (tests/page_ready.py) and a moment after. Prints per switch, for the page's main
thread:

- its long tasks (over 50 ms) and its time by trace event (script, style, layout, paint, garbage collection);
- the style and layout work a script forced (it read a size or a style after changing the page), by the
  script and the few functions on the stack: where the switch's many small layouts come from;
- its top-level tasks by the script they ran (a React commit, a timer, an animation frame).

Traced times are longer than untraced ones; compare shares, and counts, not wall times with browser.py's.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import browser  # benchmarks/browser.py, beside this file
import serving
from browser import page_ready

CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline",
              "disabled-by-default-devtools.timeline.stack", "blink.user_timing"]  # fmt: skip
TOP_LEVEL = {"FunctionCall", "RunMicrotasks", "TimerFire", "FireAnimationFrame", "EventDispatch", "EvaluateScript",
             "UpdateLayoutTree", "Layout", "Paint", "MinorGC", "MajorGC"}  # fmt: skip
STACK_FRAMES = 4  # of a forced layout's stack, from the first frame of a named script


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a data folder with current rollups (only read)")
    parser.add_argument("--tabs", default="analytics,billing,adoption")
    parser.add_argument("--samples", type=int, default=3, help="traced switches per tab")
    parser.add_argument("--tz", default="America/New_York")
    parser.add_argument("--duckdb-threads", type=int, default=2)
    return parser.parse_args(argv)


class Tracer:
    """Chrome's Tracing domain over the page's own DevTools socket (Selenium's CDP calls get no events)."""

    def __init__(self, driver) -> None:
        import requests
        import websocket  # websocket-client, installed with Selenium

        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        page = next(t for t in requests.get(f"http://{address}/json", timeout=30).json() if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=300, suppress_origin=True)
        self.calls = 0

    def _send(self, method: str, params: dict | None = None) -> int:
        self.calls += 1
        self.socket.send(json.dumps({"id": self.calls, "method": method, "params": params or {}}))
        return self.calls

    def start(self) -> None:
        call = self._send("Tracing.start", {"traceConfig": {"includedCategories": CATEGORIES},
                                            "transferMode": "ReportEvents"})  # fmt: skip
        while json.loads(self.socket.recv()).get("id") != call:
            pass

    def stop(self) -> list[dict]:
        self._send("Tracing.end")
        events = []
        while True:
            message = json.loads(self.socket.recv())
            if message.get("method") == "Tracing.dataCollected":
                events.extend(message["params"]["value"])
            elif message.get("method") == "Tracing.tracingComplete":
                return events


def main_thread(events: list[dict]) -> list[dict]:
    """The complete events of the renderer's main thread, in time order."""
    names = (e for e in events if e.get("ph") == "M" and e.get("name") == "thread_name")
    mains = {(e["pid"], e["tid"]) for e in names if e["args"]["name"] == "CrRendererMain"}
    return sorted((e for e in events if (e["pid"], e["tid"]) in mains and e.get("ph") == "X"), key=lambda e: e["ts"])


def script(url: str) -> str:
    return url.rsplit("/", 1)[-1].split("?")[0][:32]


def forced_by(event: dict) -> str:
    """Who forced a style or layout pass: the first frames from a named script on its stack, or not forced."""
    args = event.get("args", {})
    stack = (args.get("beginData") or {}).get("stackTrace") or (args.get("data") or {}).get("stackTrace")
    if not stack:
        return "(not forced: the browser's own frame)"
    start = next((i for i, frame in enumerate(stack) if frame.get("url")), 0)
    frames = stack[start : start + STACK_FRAMES]
    return f"{script(frames[0].get('url', ''))}: " + " < ".join(f.get("functionName") or "?" for f in frames)


def summary(events: list[dict]) -> dict:
    tasks = main_thread(events)
    by_event, forced, forced_count, top, top_count = (collections.Counter() for _ in range(5))
    long_tasks, end = [], -1
    for event in tasks:
        ms = event.get("dur", 0) / 1000
        by_event[event["name"]] += ms
        if event["name"] == "RunTask" and ms > 50:
            long_tasks.append(round(ms))
        if event["name"] in ("UpdateLayoutTree", "Layout"):
            key = f"{'style' if event['name'] == 'UpdateLayoutTree' else 'layout'} {forced_by(event)}"
            forced[key] += ms
            forced_count[key] += 1
        if event["name"] in TOP_LEVEL and event["ts"] >= end:  # outermost only
            end = event["ts"] + event.get("dur", 0)
            data = event.get("args", {}).get("data") or {}
            key = event["name"] + (f" {script(data['url'])}" if data.get("url") else "")
            top[key] += ms
            top_count[key] += 1
    return {"long_tasks": long_tasks, "by_event": by_event, "forced": (forced, forced_count), "top": (top, top_count)}


def report(slug: str, ms: float, found: dict) -> None:
    events = ("RunTask", "FunctionCall", "RunMicrotasks", "TimerFire", "FireAnimationFrame", "UpdateLayoutTree",
              "Layout", "Paint", "MinorGC", "MajorGC")  # fmt: skip
    print(f"\n{slug}: {ms:.0f} ms to ready (traced); long tasks {found['long_tasks']}")
    print("  by event (ms, nested events counted in each):",
          ", ".join(f"{name} {found['by_event'][name]:.0f}" for name in events))  # fmt: skip
    forced, count = found["forced"]
    print("  style and layout passes (ms, count, who forced them):")
    for key, ms_ in forced.most_common(12):
        print(f"    {ms_:6.0f} {count[key]:4d}  {key}")
    top, count = found["top"]
    print("  top-level tasks (ms, count):")
    for key, ms_ in top.most_common(8):
        print(f"    {ms_:6.0f} {count[key]:4d}  {key}")


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    data = args.data.resolve()
    _first, last = browser.data_days(data)
    end = dt.date.fromisoformat(last) - dt.timedelta(days=1)
    query = f"?start={end - dt.timedelta(days=29)}&end={end}"
    admin = browser.people(data)["admin"]
    with tempfile.TemporaryDirectory(prefix="browser-trace-") as scratch:
        server, base = browser.start_server(browser.PROJECT, data, Path(scratch) / "server", {"admin": admin}, args)
        driver = browser.chromium(Path(scratch) / "chromium")
        try:
            browser.sign_in(driver, base, admin["email"])
            page_ready.fresh_load(driver, f"{base}{browser.TABS['dashboard']}{query}")
            tracer = Tracer(driver)
            tabs = args.tabs.split(",")
            for round_ in range(args.samples + 1):  # round 0 warms the server and the browser: not traced
                for slug in tabs:
                    page_ready.switch_tab(driver, browser.LINKS["dashboard"], browser.TABS["dashboard"])
                    if round_:
                        tracer.start()
                    result = page_ready.switch_tab(driver, browser.LINKS[slug], browser.TABS[slug])
                    if round_:
                        time.sleep(0.5)  # what the page does just after it counts as ready (a chart's resize)
                        report(slug, result["ms"], summary(tracer.stop()))
        finally:
            driver.quit()
            serving.stop(server)


if __name__ == "__main__":
    main()
