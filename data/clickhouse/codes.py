"""Each person's code on ClickHouse (`user_codes`): their number in the people bitmaps (`people_days`,
`people_weeks`, `people_months`, whose views read it with joinGet). docs/clickhouse.md, "Codes".

One rule for every writer (ingest, the OTLP receiver, clickhouse-load) and for clickhouse-init's numbering of the
people already there: the people without a code get the next ones after the highest given, in the order of their
first team, then id (as DuckDB's data/rollups/sql/user_codes.sql: a team's people side by side, so its bitmaps
compress well), before their events are inserted, under the writer's lock. A code never changes: the table keeps
an id's first row, so giving codes again changes nothing. A purge forgets the codes of the people it left without
events (no trace of them may stay).
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from data.clickhouse import Connection, database_name

# the people of the events (with their first team) that have no code yet, numbered after the highest code
_NUMBER = """
insert into {db}.user_codes (user_id, code)
select user_id, toUInt32((select max(code) from {db}.user_codes) + row_number() over (order by first_team, user_id))
from (select user_id, argMin(team_id, ts) as first_team from {db}.events group by user_id)
where joinGetOrNull('{db}.user_codes', 'code', user_id) is null
"""


def give(connection: Connection, database: str, rows: pa.Table) -> int:
    """Codes for the people of `rows` (events about to be inserted) who have none yet; answers how many."""
    name = database_name(database)
    frame = pl.from_arrow(rows.select(["user_id", "team_id", "ts"]))
    people = frame.sort("ts").group_by("user_id", maintain_order=True).agg(first_team=pl.col("team_id").first())
    uncoded = connection.arrow(
        f"select u as user_id from (select arrayJoin({{ids:Array(String)}}) as u) "  # noqa: S608
        f"where joinGetOrNull('{name}.user_codes', 'code', u) is null",
        {"ids": people["user_id"].to_list()},
    )
    if uncoded.num_rows == 0:
        return 0
    new = people.join(pl.from_arrow(uncoded).cast(pl.String), on="user_id").sort("first_team", "user_id")
    top = connection.arrow(f"select max(code) as top from {name}.user_codes").column("top")[0].as_py()  # noqa: S608
    codes = pa.table(
        {
            "user_id": new["user_id"].to_arrow().cast(pa.large_string()),
            "code": pa.array(range(top + 1, top + 1 + new.height), pa.uint32()),
        }
    )
    return connection.insert_arrow(f"{name}.user_codes", codes)


def number(connection: Connection, database: str) -> None:
    """Codes for everyone in the events who has none (clickhouse-init, before it fills the people bitmaps)."""
    connection.command(_NUMBER.format(db=database_name(database)))


def forget_gone(connection: Connection, database: str) -> None:
    """The codes of people no longer in the events dropped (a purge, once it made their months again)."""
    name = database_name(database)
    connection.command(
        f"alter table {name}.user_codes delete where user_id not in (select user_id from {name}.events) "  # noqa: S608
        "settings mutations_sync = 2"
    )
