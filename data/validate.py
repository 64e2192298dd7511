"""Checks of incoming records against the data contract (docs/schema.md), one value at a time.

Every function here takes a value as it arrived (a JSON value, a CSV cell, a Parquet value) and
returns it in the contract's terms, or raises `Invalid` with a reason a person can act on.

- Text cells (CSV) may spell numbers, flags and dates as text; JSON and Parquet values must have
  the right type already (`"12"` is not a token count in JSON, `12.0` is not one anywhere).
- Money is exact: a JSON number is read as a decimal from its text (never through a float), a
  string is read as a decimal, and more than 6 decimal places is an error, not a rounding.
- A timestamp must carry its zone (`Z` or an offset); a naive one is refused rather than guessed.

`EventValidator` applies these to an interaction event, fills `team_id` and `cost_usd` from the
directory, and answers the contract's row or every reason the record is refused. For large imports
`EventValidator.accept_columns` checks a whole batch as column expressions first; it accepts only
records the per-record check accepts, with the same row, and leaves every other record to it (so
the reasons a person reads come from one place).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

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
    """data/demo.py's rule on one record: exact sum in 1e-12 dollars, rounded once, half up."""
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


# --- The directory, as ingestion needs it --------------------------------------------------------


@dataclass(frozen=True)
class Price:
    valid_from: date
    valid_to: date | None  # inclusive; None = still in force
    input_micro_per_mtok: int
    output_micro_per_mtok: int


@dataclass
class Directory:
    """Who and what exists, read once per import from directory/*.parquet."""

    user_teams: dict[str, str] = field(default_factory=dict)  # user_id -> current team_id
    team_ids: frozenset[str] = frozenset()
    agent_ids: frozenset[str] = frozenset()
    agents_by_name: dict[str, list[str]] = field(default_factory=dict)  # name -> agent_ids
    prices: dict[str, list[Price]] = field(default_factory=dict)  # model -> price ranges

    @classmethod
    def load(cls, data_dir: Path) -> Directory:
        """The directory as on disk now; re-read only when one of its files changed."""
        folder = schema.directory_dir(data_dir)
        key = tuple(_stat(folder / f"{name}.parquet") for name in ("users", "teams", "agents", "prices"))
        with _CACHE_LOCK:
            cached = _CACHE.get(folder)
            if cached is not None and cached[0] == key:
                return cached[1]
        directory = cls._read(folder)
        with _CACHE_LOCK:
            _CACHE[folder] = (key, directory)
        return directory

    @classmethod
    def _read(cls, folder: Path) -> Directory:

        def frame(name: str) -> pl.DataFrame:
            path = folder / f"{name}.parquet"
            return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=schema.DIRECTORY[name])

        users, teams, agents, prices = frame("users"), frame("teams"), frame("agents"), frame("prices")
        by_name: dict[str, list[str]] = {}
        for agent_id, name in agents.select("agent_id", "name").iter_rows():
            by_name.setdefault(name, []).append(agent_id)
        price_lists: dict[str, list[Price]] = {}
        for row in prices.iter_rows(named=True):
            price_lists.setdefault(row["model"], []).append(
                Price(
                    row["valid_from"],
                    row["valid_to"],
                    micro_usd(row["input_usd_per_mtok"], "input_usd_per_mtok"),
                    micro_usd(row["output_usd_per_mtok"], "output_usd_per_mtok"),
                )
            )
        return cls(
            user_teams=dict(users.select("user_id", "team_id").iter_rows()),
            team_ids=frozenset(teams["team_id"].to_list()),
            agent_ids=frozenset(agents["agent_id"].to_list()),
            agents_by_name=by_name,
            prices=price_lists,
        )

    def price(self, model: str, on: date) -> Price | None:
        for price in self.prices.get(model, ()):
            if price.valid_from <= on and (price.valid_to is None or on <= price.valid_to):
                return price
        return None

    def agent_by_name(self, name: str) -> str:
        found = self.agents_by_name.get(name, [])
        if not found:
            raise Invalid(f"unknown agent name {name!r} (not in directory/agents.parquet)")
        if len(found) > 1:
            raise Invalid(f"agent name {name!r} matches several agents ({', '.join(sorted(found))})")
        return found[0]


_CACHE: dict[Path, tuple[tuple, Directory]] = {}
_CACHE_LOCK = threading.Lock()


def _stat(path: Path) -> tuple[int, int, int] | None:
    """Identity of a directory file's version: files are replaced by rename, never edited."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return (found.st_ino, found.st_mtime_ns, found.st_size)


# --- Events ----------------------------------------------------------------------------------------

_TEXT, _WHOLE, _INSTANT, _MONEY, _STATUS = range(5)
_KINDS = {"ts": _INSTANT, "input_tokens": _WHOLE, "output_tokens": _WHOLE, "latency_ms": _WHOLE,
          "cost_usd": _MONEY, "status": _STATUS}  # fmt: skip
# The most each number may be: the plausible most for one interaction (data/schema.py)
_MAXIMA = {
    "input_tokens": schema.MAX_TOKENS,
    "output_tokens": schema.MAX_TOKENS,
    "latency_ms": schema.MAX_LATENCY_MS,
    "cost_usd": MAX_EVENT_COST_MICRO,
}
_CHECKS = tuple(
    (name, _KINDS.get(name, _TEXT), _MAXIMA.get(name, MAX_INT64), name in REQUIRED_EVENT_FIELDS)
    for name in EVENT_FIELDS
)
_EVENT_FIELD_SET = frozenset(EVENT_FIELDS)


def _check(kind: int, raw: object, name: str, text_mode: bool, maximum: int) -> object:
    if kind == _INSTANT:
        return instant_us(raw, name)
    if kind == _WHOLE:
        return whole(raw, name, text_mode, maximum)
    if kind == _MONEY:
        return micro_usd(raw, name, maximum, "for one interaction")
    if kind == _STATUS:
        return one_of(raw, name, schema.STATUSES)
    return text(raw, name)


# A valid event as the writer takes it: the contract's columns, ts in UTC µs, cost in micro-dollars.
Row = tuple[str, int, str, str, str, str, str | None, int, int, int, int, str]


class EventValidator:
    """Turns a raw record (a dict) into a `Row` or the list of everything wrong with it."""

    def __init__(self, directory: Directory, now: datetime | None = None) -> None:
        self.directory = directory
        now = now or datetime.now(UTC)
        self.earliest_us = (EARLIEST - EPOCH) // ONE_US
        self.latest_us = (now + FUTURE_SLACK - EPOCH) // ONE_US
        self._price_cache: dict[tuple[str, int], Price | None] = {}
        self._user_frame: pl.DataFrame | None = None

    def validate(
        self, record: object, text_mode: bool = False, agent_name: str | None = None
    ) -> tuple[Row | None, list[str]]:
        """`agent_name`: look the agent up by name when the record has no agent_id (OTLP)."""
        if not isinstance(record, dict):
            return None, [f"not a JSON object but {_kind(record)}"]
        reasons: list[str] = []
        if agent_name is not None and is_missing(record.get("agent_id"), text_mode):
            try:
                record = {**record, "agent_id": self.directory.agent_by_name(agent_name)}
            except Invalid as error:
                return None, [str(error)]
        if not record.keys() <= _EVENT_FIELD_SET:
            unknown = [key for key in record if key not in _EVENT_FIELD_SET]
            reasons.append(f"unknown field(s): {', '.join(map(str, unknown))}")
        values: dict[str, object] = {}
        get = record.get
        for name, kind, maximum, required in _CHECKS:
            raw = get(name)
            # The common case first, inline: this loop runs for every record of a large import.
            if kind == _TEXT:
                plain = type(raw) is str and 0 < len(raw) <= MAX_TEXT and not raw.isspace()
                if plain and (raw.isascii() or not _has_lone_surrogate(raw)):
                    values[name] = raw
                    continue
            elif kind == _WHOLE:
                if type(raw) is int and 0 <= raw <= maximum:
                    values[name] = raw
                    continue
            elif kind == _STATUS and raw in schema.STATUSES:
                values[name] = raw
                continue
            if is_missing(raw, text_mode):
                if required:
                    reasons.append(f"{name} is missing")
                values[name] = None
                continue
            try:
                values[name] = _check(kind, raw, name, text_mode, maximum)
            except Invalid as error:
                reasons.append(str(error))
        if reasons:
            return None, reasons
        ts_us = values["ts"]
        if ts_us < self.earliest_us:
            reasons.append(f"ts is before {EARLIEST.date()} (an unset clock?)")
        elif ts_us >= self.latest_us:
            reasons.append("ts is more than a day in the future")
        user_team = self.directory.user_teams.get(values["user_id"])
        if user_team is None:
            reasons.append(f"unknown user {values['user_id']!r}")
        team_id = values["team_id"] or user_team
        if values["team_id"] is not None and values["team_id"] not in self.directory.team_ids:
            reasons.append(f"unknown team {values['team_id']!r}")
        if values["agent_id"] not in self.directory.agent_ids:
            reasons.append(f"unknown agent {values['agent_id']!r}")
        cost = values["cost_usd"]
        if cost is None and not reasons:
            cost, reason = self._cost(values["model"], ts_us, values["input_tokens"], values["output_tokens"])
            if reason:
                reasons.append(reason)
        if reasons:
            return None, reasons
        row = (
            values["event_id"], ts_us, values["user_id"], team_id, values["agent_id"], values["model"],
            values["conversation_id"], values["input_tokens"], values["output_tokens"], cost,
            values["latency_ms"], values["status"],
        )  # fmt: skip
        return row, []

    def _price_on(self, model: str, utc_day: int) -> Price | None:
        key = (model, utc_day)
        if key not in self._price_cache:
            self._price_cache[key] = self.directory.price(model, date(1970, 1, 1) + timedelta(days=utc_day))
        return self._price_cache[key]

    def _cost(self, model: str, ts_us: int, input_tokens: int, output_tokens: int) -> tuple[int, str | None]:
        utc_day = ts_us // DAY_US
        price = self._price_on(model, utc_day)
        if price is None:
            on = date(1970, 1, 1) + timedelta(days=utc_day)
            return 0, f"no price for model {model!r} on {on} in directory/prices.parquet (cost_usd missing)"
        cost = cost_micro_usd(input_tokens, output_tokens, price.input_micro_per_mtok, price.output_micro_per_mtok)
        if cost > MAX_EVENT_COST_MICRO:
            most = _dollars(MAX_EVENT_COST_MICRO)
            return 0, f"computed cost_usd is too large for one interaction ({_dollars(cost)} > {most})"
        return cost, None

    # --- A batch at a time ------------------------------------------------------------------------

    def accept_columns(
        self, batch: pl.DataFrame, exact_cost: pl.Series | None = None
    ) -> tuple[pl.DataFrame, np.ndarray]:
        """The records of `batch` that `validate` would accept, as the same rows, and which they are.

        `batch` has the event fields as columns, as a JSON reader typed them (text, whole numbers,
        cost as an exact Decimal(18, 6)). `exact_cost` marks the records whose cost_usd, when present,
        was written in a form the per-record check reads to the same value (None: no record has one).
        The answer: accepted rows (the contract's columns, ts in UTC µs, cost_usd in micro-dollars)
        and a mask over `batch`; records outside the mask still need `validate`, which may accept
        them (an unusual but valid spelling) or give every reason they are refused.
        """
        cost_ok, cost = _cost_columns(exact_cost)
        accepted = pl.all_horizontal(*self._checks(), cost_ok).fill_null(False)  # null: a value missing
        frame = self._with_lookups(batch).with_columns(_accepted=accepted)
        rows = frame.filter("_accepted").select(
            "event_id", pl.col("ts_us").alias("ts"), "user_id", pl.coalesce("team_id", "user_team").alias("team_id"),
            "agent_id", "model", "conversation_id", "input_tokens", "output_tokens", cost.alias("cost_usd"),
            "latency_ms", "status",
        )  # fmt: skip
        return rows, frame["_accepted"].to_numpy()

    def _with_lookups(self, batch: pl.DataFrame) -> pl.DataFrame:
        """The batch with ts in UTC µs, its UTC day, the user's team and the model's price that day."""
        frame = batch.with_columns(ts_us=_iso_utc_us(pl.col("ts"))).with_columns(utc_day=pl.col("ts_us") // DAY_US)
        frame = frame.join(self._user_teams(), on="user_id", how="left", maintain_order="left")
        prices, models = self._prices_for(frame)
        # one integer key per (model, UTC day): a join on it is three times as fast as on both columns
        key = pl.col("model").replace_strict(models, default=None, return_dtype=pl.Int64) * _DAYS + pl.col("utc_day")
        return frame.with_columns(_price_key=key).join(prices, on="_price_key", how="left", maintain_order="left")

    def _checks(self) -> list[pl.Expr]:
        """What `validate` checks besides the cost, each only in the form it accepts without a reason."""
        return [
            *(_plain_text(name) for name in ("event_id", "user_id", "agent_id", "model")),
            *(pl.col(name).is_null() | _plain_text(name) for name in ("team_id", "conversation_id")),
            pl.col("status").is_in(schema.STATUSES),
            pl.col("input_tokens").is_between(0, schema.MAX_TOKENS),
            pl.col("output_tokens").is_between(0, schema.MAX_TOKENS),
            pl.col("latency_ms").is_between(0, schema.MAX_LATENCY_MS),
            pl.col("ts_us").is_between(self.earliest_us, self.latest_us, closed="left"),
            pl.col("user_team").is_not_null(),
            pl.col("agent_id").is_in(self._known("agent_ids")),
            pl.col("team_id").is_null() | pl.col("team_id").is_in(self._known("team_ids")),
        ]

    def _user_teams(self) -> pl.DataFrame:
        """user_id -> team as `validate` looks it up (a user whose team is null counts as unknown)."""
        if self._user_frame is None:
            users = self.directory.user_teams
            self._user_frame = pl.DataFrame(
                {"user_id": list(users), "user_team": list(users.values())},
                schema={"user_id": pl.String, "user_team": pl.String},
            )
        return self._user_frame

    def _known(self, name: str) -> pl.Series:
        return pl.Series(name, sorted(getattr(self.directory, name)), dtype=pl.String).implode()

    def _prices_for(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
        """The price of each (model, UTC day) the batch needs, found by `_price_on` like one record's,
        keyed by model number × _DAYS + UTC day; and the models' numbers."""
        needed = frame.filter(pl.col("cost_usd").is_null()).select("model", "utc_day").drop_nulls().unique()
        models: dict[str, int] = {}
        found = []
        for model, utc_day in needed.iter_rows():
            price = self._price_on(model, utc_day)
            if price is not None:
                number = models.setdefault(model, len(models))
                found.append((number * _DAYS + utc_day, price.input_micro_per_mtok, price.output_micro_per_mtok))
        columns = {"_price_key": pl.Int64, "input_micro": pl.Int64, "output_micro": pl.Int64}
        return pl.DataFrame(found, schema=columns, orient="row"), models


def _cost_columns(exact_cost: pl.Series | None) -> tuple[pl.Expr, pl.Expr]:
    """Whether each record's cost is accepted as it is, and the cost in micro-dollars.

    Given: when spelt plainly (`exact_cost`) and not negative. Missing: `cost_micro_usd` with the
    price that day, in int64 only where the exact sum is surely below 2**63 (a float estimate, far
    from the limit); other records keep 0 tokens here so nothing overflows, and go one by one.
    """
    fits = (pl.col("input_tokens").cast(pl.Float64) * pl.col("input_micro")
            + pl.col("output_tokens").cast(pl.Float64) * pl.col("output_micro")) < 4e18  # fmt: skip
    tokens_in, tokens_out = (
        pl.when(fits).then(pl.col(name)).otherwise(0) for name in ("input_tokens", "output_tokens")
    )
    computed = (tokens_in * pl.col("input_micro") + tokens_out * pl.col("output_micro") + 500_000) // 1_000_000
    given = pl.col("cost_usd").to_physical().cast(pl.Int64)
    trusted = pl.lit(True) if exact_cost is None else pl.lit(exact_cost)
    missing = pl.col("cost_usd").is_null()
    plausible = computed <= MAX_EVENT_COST_MICRO
    accepted = (
        pl.when(missing)
        .then(pl.col("input_micro").is_not_null() & fits & plausible)
        .otherwise(trusted & given.is_between(0, MAX_EVENT_COST_MICRO))
    )
    return accepted, pl.coalesce(given, computed)


_DAYS = 1 << 32  # more UTC days than any timestamp has (year 9999 is day 2,932,896)

# A timestamp spelt the way platforms send it: `2026-03-02T09:15:30.25Z` or `...+05:30`. Only the
# spellings `datetime.fromisoformat` reads to the same instant (years 1000-9999, fields in range,
# no leap second, 1-6 decimals); anything else goes to the per-record check.
_ISO_UTC = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


def _iso_utc_us(text: pl.Expr) -> pl.Expr:
    """Microseconds since the epoch (UTC) of an `_ISO_UTC` timestamp; null for anything else."""
    # strict=False: a day that does not exist (30 February) becomes null, as fromisoformat refuses it
    parsed = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", time_unit="us", time_zone="UTC", strict=False)
    return pl.when(text.str.contains(_ISO_UTC)).then(parsed.dt.epoch("us"))


def _plain_text(name: str) -> pl.Expr:
    """A text `text()` accepts as it is, conservatively: at most MAX_TEXT bytes (so characters) and
    one printable ASCII character (so not blank, by any definition of whitespace)."""
    column = pl.col(name)
    return (column.str.len_bytes() <= MAX_TEXT) & column.str.contains("[!-~]")


# --- The directory files ---------------------------------------------------------------------------

# Columns that may be empty; every other directory column is required.
NULLABLE = {("prices", "valid_to")}
DIRECTORY_CHOICES = {("users", "role"): schema.ROLES}


def directory_value(table: str, name: str, raw: object, text_mode: bool) -> object:
    """One directory cell in its contract type (money in micro-dollars, timestamps in UTC µs)."""
    if is_missing(raw, text_mode):
        if (table, name) in NULLABLE:
            return None
        raise Invalid(f"{name} is missing")
    dtype = schema.DIRECTORY[table][name]
    if (table, name) in DIRECTORY_CHOICES:
        return one_of(raw.strip() if isinstance(raw, str) and text_mode else raw, name, DIRECTORY_CHOICES[table, name])
    if isinstance(dtype, pl.Decimal):
        return micro_usd(raw, name, MAX_PRICE_MICRO, "for a price per million tokens")
    if isinstance(dtype, pl.Datetime):
        return instant_us(raw, name)
    if dtype == pl.Date:
        return day(raw, name)
    if dtype == pl.Boolean:
        return flag(raw, name, text_mode)
    value = text(raw, name)
    if name == "email" and "@" not in value:
        raise Invalid(f"email {value!r} is not an email address")
    return value


def directory_problems(frames: dict[str, pl.DataFrame]) -> list[str]:
    """Keys unique, references resolved, price ranges sane: over the directory as it would be."""
    problems: list[str] = []

    def unique(table: str, columns: list[str], label: str, lower: bool = False) -> None:
        frame = frames[table].select(columns)
        if lower:
            frame = frame.with_columns(pl.col(columns[0]).str.to_lowercase())
        repeated = frame.filter(frame.is_duplicated()).unique(maintain_order=True)
        for row in repeated.head(5).iter_rows():
            problems.append(f"{table}: {label} {', '.join(map(repr, row))} appears more than once")

    def resolved(table: str, column: str, target: str, key: str) -> None:
        known = set(frames[target][key].to_list())
        missing = sorted({v for v in frames[table][column].to_list() if v not in known})
        if missing:
            shown = ", ".join(map(repr, missing[:5])) + (" …" if len(missing) > 5 else "")
            problems.append(f"{table}: {column} not in {target}.{key}: {shown}")

    unique("users", ["user_id"], "user_id")
    unique("users", ["email"], "email (case-insensitive)", lower=True)
    unique("teams", ["team_id"], "team_id")
    unique("agents", ["agent_id"], "agent_id")
    unique("team_managers", ["user_id", "team_id"], "row")
    resolved("users", "team_id", "teams", "team_id")
    resolved("team_managers", "user_id", "users", "user_id")
    resolved("team_managers", "team_id", "teams", "team_id")
    resolved("agents", "owner_team_id", "teams", "team_id")
    by_model: dict[str, list[tuple[date, date | None]]] = {}
    for model, start, end in frames["prices"].select("model", "valid_from", "valid_to").iter_rows():
        if end is not None and end < start:
            problems.append(f"prices: {model!r} valid_to {end} is before valid_from {start}")
        by_model.setdefault(model, []).append((start, end))
    for model, ranges in sorted(by_model.items()):
        ranges.sort(key=lambda r: r[0])
        latest_end: date | None = ranges[0][1]
        for start, end in ranges[1:]:
            if latest_end is None or latest_end >= start:
                problems.append(f"prices: {model!r} has overlapping validity ranges (from {start})")
            if latest_end is not None:
                latest_end = None if end is None else max(latest_end, end)
    return problems
