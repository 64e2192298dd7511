"""A tiny hand-made organization whose numbers the tests work out by hand.

Teams: Engineering (t_eng), Sales (t_sales), Legal (t_legal).
Max (u2) manages Engineering and Sales; Lee (u3) manages Legal; Ivy (u7) manages nothing.
Noa (u6) never used an agent. US daylight saving starts 2026-03-08 02:00 local.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import polars as pl

from data import schema
from data.rollups import build as rollup_build

UTC = dt.UTC
PASSWORD = "correct horse battery staple"


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


USERS = [
    ("u1", "Ada Admin", "admin@test.example", "t_eng", "admin"),
    ("u2", "Max Manager", "manager@test.example", "t_eng", "manager"),
    ("u3", "Lee Legal", "legal.manager@test.example", "t_legal", "manager"),
    ("u4", "Mia Member", "member@test.example", "t_eng", "member"),
    ("u5", "Sam Sales", "sam@test.example", "t_sales", "member"),
    ("u6", "Noa Never", "noa@test.example", "t_legal", "member"),
    ("u7", "Ivy Idle", "ivy@test.example", "t_eng", "manager"),
]
TEAMS = [("t_eng", "Engineering"), ("t_sales", "Sales"), ("t_legal", "Legal")]
TEAM_MANAGERS = [("u2", "t_eng"), ("u2", "t_sales"), ("u3", "t_legal")]
AGENTS = [("a_code", "Code Helper", "t_eng"), ("a_draft", "Drafting", "t_legal")]

# event_id, UTC time, user, team, agent, cost, status
EVENTS = [
    ("e0", "2026-02-25 12:00", "u4", "t_eng", "a_code", "0.050000", "ok"),
    ("e1", "2026-03-02 10:00", "u4", "t_eng", "a_code", "0.100000", "ok"),
    ("e2", "2026-03-02 15:30", "u4", "t_eng", "a_code", "0.250000", "error"),
    ("e3", "2026-03-03 09:00", "u5", "t_sales", "a_code", "1.000001", "ok"),
    ("e4", "2026-03-03 23:30", "u2", "t_eng", "a_draft", "0.333333", "ok"),
    ("e5", "2026-03-04 02:00", "u3", "t_legal", "a_draft", "2.000000", "ok"),
    ("e6", "2026-03-08 06:30", "u4", "t_eng", "a_code", "0.040000", "ok"),
    ("e7", "2026-03-09 03:30", "u5", "t_sales", "a_code", "0.500000", "ok"),
    ("e8", "2026-03-09 04:30", "u5", "t_sales", "a_code", "0.700000", "ok"),
]


def events_frame(events: list[tuple] = EVENTS) -> pl.DataFrame:
    rows = [
        {
            "event_id": event_id,
            "ts": _ts(at),
            "user_id": user,
            "team_id": team,
            "agent_id": agent,
            "model": "claude-sonnet-4.5",
            "conversation_id": f"c_{event_id}",
            "input_tokens": 1000,
            "output_tokens": 200,
            "cost_usd": Decimal(cost),
            "latency_ms": 900,
            "status": status,
        }
        for event_id, at, user, team, agent, cost, status in events
    ]
    return pl.DataFrame(rows, schema=schema.EVENTS)


def write_org(data_dir: Path, events: list[tuple] = EVENTS) -> None:
    """Write the directory and the events, one Parquet file per UTC date, as the contract says."""
    folder = schema.directory_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    created = _ts("2026-01-05 09:00")
    users = [
        {"user_id": u, "name": n, "email": e, "team_id": t, "role": r, "created_at": created, "active": True}
        for u, n, e, t, r in USERS
    ]
    pl.DataFrame(users, schema=schema.USERS).write_parquet(folder / "users.parquet")
    pl.DataFrame(TEAMS, schema=schema.TEAMS, orient="row").write_parquet(folder / "teams.parquet")
    pl.DataFrame(TEAM_MANAGERS, schema=schema.TEAM_MANAGERS, orient="row").write_parquet(
        folder / "team_managers.parquet"
    )
    agents = [(a, n, t, created) for a, n, t in AGENTS]
    pl.DataFrame(agents, schema=schema.AGENTS, orient="row").write_parquet(folder / "agents.parquet")
    for (day,), part in events_frame(events).group_by(pl.col("ts").dt.date(), maintain_order=True):
        target = schema.partition_dir(data_dir, day.isoformat())
        target.mkdir(parents=True, exist_ok=True)
        part.sort("ts").write_parquet(target / "part-0.parquet")


_rolled_up: dict[tuple, Path] = {}  # this process's folders with their rollups, each written once and copied per test


def write_rolled_up(data_dir: Path, *writers: Callable[[Path], None], tz: str = "UTC") -> None:
    """What `writers` write (`write_org` by default) with the rollups in `tz` built, as the writer leaves a data
    folder: the questions then read the rollups, as they do when served. Written and built once per process and
    copied (a build costs 0.2-1 s, and an app finding no rollups builds them at its first question)."""
    writers = writers or (write_org,)
    key = (tuple(f"{write.__module__}.{write.__qualname__}" for write in writers), tz)
    if key not in _rolled_up:
        folder = Path(tempfile.mkdtemp(prefix="telemetry-org-")) / "data"
        for write in writers:
            write(folder)
        rollup_build.build(folder, tz)
        _rolled_up[key] = folder
    shutil.copytree(_rolled_up[key], data_dir)
    # The copy's events folder is another folder (inode): recorded as the writer's, or it reads as changed by hand.
    schema.write_version(data_dir, data_changed=False, events_changed=False, rebuilt=True)


def write_org_rolled_up(data_dir: Path) -> None:
    """`write_org` with the rollups in UTC built (`write_rolled_up`)."""
    write_rolled_up(data_dir)
