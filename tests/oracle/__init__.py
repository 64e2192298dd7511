"""The oracle: each question over the raw events (tests/oracle/<name>.sql), for the equivalence tests.

The served questions (queries/sql/) read only the rollups; these are the same questions (same names), worded
over the events, written to be obviously right rather than fast. Inside `raw_events()` the query layer runs
them instead, with the same parameters, and bypasses the result cache. The serving database has no view of
the raw events: `events_view` makes one on the oracle's cursor only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from data import schema
from queries import cache as query_cache
from queries import database, db

ORACLE = Path(__file__).parent


def events_view(cursor: duckdb.DuckDBPyConnection, data_dir: Path) -> None:
    """`events`, every event file of the data folder as it is now, as a view of this cursor alone."""
    columns = pl.Schema({**schema.EVENTS, schema.PARTITION_COLUMN: pl.Date})
    body = schema.events_view_sql(data_dir) if schema.has_events(data_dir) else schema.empty_select(columns)
    cursor.execute(f"create or replace temporary view events as {body}")


# The events of the folders the oracle read last, in memory, by their files' path, inode, size and change time: an
# equivalence test asks 10-30 questions of one folder between writes, and each read of its ~120 Parquet files
# again was most of a question's time. A file written, replaced, added or removed changes the key.
_READ: dict[Path, tuple[tuple, pa.Table]] = {}
_KEEP = 4


def _event_files(data_dir: Path) -> tuple:
    found = []
    for path in sorted(schema.events_dir(data_dir).glob(schema.EVENT_FILES)):
        with contextlib.suppress(FileNotFoundError):  # swapped meanwhile: the key then differs from the next one
            stat = path.stat()
            found.append((path.name, path.parent.name, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))
    return tuple(found)


def _events(cursor: duckdb.DuckDBPyConnection, data_dir: Path) -> pa.Table:
    """Every event of the data folder as it is now (`events_view`'s rows), read once while its files are unchanged."""
    key = _event_files(data_dir)
    kept = _READ.get(data_dir)
    if kept is not None and kept[0] == key:
        return kept[1]
    events_view(cursor, data_dir)
    table = cursor.sql("select * from events").to_arrow_table()
    if _event_files(data_dir) == key:  # nothing changed while it read: what it read is what the key says
        _READ.pop(data_dir, None)
        _READ[data_dir] = (key, table)
        while len(_READ) > _KEEP:
            del _READ[next(iter(_READ))]
    return table


def execute_on_events(cursor: duckdb.DuckDBPyConnection, name: str, params: dict) -> pl.DataFrame:
    """`name`'s oracle over the raw events, with the parameters it uses."""
    sql = (ORACLE / f"{name}.sql").read_text()
    data_dir = database().data_dir

    def fetch() -> pl.DataFrame:
        cursor.register("oracle_events", _events(cursor, data_dir))
        cursor.execute("create or replace temporary view events as select * from oracle_events")
        cursor.execute(sql, {key: params[key] for key in db.parameters_of(sql)})
        return pl.from_arrow(cursor.to_arrow_table())

    with db.reading_data():  # no lock: a compaction or purge may swap a partition folder meanwhile
        return schema.read_consistently(data_dir, fetch)


def _answering_from_events(served: Callable) -> Callable:
    """`db.execute_on` for questions over the rollups replaced by their oracle; the others as `served`."""

    def execute(cursor: duckdb.DuckDBPyConnection, name: str, params: dict) -> pl.DataFrame:
        over_rollups = (ORACLE / f"{name}.sql").exists()
        return (execute_on_events if over_rollups else served)(cursor, name, params)

    return execute


@contextmanager
def raw_events() -> Iterator[None]:
    """Questions asked inside the block answer from the raw events (every thread: not for concurrent tests)."""
    served = db.execute_on
    db.execute_on = _answering_from_events(served)
    try:
        with query_cache.bypassed():
            yield
    finally:
        db.execute_on = served


_SERVED = db.execute_on


def answer_from_events(enabled: bool) -> None:
    """Every question of this process from the raw events, or from the rollups again (the benchmark's raw
    baseline: benchmarks/bench_server.py; the result cache is its business)."""
    db.execute_on = _answering_from_events(_SERVED) if enabled else _SERVED
