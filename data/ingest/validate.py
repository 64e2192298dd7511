"""`EventValidator` applies these to an interaction event, fills `team_id` and `cost_usd` from the
directory, and answers the contract's row or every reason the record is refused. For large imports
`EventValidator.accept_columns` checks a whole batch as column expressions first; it accepts only
records the per-record check accepts, with the same row, and leaves every other record to it (so
the reasons a person reads come from one place).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from data import schema
from data.ingest.checks import (
    DAY_US,
    EARLIEST,
    EPOCH,
    EVENT_FIELDS,
    FUTURE_SLACK,
    MAX_EVENT_COST_MICRO,
    MAX_INT64,
    MAX_TEXT,
    ONE_US,
    REQUIRED_EVENT_FIELDS,
    Invalid,
    _dollars,
    _has_lone_surrogate,
    _kind,
    cost_micro_usd,
    instant_us,
    is_missing,
    micro_usd,
    one_of,
    text,
    unknown_user,
    whole,
)

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

        return cls.from_frames({name: frame(name) for name in ("users", "teams", "agents", "prices")})

    @classmethod
    def from_frames(cls, frames: dict[str, pl.DataFrame]) -> Directory:
        """From the directory tables as frames (users, teams, agents, prices), wherever they are kept."""
        users, teams, agents, prices = (frames[name] for name in ("users", "teams", "agents", "prices"))
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
            reasons.append(unknown_user(values["user_id"]))
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
        self, batch: pl.DataFrame, exact_cost: pl.Series | None = None, eligible: pl.Series | None = None
    ) -> tuple[pl.DataFrame, np.ndarray]:
        """The records of `batch` that `validate` would accept, as the same rows, and which they are.

        `batch` has the event fields as columns, as a JSON reader typed them (text, whole numbers,
        cost as an exact Decimal(18, 6)), ts as text or as a Datetime with a time zone (Parquet).
        `exact_cost` marks the records whose cost_usd, when present, was written in a form the
        per-record check reads to the same value (None: no record has one). `eligible` (None: all)
        marks the records a reader could put in those types as they are; the others are not accepted.
        The answer: accepted rows (the contract's columns, ts in UTC µs, cost_usd in micro-dollars)
        and a mask over `batch`; records outside the mask still need `validate`, which may accept
        them (an unusual but valid spelling) or give every reason they are refused.
        """
        cost_ok, cost = _cost_columns(exact_cost)
        checks = [*self._checks(), cost_ok] + ([] if eligible is None else [pl.lit(eligible)])
        accepted = pl.all_horizontal(*checks).fill_null(False)  # null: a value missing
        frame = self._with_lookups(batch).with_columns(_accepted=accepted)
        rows = frame.filter("_accepted").select(
            "event_id", pl.col("ts_us").alias("ts"), "user_id", pl.coalesce("team_id", "user_team").alias("team_id"),
            "agent_id", "model", "conversation_id", "input_tokens", "output_tokens", cost.alias("cost_usd"),
            "latency_ms", "status",
        )  # fmt: skip
        return rows, frame["_accepted"].to_numpy()

    def _with_lookups(self, batch: pl.DataFrame) -> pl.DataFrame:
        """The batch with ts in UTC µs, its UTC day, the user's team and the model's price that day."""
        frame = batch.with_columns(ts_us=_utc_us(batch.schema["ts"])).with_columns(utc_day=pl.col("ts_us") // DAY_US)
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


def _utc_us(dtype: pl.DataType) -> pl.Expr:
    """Microseconds since the epoch (UTC) of the ts column: text as `_iso_utc_us`, an instant as it is;
    null for a timestamp without a zone (refused by `validate`) or any other type."""
    if dtype == pl.String:
        return _iso_utc_us(pl.col("ts"))
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return pl.col("ts").dt.epoch("us")
    return pl.lit(None, dtype=pl.Int64)


def _iso_utc_us(text: pl.Expr) -> pl.Expr:
    """Microseconds since the epoch (UTC) of an `_ISO_UTC` timestamp; null for anything else."""
    # The pattern puts every field in its place: the first 19 characters by a fixed format (Polars' fast
    # path; strict=False: a day that does not exist, 30 February, is null, as fromisoformat refuses it),
    # the fraction's digits and the offset added as numbers. A format with `%.f%#z` costs twice as much.
    utc = text.str.ends_with("Z")
    seconds = text.str.head(19).str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False).dt.epoch("us")
    length = text.str.len_bytes().cast(pl.Int64) - pl.when(utc).then(21).otherwise(26)  # of the digits
    digits = text.str.slice(20, pl.max_horizontal(length, 0))
    zone = text.str.tail(6)
    minutes = zone.str.slice(1, 2).cast(pl.Int64, strict=False) * 60 + zone.str.slice(4, 2).cast(pl.Int64, strict=False)
    offset = pl.when(utc).then(0).when(zone.str.starts_with("-")).then(-minutes).otherwise(minutes) * 60_000_000
    fraction = digits.str.pad_end(6, "0").cast(pl.Int64, strict=False)
    return pl.when(text.str.contains(_ISO_UTC)).then(seconds + fraction - offset)


def _plain_text(name: str) -> pl.Expr:
    """A text `text()` accepts as it is, conservatively: at most MAX_TEXT bytes (so characters), its first character
    printable ASCII (not blank by any definition; compared, not searched: any other text goes to `validate`)."""
    column = pl.col(name)
    return (column.str.len_bytes() <= MAX_TEXT) & column.str.head(1).is_between(pl.lit("!"), pl.lit("~"))
