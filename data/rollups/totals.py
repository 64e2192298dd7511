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
the joins carrying them and the lambdas over them cost about twice the CPU and a third more memory. Here every
list is one grouped column of a frame sorted by key and day, and the month lists one flat column of every key's
months, cut into rows; a batch of keys at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from data.rollups.manifest import TOTALS_SCHEMA

# One integer per person × team × agent, ordering as the file's rows (agent, nulls first; code; team,
# nulls last): the ranks of team and agent below 2^16 each, the code below 2^31 (a 63-bit key).
_TEAM, _CODE, _AGENT = 1, 2**16, 2**47
_MOST = 2**16
BATCH_ROWS = 250_000  # day rows per batch of keys (all agents' and per agent's): its memory
_MONTH = pl.col("day").dt.year().cast(pl.Int32) * 12 + pl.col("day").dt.month().cast(pl.Int32) - 1
_BIT = pl.lit(2, pl.Int32).pow(pl.col("day").dt.day().cast(pl.Int32) - 1)  # day d: bit d - 1
_MASKS = ("days", "working_days")
_PER_DAY = ("running_interactions", "running_cost_usd", "day_last_ts")


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
    month0, start, last, kept = low, 0, high, None
    if old is not None:  # the months from `first` on made again, at their place in the old lists
        month0, length = old.head(1).select("month0", pl.col("days").list.len()).collect().row(0)
        start, last = first - month0, max(month0 + length - 1, high if high is not None else first)
        kept = _kept(old, start, min(start, length), codes)
        teams, agents = pl.concat([teams, kept["team_id"]]), pl.concat([agents, kept["agent_id"]])
    months = last - month0 + 1
    teams = _ranks(teams, "team_id", nulls_last=True)
    agents = _ranks(agents, "agent_id", nulls_last=False)
    if max(teams.height, agents.height) > _MOST:
        raise ValueError(f"user_totals keeps at most {_MOST - 1} teams and agents in its keys.")
    days = (
        _keyed(user_day.join(codes.lazy(), on="user_id"), teams, agents)
        .select("key", "day", "interactions", "cost_usd", "first_ts", "last_ts")
        .collect(engine="streaming")  # in batches: the ids' strings are never all in memory
    )
    over_agents = (  # lazy: the eager group_by by an expression holds about four times the rows' memory
        days.lazy()
        .group_by("day", person=pl.col("key") % _AGENT)  # the null agent's rank is 0: first
        .agg(pl.col("interactions").sum(), pl.col("cost_usd").sum(), pl.col("first_ts").min(), pl.col("last_ts").max())
        .collect()
    )
    over_agents = over_agents.rename({"person": "key"}).select(days.columns)
    keys = [over_agents["key"], days["key"]]
    if kept is not None:  # in the file's order, which is the keys' (the ranks of old and new ids in one order)
        ids = kept.select("code", "team_id", "agent_id").with_row_index().lazy()
        kept = kept.with_columns(_keyed(ids, teams, agents).collect().sort("index")["key"])
        keys.append(kept["key"])
    every = pl.concat(keys)
    people = every.filter(every < _AGENT).unique().to_frame()  # the keys over all agents: each team of a code
    moved = people.group_by(code=pl.col("key") // _CODE).agg(moved=pl.len() > 1)
    for low_key, high_key in _key_ranges(every, batch_rows):
        in_range = pl.col("key").is_between(low_key, high_key)
        rows = pl.concat([over_agents.filter(in_range), days.filter(in_range)]).sort("key", "day")
        part = kept.slice(*_bounds(kept["key"], low_key, high_key)) if kept is not None else None
        made = _made(rows, part, month0 + start, months - start)
        made = _continued(part, made, start, months - start) if part is not None else made
        ids = _ids(made["key"], codes, teams, agents, moved, month0)
        yield pl.concat([ids, made.drop("key")], how="horizontal").select(TOTALS_SCHEMA.names())


def _keyed(rows: pl.LazyFrame, teams: pl.DataFrame, agents: pl.DataFrame) -> pl.LazyFrame:
    """Rows with a person's code, a team and an agent, and their key."""
    return (
        rows.join(teams.lazy(), on="team_id", nulls_equal=True)
        .join(agents.lazy(), on="agent_id", nulls_equal=True)
        .with_columns(
            (pl.col("agent_rank") * _AGENT + pl.col("code").cast(pl.Int64) * _CODE + pl.col("team_rank")).alias("key")
        )
    )


def _bounds(keys: pl.Series, low: int, high: int) -> tuple[int, int]:
    """Where the sorted `keys` from `low` to `high` start, and how many they are."""
    at = keys.search_sorted(low, "left")
    return at, keys.search_sorted(high, "right") - at


def _kept(old: pl.LazyFrame, start: int, cut: int, codes: pl.DataFrame) -> pl.DataFrame:
    """The old rows with days before month position `start` (0 the first; past their lists' end, `cut`: months
    without days between): their entries before it, how many days with activity (`n`, `wn`), the sums on the
    last of them, and the last of them (`last_day`); the people with a code only."""
    counted = {
        f"{prefix}n": pl.col(f"{name}_before").list.get(cut - 1) + pl.col(name).list.get(cut - 1).bitwise_count_ones()
        for prefix, name in zip(("", "w"), _MASKS, strict=True)
    }
    kept = old.with_columns(**{name: value.cast(pl.Int32) for name, value in counted.items()})
    kept = kept.filter(pl.col("n") > 0, pl.col("code").is_in(codes["code"].implode()))
    # the last month with activity (its last day may lie in the months rewritten) and its highest bit
    active = pl.col("days").list.head(cut).list.eval((pl.element() != 0).cast(pl.Int8))
    at = cut - 1 - active.list.reverse().list.arg_max()
    month = pl.col("month0") + at.cast(pl.Int32)
    last_bit = 31 - pl.col("days").list.get(at).bitwise_leading_zeros().cast(pl.Int32)
    pad = {"days": pl.lit(0, pl.Int32), "working_days": pl.lit(0, pl.Int32), "days_before": pl.col("n"),
           "working_days_before": pl.col("wn")}  # fmt: skip
    return kept.select(
        "user_id", "code", "team_id", "agent_id", "first_ts", "first_day", "n", "wn",
        last_day=pl.date(month // 12, month % 12 + 1, 1) + pl.duration(days=last_bit),
        **{name: pl.concat_list(pl.col(name).list.head(cut), by.repeat_by(start - cut)) if start > cut
           else pl.col(name).list.head(cut) for name, by in pad.items()},
        **{name: pl.col(name).list.head(pl.col("n")) for name in _PER_DAY},
        interactions=pl.col("running_interactions").list.get(pl.col("n") - 1),
        cost_usd=pl.col("running_cost_usd").list.get(pl.col("n") - 1),
    ).collect()  # fmt: skip


def _key_ranges(keys: pl.Series, batch_rows: int) -> list[tuple[int, int]]:
    """Consecutive ranges of keys (both ends included), each with about `batch_rows` rows, a key in one."""
    counts = keys.value_counts(name="rows").sort("key")
    batch = (counts["rows"].cum_sum() - counts["rows"]) // batch_rows
    ranges = counts.group_by(batch.alias("batch"), maintain_order=True).agg(
        pl.col("key").first().alias("low"), pl.col("key").last().alias("high")
    )
    return list(ranges.select("low", "high").iter_rows())


def _ranks(values: pl.Series, name: str, nulls_last: bool) -> pl.DataFrame:
    """Each distinct value (null too) and its rank in sort order, 0 first."""
    rank = name.removesuffix("_id") + "_rank"
    ranked = values.unique().sort(nulls_last=nulls_last).to_frame(name).with_row_index(rank)
    return ranked.with_columns(pl.col(rank).cast(pl.Int64))


def _made(rows: pl.DataFrame, kept: pl.DataFrame | None, first: int, months: int) -> pl.DataFrame:
    """Per key of the day rows (sorted by key and day), in key order: the first instant and days, the lists per
    day with activity in day order, and the masks and days before of the `months` months from `first` (months
    since year 0); their sums and counts carried on from the `kept` rows' of the same key, if any."""
    start = pl.DataFrame({"key": rows["key"].unique(maintain_order=True)})
    start = start.join(kept.select("key", "interactions", "cost_usd", "n", "wn"), on="key", how="left",
                       maintain_order="left") if kept is not None else start  # fmt: skip
    carried = rows.join(start.select("key", so_far=pl.col("interactions"), cost_so_far=pl.col("cost_usd")), on="key",
                        how="left", maintain_order="left") if kept is not None else rows  # fmt: skip
    per_key = carried.group_by("key", maintain_order=True).agg(
        pl.col("first_ts").min(),
        pl.col("day").first().alias("first_day"),
        pl.col("day").last().alias("last_day"),
        _running("interactions", "so_far", kept is not None).alias("running_interactions"),
        _running("cost_usd", "cost_so_far", kept is not None).alias("running_cost_usd"),
        pl.col("last_ts").alias("day_last_ts"),
    )
    return pl.concat([per_key, _month_lists(rows, start, first, months)], how="horizontal")


def _running(column: str, carried: str, has_carried: bool) -> pl.Expr:
    """A key's sums so far per day, from what it had before these days, if anything."""
    summed = pl.col(column).cum_sum()
    return summed + pl.col(carried).fill_null(0).first() if has_carried else summed


def _month_lists(rows: pl.DataFrame, start: pl.DataFrame, first: int, months: int) -> pl.DataFrame:
    """Per key (`start`'s, in key order, with the days counted before, if any): the `months` months' day masks
    from `first` and the days with activity before each month."""
    at = pl.col("key").rle_id().cast(pl.Int64) * months + _MONTH - first  # the key's n-th run, its month
    # a key has one row a day, so a month's mask is the sum of its days' bits
    masks = (
        rows.select(at.alias("at"), _BIT.alias("days"), pl.when(pl.col("day").dt.weekday() <= 5).then(_BIT).otherwise(0)
                    .alias("working_days"))
        .group_by("at")
        .agg(pl.col("days").sum(), pl.col("working_days").sum())
    )  # fmt: skip
    keys = start.height
    key_of = pl.int_range(0, keys * months, step=1, eager=True) // months
    lists = {}
    for name, counted in zip(_MASKS, ("n", "wn"), strict=True):
        flat = pl.zeros(keys * months, pl.Int32, eager=True).scatter(masks["at"], masks[name])
        counts = flat.bitwise_count_ones().cast(pl.Int32)
        so_far = counts.cum_sum() - counts  # over all keys: less what the key's first month had
        before = so_far - so_far.gather(key_of * months)
        if counted in start.columns:
            before += start[counted].fill_null(0).gather(key_of)
        lists[name] = flat.reshape((keys, months)).cast(pl.List(pl.Int32))
        lists[f"{name}_before"] = before.reshape((keys, months)).cast(pl.List(pl.Int32))
    return pl.DataFrame(lists)


def _continued(kept: pl.DataFrame, made: pl.DataFrame, start: int, months: int) -> pl.DataFrame:
    """The `kept` rows continued by the rows `made` of the same key (a key in one only: the other's part empty),
    in key order: every month list `start` + `months` long."""
    keys = pl.concat([kept["key"], made["key"]]).unique().sort().to_frame()
    both = keys.join(kept, on="key", how="left", maintain_order="left")
    both = both.join(made, on="key", how="left", maintain_order="left", suffix="_made")

    def per_month(name: str, kept_empty: pl.Expr, made_empty: pl.Expr) -> pl.Expr:
        # as fixed-size arrays: their concatenation costs a fifth of the lists'
        ends = pl.coalesce(name, kept_empty).list.to_array(start), pl.coalesce(f"{name}_made", made_empty)
        return pl.concat_arr(ends[0], ends[1].list.to_array(months)).arr.to_list().alias(name)

    def per_day(name: str) -> pl.Expr:
        nothing = pl.lit([], TOTALS_SCHEMA[name])
        return pl.concat_list(pl.coalesce(name, nothing), pl.coalesce(f"{name}_made", nothing)).alias(name)

    return both.select(
        "key",
        pl.coalesce("first_ts", "first_ts_made"),  # a kept month comes first
        pl.coalesce("first_day", "first_day_made"),
        pl.coalesce("last_day_made", "last_day").alias("last_day"),
        *(per_month(name, pl.lit(0, pl.Int32).repeat_by(start), pl.lit([0] * months, pl.List(pl.Int32)))
          for name in _MASKS),
        *(per_month(f"{name}_before", pl.col(counted).fill_null(0).repeat_by(start), pl.col(counted).repeat_by(months))
          for name, counted in zip(_MASKS, ("n", "wn"), strict=True)),
        *(per_day(name) for name in _PER_DAY),
    )  # fmt: skip


def _ids(
    keys: pl.Series, codes: pl.DataFrame, teams: pl.DataFrame, agents: pl.DataFrame, moved: pl.DataFrame, month0: int
) -> pl.DataFrame:
    """Per key, in key order: the person's id and code, the team's and agent's ids, `moved`, `month0`."""
    return (
        keys.to_frame()
        .select(
            (pl.col("key") // _CODE % (_AGENT // _CODE)).alias("code"),
            (pl.col("key") % _CODE).alias("team_rank"),
            (pl.col("key") // _AGENT).alias("agent_rank"),
        )
        .join(moved, on="code", maintain_order="left")
        .with_columns(pl.col("code").cast(pl.Int32))
        .join(codes, on="code", maintain_order="left")
        .join(teams, on="team_rank", maintain_order="left")
        .join(agents, on="agent_rank", maintain_order="left")
        .with_columns(pl.lit(month0, pl.Int32).alias("month0"))
    )
