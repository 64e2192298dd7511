"""The adoption questions (queries/adoption.py, issue 21) over a full year, in process, on a built data folder.

    python benchmarks/adoption.py --data /work/scratch/fixture/data --start 2025-11-22 --end 2026-11-21 \
        --tz America/New_York [question ...]

Reads only: the Database is opened on the folder with no app (no accounts file is made) and no rebuild (rollups
that do not answer raise). Per question: CPU (time.process_time) and wall time of `--samples` calls with the
result cache bypassed (the first one is the cold one: just after the rollups were loaded), then a warm call (its
answer kept in the result cache).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import queries  # noqa: E402
from queries import adoption  # noqa: E402
from queries import cache as query_cache  # noqa: E402
from queries.db import Database  # noqa: E402
from queries.filters import Filters  # noqa: E402
from queries.period import Period  # noqa: E402
from queries.scope import Scope  # noqa: E402


def questions(period: Period, teams: list[str]) -> dict[str, Callable]:
    org = Filters.asking(period, Scope.organization())
    manager = Filters.asking(period, Scope.teams(teams))
    one_team = Filters.asking(period, Scope.teams(teams[:1]))
    return {
        "funnel_org": lambda: adoption.funnel(org, "org"),
        "funnel_team": lambda: adoption.funnel(org, "team"),
        "funnel_agent": lambda: adoption.funnel(org, "agent"),
        "active_days_org": lambda: adoption.active_days(org, "org"),
        "active_days_team": lambda: adoption.active_days(org, "team"),
        "active_days_agent": lambda: adoption.active_days(org, "agent"),
        "cohorts": lambda: adoption.cohorts(org),
        "reclaim_30": lambda: adoption.reclaim(Scope.organization(), period.tz, 30),
        "adoption_team": lambda: adoption.adoption(org, "team"),
        "manager_active_days": lambda: adoption.active_days(manager, "org"),
        "manager_funnel_team": lambda: adoption.funnel(manager, "team"),
        "agent_adoption": lambda: adoption.agent_adoption(org),
        "model_costs": lambda: adoption.model_costs(org),
        "uptake": lambda: adoption.uptake(org),
        "agent_cohorts": lambda: adoption.agent_cohorts(org, newest(org)),
        "manager_uptake": lambda: adoption.uptake(manager),
        "manager_agent_cohorts": lambda: adoption.agent_cohorts(manager, newest(manager)),
        "manager_active_days_team": lambda: adoption.active_days(manager, "team"),
        "manager_active_days_agent": lambda: adoption.active_days(manager, "agent"),
        "one_team_active_days_agent": lambda: adoption.active_days(one_team, "agent"),
    }


@cache
def newest(filters: Filters) -> str:
    """The agent the tab shows by default (found once: the tab asks the uptake first, from the cache then)."""
    return adoption.pick_agent(adoption.uptake(filters), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--end", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--tz", default="UTC")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    app = Flask("bench")
    app.config.update(DATA_DIR=str(args.data), DUCKDB_THREADS=2, ROLLUP_REBUILD_WAIT=0, ORG_TIMEZONE=args.tz)
    started = time.perf_counter()
    app.extensions["telemetry_db"] = db = Database(args.data, threads=2)
    with app.app_context():
        db.ready(args.tz)
        print(f"opened and loaded in {time.perf_counter() - started:.1f} s")
        teams = [row[0] for row in queries.cursor().sql("select team_id from teams order by 1 limit 3").fetchall()]
        asked = questions(Period(args.start, args.end, args.tz), teams)
        for name in args.names or asked:
            samples = []
            for _ in range(args.samples):
                with query_cache.bypassed():
                    cpu, wall = time.process_time(), time.perf_counter()
                    rows = asked[name]().height
                    samples.append(f"{(time.process_time() - cpu) * 1e3:.0f}/{(time.perf_counter() - wall) * 1e3:.0f}")
            asked[name]()
            cpu, wall = time.process_time(), time.perf_counter()
            asked[name]()
            warm = f"{(time.process_time() - cpu) * 1e3:.1f}/{(time.perf_counter() - wall) * 1e3:.1f}"
            load = Path("/proc/loadavg").read_text().split()[0]
            print(f"{name:20s} {rows:6d} rows  computed CPU/wall ms: {', '.join(samples)}  warm {warm}  load {load}")


if __name__ == "__main__":
    main()
