"""`user_sets`: who was active, as user codes (`user_codes.parquet`), per local day, ISO week and month (`kind`,
`start`), for every team × agent, every team, every agent and everyone (a null `team_id` or `agent_id` means all of
them); data/rollups/build.py writes a file per month, from `user_day`. Distinct users over any period and scope are
the bit count of the OR of the sets covering it (queries/sql/cover.sql), never added up.

A set is a bitmap (`users`: bit `code` set, `capacity` bits, as DuckDB's BIT holds them: bit i in byte i // 8,
highest bit first) but for a day's team × agent, the bulk of the sets and the sparsest: there the codes are listed
(`codes`, ascending), 4 bytes a person instead of the whole bitmap. A month's file holds its days, itself and the
weeks that end in it. Bitmaps are BLOB: Parquet would store a BIT column as text.

In numpy, not SQL: DuckDB's `bitstring_agg` makes, merges and finishes a whole bitmap per group, the cost of the
query; here a day's sets of every team, agent and everyone set their rows' bits in one matrix of bitmaps, a row per
set, a week's and a month's are the OR of their days' rows, and only a week's and a month's team × agent sets are
set from the rows again.
ClickHouse: groupBitmapState per unit (lists and bitmaps alike), merged with groupBitmapOr.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pyarrow as pa

from data.rollups.manifest import SETS_SCHEMA

DENSE_KEYS = 1 << 22  # groups counted with a mark per possible key below this many keys (4 MB), else sorted
_NONE = 0  # a team's or agent's index for "all of them" (and for a null id: grouped as SQL groups it)


def user_sets(rows: pl.DataFrame, month: dt.date, capacity: int) -> pl.DataFrame:
    """The sets of the month beginning on `month`, from its `user_day` rows with their codes (`day`, `team_id`,
    `agent_id`, `code`) from the Monday on or before it, sorted as the files keep them."""
    first = month - dt.timedelta(days=month.weekday())  # a week that ends in the month begins here at the earliest
    last = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    rows = rows.filter(pl.col("day").is_between(first, last))
    offset = (rows["day"] - first).dt.total_days().to_numpy()
    code = rows["code"].to_numpy()
    teams, team = _indexes(rows["team_id"])
    agents, agent = _indexes(rows["agent_id"])
    own, last_monday = (month - first).days, (last - first).days - 6  # days from `first`
    groups = len(teams) * len(agents)  # a group: a team index × an agent index (0: all of them)
    found = []  # (kind, each set's unit (days from `first`) × group, as one number, their bitmaps)
    none = np.full_like(team, _NONE)
    for scope_team, scope_agent in ((team, none), (none, agent), (none, none)):  # every team, every agent, everyone
        # its days' bitmaps, then a week's and the month's the OR of its days' (a bitmap costs per row set)
        keys, bits = _bits((offset * len(teams) + scope_team) * len(agents) + scope_agent, code, capacity)
        day, group = np.divmod(keys, groups)
        mine = day >= own
        found.append(("day", keys[mine], bits[mine]))
        whole = day // 7 * 7 <= last_monday  # the week ends in the month
        found.append(("week", *_or_by((day // 7 * 7 * groups + group)[whole], bits[whole])))
        found.append(("month", *_or_by((own * groups + group)[mine], bits[mine])))
    # per team × agent: a week's and the month's from the rows (a day's are lists, below)
    pairs = team * len(agents) + agent
    whole = offset // 7 * 7 <= last_monday
    found.append(("week", *_bits((offset // 7 * 7 * groups + pairs)[whole], code[whole], capacity)))
    mine = offset >= own
    found.append(("month", *_bits((own * groups + pairs)[mine], code[mine], capacity)))
    bitmaps = _bitmaps(found, first, teams, agents, capacity)
    lists = _lists(offset[mine], pairs[mine], code[mine], first, teams, agents)
    found = pl.concat([bitmaps, lists])
    return found.sort("kind", "team_id", "start", "agent_id", nulls_last=False)


def _indexes(ids: pl.Series) -> tuple[list[str | None], np.ndarray]:
    """The distinct ids in order (index 0: none, for all of them; a null id has an index of its own, last, as SQL
    groups it apart from all) and each row's index."""
    distinct = ids.drop_nulls().unique().sort()
    places = pl.int_range(1, len(distinct) + 1, dtype=pl.Int64, eager=True)
    index = ids.replace_strict(distinct, places, default=len(distinct) + 1, return_dtype=pl.Int64)
    return [None, *distinct.to_list(), None], index.to_numpy()


def _bits(keys: np.ndarray, code: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, ascending, and the bitmap of each one's codes, a row each."""
    distinct, group = _groups(keys)
    bits = np.zeros((len(distinct), capacity // 8), dtype=np.uint8)
    np.bitwise_or.at(bits, (group, code >> 3), (0x80 >> (code & 7)).astype(np.uint8))
    return distinct, bits


def _or_by(keys: np.ndarray, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, ascending, and the OR of the bitmaps (rows of `bits`) of each."""
    if not len(keys):
        return keys, bits
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    words = bits[order].view(np.uint64)  # a bitmap is a whole number of words (the capacity: build.py)
    return keys[starts], np.bitwise_or.reduceat(words, starts, axis=0).view(np.uint8)


def _lists(
    days: np.ndarray,
    pairs: np.ndarray,
    code: np.ndarray,
    first: dt.date,
    teams: list[str | None],
    agents: list[str | None],
) -> pl.DataFrame:
    """A day's team × agent sets: the codes listed, ascending, a row per day × team × agent with rows."""
    sets = days * (len(teams) * len(agents)) + pairs
    order = np.argsort(sets * (int(code.max()) + 1 if len(code) else 1) + code)  # by set, then code
    sets, code = sets[order], code[order]
    starts = np.flatnonzero(np.r_[True, sets[1:] != sets[:-1]]) if len(sets) else sets
    days, pairs = np.divmod(sets, len(teams) * len(agents))
    team, agent = np.divmod(pairs[starts], len(agents))
    # grouped by Polars: a list column made from Arrow offsets took four times as long
    codes = pl.DataFrame({"set": sets, "codes": code}).group_by("set", maintain_order=True).agg("codes")["codes"]
    return pl.DataFrame(
        {
            "kind": pl.repeat("day", len(starts), dtype=pl.String, eager=True),
            "start": np.datetime64(first, "D") + days[starts].astype("timedelta64[D]"),
            "team_id": pl.Series(teams, dtype=pl.String).gather(team),
            "agent_id": pl.Series(agents, dtype=pl.String).gather(agent),
            "users": pl.repeat(None, len(starts), dtype=pl.Binary, eager=True),
            "codes": codes,
        },
        schema=SETS_SCHEMA,
    )


def _bitmaps(
    found: list[tuple[str, np.ndarray, np.ndarray]],
    first: dt.date,
    teams: list[str | None],
    agents: list[str | None],
    capacity: int,
) -> pl.DataFrame:
    """The rows of these groups' bitmaps, made at once."""
    groups = np.concatenate([groups for _kind, groups, _bits in found])
    days, rest = np.divmod(groups, len(teams) * len(agents))
    team, agent = np.divmod(rest, len(agents))
    bits = np.concatenate([bits for _kind, _groups, bits in found])
    users = pa.FixedSizeBinaryArray.from_buffers(pa.binary(capacity // 8), len(groups), [None, pa.py_buffer(bits)])
    return pl.DataFrame(
        {
            "kind": pl.Series([kind for kind, groups, _bits in found for _ in range(len(groups))], dtype=pl.String),
            "start": np.datetime64(first, "D") + days.astype("timedelta64[D]"),
            "team_id": pl.Series(teams, dtype=pl.String).gather(team),
            "agent_id": pl.Series(agents, dtype=pl.String).gather(agent),
            "users": pl.from_arrow(users).cast(pl.Binary),
            "codes": pl.Series([None], dtype=SETS_SCHEMA["codes"]).extend_constant(None, len(groups) - 1)
            if len(groups)
            else pl.Series([], dtype=SETS_SCHEMA["codes"]),
        },
        schema=SETS_SCHEMA,
    )


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, ascending, and each key's place among them (`np.unique`'s answer without its sort where
    the keys are few: a mark per possible key)."""
    if not len(keys) or keys.max() >= DENSE_KEYS:
        return np.unique(keys, return_inverse=True)
    present = np.zeros(keys.max() + 1, dtype=bool)
    present[keys] = True
    return np.flatnonzero(present), (np.cumsum(present) - 1)[keys]
