"""Per-person figures, exact over any period and scope, from the `user_day` rollup in memory: each
person's sums, active days and most used agent, and their first and last activity. Distinct-user counts
are not here: SQL counts them from the rollups' bitmaps (`user_sets`, queries/sql/cover.sql).

The rollup build saves `user_day` as numpy columns (integer codes for users, teams and agents, in the
order of their ids; days since 1970) in (day, user) order, at three levels: `rows` (day × user × team ×
agent); `pairs` (day × user × team, about a third as many), which answer questions whose scope does not
involve agents; and `months` (local month × user × team), which answer questions that read from the
first day up to the period's last month. Each process memory-maps them (shared through the page cache by
all workers) and answers with vectorised passes: the period is a slice found by binary search, the scope
a mask, and sums, minima and maxima per user `ufunc.at` over integer arrays (exact, unlike `bincount`'s
float weights).

The answers are Polars frames the rollup SQL files read as relations named `idx_*` (registered on
the request's cursor for one statement), so each question is still one SQL file joining the
directory; see `RELATIONS`. The per-person list is joined in Python instead (`queries/index_answers.py`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import polars as pl

_EPOCH = dt.date(1970, 1, 1)
_TS = pl.Datetime("us", "UTC")
_Answer = TypeVar("_Answer")
# Ids become codes in DuckDB (positions among the sorted distinct ids), so no id strings per row reach Python.
_KEYS_SQL = "select distinct {column} as id from user_day order by id"
_LOAD_SQL = """
with users as (select id, (row_number() over (order by id) - 1)::integer as code
               from (select distinct user_id as id from user_day)),
     teams as (select id, (row_number() over (order by id) - 1)::smallint as code
               from (select distinct team_id as id from user_day)),
     agents as (select id, (row_number() over (order by id) - 1)::smallint as code
                from (select distinct agent_id as id from user_day))
select
    (user_day.day - date '1970-01-01')::integer as day,
    users.code as user,
    teams.code as team,
    agents.code as agent,
    user_day.interactions::integer as interactions,
    {cost_micros} as cost_micros,
    epoch_us(user_day.first_ts) as first_us,
    epoch_us(user_day.last_ts) as last_us
from user_day
join users on users.id = user_day.user_id
join teams on teams.id = user_day.team_id
join agents on agents.id = user_day.agent_id
order by day, user, team, agent
"""
# Costs are summed per user in int64 micro-dollars, exact while all costs together are below 2**63
# micro-dollars (9.2 trillion USD; valid events cost at most 100,000 USD each, data/schema.py): then
# no partial sum can wrap around. Beyond that (a hand-made file), per-user costs are not given at all.
_COSTS_FIT_SQL = "select coalesce(sum(abs(cost_usd)), 0) < 9223372036854.775807 from user_day"
_COST_MICROS = {True: "(user_day.cost_usd * 1000000)::bigint", False: "0::bigint"}
_SELECTIONS_KEPT = 16
_SELECTIONS_BYTES = 64 * 2**20  # columns gathered for masked scopes are copies: at most this many bytes kept
KEYS = ("users", "teams", "agents")  # sorted ids; a code is a position among them
COSTS_FIT = "costs_fit"
COLUMNS = {  # per row of `user_day`, in (day, user, team) order
    "day": np.int32,
    "user": np.int32,
    "team": np.int16,
    "agent": np.int16,  # rows only
    "interactions": np.int32,
    "cost_micros": np.int64,
    "first_us": np.int64,
    "last_us": np.int64,
}
LEVELS = {
    "rows": tuple(COLUMNS),
    "pairs": tuple(c for c in COLUMNS if c != "agent"),
    # per (local month, user, team), in that order; `day` is the month's first day: first and last instant
    # (what questions reading from the first day need before the period's last month), and the month's sums
    # and (working) days with rows, for per-user figures over the period's whole months
    "months": ("day", "user", "team", "first_us", "last_us", "interactions", "cost_micros", "days",
               "working_days"),
    # per (local month, user, team, agent), in that order: interactions, for each user's most-used agent
    # over the whole months of a period (a quarter of the rows)
    "agent_months": ("day", "user", "team", "agent", "interactions"),
}


class CostsOutOfRange(ArithmeticError):
    """The rollups' costs together pass what int64 micro-dollars hold, so per-user costs are not exact."""


def _days(value: dt.date) -> int:
    return (value - _EPOCH).days


def _ids_key(ids: list[str] | None) -> tuple | None:
    """A scope parameter (`Scope.params`) as part of a key: None (every one) apart from () (none)."""
    return None if ids is None else tuple(ids)


def _answer_bytes(answer: object) -> int:
    if isinstance(answer, pl.DataFrame):
        return answer.estimated_size()
    if isinstance(answer, UserSums):
        return sum(array.nbytes for array in vars(answer).values())
    return 0


@dataclass(frozen=True)
class UserSums:
    """Per user code (the index's `users`), over a period in a scope: zero for users without rows there;
    `top_agent` is an agent code, meaningful only where `active_days` is not zero."""

    interactions: np.ndarray
    cost_micros: np.ndarray
    active_days: np.ndarray
    working_days: np.ndarray
    top_agent: np.ndarray


def _as_dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


def _level(params: dict, by_agent: bool = False) -> str:
    """The smaller level answers unless agents are in the scope or the grouping."""
    return "rows" if by_agent or params["agent_ids"] is not None else "pairs"


class Selection:
    """The rows of one level in a period (or up to its end) and scope; each column gathered on first use."""

    def __init__(self, columns: dict[str, np.ndarray], index: UserIndex, params: dict, from_start: bool) -> None:
        days = columns["day"]
        # The day as the column's own type: a Python int would have numpy convert the whole column first.
        low = np.searchsorted(days, days.dtype.type(_days(params["start_date"]))) if from_start else 0
        high = np.searchsorted(days, days.dtype.type(_days(params["end_date"])), side="right")
        self._source, self._part = columns, slice(int(low), int(high))
        mask = None
        if params["team_ids"] is not None:
            mask = _allowed_rows(columns["team"][self._part], np.isin(index.teams, list(params["team_ids"])))
        if params["agent_ids"] is not None:
            agents = _allowed_rows(columns["agent"][self._part], np.isin(index.agents, list(params["agent_ids"])))
            mask = agents if mask is None else mask & agents
        self._rows = None if mask is None else np.flatnonzero(mask)
        self._columns: dict[str, np.ndarray] = {}
        self._answers: dict[str, object] = {}
        self._lock = threading.Lock()
        self._gathering: dict[str, threading.Lock] = {}

    def column(self, name: str) -> np.ndarray:
        with self._lock:
            found = self._columns.get(name)
            if found is not None:
                return found
            gathering = self._gathering.setdefault(name, threading.Lock())
        with gathering:  # a tab's parts ask side by side: one gathers, the others wait for it
            with self._lock:
                found = self._columns.get(name)
            if found is None:
                found = np.asarray(self._source[name][self._part])
                if self._rows is not None:
                    found = np.take(found, self._rows)  # twice as fast as found[self._rows]
                with self._lock:
                    self._columns[name] = found
        return found

    def kept(self, name: str, compute: Callable[[], _Answer]) -> _Answer:
        """An answer computed once per selection (two questions of a tab often want the same one)."""
        with self._lock:
            found = self._answers.get(name)
        if found is None:
            found = compute()
            with self._lock:
                self._answers[name] = found
        return found

    @property
    def nbytes(self) -> int:
        """Bytes of the answers kept and of the columns gathered so far that are copies (an unmasked period
        is a view)."""
        with self._lock:
            answers = sum(_answer_bytes(answer) for answer in self._answers.values())
            if self._rows is None:
                return answers
            return answers + sum(column.nbytes for column in self._columns.values())

    day = property(lambda self: self.column("day"))
    user = property(lambda self: self.column("user"))
    team = property(lambda self: self.column("team"))
    agent = property(lambda self: self.column("agent"))
    interactions = property(lambda self: self.column("interactions"))
    cost_micros = property(lambda self: self.column("cost_micros"))
    names = property(lambda self: self._source.keys())
    first_us = property(lambda self: self.column("first_us"))
    last_us = property(lambda self: self.column("last_us"))

    @property
    def new_pair(self) -> np.ndarray:
        """Rows are in (day, user) order: a user's rows of one day are together; this marks the first of each."""
        with self._lock:
            found = self._columns.get("new_pair")
        if found is None:
            day, user = self.day, self.user
            found = np.ones(len(day), dtype=bool)
            found[1:] = (user[1:] != user[:-1]) | (day[1:] != day[:-1])
            with self._lock:
                self._columns["new_pair"] = found
        return found


class UserIndex:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.users, self.teams, self.agents = (arrays[name] for name in KEYS)
        self.user_ids = pl.Series("user_id", self.users, dtype=pl.String)  # converted once, gathered per answer
        self.agent_ids = pl.Series("top_agent_id", self.agents, dtype=pl.String)
        self.levels = {level: {c: arrays[f"{level}.{c}"] for c in columns} for level, columns in LEVELS.items()}
        self._costs_fit = arrays[COSTS_FIT]  # one boolean: whether `cost_micros` holds the costs (see _COSTS_FIT_SQL)
        self._selections: OrderedDict[tuple, Selection] = OrderedDict()
        self._building: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()
        self._derived: dict[str, tuple[tuple, object]] = {}

    def derived(self, name: str, sources: tuple, compute: Callable[[], _Answer]) -> _Answer:
        """Something worked out from this index and `sources` (compared by identity: held meanwhile, so
        none's id can be reused), kept with the index so that it goes when the index does."""
        kept = self._derived.get(name)
        if kept is not None and all(a is b for a, b in zip(kept[0], sources, strict=True)):
            return kept[1]
        value = compute()
        self._derived[name] = (sources, value)
        return value

    @classmethod
    def from_rollups(cls, cursor: duckdb.DuckDBPyConnection) -> UserIndex:
        """Read the `user_day` rollup through `cursor` (the rollup build does, then `save`s the index)."""
        arrays = {
            name: cursor.sql(_KEYS_SQL.format(column=column)).pl().to_series().to_numpy().astype(str)
            for name, column in zip(KEYS, ("user_id", "team_id", "agent_id"), strict=True)
        }
        fits = bool(cursor.sql(_COSTS_FIT_SQL).fetchall()[0][0])
        arrays[COSTS_FIT] = np.array([fits])
        found = cursor.sql(_LOAD_SQL.format(cost_micros=_COST_MICROS[fits])).fetchnumpy()
        rows = {name: np.asarray(found[name]).astype(dtype, copy=False) for name, dtype in COLUMNS.items()}
        arrays.update({f"rows.{name}": column for name, column in rows.items()})
        pairs = _pairs(rows)
        arrays.update({f"pairs.{name}": column for name, column in pairs.items()})
        arrays.update({f"months.{name}": column for name, column in _months(pairs).items()})
        arrays.update({f"agent_months.{name}": column for name, column in _agent_months(rows).items()})
        return cls(arrays)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        for name in KEYS:
            np.save(folder / f"{name}.npy", getattr(self, name).astype(str), allow_pickle=False)
        for level, columns in self.levels.items():
            for name, column in columns.items():
                np.save(folder / f"{level}.{name}.npy", column, allow_pickle=False)
        np.save(folder / f"{COSTS_FIT}.npy", self._costs_fit, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> UserIndex:
        """The index a rollup build saved, memory-mapped: read once into the page cache, shared by workers."""
        names = [*KEYS, *(f"{level}.{c}" for level, columns in LEVELS.items() for c in columns)]
        names.append(COSTS_FIT)
        return cls({name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in names})

    def prefault(self) -> None:
        """Read one byte of each page of the memory-mapped columns, so that the first questions after a
        build or a start do not stop on page faults (measured: a year of rows first touched by a question
        took 330 ms instead of 25). Run in a background thread when the index is opened. Not the rows'
        instants (144 MB at 100M events), read only when agents narrow the scope: they stay out of memory
        until then."""
        arrays = [
            column
            for level, columns in self.levels.items()
            for name, column in columns.items()
            if level != "rows" or name not in ("first_us", "last_us")
        ]
        for array in arrays:
            if isinstance(array, np.memmap) and array.size:
                int(np.asarray(array).reshape(-1).view(np.uint8)[::4096].sum())

    @property
    def nbytes(self) -> int:
        return sum(column.nbytes for columns in self.levels.values() for column in columns.values())

    def select(self, params: dict, level: str, *, from_start: bool = True) -> Selection:
        """The rows of a level in the period (or up to its end) and scope; the last few are kept."""
        key = (
            level,
            params["start_date"] if from_start else None,
            params["end_date"],
            _ids_key(params["team_ids"]),
            _ids_key(params["agent_ids"]),
        )
        with self._lock:
            found = self._selections.get(key)
            if found is not None:
                self._selections.move_to_end(key)
                return found
            building = self._building.setdefault(key, threading.Lock())
        with building:  # a tab's parts ask side by side: one builds it, the others wait for it
            with self._lock:
                found = self._selections.get(key)
            if found is not None:
                return found
            try:
                found = Selection(self.levels[level], self, params, from_start)
            finally:
                with self._lock:
                    if self._building.get(key) is building:
                        del self._building[key]
            with self._lock:
                self._selections[key] = found
                kept = sum(selection.nbytes for selection in self._selections.values())
                while len(self._selections) > _SELECTIONS_KEPT or (
                    kept > _SELECTIONS_BYTES and len(self._selections) > 1
                ):
                    _key, dropped = self._selections.popitem(last=False)
                    kept -= dropped.nbytes
        return found

    def forget_selections(self) -> None:
        with self._lock:
            self._selections.clear()

    # --- Per user --------------------------------------------------------------------------------

    def per_user(self, params: dict) -> pl.DataFrame:
        """Per user with rows in the period and scope: interactions, cost, active (working) days, top agent.

        Raises CostsOutOfRange where the index could not hold the costs (a wrong cost is worse than none).
        """
        if not self._costs_fit[0]:
            raise CostsOutOfRange("the costs in the rollups are too large to add up per person")
        rows = self.select(params, _level(params))
        return rows.kept("per_user", lambda: self._per_user(self.user_sums(params)))

    def user_sums(self, params: dict) -> UserSums:
        """`per_user`'s figures as arrays over every user code (zero for users without rows)."""
        rows = self.select(params, _level(params))
        return rows.kept("user_sums", lambda: self._user_sums(params, rows))

    def _user_sums(self, params: dict, rows: Selection) -> UserSums:
        size = len(self.users)
        sums = self._month_sums(params, size) if _level(params) == "pairs" else None
        if sums is None:
            sums = self._day_sums(rows, size)
        return UserSums(*sums, top_agent=self._top_agent(params, size))

    def _per_user(self, sums: UserSums) -> pl.DataFrame:
        keep = np.flatnonzero(sums.active_days)
        return pl.DataFrame(
            {
                "user_id": self.user_ids.gather(keep),
                "interactions": pl.Series(sums.interactions[keep]),
                "cost_micros": pl.Series(sums.cost_micros[keep]),
                "active_days": pl.Series(sums.active_days[keep].astype(np.int64)),
                "active_working_days": pl.Series(sums.working_days[keep].astype(np.int64)),
                "top_agent_id": self.agent_ids.gather(sums.top_agent[keep]),
            }
        )

    @staticmethod
    def _day_sums(rows: Selection, size: int) -> list[np.ndarray]:
        """Per user code: interactions, cost, active days and active working days of a pairs or rows selection."""
        return [
            _sums(rows.user, rows.interactions, size),
            _sums(rows.user, rows.cost_micros, size),
            *_days_of(rows.user[rows.new_pair], rows.day[rows.new_pair], size),
        ]

    def _month_sums(self, params: dict, size: int) -> list[np.ndarray] | None:
        """`_day_sums` over the period's whole months from the months level (a tenth of the rows of a year),
        its other days from the pairs; None when the period holds no whole month."""
        whole = _whole_months(params["start_date"], params["end_date"])
        if whole is None:
            return None
        parts = self._by_months(params, "months", "pairs")
        months = parts[0]
        user, day = months.user, months.day
        totals = [_sums(user, months.column(name), size)
                  for name in ("interactions", "cost_micros", "days", "working_days")]  # fmt: skip
        shared = (user[1:] == user[:-1]) & (day[1:] == day[:-1])
        if shared.any():
            # in two teams of the scope in one month: the same days may be in both, so the pairs count them
            movers = np.unique(user[1:][shared])
            pairs = self.select({**params, "start_date": whole[0], "end_date": whole[1]}, "pairs")
            theirs = np.isin(pairs.user, movers)
            user_day = np.stack([pairs.user[theirs], pairs.day[theirs]])
            new_pair = np.ones(user_day.shape[1], dtype=bool)  # pairs are in (day, user) order: still so here
            new_pair[1:] = (user_day[:, 1:] != user_day[:, :-1]).any(axis=0)
            days, working = _days_of(*user_day[:, new_pair], size)
            totals[2][movers], totals[3][movers] = days[movers], working[movers]
        for edge in parts[1:]:
            for total, part in zip(totals, self._day_sums(edge, size), strict=True):
                total += part
        return totals

    def _top_agent(self, params: dict, size: int) -> np.ndarray:
        """Per user, the agent code with the most interactions (ties: the first agent id): the period's
        whole months from the agent_months level, its other days from the rows."""
        agents = len(self.agents)
        # 32-bit keys when they fit: half the memory traffic of 64-bit ones
        key_type = np.int32 if size * agents < 2**31 else np.int64
        totals = None
        for rows in self._by_months(params, "agent_months", "rows"):
            keys = np.multiply(rows.user, agents, dtype=key_type)
            keys += rows.agent
            sums = _sums(keys, rows.interactions, size * agents)
            totals = sums if totals is None else totals + sums
        if totals is None:
            return np.zeros(size, dtype=np.int64)
        return totals.reshape(size, agents).argmax(axis=1)

    def _by_months(self, params: dict, months: str, days: str) -> list[Selection]:
        """The period in scope as selections: its whole local months from the level `months` (whose `day`
        is a month's first day), the days before and after them from the level `days`."""
        start, end = params["start_date"], params["end_date"]
        whole = _whole_months(start, end)
        if whole is None:
            return [self.select(params, days)]
        first, last = whole
        found = [self.select({**params, "start_date": first, "end_date": last}, months)]
        if start < first:
            found.append(self.select({**params, "end_date": first - dt.timedelta(days=1)}, days))
        if last < end:
            found.append(self.select({**params, "start_date": last + dt.timedelta(days=1)}, days))
        return found

    def _from_start(self, params: dict) -> list[Selection]:
        """The rows in scope from the first day to the period's end: the months level before the end's
        month and the days of that month (a tenth of the rows of a year at 100M), unless agents are in
        the scope (then the rows)."""
        level = _level(params)
        if level == "rows":
            return [self.select(params, level, from_start=False)]
        end = params["end_date"]
        month = end.replace(day=1)
        before = {**params, "end_date": month - dt.timedelta(days=1)}
        return [self.select(before, "months", from_start=False), self.select({**params, "start_date": month}, "pairs")]

    def ever(self, params: dict) -> pl.DataFrame:
        """Per user with rows in the scope up to the period's end: first and last instant."""
        size = len(self.users)
        present = np.zeros(size, dtype=bool)
        first = np.full(size, np.iinfo(np.int64).max)
        last = np.full(size, np.iinfo(np.int64).min)
        for rows in self._from_start(params):
            present[rows.user] = True
            np.minimum.at(first, rows.user, rows.first_us)
            np.maximum.at(last, rows.user, rows.last_us)
        return pl.DataFrame(
            {
                "user_id": self.user_ids.filter(pl.Series(present)),
                "user_code": pl.Series(np.flatnonzero(present), dtype=pl.Int64),
                "first_ts": pl.Series(first[present]).cast(_TS),
                "last_ts": pl.Series(last[present]).cast(_TS),
            }
        )


def _pairs(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The rows summed over agents: one per (day, user, team), in the same order (rows come sorted so)."""
    if len(rows["day"]) == 0:
        return {name: rows[name][:0] for name in LEVELS["pairs"]}
    day, user, team = rows["day"], rows["user"], rows["team"]
    starts = np.flatnonzero(np.r_[True, (day[1:] != day[:-1]) | (user[1:] != user[:-1]) | (team[1:] != team[:-1])])
    return {
        "day": day[starts],
        "user": user[starts],
        "team": team[starts],
        "interactions": np.add.reduceat(rows["interactions"].astype(np.int64), starts).astype(np.int32),
        "cost_micros": np.add.reduceat(rows["cost_micros"], starts),
        "first_us": np.minimum.reduceat(rows["first_us"], starts),
        "last_us": np.maximum.reduceat(rows["last_us"], starts),
    }


def _allowed_rows(codes: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Whether each row's code (team or agent) is allowed (a boolean per code). A comparison per allowed
    code while there are few: 1.7 ms each over a year's 9M rows, where looking each row up took 21 ms."""
    chosen = np.flatnonzero(allowed)
    if len(chosen) > 8:
        return allowed[codes]
    mask = np.zeros(len(codes), dtype=bool)
    for code in chosen:
        mask |= codes == codes.dtype.type(code)
    return mask


def _whole_months(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first and last day of the whole months from `start` to `end`, if there is one."""
    first = start if start.day == 1 else _next_month(start)
    last = _next_month(end) - dt.timedelta(days=1)  # the last day of the end's month
    if last != end:
        last = end.replace(day=1) - dt.timedelta(days=1)
    return None if first > last else (first, last)


def _days_of(users: np.ndarray, days: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per user code, the days and the working days (Monday to Friday) among distinct (user, day) pairs."""
    working = ((days + 3) % 7) < 5
    return np.bincount(users, minlength=size), np.bincount(users[working], minlength=size)


def _next_month(day: dt.date) -> dt.date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _by_month(level: dict[str, np.ndarray], keys: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, dict]:
    """A level's rows ordered by (local month, *keys): the order, where each group starts, and each group's
    month (its first day, as `day`) and keys."""
    months = level["day"].astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int32)
    order = np.lexsort(tuple(level[key] for key in reversed(keys)) + (months,))
    columns = {"day": months[order], **{key: level[key][order] for key in keys}}
    changed = np.zeros(max(len(order) - 1, 0), dtype=bool)
    for column in columns.values():
        changed |= column[1:] != column[:-1]
    starts = np.flatnonzero(np.r_[True, changed]) if len(order) else np.zeros(0, dtype=np.int64)
    return order, starts, {name: column[starts] for name, column in columns.items()}


def _agent_months(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The rows' interactions per (local month, user, team, agent), in that order."""
    order, starts, groups = _by_month(rows, ("user", "team", "agent"))
    if len(order) == 0:
        return {**groups, "interactions": rows["interactions"][:0]}
    interactions = np.add.reduceat(rows["interactions"][order].astype(np.int64), starts)
    # 32 bits, as the rows', unless a user's month with one agent passes 2**31 (then 64)
    return {**groups, "interactions": interactions.astype(np.int32) if interactions.max() < 2**31 else interactions}


def _months(pairs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The pairs per (local month, user, team), in that order: first and last instant, sums and days."""
    order, starts, groups = _by_month(pairs, ("user", "team"))
    if len(order) == 0:
        empty = {name: pairs[name][:0] for name in ("first_us", "last_us", "interactions", "cost_micros")}
        return {**groups, **empty, "days": groups["day"], "working_days": groups["day"]}
    days = pairs["day"][order]
    interactions = np.add.reduceat(pairs["interactions"][order].astype(np.int64), starts)
    return {
        **groups,
        "first_us": np.minimum.reduceat(pairs["first_us"][order], starts),
        "last_us": np.maximum.reduceat(pairs["last_us"][order], starts),
        "interactions": interactions.astype(np.int32) if interactions.max() < 2**31 else interactions,
        "cost_micros": np.add.reduceat(pairs["cost_micros"][order], starts),
        # a pair is one (day, user, team): the group's rows are its days
        "days": np.diff(np.r_[starts, len(order)]).astype(np.int32),
        "working_days": np.add.reduceat((((days + 3) % 7) < 5).astype(np.int32), starts),
    }


def _sums(groups: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Exact integer sums per group, as int64. numpy's add.at is fast only when the sums have the values'
    own type (15× slower otherwise), so 32-bit counts are summed in 32 bits when their total fits (no
    partial sum of counts exceeds it). int64 wraps around silently: the index holds only counts and
    costs whose total fits in it (`_COSTS_FIT_SQL`)."""
    if values.dtype == np.int32 and len(values) and values.min() >= 0 and int(values.sum(dtype=np.int64)) < 2**31:
        sums = np.zeros(size, dtype=np.int32)
        np.add.at(sums, groups, values)
        return sums.astype(np.int64)
    sums = np.zeros(size, dtype=np.int64)
    np.add.at(sums, groups, values.astype(np.int64, copy=False))
    return sums


_PER_USER = {
    "user_id": pl.String,
    "interactions": pl.Int64,
    "cost_micros": pl.Int64,
    "active_days": pl.Int64,
    "active_working_days": pl.Int64,
    "top_agent_id": pl.String,
}

# The relations a rollup SQL file may read, and how each is computed from the statement's parameters.
RELATIONS: dict[str, Callable[[UserIndex, dict], pl.DataFrame]] = {
    "idx_per_user": UserIndex.per_user,
    "idx_per_user_if_by_user": lambda index, params: (
        index.per_user(params) if params["by"] == "user" else pl.DataFrame(schema=_PER_USER)
    ),
    "idx_ever": UserIndex.ever,
}


class IndexHolder:
    """One index per rollup build of a Database, opened once (other threads wait for it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: tuple[object, UserIndex] | None = None

    def current(self) -> UserIndex | None:
        return None if self._index is None else self._index[1]

    def get(self, key: object, folder: Path | None, cursor: duckdb.DuckDBPyConnection) -> UserIndex:
        """The index saved in `folder`, or, without one, read from the rollups through `cursor`."""
        with self._lock:
            if self._index is None or self._index[0] != key:
                self._index = None  # drop the old arrays before the new ones are read
                found = None
                if folder is not None:
                    with contextlib.suppress(FileNotFoundError):  # pruned meanwhile, or cut short
                        found = UserIndex.load(folder)
                    if found is not None:
                        threading.Thread(target=found.prefault, name="index-prefault", daemon=True).start()
                if found is None:
                    found = UserIndex.from_rollups(cursor)
                self._index = (key, found)
            return self._index[1]
