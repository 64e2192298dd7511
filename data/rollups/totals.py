"""Rollup `user_totals`, made from `user_day`'s rows as Polars columns (data/rollups/build.py writes it).

Each row holds a person's whole history per team × agent, and per team over all agents (`agent_id` null):
per month of the data (position 1 the first month, `month0` months since year 0) the days with activity as a
bit mask (`days`, `working_days`: bit d - 1 for day d) and how many came before the month (`days_before`,
`working_days_before`); per day with activity, in day order, the interactions and cost so far and the day's
last instant; the first instant and the first and last local day with activity; `code` (user_codes) and
`moved` (rows in more than one team). Rows over all agents first, then per agent; by code, then team.
docs/architecture.md says who reads them.

One way for a whole build and for a write to the last months only: the rows are made from the days given,
and with an old file's rows they continue those, cut before the first month rewritten (their running sums and
day counts carried on), so that an update reads no other month. Polars rather than SQL: DuckDB's grouped lists,
the joins carrying them and the lambdas over them cost about twice the CPU and a third more memory. Nothing is
grouped by hashing, and no list is joined or concatenated: the day rows are put in key then day order by two
stable sorts (the files keep them in day order), a day's rows over all agents summed as runs of one of them; a
key's per-day lists are its run of rows, made into lists where the runs start (Arrow's offsets), the old rows'
entries gathered with the new ones by position; its month lists are a row of a keys × months matrix (numpy), the
working days and the counts before each month worked out from the days (an old file's are not read). A batch of
keys at a time.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator

import numpy as np
import polars as pl
import pyarrow as pa

from data.rollups.manifest import TOTALS_SCHEMA

# One integer per person × team × agent, ordering as the file's rows (agent, nulls first; code; team,
# nulls last): the ranks of team and agent below 2^16 each, the code below 2^31 (a 63-bit key).
_TEAM, _CODE, _AGENT = 1, 2**16, 2**47
_MOST = 2**16
BATCH_ROWS = 250_000  # day rows per batch of keys (all agents' and per agent's): its memory
_MONTH = pl.col("day").dt.year().cast(pl.Int32) * 12 + pl.col("day").dt.month().cast(pl.Int32) - 1
_BIT = pl.lit(2, pl.Int32).pow(pl.col("day").dt.day().cast(pl.Int32) - 1).cast(pl.Int32)  # day d: bit d - 1
_MASKS = ("days", "working_days")
_BEFORE = ("days_before", "working_days_before")
_PER_DAY = ("running_interactions", "running_cost_usd", "day_last_ts")
_DAY_COLUMNS = ("day", "interactions", "cost_usd", "first_ts", "last_ts")  # user_day's, besides the ids
_KEPT = pl.Schema({  # per old row cut: the days with activity it keeps, the sums on the last, the last's local day
    "k": pl.UInt32, "key": pl.Int64, "n": pl.Int64, "interactions": pl.Int64,
    "cost_usd": TOTALS_SCHEMA["running_cost_usd"].inner, "first_ts": TOTALS_SCHEMA["first_ts"], "first_day": pl.Date,
    "last_day": pl.Date,
})  # fmt: skip


def user_totals(
    user_day: pl.LazyFrame,
    codes: pl.DataFrame,
    old: pl.LazyFrame | None = None,
    first: int = 0,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pl.DataFrame]:
    """`user_totals`' rows in file order, a batch of keys at a time (each made from about `batch_rows` day rows,
    a key's days never split: its memory is the batch's): from every month's `user_day` rows and the people's
    codes; or, given the `old` file's rows, those cut before month `first` (months since year 0, after their
    first) and continued with `user_day`'s rows (the months from `first` on)."""
    seen = user_day.select(
        pl.col("team_id").unique().implode(),
        pl.col("agent_id").unique().implode(),
        _MONTH.min().alias("low"),
        _MONTH.max().alias("high"),
    ).collect()
    teams, agents, low, high = seen.row(0)
    if old is None and low is None:  # no days
        return
    teams, agents = pl.Series("team_id", teams, pl.String), pl.Series("agent_id", [*agents, None], pl.String)
    month0, last, start, length = low, high, 0, 0
    old_rows = pl.DataFrame(schema={"code": pl.Int32, "team_id": pl.String, "agent_id": pl.String})
    if old is not None:  # the months from `first` on made again, at their place in the old lists
        month0, length = old.head(1).select("month0", pl.col("days").list.len()).collect().row(0)
        start, last = first - month0, max(month0 + length - 1, high if high is not None else first)
        # the masks of working days and the days before each month follow from `days`: not read
        old_rows = old.select("code", "team_id", "agent_id", "days", *_PER_DAY, "first_ts", "first_day").collect()
        teams, agents = pl.concat([teams, old_rows["team_id"]]), pl.concat([agents, old_rows["agent_id"]])
    lists = _Lists(month0, last - month0 + 1, start, length)
    teams = _ranks(teams, "team_id", nulls_last=True)
    agents = _ranks(agents, "agent_id", nulls_last=False)
    if max(teams.height, agents.height) > _MOST:
        raise ValueError(f"user_totals keeps at most {_MOST - 1} teams and agents in its keys.")
    kept = _kept(old_rows, _key(pl.col("code"), teams, agents), lists, codes) if old is not None else _KEPT.to_frame()
    code = pl.col("user_id").replace_strict(codes["user_id"], codes["code"], default=None, return_dtype=pl.Int64)
    rows = _day_rows(user_day.select(_key(code, teams, agents), *_DAY_COLUMNS).drop_nulls("key").collect())
    each = _each(kept, rows)
    rows = rows.select("day", "interactions", "cost_usd", "last_ts")  # what the lists take from them
    ids = _ids(each["key"], codes, teams, agents).with_columns(month0=pl.lit(lists.month0, pl.Int32))
    for low_row, high_row in _batches(each, batch_rows):
        part = each.slice(low_row, high_row - low_row)
        made = lists.made(part, _slice(old_rows, part["k"]), _slice(rows, part["at"], part["m"]))
        yield pl.concat([ids.slice(low_row, high_row - low_row), made], how="horizontal").select(TOTALS_SCHEMA.names())


def _key(code: pl.Expr, teams: pl.DataFrame, agents: pl.DataFrame) -> pl.Expr:
    """A row's key, from a person's code and the ranks of its team and agent (every id is among the ranks)."""
    team = pl.col("team_id").replace_strict(teams["team_id"], teams["team_rank"])
    agent = pl.col("agent_id").replace_strict(agents["agent_id"], agents["agent_rank"])
    return (agent * _AGENT + code.cast(pl.Int64) * _CODE + team).alias("key")


def _ranks(values: pl.Series, name: str, nulls_last: bool) -> pl.DataFrame:
    """Each distinct value (null too) and its rank in sort order, 0 first (the row's number)."""
    rank = name.removesuffix("_id") + "_rank"
    ranked = values.unique().sort(nulls_last=nulls_last).to_frame(name).with_row_index(rank)
    return ranked.with_columns(pl.col(rank).cast(pl.Int64))


def _kept(old: pl.DataFrame, key: pl.Expr, lists: _Lists, codes: pl.DataFrame) -> pl.DataFrame:
    """Per old row (`k`, in the file's order: the keys') with days in the months kept, of a person with a code: the
    days with activity it keeps (`n`), the sums on the last of them and that day (`last_day`)."""
    masks = _matrix(old["days"], lists.length)[:, : lists.cut]
    # the last month with activity among those kept (its last day may lie in the months rewritten): its highest bit
    at = lists.cut - 1 - np.argmax(masks[:, ::-1] != 0, axis=1)
    last = pl.DataFrame({"month": lists.month0 + at, "mask": masks[np.arange(len(masks)), at]})
    last_day = pl.date(pl.col("month") // 12, pl.col("month") % 12 + 1, 1) + pl.duration(
        days=31 - pl.col("mask").bitwise_leading_zeros().cast(pl.Int32)
    )
    kept = old.select(key, "first_ts", "first_day").with_columns(
        n=pl.Series(np.bitwise_count(masks).sum(axis=1, dtype=np.int64)), last_day=last.select(last_day).to_series()
    )
    kept = kept.with_columns(  # for a row without days kept (n 0), the last entry: it is left out below
        interactions=old["running_interactions"].list.get(kept["n"] - 1),
        cost_usd=old["running_cost_usd"].list.get(kept["n"] - 1),
    ).with_row_index("k")
    if not kept["key"].is_sorted():
        raise ValueError("user_totals' file is not in its rows' order: build the rollups again (flask rollup).")
    return kept.filter(pl.col("n") > 0, old["code"].is_in(codes["code"].implode())).select(_KEPT.names())


def _day_rows(days: pl.DataFrame) -> pl.DataFrame:
    """The keyed `user_day` rows per agent and, summed over a day's agents, per team over all agents, in key then
    day order: the rows over all agents first (the null agent's rank is 0)."""
    if not days["day"].is_sorted():  # the files keep them in day order, which the stable sorts below keep
        days = days.sort("day", maintain_order=True)
    over_agents = _over_agents(days.sort(pl.col("key") % _AGENT, maintain_order=True))
    days = days.sort("key", maintain_order=True)
    return pl.concat([over_agents, days])


def _over_agents(rows: pl.DataFrame) -> pl.DataFrame:
    """Per person × team and day, the sums of its agents' `rows` (in person then day order: a run each)."""
    person = (rows["key"] % _AGENT).to_numpy()
    runs = _starts(person, rows["day"].to_physical().to_numpy())
    if not len(runs):
        return rows
    cost = rows["cost_usd"].cum_sum().gather(np.append(runs[1:], rows.height) - 1)
    return pl.DataFrame({
        "key": person[runs],
        "day": rows["day"].gather(runs),
        "interactions": np.add.reduceat(rows["interactions"].to_numpy(), runs),
        "cost_usd": cost - cost.shift(1, fill_value=0),  # sums so far at the runs' ends: exact differences
        "first_ts": pl.Series(np.minimum.reduceat(rows["first_ts"].to_physical().to_numpy(), runs)),
        "last_ts": pl.Series(np.maximum.reduceat(rows["last_ts"].to_physical().to_numpy(), runs)),
    }).cast(dict(rows.schema))  # fmt: skip


def _starts(*columns: np.ndarray) -> np.ndarray:
    """Where each run of equal values (in every column) starts."""
    if not len(columns[0]):
        return np.zeros(0, np.int64)
    changed = np.zeros(len(columns[0]), bool)
    changed[0] = True
    for column in columns:
        changed[1:] |= column[1:] != column[:-1]
    return np.flatnonzero(changed)


def _each(kept: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Per key of the kept rows and the day rows, in key order: its kept row (`k`), where its day rows start (`at`)
    and how many (`m`), the days with activity and sums it carries on (`n`, `interactions`, `cost_usd`; 0
    without a kept row), its first instant and first and last local day."""
    runs = _starts(rows["key"].to_numpy())
    ends = np.append(runs[1:], rows.height)
    made = pl.DataFrame({"key": rows["key"].gather(runs), "at": runs, "m": ends - runs}).with_columns(
        first_ts=rows["first_ts"].gather(runs),  # a key's first day holds its first instant
        first_day=rows["day"].gather(runs),
        last_day_made=rows["day"].gather(ends - 1),
    )
    carried = ("n", "interactions", "cost_usd")
    return (
        kept.join(made, on="key", how="full", coalesce=True, suffix="_made")
        .sort("key")
        .select(
            "key", "k", "at", pl.col("m").fill_null(0), *(pl.col(name).fill_null(0) for name in carried),
            pl.coalesce("first_ts", "first_ts_made"), pl.coalesce("first_day", "first_day_made"),
            pl.coalesce("last_day_made", "last_day").alias("last_day"),
        )
    )  # fmt: skip


def _running(rows: pl.DataFrame, made: pl.DataFrame, of_row: pl.Series) -> list[pl.Series]:
    """The day rows' interactions and cost so far (a run per key, the `made` rows of `_each`, each day row's run
    `of_row`: from what its kept row carries) and their last instants."""
    runs = made["at"] - (made["at"][0] if made.height else 0)
    sums = []
    for name, so_far in zip(("interactions", "cost_usd"), _PER_DAY[:2], strict=True):
        summed = rows[name].cum_sum()
        shift = made[name] - (summed - rows[name]).gather(runs)  # what each run adds to the sums over the rows
        sums.append((summed + shift.gather(of_row)).alias(so_far))
    return [*sums, rows["last_ts"].alias("day_last_ts")]


def _ids(keys: pl.Series, codes: pl.DataFrame, teams: pl.DataFrame, agents: pl.DataFrame) -> pl.DataFrame:
    """Per key: the person's id and code, the team's and agent's ids, and `moved` (the person has rows over all
    agents in more than one team)."""
    code = (keys // _CODE % (_AGENT // _CODE)).cast(pl.Int32)
    people = code.filter(keys < _AGENT).to_numpy()
    moved = np.bincount(people, minlength=int(code.max() or 0) + 1) > 1
    users = codes.sort("code")
    return pl.DataFrame({
        "user_id": users["user_id"].gather(users["code"].search_sorted(code)),
        "code": code,
        "team_id": teams["team_id"].gather(keys % _CODE),
        "agent_id": agents["agent_id"].gather(keys // _AGENT),
        "moved": moved[code.to_numpy()],
    })  # fmt: skip


def _batches(each: pl.DataFrame, batch_rows: int) -> list[tuple[int, int]]:
    """Consecutive ranges of `each`'s rows (the end excluded), each with about `batch_rows` day rows, old or new."""
    ends = (each["n"].cast(pl.Int64) + each["m"]).cum_sum().to_numpy()
    cuts = np.searchsorted(ends, np.arange(batch_rows, ends[-1] if len(ends) else 0, batch_rows), "right")
    bounds = [0, *sorted({int(at) for at in cuts if 0 < at < len(ends)}), len(ends)]
    return [(low, high) for low, high in zip(bounds, bounds[1:], strict=False) if high > low]


def _slice(frame: pl.DataFrame, at: pl.Series, length: pl.Series | None = None) -> pl.DataFrame:
    """The rows of `frame` from the first of `at` (rows, null: none) to the last (and `length` more, if given)."""
    found = at.drop_nulls()
    if not len(found):
        return frame.clear()
    end = found[-1] + (length.filter(at.is_not_null())[-1] if length is not None else 1)
    return frame.slice(found[0], end - found[0])


class _Lists:
    """The lists of a batch of keys: `months` months from `month0` (months since year 0); the first `start` kept from
    old rows (the first `cut` of their `length`, then months without days), the others made from day rows."""

    def __init__(self, month0: int, months: int, start: int = 0, length: int = 0) -> None:
        self.month0, self.months, self.start, self.length, self.cut = month0, months, start, length, min(start, length)
        self.working = np.array([_working_bits(month) for month in range(month0, month0 + months)], np.int32)

    def made(self, part: pl.DataFrame, old: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
        """The keys' (`part` of `_each`) first instant and days, and lists, from their old rows and day rows (the
        slices holding them)."""
        has_old = part["k"].is_not_null().to_numpy()
        in_old = (part["k"].drop_nulls() - (part["k"].drop_nulls()[0] if has_old.any() else 0)).to_numpy()
        made = part.filter(pl.col("at").is_not_null())
        of_row = pl.Series(np.repeat(np.arange(made.height), made["m"].to_numpy()))  # each day row's key among them
        rows = rows.with_columns(_running(rows, made, of_row))
        lists = self._month_lists(old["days"] if len(in_old) else None, has_old, in_old, rows, part["m"].to_numpy())
        old_length, old_start, old_total = np.zeros(part.height, np.int64), np.zeros(part.height, np.int64), 0
        flat = {name: _flat(old[name]) for name in _PER_DAY} if len(in_old) else {}
        if flat:
            offsets = flat[_PER_DAY[0]][1]  # a row's per-day lists are alike in length
            old_length[has_old], old_start[has_old] = part["n"].to_numpy()[has_old], offsets[in_old]
            old_total = offsets[-1]
        first_row = part["at"].drop_nulls()[0] if len(rows) else 0
        new_start = (part["at"].fill_null(first_row) - first_row).to_numpy()
        at, offsets = _positions(old_length, old_start, part["m"].to_numpy(), new_start, old_total)
        for name in _PER_DAY:
            values = pl.concat([flat[name][0], rows[name]], rechunk=False).gather(at) if flat else rows[name]
            lists[name] = _lists(values, offsets)
        return pl.concat([part.select("first_ts", "first_day", "last_day"), pl.DataFrame(lists)], how="horizontal")

    def _month_lists(
        self, old: pl.Series | None, has_old: np.ndarray, in_old: np.ndarray, rows: pl.DataFrame, days_made: np.ndarray
    ) -> dict[str, pl.Series]:
        """The four month lists: the days of the first `cut` months from the `old` rows' (of the keys `has_old`, at
        `in_old`), those of the months from `start` on from the day rows (`days_made` a key); the masks of working
        days and the counts before each month follow from them."""
        keys, made = len(has_old), self.months - self.start
        of_row = np.repeat(np.arange(keys), days_made)  # each day row's key
        month, bit = rows.select((_MONTH - self.month0 - self.start).alias("month"), _BIT.alias("bit")).to_numpy().T
        days = np.zeros((keys, self.months), np.int32)
        days[:, self.start :] = np.bincount(of_row * made + month, bit, keys * made).reshape(keys, made)
        if old is not None:
            days[has_old, : self.cut] = _matrix(old, self.length)[in_old, : self.cut]
        lists = {}
        for name, before, masks in zip(_MASKS, _BEFORE, (days, days & self.working), strict=True):
            counted = np.bitwise_count(masks).astype(np.int32)
            lists[name], lists[before] = _rows_of(masks), _rows_of(np.cumsum(counted, axis=1, dtype=np.int32) - counted)
        return lists


def _working_bits(month: int) -> int:
    """The bits of a month's days from Monday to Friday (months since year 0)."""
    year, number = divmod(month, 12)
    weekday, length = calendar.monthrange(year, number + 1)
    return sum(1 << day for day in range(length) if (weekday + day) % 7 < 5)


def _matrix(lists: pl.Series, width: int) -> np.ndarray:
    """Lists all `width` long, as the rows of a matrix."""
    return lists.explode(empty_as_null=False).to_numpy().reshape(len(lists), width)


def _rows_of(matrix: np.ndarray) -> pl.Series:
    """A matrix's rows as a list column."""
    return pl.Series(matrix).cast(pl.List(pl.Int32))


def _flat(lists: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """A list column's entries, flat, and where each row's start (and the last one's end)."""
    arrow = lists.to_arrow()
    offsets = pl.Series(arrow.offsets).to_numpy()  # through Polars: pyarrow's own would import pandas (0.4 CPU-s)
    return pl.Series(arrow.flatten()), offsets - offsets[0]


def _lists(values: pl.Series, offsets: np.ndarray) -> pl.Series:
    """A list column from its entries, flat, and where each row's start (and the last one's end)."""
    return pl.Series(pa.LargeListArray.from_arrays(pl.Series(offsets).to_arrow(), values.to_arrow()))


def _positions(
    old_length: np.ndarray, old_start: np.ndarray, new_length: np.ndarray, new_start: np.ndarray, old_total: int
) -> tuple[np.ndarray | None, np.ndarray]:
    """Where each list starts (and the last one ends), and where each entry comes from among the old entries and,
    after their `old_total`, the new ones (None: the new ones in order). Row r holds the old entries from
    `old_start[r]` on (`old_length[r]` of them), then the new ones from `new_start[r]` on (`new_length[r]`)."""
    lengths = old_length + new_length
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if not old_length.any():
        return None, offsets
    # an entry's source is its place in the lists shifted by its run's (a row's old or new entries) shift
    runs = np.stack([old_length, new_length], axis=1).ravel()
    shifts = np.stack([old_start, old_total + new_start - old_length], axis=1) - offsets[:-1, None]
    return np.arange(offsets[-1]) + np.repeat(shifts.ravel(), runs), offsets
