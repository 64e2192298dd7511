"""Who exists: users, teams and who manages which team."""

from __future__ import annotations

import polars as pl

from queries import cursor
from queries.db import run
from queries.scope import Scope


def user_by_email(email: str) -> dict | None:
    rows = run(cursor(), "directory_user_by_email", {"email": email}).to_dicts()
    return rows[0] if rows else None


def managed_team_ids(user_id: str) -> list[str]:
    return run(cursor(), "managed_team_ids", {"user_id": user_id})["team_id"].to_list()


def teams_in_scope(scope: Scope) -> pl.DataFrame:
    """Rows of team_id, name, members for the teams the viewer may see."""
    return run(cursor(), "teams_in_scope", scope.params())


def agents() -> pl.DataFrame:
    """Rows of agent_id, name, owner_team_id, created_at for every agent."""
    return run(cursor(), "agents")
