"""Time the demo generator and measure its peak memory; run by hand.

    python benchmarks/seed_demo.py --users 1000 --days 180
    python benchmarks/seed_demo.py --events-target 10000000 --days 180

With --events-target the number of users is estimated from a 1,000-user pilot over the same days.
Data goes to a temporary folder that is removed afterwards, unless --out is given.
"""

from __future__ import annotations

import argparse
import math
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PILOT_USERS = 1000


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--events-target", type=int, help="pick --users to get about this many")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument("--tz", default="UTC")
    parser.add_argument("--out", type=Path, help="keep the data here (default: a temp folder)")
    return parser.parse_args(argv)


def users_for(events_target: int, args: argparse.Namespace) -> int:
    """Users needed for about events_target events, from a pilot org over the same days."""
    from data.demo import write_demo

    with tempfile.TemporaryDirectory() as pilot:
        summary = write_demo(Path(pilot), PILOT_USERS, args.days, args.seed, args.end, args.tz)
    return max(10, math.ceil(events_target * PILOT_USERS / summary.events))


def disk_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*.parquet"))


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(PROJECT))  # so `python benchmarks/seed_demo.py` finds the data package
    from data.demo import write_demo

    args = parse_arguments(argv)
    users = users_for(args.events_target, args) if args.events_target else args.users
    out = args.out or Path(tempfile.mkdtemp(prefix="seed-demo-bench-"))
    try:
        started = time.perf_counter()
        summary = write_demo(out, users, args.days, args.seed, args.end, args.tz, overwrite=True)
        seconds = time.perf_counter() - started
        size = disk_bytes(out)
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    print(
        f"events={summary.events:,} users={users:,} days={args.days} agents={summary.agents} "
        f"seconds={seconds:.1f} events_per_s={summary.events / seconds:,.0f} "
        f"peak_rss_mib={peak_rss_mib():,.0f} parquet_mib={size / 2**20:,.0f}"
    )


if __name__ == "__main__":
    main()
