"""Checks of incoming records against the data contract (docs/schema.md), one value at a time.

Every function here takes a value as it arrived (a JSON value, a CSV cell, a Parquet value) and
returns it in the contract's terms, or raises `Invalid` with a reason a person can act on.

- Text cells (CSV) may spell numbers, flags and dates as text; JSON and Parquet values must have
  the right type already (`"12"` is not a token count in JSON, `12.0` is not one anywhere).
- Money is exact: a JSON number is read as a decimal from its text (never through a float), a
  string is read as a decimal, and more than 6 decimal places is an error, not a rounding.
- A timestamp must carry its zone (`Z` or an offset); a naive one is refused rather than guessed.

"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from data import schema

MICROS_PER_DOLLAR = 1_000_000
MAX_COST_MICRO = 10**18 - 1  # DECIMAL(18, 6)
# The plausible most for one interaction (data/schema.py): tokens, latency, cost in micro-dollars
MAX_EVENT_COST_MICRO = int(schema.MAX_COST_USD * MICROS_PER_DOLLAR)
MAX_PRICE_MICRO = int(schema.MAX_PRICE_USD_PER_MTOK * MICROS_PER_DOLLAR)
MAX_INT64 = 2**63 - 1
MAX_TEXT = 512  # ids, names and models longer than this are a sender's bug, not data
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
DAY_US = 86_400_000_000
# Timestamps outside [EARLIEST, now + FUTURE_SLACK) are a broken clock, not an interaction.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_DECIMAL_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?|[+-]?\.[0-9]+")
_TRUE, _FALSE = ("true", "1", "yes", "t", "y"), ("false", "0", "no", "f", "n")

EVENT_FIELDS = tuple(schema.EVENTS.names())
REQUIRED_EVENT_FIELDS = (
    "event_id", "ts", "user_id", "agent_id", "model",
    "input_tokens", "output_tokens", "latency_ms", "status",
)  # fmt: skip
OPTIONAL_EVENT_FIELDS = ("team_id", "conversation_id", "cost_usd")


class Invalid(ValueError):
    """A value that does not meet the contract; the message is the reason shown in quarantine."""


def is_missing(value: object, text_mode: bool) -> bool:
    return value is None or (text_mode and isinstance(value, str) and value.strip() == "")


def text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a string, got {_kind(value)}")
    if value.strip() == "":
        raise Invalid(f"{name} is empty")
    if len(value) > MAX_TEXT:
        raise Invalid(f"{name} is longer than {MAX_TEXT} characters")
    if not value.isascii() and _has_lone_surrogate(value):  # JSON's "\ud800" alone: not text Parquet can hold
        raise Invalid(f"{name} is not valid Unicode text (a lone surrogate)")
    return value


def _has_lone_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def whole(value: object, name: str, text_mode: bool, maximum: int = MAX_INT64) -> int:
    """A non-negative whole number (tokens, milliseconds)."""
    if isinstance(value, str) and text_mode:
        if not _INTEGER_TEXT.fullmatch(value.strip()):
            raise Invalid(f"{name} must be a whole number, got {value!r}")
        value = int(value)
    elif type(value) is not int:  # bool is an int in Python, and not a count
        raise Invalid(f"{name} must be a whole number, got {_kind(value)} {_show(value)}")
    if value < 0:
        raise Invalid(f"{name} is negative ({value})")
    if value > maximum:
        raise Invalid(f"{name} is too large for one interaction ({value} > {maximum})")
    return value


def micro_usd(value: object, name: str, maximum: int = MAX_COST_MICRO, what: str = "") -> int:
    """An exact, non-negative amount of dollars with at most 6 decimal places, in micro-dollars, at
    most `maximum` micro-dollars (the plausible most `what` it prices, e.g. "for one interaction")."""
    shown = value.strip() if isinstance(value, str) else str(value)
    if isinstance(value, str):
        if not _DECIMAL_TEXT.fullmatch(value.strip()):
            raise Invalid(f"{name} must be a decimal number like 0.012345, got {value!r}")
        value = Decimal(value.strip())
    elif type(value) is int:
        value = Decimal(value)
    elif isinstance(value, float):
        raise Invalid(f"{name} is a binary floating-point number ({value!r}); send an exact decimal")
    elif not isinstance(value, Decimal):
        raise Invalid(f"{name} must be a decimal number, got {_kind(value)}")
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise Invalid(f"{name} is not a number ({shown})")
    if sign and any(digits):
        raise Invalid(f"{name} is negative ({shown})")
    if exponent > 18:
        raise Invalid(f"{name} is too large for DECIMAL(18,6) ({shown})")
    unscaled = int("".join(map(str, digits)) or "0")
    if exponent >= -6:
        micro = unscaled * 10 ** (exponent + 6)
    else:
        cut = 10 ** (-6 - exponent)
        if unscaled % cut:
            raise Invalid(f"{name} has more than 6 decimal places ({shown})")
        micro = unscaled // cut
    if micro > MAX_COST_MICRO:
        raise Invalid(f"{name} is too large for DECIMAL(18,6) ({shown})")
    if micro > maximum:
        raise Invalid(f"{name} is too large{' ' + what if what else ''} ({shown} > {_dollars(maximum)})")
    return micro


def _dollars(micro: int) -> str:
    return format(Decimal(micro).scaleb(-6).normalize(), "f")


def instant_us(value: object, name: str) -> int:
    """Microseconds since the Unix epoch (UTC) of a timestamp that states its zone."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid(f"{name} is not an ISO 8601 timestamp: {_show(value)}") from None
    elif not isinstance(value, datetime):
        raise Invalid(f"{name} must be an ISO 8601 timestamp with a time zone, got {_kind(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(f"{name} has no time zone (naive timestamp {value.isoformat()}); add Z or an offset")
    return (value - EPOCH) // ONE_US


def day(value: object, name: str) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise Invalid(f"{name} is not a date (YYYY-MM-DD): {_show(value)}") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise Invalid(f"{name} must be a date (YYYY-MM-DD), got {_kind(value)}")


def flag(value: object, name: str, text_mode: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and text_mode:
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
    raise Invalid(f"{name} must be true or false, got {_show(value)}")


def one_of(value: object, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise Invalid(f"{name} must be one of {', '.join(allowed)}, got {_show(value)}")
    return value  # type: ignore[return-value]


def cost_micro_usd(input_tokens: int, output_tokens: int, input_micro_per_mtok: int, output_micro_per_mtok: int) -> int:
    """data/demo/'s rule on one record: exact sum in 1e-12 dollars, rounded once, half up."""
    exact = input_tokens * input_micro_per_mtok + output_tokens * output_micro_per_mtok
    return (exact + 500_000) // 1_000_000


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _show(value: object) -> str:
    shown = str(value) if isinstance(value, Decimal) else repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def unknown_user(user_id: str) -> str:
    """The quarantine's reason for an event whose person is not known (also when the writer finds it so)."""
    return f"unknown user {user_id!r}"
