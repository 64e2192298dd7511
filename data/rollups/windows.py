"""`active_windows`' counts (data/rollups/build.py writes them): per local day and everyone, team or agent, how many
people were active on it (`dau`), in the 7 (`wau`) and in the 28 local days (`mau`) that end on it, from the day
bitmaps of user_sets (sql/window_days.sql). Exact distinct counts: the bits set in the OR of the bitmaps over each
window, never added up.

In numpy, not SQL: DuckDB ORs a BIT a byte at a time and allocates each result, and its window `bit_or` combines
every frame again; here each group's days are the rows of one matrix, OR-ed with itself shifted.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from data.rollups.manifest import WINDOWS_SCHEMA

WEEK_SHIFTS = (1, 2, 3)  # a row OR-ed with the one 1 day before, then 2, then 3: the 7 days ending on it
MONTH_SHIFTS = (7, 14)  # then with 7 and 14 days before: the 28 days ending on it


def active_windows(days: pl.DataFrame, first: dt.date, last: dt.date) -> pl.DataFrame:
    """The rows of `first`..`last` (none where nobody was active in the 28 days), from the day bitmaps of each group
    (`day`, `team_id`, `agent_id`, `users`) from 27 days before `first`, sorted as the files keep them."""
    origin = first - dt.timedelta(days=27)
    dates = pl.date_range(origin, last, eager=True)
    frames = [pl.DataFrame(schema=WINDOWS_SCHEMA)]
    for (team, agent), group in days.group_by("team_id", "agent_id", maintain_order=True):
        # a bitmap's length is a whole number of 64-bit words (the capacity: build.py `_build_sets`)
        found = np.frombuffer(b"".join(group["users"]), dtype=np.uint64).reshape(group.height, -1)
        bits = np.zeros((len(dates), found.shape[1]), dtype=np.uint64)  # a day with nobody: no bit
        # OR-ed in, not assigned: a null team's own day set has the key of everyone's (both null), and a
        # person of no team must not hide everyone else that day
        np.bitwise_or.at(bits, (group["day"] - origin).dt.total_days().to_numpy(), found)
        counts = {"dau": _people(bits)}
        for name, shifts in (("wau", WEEK_SHIFTS), ("mau", MONTH_SHIFTS)):
            for shift in shifts:
                bits = _or_shifted(bits, shift)
            counts[name] = _people(bits)
        keys = {"team_id": pl.repeat(team, len(dates), dtype=pl.String, eager=True),
                "agent_id": pl.repeat(agent, len(dates), dtype=pl.String, eager=True)}  # fmt: skip
        frames.append(pl.DataFrame({"day": dates, **keys, **counts}, schema=WINDOWS_SCHEMA))
    rows = pl.concat(frames).filter(pl.col("day") >= first, pl.col("mau") > 0)
    return rows.sort("team_id", "agent_id", "day", nulls_last=False)


def _or_shifted(bits: np.ndarray, shift: int) -> np.ndarray:
    """Each day's row OR-ed with the row `shift` days before it."""
    out = bits.copy()
    np.bitwise_or(bits[shift:], bits[:-shift], out=out[shift:])
    return out


def _people(bits: np.ndarray) -> np.ndarray:
    """The bits set in each row: the people in each day's set."""
    return np.bitwise_count(bits).sum(axis=1, dtype=np.int32)
