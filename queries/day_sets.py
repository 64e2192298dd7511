"""Who was active on each local day, as bitsets: one bit per user code, 64 users to a word.

Saved with the user index (`queries/user_index.py`): per day the set of everyone active, per day and
team, per day and agent, and interactions per day × team × agent (for ranking). Distinct users over
any days, and per agent, team or bucket, are then ORs of a few kilobytes per day and a popcount, so a
full year costs the same whatever the number of events. A scope narrowed to teams and agents at once,
or teams grouped by agent, has no set of its own (a set per day × team × agent would be 20 times
larger): the agents' sets answer it for the people who stayed in the scope's teams through the period
(`only_in_teams`); when someone moved in or out of them, `plan` says None and the index counts from its
rows instead.
"""

from __future__ import annotations

import threading

import numpy as np

NAMES = ("sets.first_day", "sets.all", "sets.team", "sets.agent", "sets.interactions")
_KEPT = 32  # answers of `only_in_teams` kept
Plan = tuple[np.ndarray, np.ndarray | None, np.ndarray | None]  # sets, keys allowed, users allowed (a set)
_WORD = 64


def _words(users: int) -> int:
    return max(1, -(-users // _WORD))


def build(rows: dict[str, np.ndarray], users: int, teams: int, agents: int) -> dict[str, np.ndarray]:
    """The sets of the index's rows (day, user, team, agent, interactions)."""
    day = rows["day"].astype(np.int64)
    first = int(day.min()) if len(day) else 0
    days = int(day.max()) - first + 1 if len(day) else 0
    index, word = day - first, rows["user"].astype(np.int64) // _WORD
    bit = np.left_shift(np.uint64(1), (rows["user"].astype(np.int64) % _WORD).astype(np.uint64))
    width = _words(users)
    every = np.zeros((days, width), dtype=np.uint64)
    np.bitwise_or.at(every, (index, word), bit)
    per_team = np.zeros((days, teams, width), dtype=np.uint64)
    np.bitwise_or.at(per_team, (index, rows["team"].astype(np.int64), word), bit)
    per_agent = np.zeros((days, agents, width), dtype=np.uint64)
    np.bitwise_or.at(per_agent, (index, rows["agent"].astype(np.int64), word), bit)
    interactions = np.zeros((days, teams, agents), dtype=np.int64)
    np.add.at(interactions, (index, rows["team"].astype(np.int64), rows["agent"].astype(np.int64)),
              rows["interactions"].astype(np.int64))  # fmt: skip
    return {
        "sets.first_day": np.array([first], dtype=np.int64),
        "sets.all": every,
        "sets.team": per_team,
        "sets.agent": per_agent,
        "sets.interactions": interactions,
    }


def count(bits: np.ndarray) -> np.ndarray:
    """Users in each set (the last axis holds a set's words)."""
    return np.bitwise_count(bits).sum(axis=-1, dtype=np.int64)


def members(bits: np.ndarray, users: int) -> np.ndarray:
    """A set as a boolean per user code."""
    return np.unpackbits(np.ascontiguousarray(bits).view(np.uint8), bitorder="little")[:users].astype(bool)


class DaySets:
    def __init__(self, arrays: dict[str, np.ndarray], teams: np.ndarray, agents: np.ndarray) -> None:
        self.first_day = int(arrays["sets.first_day"][0])
        self.every, self.per_team, self.per_agent = arrays["sets.all"], arrays["sets.team"], arrays["sets.agent"]
        self.interactions = arrays["sets.interactions"]
        self.teams, self.agents = teams, agents
        self._only_in_teams: dict[tuple, np.ndarray | None] = {}  # oldest first
        self._lock = threading.Lock()

    def days(self, start: int, end: int) -> tuple[slice, int]:
        """The sets' rows for local days `start..end` (days since 1970), and the first of those days."""
        low = min(max(start - self.first_day, 0), len(self.every))
        high = min(max(end - self.first_day + 1, low), len(self.every))
        return slice(low, high), self.first_day + low

    def plan(self, params: dict, part: slice, by: str | None = None) -> Plan | None:
        """The day × key × word sets for a scope, grouped `by` agent or team (or None: every user), with
        the keys the scope allows and the users it allows (None: all); None when only rows can tell."""
        all_teams, all_agents = params["team_ids"] is None, params["agent_ids"] is None
        if by == "agent" or (by is None and not all_agents):
            allowed = None if all_agents else np.isin(self.agents, list(params["agent_ids"]))
            if all_teams:
                return self.per_agent, allowed, None
            users = self.only_in_teams(params, part)
            return None if users is None else (self.per_agent, allowed, users)
        if not all_teams and not all_agents:
            return None
        if by == "team" or (by is None and not all_teams):
            if not all_agents:
                return None
            allowed = None if all_teams else np.isin(self.teams, list(params["team_ids"]))
            return self.per_team, allowed, None
        return self.every[:, None, :], None, None

    def only_in_teams(self, params: dict, part: slice) -> np.ndarray | None:
        """The set of users active on the days `part` in the scope's teams, if none of them was also active
        in another team on those days; else None.

        Then anyone's rows on those days are all in the scope's teams, so who used an agent in the scope
        is who used it at all, among these users: per-agent sets answer a scope of teams, exactly. A user
        who changed teams in the period could have used the agent in the other team: only rows can tell.
        """
        key = (part.start, part.stop, tuple(sorted(params["team_ids"])))
        with self._lock:
            if key in self._only_in_teams:
                return self._only_in_teams[key]
        per_team = np.bitwise_or.reduce(np.asarray(self.per_team[part]), axis=0)  # team × word
        inside = np.isin(self.teams, list(params["team_ids"]))
        ours = np.bitwise_or.reduce(per_team[inside], axis=0)
        theirs = np.bitwise_or.reduce(per_team[~inside], axis=0)
        found = None if np.any(ours & theirs) else ours
        with self._lock:  # a tab asks three or four times (a year: 28 MB read each time)
            self._only_in_teams[key] = found
            while len(self._only_in_teams) > _KEPT:
                self._only_in_teams.pop(next(iter(self._only_in_teams)))
        return found

    def interactions_by(self, params: dict, by: str, part: slice) -> np.ndarray:
        """Interactions per agent or team code over the days `part`, in the scope."""
        counts = self.interactions[part].sum(axis=0)  # team × agent
        if params["team_ids"] is not None:
            counts = counts * np.isin(self.teams, list(params["team_ids"]))[:, None]
        if params["agent_ids"] is not None:
            counts = counts * np.isin(self.agents, list(params["agent_ids"]))[None, :]
        return counts.sum(axis=1) if by == "team" else counts.sum(axis=0)
