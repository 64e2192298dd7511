"""Which teams a viewer may see. Built on the server by auth/, applied by every query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """`team_ids` None means the whole organization; an empty set means nothing at all."""

    team_ids: frozenset[str] | None
    label: str = ""

    @classmethod
    def organization(cls) -> Scope:
        return cls(None, "Organization")

    @classmethod
    def teams(cls, team_ids: Iterable[str], label: str = "Your teams") -> Scope:
        return cls(frozenset(team_ids), label)

    @property
    def is_organization(self) -> bool:
        return self.team_ids is None

    def narrow(self, requested: Iterable[str] | None) -> Scope:
        """Apply a team filter from the browser: it can only ever shrink the scope."""
        wanted = frozenset(requested or ())
        if not wanted:
            return self
        allowed = wanted if self.team_ids is None else wanted & self.team_ids
        return Scope(allowed, "Selected teams")

    def params(self) -> dict:
        """Bound parameters for the `($all_teams or team_id in (...))` filter in every query."""
        return {
            "all_teams": self.team_ids is None,
            "team_ids": sorted(self.team_ids or ()),
        }

    def key(self) -> tuple:
        """A hashable identity, for caches keyed by scope."""
        return ("org",) if self.team_ids is None else ("teams", *sorted(self.team_ids))
