"""Local time for the demo: office hours in the organization's zone, as UTC microseconds (DST included)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from data.demo.cast import DAY_US, EPOCH, HOUR_US

# --- Local time -----------------------------------------------------------------------------------


def _day_number(day: date) -> int:
    return (day - EPOCH).days


@lru_cache(maxsize=8192)
def _hour_offsets_us(day_number: int, tz: str) -> tuple[int, ...]:
    """UTC offset in µs at half past each local hour of a day.

    Per hour, so a DST change at 02:00 moves the rest of the day; in the skipped or repeated hour
    zoneinfo (PEP 495, fold=0) gives the offset from before the change, which is a real instant.
    """
    day = EPOCH + timedelta(days=day_number)
    zone = ZoneInfo(tz)
    return tuple(
        datetime(day.year, day.month, day.day, hour, 30, tzinfo=zone).utcoffset()
        // timedelta(microseconds=1)
        for hour in range(24)
    )


def _local_to_utc_us(day_number: int, wall_us: np.ndarray, tz: str) -> np.ndarray:
    """UTC µs since the epoch of local wall-clock times (µs after midnight) on one local day."""
    offsets = np.array(_hour_offsets_us(day_number, tz), dtype=np.int64)
    hours = np.clip(wall_us // HOUR_US, 0, 23)
    return day_number * DAY_US + wall_us - offsets[hours]


def _office_hours_utc_us(rng: np.random.Generator, day_numbers: np.ndarray, tz: str) -> np.ndarray:
    """A random moment between 09:00 and 17:00 local on each given day (for created_at)."""
    wall_us = rng.integers(9 * HOUR_US, 17 * HOUR_US, day_numbers.size)
    return np.array(
        [_local_to_utc_us(int(d), w, tz) for d, w in zip(day_numbers, wall_us, strict=True)],
        dtype=np.int64,
    )
