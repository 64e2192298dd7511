"""The demo organization's directory files (users, teams, team managers, agents, prices)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

from data import schema
from data.demo.cast import (
    DIRECTORY_SCHEMAS,
    MODELS,
    PRICES_VALID_FROM,
)
from data.demo.org import _Org


def _directory_frames(org: _Org) -> dict[str, pl.DataFrame]:
    users, agents = org.users, org.agents
    team_ids = [t.team_id for t in org.teams]
    frames = {
        "users": pl.DataFrame(
            {
                "user_id": _user_ids(users.team.size),
                "name": org.names,
                "email": org.emails,
                "team_id": [team_ids[t] for t in users.team],
                "role": users.role,
                "created_at": users.created_us,
                "active": users.active,
            }
        ),
        "teams": pl.DataFrame({"team_id": team_ids, "name": [t.name for t in org.teams]}),
        "team_managers": pl.DataFrame(
            {
                "user_id": [_user_ids(users.team.size)[u] for u, _ in users.managed],
                "team_id": [team_ids[t] for _, t in users.managed],
            }
        ),
        "agents": pl.DataFrame(
            {
                "agent_id": [a.agent_id for a in agents.specs],
                "name": [a.name for a in agents.specs],
                "owner_team_id": [team_ids[t] for t in agents.owner],
                "created_at": agents.created_us,
            }
        ),
        "prices": _prices_frame(min(PRICES_VALID_FROM, org.first_date - timedelta(days=1))),
    }
    return {name: frame.cast(dict(DIRECTORY_SCHEMAS[name])) for name, frame in frames.items()}


def _prices_frame(valid_from: date) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "model": [m.name for m in MODELS],
            "input_usd_per_mtok": pl.Series(
                [m.input_usd_per_mtok for m in MODELS], dtype=schema.COST
            ),
            "output_usd_per_mtok": pl.Series(
                [m.output_usd_per_mtok for m in MODELS], dtype=schema.COST
            ),
            "valid_from": [valid_from] * len(MODELS),
            "valid_to": pl.Series([None] * len(MODELS), dtype=pl.Date),
        }
    )


def _user_ids(users: int) -> list[str]:
    return [f"u_{i:05d}" for i in range(1, users + 1)]


def _write_directory(org: _Org, directory: Path) -> None:
    directory.mkdir(parents=True)
    for name, frame in _directory_frames(org).items():
        frame.write_parquet(directory / f"{name}.parquet", compression="zstd")
