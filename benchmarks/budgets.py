"""Time to evaluate every budget of an organization (issue 22): `alerts.check.evaluate`, in process.

    python benchmarks/budgets.py --source /work/bench100m/100000000 --out /work/scratch/budgets/bench \
        --teams 200 --agents 50

Makes a folder beside the source (never writing into it): events, the user index and the other rollups are
symbolic links to the source's; the directory and the `cube` rollup are copies in which each of the source's
teams is split into `--teams / source teams` teams (each cube row shared out among them, so the cube has that
many times the rows, as an organization of that many teams would) and agents are added up to `--agents`.
Then one budget for the organization, each team and each agent, and the evaluation timed with the result
cache bypassed (every SQL question runs): CPU (time.process_time) and wall time per sample.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts.check import evaluate  # noqa: E402
from app import create_app  # noqa: E402
from data import schema  # noqa: E402
from queries import cache as query_cache  # noqa: E402
from queries import usage  # noqa: E402
from queries.scope import Scope  # noqa: E402


def make_folder(source: Path, out: Path, teams: int, agents: int) -> None:
    """The source's data with `teams` teams and `agents` agents (see the module's docstring)."""
    if out.exists():
        return
    (out / "rollups").mkdir(parents=True)
    (out / "events").symlink_to(source / "events")  # the same inode: the rollups stay current
    shutil.copy2(source / ".version", out / ".version")
    for item in (source / "rollups").iterdir():
        if item.name not in ("cube", "manifest.json"):
            (out / "rollups" / item.name).symlink_to(item)
    shutil.copy2(source / "rollups" / "manifest.json", out / "rollups" / "manifest.json")
    shutil.copytree(source / "directory", out / "directory")
    team_frame = pl.read_parquet(source / "directory" / "teams.parquet")
    split = max(1, teams // team_frame.height)
    parts = pl.DataFrame({"part": list(range(split))})
    new_teams = (
        team_frame.join(parts, how="cross")
        .with_columns(
            team_id=pl.col("team_id") + "_" + pl.col("part").cast(pl.String),
            name=pl.col("name") + " " + (pl.col("part") + 1).cast(pl.String),
        )
        .drop("part")
    )
    new_teams.write_parquet(out / "directory" / "teams.parquet")
    agent_frame = pl.read_parquet(source / "directory" / "agents.parquet")
    extra = agent_frame.head(max(0, agents - agent_frame.height)).with_columns(
        agent_id=pl.col("agent_id") + "_b", name=pl.col("name") + " B"
    )
    pl.concat([agent_frame, extra]).write_parquet(out / "directory" / "agents.parquet")
    extra_ids = extra["agent_id"].str.strip_suffix("_b").to_list()
    with duckdb.connect() as con:
        for month in sorted((source / "rollups" / "cube").iterdir()):
            target = out / "rollups" / "cube" / month.name
            target.mkdir(parents=True)
            cube = con.sql(f"select * from read_parquet('{month}/*.parquet')").pl()  # noqa: S608
            cube = _split(cube, split, extra_ids)
            cube.write_parquet(target / "part-0.parquet")


def _split(cube: pl.DataFrame, split: int, extra_agents: list[str]) -> pl.DataFrame:
    """Each row shared out among `split` teams (whole counts to the first, money exactly by tenths of it);
    half the rows of the first agents moved to their copies."""
    parts = pl.DataFrame({"part": list(range(split))})
    out = cube.join(parts, how="cross")
    cost_type = cube.schema["cost_usd"]
    out = out.with_columns(
        team_id=pl.col("team_id") + "_" + pl.col("part").cast(pl.String),
        cost_usd=(pl.col("cost_usd") / split).cast(cost_type),
        agent_id=pl.when(pl.col("agent_id").is_in(extra_agents) & (pl.col("day").dt.day() % 2 == 0))
        .then(pl.col("agent_id") + "_b")
        .otherwise(pl.col("agent_id")),
    ).drop("part")
    return out.select(cube.columns)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    make_folder(args.source.resolve(), args.out.resolve(), args.teams, args.agents)
    tz = "America/New_York"
    app = create_app({"DATA_DIR": str(args.out), "SECRET_KEY": "bench", "ORG_TIMEZONE": tz,
                      "ACCOUNTS_DB": str(args.out.parent / "budgets-bench.sqlite")}, with_dash=False)  # fmt: skip
    store = app.extensions["telemetry_alerts"]
    with app.app_context():
        teams = pl.read_parquet(schema.directory_dir(args.out) / "teams.parquet")["team_id"].to_list()
        agents = pl.read_parquet(schema.directory_dir(args.out) / "agents.parquet")["agent_id"].to_list()
        if not store.budgets():
            store.set_budget("org", "", "billing", Decimal("500000"))
            for team in teams:
                store.set_budget("team", team, "billing", Decimal("2500"))
            for agent in agents:
                store.set_budget("agent", agent, "month", Decimal("10000"))
        today = usage.data_bounds(Scope.organization(), tz)["last_day"][0] - dt.timedelta(days=3)
        print(f"{len(teams)} teams, {len(agents)} agents, {len(store.budgets())} budgets; today = {today}")
        cpu, wall = [], []
        for _ in range(args.samples):
            with query_cache.bypassed():
                c0, w0 = time.process_time(), time.perf_counter()
                found, alerts = evaluate(store, today)
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
        print(f"{len(found)} statuses, {len(alerts)} alerts")
        median_wall, median_cpu = statistics.median(wall) * 1000, statistics.median(cpu) * 1000
        print(f"evaluate: wall median {median_wall:.0f} ms (min {min(wall) * 1000:.0f}, max {max(wall) * 1000:.0f});")
        print(f"CPU median {median_cpu:.0f} ms; {args.samples} samples, result cache bypassed")


if __name__ == "__main__":
    main()
