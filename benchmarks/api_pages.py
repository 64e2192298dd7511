"""Warm time of `/api/v1/breakdown?by=user` over a data folder's last year: the view of a previous
commit (the whole list by Flask's jsonify) against today's view, a page or the whole list, each
serialised by orjson or by the standard library; in one process, the variants taking turns.

    .venv/bin/python benchmarks/api_pages.py --data benchmarks/out/10000000 --before main

The folder's events are linked, not copied, and nothing is written to it: the rollups, directory and
manifest are copied to a scratch folder, where the app keeps its account store. The view is called
in a request context with an admin's scope (the gate is not what is measured).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path

import orjson
from flask import Flask, jsonify

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import api.paging  # noqa: E402
import api.v1  # noqa: E402
from app import create_app  # noqa: E402
from data.rollups.manifest import current_manifest  # noqa: E402
from queries.scope import Scope  # noqa: E402


def scratch_copy(source: Path, into: Path) -> Path:
    """The folder to serve: events linked, the small rest copied, so the source is never written."""
    (into / "events").symlink_to((source / "events").resolve(), target_is_directory=True)
    for name in ("directory", "rollups"):
        shutil.copytree(source / name, into / name, symlinks=True)
    shutil.copy2(source / ".version", into / ".version")  # what the rollups were built for
    return into


def module_at(commit: str) -> types.ModuleType:
    """api/v1.py as it was at `commit`, loaded beside today's (its blueprint is never registered)."""
    text = subprocess.run(["git", "show", f"{commit}:api/v1.py"], cwd=REPO, check=True, capture_output=True, text=True)
    module = types.ModuleType("api_v1_before")
    exec(compile(text.stdout, f"{commit}:api/v1.py", "exec"), module.__dict__)  # noqa: S102 (our own file)
    return module


def stdlib_json(body: dict, status: int = 200):
    return jsonify(body), status


def call(app: Flask, url: str, view: Callable, stdlib: bool = False) -> int:
    """One answer's body size; the view runs in a request context as the API's route would run it."""
    api.v1._json = stdlib_json if stdlib else ORJSON  # the one place the view serialises
    with app.test_request_context(url):
        response = app.make_response(view())
        return len(response.get_data())


ORJSON = api.v1._json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--before", default="main", help="the commit whose api/v1.py is 'before'")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--tz", default=None, help="the org's time zone (default: the rollups' manifest's)")
    args = parser.parse_args()

    source = args.data.resolve()
    tz = args.tz or json.loads((source / "rollups" / "manifest.json").read_text())["tz"]
    with tempfile.TemporaryDirectory(prefix="api-pages-") as scratch:
        folder = scratch_copy(source, Path(scratch))
        app = create_app({"DATA_DIR": str(folder), "ORG_TIMEZONE": tz, "SECRET_KEY": "bench"}, with_dash=False)
        assert current_manifest(folder, tz) is not None, "the rollups do not answer for these events"
        last = max(dt.date.fromisoformat(p.name.split("=")[1]) for p in (folder / "events").iterdir())
        year = f"start={last - dt.timedelta(days=364)}&end={last}"
        before = module_at(args.before)
        organization = lambda: Scope.organization()  # noqa: E731
        api.v1.current_scope = before.current_scope = organization
        api.paging.MAX_LIMIT = 10**7  # so that one "page" may hold the whole list, to compare like with like

        url = f"/api/v1/breakdown?by=user&{year}"
        variants = {
            "before: whole list, stdlib": lambda: call(app, url, before.breakdown),
            "whole list, stdlib": lambda: call(app, url + "&limit=10000000", api.v1.breakdown, stdlib=True),
            "whole list, orjson": lambda: call(app, url + "&limit=10000000", api.v1.breakdown),
            "page of 1000, stdlib": lambda: call(app, url, api.v1.breakdown, stdlib=True),
            "page of 1000, orjson": lambda: call(app, url, api.v1.breakdown),
            "every page of 1000, orjson": lambda: walk(app, url),
        }
        sizes = {name: run() for name, run in variants.items()}  # warms every cache on the way
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, run in variants.items():
                started = time.perf_counter()
                run()
                times[name].append((time.perf_counter() - started) * 1000)
        people = json.loads(_body(app, url + "&limit=10000000", api.v1.breakdown))["rows"]
        print(f"{source.name}: by=user {year}, {len(people)} people, {args.rounds} rounds, warm")
        print(f"{'variant':30} {'bytes':>9} {'median ms':>10} {'p95 ms':>8}")
        for name, samples in times.items():
            p95 = statistics.quantiles(samples, n=20)[-1]
            print(f"{name:30} {sizes[name]:>9} {statistics.median(samples):>10.2f} {p95:>8.2f}")


def _body(app: Flask, url: str, view: Callable) -> bytes:
    api.v1._json = ORJSON
    with app.test_request_context(url):
        return app.make_response(view()).get_data()


def walk(app: Flask, url: str) -> int:
    """Every page, following next_cursor: the whole list as a paging client fetches it."""
    size, cursor = 0, None
    while True:
        body = _body(app, url + (f"&cursor={cursor}" if cursor else ""), api.v1.breakdown)
        size += len(body)
        cursor = orjson.loads(body)["next_cursor"]
        if cursor is None:
            return size


if __name__ == "__main__":
    main()
