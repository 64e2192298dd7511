"""Planning the demo organization (people, agents, the cost spike) and writing its directory files."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from data.demo.cast import (
    ADMINS_PER_USER,
    AFFINITY_GENERAL,
    AFFINITY_OTHER,
    AFFINITY_OWNER,
    AFFINITY_RELEVANT,
    AGENTS,
    CHURN_SHARE,
    DEMO_ADMIN_EMAIL,
    DEMO_ADMIN_NAME,
    DEMO_MANAGER_EMAIL,
    DEMO_MANAGER_NAME,
    EMAIL_DOMAIN,
    FIRST_NAMES,
    HIRED_SHARE_PER_180_DAYS,
    INTENSITY_SIGMA,
    LAST_NAMES,
    LEFT_SHARE,
    MEDIAN_EXTRA_CONVERSATIONS,
    MODEL_INDEX,
    NEVER,
    NEVER_ADOPT_SHARE,
    PRE_WINDOW_ADOPTER_SHARE,
    SPIKE_DAYS,
    TEAMS,
    TWO_MANAGER_TEAM_SHARE,
    ZIPF_EXPONENT,
    Agent,
    Team,
)
from data.demo.clock import _day_number, _office_hours_utc_us


@dataclass
class _Users:
    """People; days are window day numbers (0 = first day, negative = before the window)."""

    team: np.ndarray  # team index
    role: list[str]
    managed: list[tuple[int, int]]  # (user index, team index) rows of team_managers
    created_day: np.ndarray
    created_us: np.ndarray  # UTC microseconds
    active: np.ndarray
    adopt_day: np.ndarray  # first day of use, NEVER for people who never adopt
    stop_day: np.ndarray  # last day of use: churn, leaving the company, or the window's end
    sure_day: np.ndarray  # a day with at least one conversation, so every adopter shows up
    activity: np.ndarray  # chance to use it on a weekday
    intensity: np.ndarray  # extra conversations on an active day; heavy-tailed
    chronotype: np.ndarray  # hours earlier (-) or later (+) than the office rhythm
    favorite: np.ndarray  # agent index


@dataclass
class _Agents:
    specs: list[Agent]
    owner: list[int]  # team index
    launch_day: np.ndarray  # first window day it can be used; created_at is the day before
    created_us: np.ndarray
    model: np.ndarray  # model index
    alt_model: np.ndarray  # model index or -1
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    error_rate: np.ndarray
    team_weights: np.ndarray  # [team, agent]: how likely a team's member picks each agent


@dataclass
class _Org:
    seed: int
    tz: str
    first_date: date
    days: int
    teams: tuple[Team, ...]
    names: list[str]
    emails: list[str]
    users: _Users
    agents: _Agents
    spike_agent: int
    spike_days: range


def _plan_org(users: int, days: int, seed: int, first_date: date, tz: str) -> _Org:
    """Everything about the org except its events, which are drawn day by day when written."""
    rng = np.random.default_rng([seed, 0])
    teams = TEAMS[: int(np.clip(round(5 * math.log10(users)), 5, len(TEAMS)))]
    team = _assign_teams(rng, users, teams)
    names, emails = _names_and_emails(rng, users)
    agents = _plan_agents(rng, users, days, teams, _day_number(first_date), tz)
    people = _plan_users(rng, team, teams, days, agents, _day_number(first_date), tz)
    spike_agent, spike_days = _plan_spike(agents, np.bincount(team, minlength=len(teams)), days)
    return _Org(seed, tz, first_date, days, teams, names, emails, people, agents,
                spike_agent, spike_days)


# --- The directory --------------------------------------------------------------------------------


def _assign_teams(rng: np.random.Generator, users: int, teams: tuple[Team, ...]) -> np.ndarray:
    """Team index per user: uneven sizes by weight, at least one or two people per team."""
    keys = [t.key for t in teams]
    weights = np.array([t.weight for t in teams])
    rest = users - 2
    floor = 2 if rest >= 2 * len(teams) else 1
    counts = floor + rng.multinomial(rest - floor * len(teams), weights / weights.sum())
    team = np.empty(users, dtype=np.int64)
    # The demo admin sits in IT (or Engineering), the demo manager in Sales.
    team[0] = keys.index("it") if "it" in keys else keys.index("engineering")
    team[1] = keys.index("sales")
    team[2:] = rng.permutation(np.repeat(np.arange(len(teams)), counts))
    return team


def _email_part(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum() or c == "-")


def _names_and_emails(rng: np.random.Generator, users: int) -> tuple[list[str], list[str]]:
    """Full names and unique first.last emails; a repeated name gets a digit (jo.kim2@...)."""
    firsts = rng.integers(len(FIRST_NAMES), size=users)
    lasts = rng.integers(len(LAST_NAMES), size=users)
    names = [DEMO_ADMIN_NAME, DEMO_MANAGER_NAME]
    emails = [DEMO_ADMIN_EMAIL, DEMO_MANAGER_EMAIL]
    seen: dict[str, int] = {}
    for first, last in zip(firsts[2:], lasts[2:], strict=True):
        names.append(f"{FIRST_NAMES[first]} {LAST_NAMES[last]}")
        local = f"{_email_part(FIRST_NAMES[first])}.{_email_part(LAST_NAMES[last])}"
        seen[local] = seen.get(local, 0) + 1
        suffix = str(seen[local]) if seen[local] > 1 else ""
        emails.append(f"{local}{suffix}@{EMAIL_DOMAIN}")
    return names, emails


def _pick(rng: np.random.Generator, *masks: np.ndarray) -> int:
    """A random index where the first non-empty mask is true."""
    for mask in masks:
        candidates = np.flatnonzero(mask)
        if candidates.size:
            return int(candidates[rng.integers(candidates.size)])
    raise RuntimeError("no one left to pick")  # cannot happen for users >= MIN_USERS


def _assign_roles(
    rng: np.random.Generator, team: np.ndarray, teams: tuple[Team, ...], hired: np.ndarray
) -> tuple[list[str], list[tuple[int, int]]]:
    """Admins, team managers (one or two per team, some run two teams, one has none yet)."""
    users = team.size
    keys = [t.key for t in teams]
    special = np.zeros(users, dtype=bool)
    special[:2] = True
    admins = [0, *(2 + rng.choice(users - 2, max(1, round(users * ADMINS_PER_USER)) - 1, False))]
    special[admins] = True
    sales, marketing = keys.index("sales"), keys.index("marketing")
    managed = [(1, sales), (1, marketing)]
    # Another manager runs the two smallest teams (besides Sales and Marketing).
    sizes = np.bincount(team, minlength=len(teams))
    smallest = [int(t) for t in np.argsort(sizes, kind="stable") if t not in (sales, marketing)]
    pair = _pick(rng, (team == smallest[0]) & ~special, ~special)
    special[pair] = True
    managed += [(pair, smallest[0]), (pair, smallest[1])]
    wanted = np.where(sizes >= max(12, TWO_MANAGER_TEAM_SHARE * users), 2, 1)
    for t in range(len(teams)):
        while sum(1 for _, m in managed if m == t) < wanted[t]:
            manager = _pick(rng, (team == t) & ~special, ~special)
            special[manager] = True
            managed.append((manager, t))
    # A newly promoted manager (preferably a recent hire) with no team yet.
    unassigned = _pick(rng, hired & ~special, ~special)
    roles = ["member"] * users
    for user in [unassigned, *(m for m, _ in managed)]:
        roles[user] = "manager"
    for user in admins:
        roles[user] = "admin"
    return roles, sorted(managed, key=lambda row: (row[1], row[0]))


def _uniform_int(u: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Integers uniform in [low, high] from uniforms u; meaningless where high < low."""
    return low + np.floor(u * np.maximum(high - low + 1, 1)).astype(np.int64)


def _created_days(rng: np.random.Generator, users: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Account creation day and whether the person was hired during the window."""
    hired = np.zeros(users, dtype=bool)
    if days >= 2:  # a hire needs a day to be created on before their first day of use
        count = max(1, round(min(0.25, HIRED_SHARE_PER_180_DAYS * days / 180) * users))
        hired[2 + rng.choice(users - 2, count, replace=False)] = True
    # A growing company: more people joined recently than years ago.
    before = -1 - np.floor(1500 * rng.beta(1.0, 1.8, users)).astype(np.int64)
    during = rng.integers(0, max(days - 1, 1), users)
    created = np.where(hired, during, before)
    created[:2] = -700
    return created, hired


def _adoption_days(rng: np.random.Generator, created: np.ndarray, days: int) -> np.ndarray:
    """First day of use: some before the window, most spread over it; NEVER for some."""
    users = created.size
    never = np.zeros(users, dtype=bool)
    never[2 + rng.choice(users - 2, round(NEVER_ADOPT_SHARE * users), replace=False)] = True
    early = (created <= -2) & (rng.random(users) < PRE_WINDOW_ADOPTER_SHARE)
    early_day = _uniform_int(rng.random(users), np.maximum(created + 1, -300), np.full(users, -1))
    low = np.maximum(created + 1, 0)
    late_day = low + np.floor(rng.beta(1.3, 2.2, users) * (days - low)).astype(np.int64)
    adopt = np.where(early, early_day, np.minimum(late_day, days - 1))
    adopt[:2] = early_day[:2]  # the demo admin and manager have used it for a while
    return np.where(never, NEVER, adopt)


def _stop_days(
    rng: np.random.Generator, adopt: np.ndarray, created: np.ndarray, days: int, special: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Last day of use and whether the person is still with the company."""
    users = adopt.size
    adopter = adopt < NEVER
    first = np.maximum(adopt, 0)
    last = np.full(users, days - 1)
    churn = adopter & ~special & (rng.random(users) < CHURN_SHARE) & (first + 7 <= days - 1)
    stop = np.where(churn, _uniform_int(rng.random(users), first + 7, last), last)
    # Leavers: no events from the day they left, at least a week before the window's end.
    candidates = np.flatnonzero(~special & (created < 0) & ~churn)
    left = np.zeros(users, dtype=bool)
    left[rng.choice(candidates, min(candidates.size, round(LEFT_SHARE * users)), False)] = True
    leave_low = np.where(adopter, first + 1, 1)
    leave_high = np.full(users, days - 8)
    leave = _uniform_int(rng.random(users), leave_low, leave_high)
    stop = np.where(left, np.where(leave_high >= leave_low, leave - 1, -1), stop)
    return stop, ~left


def _sure_days(rng: np.random.Generator, adopt: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """The adoption day, or a random day in use for those who adopted before the window."""
    first = np.maximum(adopt, 0)
    sure = np.where(adopt >= 0, adopt, _uniform_int(rng.random(adopt.size), first, stop))
    return np.where((adopt < NEVER) & (stop >= first), sure, -1)


def _draw_agents(
    rng: np.random.Generator, weights: np.ndarray, team: np.ndarray, available: np.ndarray
) -> np.ndarray:
    """An agent index per row, drawn from its team's weights over the available agents."""
    cdf = np.cumsum(weights * available, axis=1)
    cdf /= cdf[:, -1:]  # the last entry is exactly 1.0, so u < 1 never runs past the end
    u = rng.random(team.size)
    agent = np.empty(team.size, dtype=np.int64)
    for t in range(weights.shape[0]):
        rows = team == t
        # side="right" skips agents with zero weight (cdf flat there), like Generator.choice.
        agent[rows] = np.searchsorted(cdf[t], u[rows], side="right")
    return agent


def _plan_users(
    rng: np.random.Generator,
    team: np.ndarray,
    teams: tuple[Team, ...],
    days: int,
    agents: _Agents,
    first_day: int,
    tz: str,
) -> _Users:
    users = team.size
    created, hired = _created_days(rng, users, days)
    roles, managed = _assign_roles(rng, team, teams, hired)
    special = np.array([role != "member" for role in roles])
    adopt = _adoption_days(rng, created, days)
    stop, active = _stop_days(rng, adopt, created, days, special)
    return _Users(
        team=team,
        role=roles,
        managed=managed,
        created_day=created,
        created_us=_office_hours_utc_us(rng, first_day + created, tz),
        active=active,
        adopt_day=adopt,
        stop_day=stop,
        sure_day=_sure_days(rng, adopt, stop),
        activity=rng.beta(3.0, 1.8, users),
        intensity=np.minimum(
            rng.lognormal(math.log(MEDIAN_EXTRA_CONVERSATIONS), INTENSITY_SIGMA, users), 80.0
        ),
        chronotype=rng.normal(0.0, 0.6, users),
        favorite=_draw_agents(rng, agents.team_weights, team, np.ones(len(agents.specs), bool)),
    )


def _choose_agents(users: int, teams: tuple[Team, ...]) -> tuple[list[Agent], list[int]]:
    """The org's agents in popularity order, and each one's owner team index."""
    keys = [t.key for t in teams]
    count = int(np.clip(round(8 * math.log10(users) + 6), 8, len(AGENTS)))
    # Prefer agents whose owner team exists; others are owned by Engineering.
    ranked = sorted(range(len(AGENTS)), key=lambda i: (AGENTS[i].owner not in keys, i))
    chosen = sorted(ranked[:count])
    owner_of = [AGENTS[i].owner if AGENTS[i].owner in keys else "engineering" for i in chosen]
    return [AGENTS[i] for i in chosen], [keys.index(owner) for owner in owner_of]


def _affinity(agent: Agent, owner: int, teams: tuple[Team, ...]) -> np.ndarray:
    """How much each team reaches for this agent, before popularity."""
    affinity = np.full(len(teams), AFFINITY_GENERAL if agent.general else AFFINITY_OTHER)
    for t, team in enumerate(teams):
        if team.key in agent.relevant:
            affinity[t] = AFFINITY_RELEVANT
    affinity[owner] = AFFINITY_OWNER
    return affinity


def _launch_days(rng: np.random.Generator, count: int, days: int) -> np.ndarray:
    """The 3 most popular and ~45% in all exist before the window; the rest launch during it."""
    order = np.concatenate([np.arange(min(3, count)), 3 + rng.permutation(max(count - 3, 0))])
    before = max(min(3, count), math.ceil(0.45 * count))
    launch = np.empty(count, dtype=np.int64)
    launch[order[:before]] = -1 - rng.integers(0, 400, before)
    latest = max(2, days - max(7, days // 10))
    launch[order[before:]] = rng.integers(1, latest, count - before)
    return launch


def _plan_agents(
    rng: np.random.Generator,
    users: int,
    days: int,
    teams: tuple[Team, ...],
    first_day: int,
    tz: str,
) -> _Agents:
    specs, owner = _choose_agents(users, teams)
    count = len(specs)
    popularity = (1.0 / np.arange(1, count + 1)) ** ZIPF_EXPONENT * rng.lognormal(0, 0.25, count)
    affinity = np.stack([_affinity(a, o, teams) for a, o in zip(specs, owner, strict=True)], 1)
    launch = _launch_days(rng, count, days)
    return _Agents(
        specs=specs,
        owner=owner,
        launch_day=launch,
        created_us=_office_hours_utc_us(rng, first_day + launch - 1, tz),
        model=np.array([MODEL_INDEX[a.model] for a in specs]),
        alt_model=np.array([MODEL_INDEX[a.alt_model] if a.alt_model else -1 for a in specs]),
        input_tokens=np.array([a.input_tokens for a in specs], dtype=np.float64),
        output_tokens=np.array([a.output_tokens for a in specs], dtype=np.float64),
        error_rate=np.array([a.error_rate for a in specs]),
        team_weights=affinity * popularity,
    )


def _plan_spike(agents: _Agents, team_sizes: np.ndarray, days: int) -> tuple[int, range]:
    """The third busiest agent at the time runs on SPIKE_MODEL for about SPIKE_DAYS days."""
    length = min(SPIKE_DAYS, max(1, days // 5))
    start = min(int(days * 0.62), days - length)
    shares = agents.team_weights / agents.team_weights.sum(axis=1, keepdims=True)
    expected = team_sizes @ shares
    ranked = [int(a) for a in np.argsort(-expected, kind="stable") if agents.launch_day[a] <= start]
    return ranked[min(2, len(ranked) - 1)], range(start, start + length)
