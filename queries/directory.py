"""Who exists: users, teams and who manages which team."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from queries import run
from queries.scope import Scope


def user_by_email(email: str) -> dict | None:
    rows = run("directory_user_by_email", {"email": email}).to_dicts()
    return rows[0] if rows else None


def managed_team_ids(user_id: str) -> list[str]:
    return run("managed_team_ids", {"user_id": user_id})["team_id"].to_list()


def teams_in_scope(scope: Scope) -> pl.DataFrame:
    """Rows of team_id, name, members for the teams the viewer may see."""
    return run("teams_in_scope", scope.params())


def agents() -> pl.DataFrame:
    """Rows of agent_id, name, owner_team_id, created_at for every agent."""
    return run("agents")


def unknown_ids(scope: Scope, team_ids: Iterable[str], agent_ids: Iterable[str]) -> tuple[str, str] | None:
    """(parameter, message) for the first filter naming ids `scope` cannot see, or None if all are known.

    A team outside a manager's teams is unknown to them, exactly like one that does not exist: the
    message reveals nothing about other teams.
    """
    team_ids, agent_ids = tuple(team_ids), tuple(agent_ids)
    if team_ids:
        visible_teams = set(teams_in_scope(scope)["team_id"].to_list())
        missing = [team for team in team_ids if team not in visible_teams]
        if missing:
            where = "the teams you can see" if scope.team_ids is not None else "the directory"
            return "teams", f"{_unknown('team', missing)}: not in {where}."
    if agent_ids:
        visible_agents = set(agents()["agent_id"].to_list())
        if scope.agent_ids is not None:
            visible_agents &= scope.agent_ids
        missing = [agent for agent in agent_ids if agent not in visible_agents]
        if missing:
            return "agents", f"{_unknown('agent', missing)}: not in the directory."
    return None


def _unknown(kind: str, ids: list[str]) -> str:
    shown = ", ".join(repr(i) for i in ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
    return f"Unknown {kind} {shown}" if len(ids) == 1 else f"Unknown {kind}s {shown}"
