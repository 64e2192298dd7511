"""The demo organization: a deterministic, realistic fake company written in the data contract.

`write_demo(out_dir)` writes `events/` (Parquet, hive-partitioned by the UTC date of `ts`) and
`directory/` (users, teams, team_managers, agents, prices) as `data/schema.py` describes them.

What makes it look like a real company (each number is a named knob below):
- teams of uneven size, agents with owner teams, Zipf-like popularity and staggered launches;
  teams reach first for the agents relevant to them, each person also has a favourite;
- a working-week rhythm in the organization's local time (`tz`, DST included);
- staggered adoption (some people never adopt, a few churn or leave the company);
- heavy-tailed usage per person, multi-turn conversations, tokens by agent, latency that follows
  output tokens, a few percent errors, and one cost spike (an agent switched to an expensive model).

Same arguments give the same rows: every random draw comes from `numpy.random.default_rng`
seeded by `seed` (per day for events), and only the default `end` reads the clock.
Events are generated and written one local day at a time, so memory does not grow with size.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from data import schema
from data.demo.cast import MIN_USERS
from data.demo.directory import _write_directory
from data.demo.events import _write_events
from data.demo.org import _plan_org


@dataclass(frozen=True)
class DemoSummary:
    users: int
    teams: int
    agents: int
    events: int
    first_date: date  # first local day with data
    last_date: date  # last local day with data


class DemoDataExistsError(FileExistsError):
    """The target folder holds Telemetry data already and overwrite was not asked for."""


# --- Public API -----------------------------------------------------------------------------------


def write_demo(
    out_dir: Path,
    users: int = 1000,
    days: int = 180,
    seed: int = 42,
    end: date | None = None,
    tz: str = "UTC",
    overwrite: bool = False,
) -> DemoSummary:
    """Write the demo org into out_dir/events and out_dir/directory.

    `end` is the last local day with data (default: today in `tz`), `days` local days end there.
    Everything is written into a hidden staging folder inside out_dir first; then `events/` and
    `directory/` are swapped in, in that order, each by one rename. Only those two folders are
    replaced: out_dir may hold other things (it defaults to the app's DATA_DIR).
    """
    out_dir = Path(out_dir)
    check_arguments(users, days, tz)
    if has_data(out_dir) and not overwrite:
        raise DemoDataExistsError(
            f"{out_dir} already holds Telemetry data (events/ or directory/); "
            "pass overwrite=True (--overwrite) to replace it"
        )
    # With the default end (today), stop at this moment: no events from later today.
    until_us = None if end else int(datetime.now(ZoneInfo("UTC")).timestamp() * 1_000_000)
    end = end or datetime.now(ZoneInfo(tz)).date()
    org = _plan_org(users, days, seed, end - timedelta(days=days - 1), tz)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-staging-", dir=out_dir))
    try:
        events = _write_events(org, schema.events_dir(staging), until_us)
        _write_directory(org, schema.directory_dir(staging))
        _swap_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return DemoSummary(users, len(org.teams), len(org.agents.specs), events, org.first_date, end)


def check_arguments(users: int, days: int, tz: str) -> None:
    """Raise ValueError with a message fit for a person if the demo cannot be built."""
    if users < MIN_USERS:
        raise ValueError(f"users must be at least {MIN_USERS} (got {users})")
    if days < 1:
        raise ValueError(f"days must be at least 1 (got {days})")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r} (use an IANA name like Europe/Paris)") from None


def has_data(out_dir: Path) -> bool:
    return schema.has_events(out_dir) or any(schema.directory_dir(out_dir).glob("*.parquet"))


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    """Move events/ then directory/ from staging into out_dir, old ones back into staging."""
    for name in ("events", "directory"):
        target = out_dir / name
        if target.exists():
            target.rename(staging / f"replaced-{name}")
        (staging / name).rename(target)
