"""Which rows a view may show: the viewer's teams (decided by auth/) narrowed by their filters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Scope:
    """`team_ids` None means every team; an empty set means nothing at all. Same for agents.

    Frozen and hashable: the caches key on the scope itself (None, every team, is never equal to a set of ids).
    """

    team_ids: frozenset[str] | None
    label: str = ""
    agent_ids: frozenset[str] | None = None

    @classmethod
    def organization(cls) -> Scope:
        return cls(None, "Organization")

    @classmethod
    def teams(cls, team_ids: Iterable[str], label: str = "Your teams") -> Scope:
        return cls(frozenset(team_ids), label)

    @property
    def is_organization(self) -> bool:
        return self.team_ids is None and self.agent_ids is None

    def narrow(self, teams: Iterable[str] | None = None, agents: Iterable[str] | None = None) -> Scope:
        """Apply filters from the browser: they can only ever shrink the scope."""
        scope = self
        wanted_teams, wanted_agents = frozenset(teams or ()), frozenset(agents or ())
        if wanted_teams:
            scope = replace(scope, team_ids=_within(wanted_teams, self.team_ids), label="Selected teams")
        if wanted_agents:
            scope = replace(scope, agent_ids=_within(wanted_agents, self.agent_ids))
        return scope

    def params(self) -> dict:
        """Bound parameters of the scope predicate every question applies (queries/sql/macros.sql):
        None for every team (agent), else the sorted ids; an empty list allows nothing."""
        return {
            "team_ids": None if self.team_ids is None else sorted(self.team_ids),
            "agent_ids": None if self.agent_ids is None else sorted(self.agent_ids),
        }


def _within(wanted: frozenset[str], allowed: frozenset[str] | None) -> frozenset[str]:
    """The ids of `wanted` that `allowed` (None: every id) has."""
    return wanted if allowed is None else wanted & allowed
