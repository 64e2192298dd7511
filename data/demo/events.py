"""The demo's events, drawn one local day at a time and written into UTC date partitions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data import schema
from data.demo.cast import (
    ALT_MODEL_SHARE,
    DAY_US,
    EPOCH,
    EVENTS_ARROW,
    FAVORITE_SHARE,
    INPUT_MICRO_PER_MTOK,
    MAX_TURNS,
    MODEL_INDEX,
    MODELS,
    MS_PER_OUTPUT_TOKEN,
    OUTPUT_MICRO_PER_MTOK,
    ROW_GROUP_ROWS,
    SPIKE_INPUT_FACTOR,
    SPIKE_MODEL,
    SPIKE_OUTPUT_FACTOR,
    TURN_P,
    WEEKDAY_ACTIVITY,
    WEEKEND_INTENSITY,
)
from data.demo.clock import _day_number, _local_to_utc_us
from data.demo.directory import _user_ids
from data.demo.org import _Agents, _draw_agents, _Org

# --- Events ---------------------------------------------------------------------------------------


def _conversation_counts(org: _Org, day: int, rng: np.random.Generator) -> np.ndarray:
    """Conversations each person starts on a window day (0 for most on a weekend)."""
    users = org.users
    weekday = (org.first_date + timedelta(days=day)).weekday()
    in_use = (users.adopt_day <= day) & (day <= users.stop_day)
    drawn = rng.random(users.team.size) < users.activity * WEEKDAY_ACTIVITY[weekday]
    on = in_use & (drawn | (users.sure_day == day))
    # Usage deepens over the window as people find more uses for it.
    growth = 0.85 + 0.3 * day / max(org.days - 1, 1)
    weekend = WEEKEND_INTENSITY if weekday >= 5 else 1.0
    noise = rng.gamma(2.0, 0.5, users.team.size)
    extra = rng.poisson(users.intensity * noise * growth * weekend)
    return np.where(on, 1 + extra, 0)


def _start_seconds(rng: np.random.Generator, weekend: bool, chronotype: np.ndarray) -> np.ndarray:
    """Local start time of each conversation: morning and afternoon peaks, a lunch dip."""
    if weekend:
        means, sds, shares = (11.5, 15.5, 21.0), (1.8, 2.0, 1.5), (0.35, 0.35, 0.15, 0.15)
    else:
        means, sds, shares = (10.3, 14.8, 20.5), (1.3, 1.5, 1.5), (0.42, 0.40, 0.10, 0.08)
    part = rng.choice(4, size=chronotype.size, p=shares)  # 3: any time of the waking day
    peak = np.minimum(part, 2)
    hours = rng.normal(np.take(means, peak), np.take(sds, peak)) + chronotype
    hours = np.where(part == 3, rng.uniform(7.0, 23.5, chronotype.size), hours)
    return np.clip(hours, 0.0, 23.99) * 3600.0


def _conversations(org: _Org, day: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One row per conversation: who, which agent and model, when it starts."""
    counts = _conversation_counts(org, day, rng)
    user = np.repeat(np.arange(counts.size), counts)
    agents = org.agents
    available = agents.launch_day <= day
    agent = _draw_agents(rng, agents.team_weights, org.users.team[user], available)
    favorite = org.users.favorite[user]
    use_favorite = (rng.random(user.size) < FAVORITE_SHARE) & available[favorite]
    agent = np.where(use_favorite, favorite, agent)
    alt = agents.alt_model[agent]
    use_alt = (alt >= 0) & (rng.random(user.size) < ALT_MODEL_SHARE)
    model = np.where(use_alt, alt, agents.model[agent])
    spike = (agent == org.spike_agent) & (day in org.spike_days)
    model = np.where(spike, MODEL_INDEX[SPIKE_MODEL], model)
    weekend = (org.first_date + timedelta(days=day)).weekday() >= 5
    start = _start_seconds(rng, weekend, org.users.chronotype[user])
    return {"user": user, "agent": agent, "model": model, "spike": spike, "start": start}


def cost_micro_usd(
    input_tokens: np.ndarray, output_tokens: np.ndarray, model: np.ndarray
) -> np.ndarray:
    """Exact cost in whole micro-dollars.

    tokens × (micro-dollars per million tokens) is an exact integer in units of 1e-12 dollars;
    the sum for input and output is rounded once, half up, to a micro-dollar.
    """
    exact = input_tokens * INPUT_MICRO_PER_MTOK[model]
    exact += output_tokens * OUTPUT_MICRO_PER_MTOK[model]
    return (exact + 500_000) // 1_000_000


def _tokens_and_status(
    agents: _Agents,
    agent: np.ndarray,
    spike: np.ndarray,
    turn: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input tokens, output tokens and error flag per interaction."""
    size = turn.size
    # Each turn resends the conversation so far, so input grows along the conversation.
    input_scale = np.where(spike, SPIKE_INPUT_FACTOR, 1.0) * (1.0 + 0.3 * turn)
    input_tokens = agents.input_tokens[agent] * rng.lognormal(0.0, 0.7, size) * input_scale
    output_scale = np.where(spike, SPIKE_OUTPUT_FACTOR, 1.0)
    output_tokens = agents.output_tokens[agent] * rng.lognormal(0.0, 0.6, size) * output_scale
    error = rng.random(size) < agents.error_rate[agent]
    # A failed call was still sent (and billed) its input; it returns nothing or a few tokens.
    error_output = np.where(rng.random(size) < 0.75, 0, rng.integers(1, 41, size))
    output_tokens = np.where(error, error_output, np.clip(np.rint(output_tokens), 1, 32_000))
    input_tokens = np.clip(np.rint(input_tokens), 20, 400_000)
    return input_tokens.astype(np.int64), output_tokens.astype(np.int64), error


def _latency_ms(
    model: np.ndarray,
    input_tokens: np.ndarray,
    output_tokens: np.ndarray,
    error: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Mostly streaming time of the output; failed calls either time out or fail fast."""
    size = error.size
    streaming = 350 + output_tokens * MS_PER_OUTPUT_TOKEN[model] + 0.02 * input_tokens
    ok = streaming * rng.lognormal(0.0, 0.25, size)
    timeout = rng.random(size) < 0.35
    failed = np.where(timeout, rng.uniform(30_000, 60_000, size), rng.uniform(150, 2_500, size))
    return np.clip(np.rint(np.where(error, failed, ok)), 50, 120_000).astype(np.int32)


def _wall_us(
    start: np.ndarray,
    turns: np.ndarray,
    first: np.ndarray,
    conv_of: np.ndarray,
    latency: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Local µs after midnight of each interaction; conversations are kept inside the day.

    `start` and `turns` are per conversation; `first` is the row of each one's first turn and
    `conv_of` the conversation of each row.
    """
    think = np.minimum(rng.lognormal(math.log(40.0), 0.9, conv_of.size), 1800.0)
    step = think + np.concatenate([[0.0], latency[:-1] / 1000.0])  # wait for the previous reply
    step[first] = 0.0
    elapsed = np.cumsum(step)
    elapsed -= elapsed[first][conv_of]
    last = first + turns - 1
    duration = elapsed[last] + latency[last] / 1000.0
    start = np.clip(np.minimum(start, 86_399.0 - duration), 0.0, None)
    return np.minimum(((start[conv_of] + elapsed) * 1e6).astype(np.int64), DAY_US - 1)


def _day_events(org: _Org, day: int) -> dict[str, np.ndarray]:
    """Events of one local window day as numpy columns (indices into the directory), by ts."""
    rng = np.random.default_rng([org.seed, 1, day])
    conv = _conversations(org, day, rng)
    turns = np.minimum(rng.geometric(TURN_P, conv["user"].size), MAX_TURNS)
    conv_of = np.repeat(np.arange(turns.size), turns)
    first = np.cumsum(turns) - turns
    turn = np.arange(conv_of.size) - first[conv_of]
    per_turn = {name: values[conv_of] for name, values in conv.items()}
    input_tokens, output_tokens, error = _tokens_and_status(
        org.agents, per_turn["agent"], per_turn["spike"], turn, rng
    )
    model = per_turn["model"]
    latency = _latency_ms(model, input_tokens, output_tokens, error, rng)
    wall_us = _wall_us(conv["start"], turns, first, conv_of, latency, rng)
    ts = _local_to_utc_us(_day_number(org.first_date) + day, wall_us, org.tz)
    order = np.argsort(ts, kind="stable")
    columns = {
        "ts": ts,
        "user": per_turn["user"],
        "agent": per_turn["agent"],
        "model": model,
        "conversation": conv_of,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_micro_usd": cost_micro_usd(input_tokens, output_tokens, model),
        "latency_ms": latency,
        "error": error,
    }
    return {name: values[order] for name, values in columns.items()}


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_NIBBLE_SHIFTS = np.arange(60, -4, -4, dtype=np.uint64)


def _mix64(values: np.ndarray, key: int) -> np.ndarray:
    """A bijection on uint64 (splitmix64's finalizer): unique ids that look random."""
    x = values.astype(np.uint64) ^ np.uint64(key)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def _hex_ids(prefix: str, numbers: np.ndarray, key: int) -> pa.Array:
    """Strings prefix + 16 hex digits, built straight into an Arrow buffer (no Python loop)."""
    mixed = _mix64(numbers, key)
    digits = _HEX_DIGITS[((mixed[:, None] >> _NIBBLE_SHIFTS) & np.uint64(15)).astype(np.intp)]
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    width = head.size + 16
    chars = np.empty((numbers.size, width), dtype=np.uint8)
    chars[:, : head.size] = head
    chars[:, head.size :] = digits
    offsets = np.arange(numbers.size + 1, dtype=np.int64) * width
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(chars)]
    return pa.Array.from_buffers(pa.large_string(), numbers.size, buffers)


def _decimal_usd(micro: np.ndarray) -> pa.Array:
    """Decimal(18, 6) dollars from integer micro-dollars, without a float in between.

    A decimal128 value is its unscaled integer as 16 little-endian bytes: low word, sign word.
    """
    words = np.empty((micro.size, 2), dtype=np.int64)
    words[:, 0] = micro
    words[:, 1] = micro >> 63
    return pa.Array.from_buffers(pa.decimal128(18, 6), micro.size, [None, pa.py_buffer(words)])


@dataclass
class _Lookups:
    """Arrow arrays the events' index columns are turned into strings with."""

    user_id: pa.Array
    team_id: pa.Array
    agent_id: pa.Array
    model: pa.Array
    status: pa.Array
    event_key: int
    conversation_key: int

    @classmethod
    def of(cls, org: _Org) -> _Lookups:
        team_ids = [t.team_id for t in org.teams]
        keys = np.random.default_rng([org.seed, 2]).integers(0, 2**63, 2)
        return cls(
            user_id=pa.array(_user_ids(org.users.team.size)),
            team_id=pa.array([team_ids[t] for t in org.users.team]),
            agent_id=pa.array([a.agent_id for a in org.agents.specs]),
            model=pa.array([m.name for m in MODELS]),
            status=pa.array(list(schema.STATUSES)),
            event_key=int(keys[0]),
            conversation_key=int(keys[1]),
        )


def _events_table(
    lookups: _Lookups, columns: dict[str, np.ndarray], first_event: int, first_conversation: int
) -> pa.Table:
    """The day's columns as an Arrow table in the exact schema.EVENTS layout."""
    size = columns["ts"].size
    arrays = {
        "event_id": _hex_ids("evt_", np.arange(first_event, first_event + size), lookups.event_key),
        "ts": pa.array(columns["ts"], pa.timestamp("us", tz="UTC")),
        "user_id": lookups.user_id.take(columns["user"]),
        "team_id": lookups.team_id.take(columns["user"]),
        "agent_id": lookups.agent_id.take(columns["agent"]),
        "model": lookups.model.take(columns["model"]),
        "conversation_id": _hex_ids(
            "conv_", first_conversation + columns["conversation"], lookups.conversation_key
        ),
        "input_tokens": pa.array(columns["input_tokens"]),
        "output_tokens": pa.array(columns["output_tokens"]),
        "cost_usd": _decimal_usd(columns["cost_micro_usd"]),
        "latency_ms": pa.array(columns["latency_ms"]),
        "status": lookups.status.take(columns["error"].astype(np.int8)),
    }
    return pa.table(arrays).cast(EVENTS_ARROW)


class _PartitionWriter:
    """Writes one file per UTC date once no later local day can add to it.

    A local day spans two UTC dates, so each date collects rows from two consecutive local days;
    both pieces are sorted by ts and the earlier day's come first, so the file is sorted too.
    """

    def __init__(self, events_dir: Path) -> None:
        self.events_dir = events_dir
        self.pending: dict[int, list[pa.Table]] = {}
        self.written: set[int] = set()
        self.rows = 0

    def add(self, table: pa.Table, ts: np.ndarray) -> None:
        """Queue a local day's rows (sorted by ts) and write the dates it leaves behind."""
        if not ts.size:
            return
        utc_days = ts // DAY_US
        cuts = np.flatnonzero(np.diff(utc_days)) + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, ts.size], strict=True):
            self.pending.setdefault(int(utc_days[lo]), []).append(table.slice(lo, hi - lo))
        self.flush(before=int(utc_days[0]))

    def flush(self, before: int | None = None) -> None:
        for utc_day in sorted(self.pending):
            if before is None or utc_day < before:
                self._write(utc_day, pa.concat_tables(self.pending.pop(utc_day)))

    def _write(self, utc_day: int, table: pa.Table) -> None:
        if utc_day in self.written:
            raise RuntimeError(f"UTC day {utc_day} would be written twice")
        ts = table.column("ts").cast(pa.int64()).to_numpy()
        if np.any(np.diff(ts) < 0):  # only if a DST change at midnight reordered two local days
            table = table.take(pc.sort_indices(table, [("ts", "ascending")]))
        folder = schema.partition_dir(self.events_dir.parent, str(EPOCH + timedelta(utc_day)))
        folder.mkdir(parents=True)
        pq.write_table(
            table,
            folder / "part-00000.parquet",
            compression="zstd",
            row_group_size=ROW_GROUP_ROWS,
            store_decimal_as_integer=True,
        )
        self.written.add(utc_day)
        self.rows += table.num_rows


def _write_events(org: _Org, events_dir: Path, until_us: int | None = None) -> int:
    """Generate and write the events one local day at a time, none at or after `until_us`."""
    lookups = _Lookups.of(org)
    writer = _PartitionWriter(events_dir)
    events = conversations = 0
    for day in range(org.days):
        columns = _day_events(org, day)
        if until_us is not None:
            keep = columns["ts"] < until_us
            columns = {name: values[keep] for name, values in columns.items()}
        writer.add(_events_table(lookups, columns, events, conversations), columns["ts"])
        events += columns["ts"].size
        conversations += int(columns["conversation"].max(initial=-1)) + 1
    writer.flush()
    return writer.rows
