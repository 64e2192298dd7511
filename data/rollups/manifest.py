"""Where the rollups live and how to tell whether they are current (written by data/rollups/build.py).

Three tables (and the bitmaps of who was active, `user_sets`, with the codes they use, and the counts of who was
active in each day's trailing windows, `active_windows`), each one Parquet
file per local month (`rollups/<table>/month=YYYY-MM/part-0.parquet`), and `user_totals.parquet`.
`rollups/manifest.json` records the layout's format, the time zone their local days are in and the
events version they were built from (`events_version`, the counter of the data folder's version file,
data/schema.py). They answer while all three hold and the events folder is as the writer left it (or a
write is under way) and not marked changed by hand since the last full build (`schema.changed_by_hand`):
`rollups_check` reads two small files and stats one folder, whatever the data's size.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from data import schema
from data.schema import empty_select, literal

# The layout's version: rollups of another version are not read until rebuilt.
# 2: the user index holds day sets; 3: and month levels; 4: and per-month sums and days;
# 5: token and latency sums are DECIMAL(38,0), exact over any value (Parquet keeps no 128-bit integer);
# 6: the manifest names the events version it was built from, not a signature of the event files;
# 7: and user_sets with user_codes (distinct users counted in SQL, from bitmaps);
# 8: a day's team × agent set lists its codes instead of a bitmap;
# 9: and user_month (per-person figures in SQL), no user index; the manifest names its build;
# 10: user_month holds its days' running interactions and cost and last instants (no user_day read);
# 11: and user_totals, each person's history in a row per team × agent (built from user_month);
# 12: and active_windows, the people active in each day's trailing 1, 7 and 28 days (built from user_sets);
# 13: user_totals holds each row's first and last local day with activity (`first_day`, `last_day`);
# 14: no user_month (user_totals is built from user_day: its files were read by that build alone);
# 15: a week that ends in a month without events has its sets too (14 left them out on a full build).
FORMAT = 15
TABLES = ("cube", "hours", "user_day")  # aggregated from the events, one file per local month (build.py)
SETS = "user_sets"  # built from user_day: who was active per day, week and month, as bitmaps (build.py)
WINDOWS = "active_windows"  # built from user_sets: per day, team or agent, how many were active up to it (build.py)
WINDOWS_SCHEMA = pl.Schema(  # counted in windows.py from the day bitmaps of sql/window_days.sql
    {"day": pl.Date, "team_id": pl.String, "agent_id": pl.String, "dau": pl.Int32, "wau": pl.Int32, "mau": pl.Int32}
)
CODES = "user_codes"  # each person's bit in the sets (one file)
CODES_SCHEMA = pl.Schema({"user_id": pl.String, "code": pl.Int32})
TOTALS = "user_totals"  # built from user_day: one file, every person's history (totals.py)
TOTALS_SCHEMA = pl.Schema(
    {
        "user_id": pl.String,
        "code": pl.Int32,  # the person's in user_codes
        "team_id": pl.String,
        "agent_id": pl.String,
        "moved": pl.Boolean,  # the person has rows in more than one team
        "month0": pl.Int32,  # months since year 0 of the lists' first month
        "first_ts": schema.UTC_TS,
        "first_day": pl.Date,  # the local day of first_ts
        "last_day": pl.Date,  # the last local day with activity
        "days": pl.List(pl.Int32),  # per month: bit d - 1, day d had activity
        "working_days": pl.List(pl.Int32),
        "days_before": pl.List(pl.Int32),  # per month: days with activity before it
        "working_days_before": pl.List(pl.Int32),
        "running_interactions": pl.List(pl.Int64),  # per day with activity: so far
        "running_cost_usd": pl.List(pl.Decimal(38, 6)),
        "day_last_ts": pl.List(schema.UTC_TS),  # per day with activity: its last instant
    }
)
ONE_FILE = (CODES, TOTALS)  # the tables kept in one file, `rollups/<table>.parquet`, not one per month
MANIFEST = "manifest.json"
SQL_DIR = Path(__file__).parent / "sql"  # one builder per table: <table>.sql (user_totals: totals.py)


def rollups_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "rollups"


def read_manifest(data_dir: Path) -> dict | None:
    """The manifest of rollups in this layout's format, else None."""
    manifest = _read_json(rollups_dir(data_dir) / MANIFEST)
    return manifest if manifest is not None and manifest.get("format") == FORMAT else None


def _read_json(path: Path) -> dict | None:
    try:
        found = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return found if isinstance(found, dict) else None


REBUILT = "they are rebuilt now from the events; the tabs show no figure until that is done"
# What the pages say instead (callbacks/shell.py): their reader can neither run a command nor read the log.
PAGE_NOTICE = (
    "Telemetry's summary tables {cause}: they are being rebuilt from the events now, and the figures appear "
    "when that is done (a few minutes for a large organization). If this notice stays, tell your "
    "administrator: the server's log says why."
)


def rollups_check(
    data_dir: Path, tz: object, version: dict | None = None
) -> tuple[dict | None, str | None, str | None]:
    """The manifest if the rollups answer for the events there now in zone `tz`, else None, why not in words for
    the log, and what the pages tell the people reading them. `version`: the data version file as already read."""
    version = schema.read_version(data_dir) if version is None else version
    manifest = _read_json(rollups_dir(data_dir) / MANIFEST)
    if manifest is None:
        if not schema.has_events(data_dir):
            return None, None, None
        cause = ("The rollups are missing", "have not been built yet")
    elif manifest.get("format") != FORMAT:
        cause = ("The rollups were built by another version of Telemetry",
                 "were built by an earlier version of Telemetry")  # fmt: skip
    elif manifest.get("tz") != tz:
        cause = (f"The rollups are in time zone {manifest.get('tz')}, not {tz} (ORG_TIMEZONE)",
                 f"are in another time zone than the organization's ({tz})")  # fmt: skip
    elif int(manifest.get("events_version", -1)) < int(version.get("events", 0)):
        cause = ("The rollups are older than the events (their update failed; see the log)",
                 "missed the latest update of the data")  # fmt: skip
    elif schema.changed_by_hand(data_dir, version):
        cause = ("Event files were added or removed outside Telemetry's writer",
                 "do not include event files that were added or removed outside Telemetry's writer")  # fmt: skip
    else:
        return manifest, None, None
    return None, f"{cause[0]}; {REBUILT}.", PAGE_NOTICE.format(cause=cause[1])


def current_manifest(data_dir: Path, tz: object) -> dict | None:
    """The rollups' manifest if they answer for the events there now in zone `tz`, else None."""
    return rollups_check(data_dir, tz)[0]


def rollup_view_sql(data_dir: Path, table: str, folder: Path | None = None) -> str:
    """The select a rollup table's view stands for: its files (in `folder`, by default the data folder's
    rollups), or a typed, empty stand-in (`stand_ins`)."""
    folder = folder or rollups_dir(data_dir)
    if table in ONE_FILE:
        path = folder / f"{table}.parquet"
        return f"select * from read_parquet({literal(path)})" if path.exists() else stand_ins()[table]  # noqa: S608
    if not any(folder.glob(f"{table}/month=*/*.parquet")):
        return stand_ins()[table]
    return (
        f"select * from read_parquet({literal(folder / table / 'month=*' / '*.parquet')}, "  # noqa: S608
        "hive_partitioning = true, hive_types = {'month': varchar})"
    )


def parameters_of(sql: str) -> frozenset[str]:
    """The $names a SQL text uses (DuckDB refuses parameters a statement does not take)."""
    return frozenset(re.findall(r"\$([a-z_][a-z0-9_]*)", sql))


@cache
def stand_ins() -> dict[str, str]:
    """A typed, empty select per rollup table, for its view before its first file: the columns its builder SQL
    gives over no events, worked out once per process on a DuckDB of its own (so they never drift apart)."""
    con = duckdb.connect(":memory:", config={"threads": 1})
    try:
        events = pl.Schema({**schema.EVENTS, schema.PARTITION_COLUMN: pl.Date})
        con.execute(f"create view events as {empty_select(events)}")
        con.execute(f"create table {CODES} as {empty_select(CODES_SCHEMA)}")
        con.execute(f"create table {TOTALS} as {empty_select(TOTALS_SCHEMA)}")  # built in Polars: totals.py
        con.execute(f"create table {WINDOWS} as {empty_select(WINDOWS_SCHEMA)}")  # counted in numpy: windows.py
        for table in ("day_groups", *TABLES, SETS):  # each reads those before it
            month = "" if table == "day_groups" else ", null::varchar as month"  # the files' hive column
            text = (SQL_DIR / f"{table}.sql").read_text()
            # any value will do (there are no rows): a date, but for the zone and the bitmaps' length
            values = {"tz": "UTC", "capacity": 64}
            params = {name: values.get(name, dt.date(2000, 1, 1)) for name in parameters_of(text)}
            con.execute(f"create table {table} as select *{month} from ({text}) limit 0", params)  # noqa: S608
        tables = (*TABLES, SETS, WINDOWS, *ONE_FILE)
        columns = {table: con.sql(f"describe {table}").fetchall() for table in tables}
    finally:
        con.close()
    return {table: "select " + ", ".join(f"null::{kind} as {name}" for name, kind, *_ in found) + " where false"
            for table, found in columns.items()}  # fmt: skip
