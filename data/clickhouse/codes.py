"""Each person's code on ClickHouse (`user_codes`): their number in the people bitmaps (`people_days`,
`people_weeks`, `people_months`, whose views join it). docs/clickhouse.md, "Codes".

Codes are given by one writer only, the directory's: `import-directory` and `clickhouse-load`, under the data
folder's lock that every write takes, to each person they add before the person is in `users` (so before any
event of theirs passes validation: an unknown person's event is quarantined), and by `clickhouse-init` to everyone
already there when it adds the bitmaps (migration 4). Ingest and the OTLP receiver never give one. The people
without a code get the next ones after the highest, in the order of their team, then id (as DuckDB's
data/rollups/sql/user_codes.sql: a team's people side by side, so its bitmaps compress well). A code is never
changed nor given again: the highest ever given is kept in `telemetry_meta` (`GIVEN`), as a person's row may go.
It goes (`forget`) when the person is neither in `users` nor in the events any more (a purge or import-directory
left them so, under the same lock): an erased person leaves no trace. An event validated before its person's code
went is refused under the lock (data/clickhouse/writes.py `ClickHouseStore.unknown_people`), so every stored
event's person has a code. The ids go to the engine in an insert's body (Arrow), never in a statement or URL.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from data.clickhouse import Connection, database_name

GIVEN = "codes_given"  # telemetry_meta: the highest code ever given (rows of people forgotten since may be gone)

# everyone in the events or the directory who has no code (clickhouse-init's migration 4), numbered after the
# highest: by the team of their first event, or the directory's team for a person without events, then id
_NUMBER = """
insert into {db}.user_codes (user_id, code)
select user_id, toUInt32(greatest((select max(code) from {db}.user_codes), {{given:UInt32}})
    + row_number() over (order by team, user_id))
from (
    select user_id, argMin(team, source) as team
    from (
        select user_id, argMin(team_id, ts) as team, 0 as source from {db}.events group by user_id
        union all
        select user_id, coalesce(team_id, '') as team, 1 as source from {db}.users
    )
    group by user_id
)
where user_id not in (select user_id from {db}.user_codes)
"""

# the people neither in the directory nor in the events (the events read for those not in the directory only)
_GONE = """
user_id not in (select user_id from {db}.users)
and user_id not in (
    select user_id from {db}.events
    where user_id in (select user_id from {db}.user_codes where user_id not in (select user_id from {db}.users))
)
"""


class Codes:
    """The codes given so far, read once: the directory's writer (holding the lock) gives new ones through it."""

    def __init__(self, connection: Connection, database: str) -> None:
        self.connection = connection
        self.database = database_name(database)
        self.table = f"{self.database}.user_codes"
        found = connection.arrow(f"select user_id, code from {self.table}")  # noqa: S608
        self.known = set(found.column("user_id").to_pylist())
        self.top = max(max(found.column("code").to_pylist(), default=0), given(connection, self.database))

    def give(self, people: pl.DataFrame) -> int:
        """Codes for the people of `people` (user_id, team_id) who have none yet; answers how many were given."""
        new = (
            people.select("user_id", pl.col("team_id").fill_null(""))
            .unique("user_id", keep="first", maintain_order=True)
            .filter(~pl.col("user_id").is_in(list(self.known)))
            .sort("team_id", "user_id")
        )
        if new.is_empty():
            return 0
        rows = pa.table(
            {
                "user_id": new["user_id"].to_arrow().cast(pa.large_string()),
                "code": pa.array(range(self.top + 1, self.top + 1 + new.height), pa.uint32()),
            }
        )
        self.connection.insert_arrow(self.table, rows)
        self.known.update(new["user_id"].to_list())
        self.top += new.height
        self.connection.command(
            f"insert into {self.database}.telemetry_meta (key, value) values ({{k:String}}, {{v:String}})",  # noqa: S608
            {"k": GIVEN, "v": str(self.top)},
        )
        return new.height


def given(connection: Connection, database: str) -> int:
    """The highest code ever given (0 before `Codes.give` kept one: migration 4 numbers from the rows)."""
    found = connection.arrow(
        f"select argMax(value, at) as top from {database_name(database)}.telemetry_meta where key = {{k:String}}",  # noqa: S608
        {"k": GIVEN},
    )
    return int(found.column("top")[0].as_py() or 0)


def forget(connection: Connection, database: str) -> int:
    """The codes of the people neither in `users` nor in the events removed (under the writer's lock); answers how
    many. A lightweight DELETE (their rows hidden at once), run only when there is one: each is a mutation."""
    name = database_name(database)
    gone = _GONE.format(db=name)
    found = connection.arrow(f"select count() as n from {name}.user_codes where {gone}")  # noqa: S608
    count = found.column("n")[0].as_py()
    if count:
        connection.command(f"delete from {name}.user_codes where {gone}")  # noqa: S608
    return count


def number(connection: Connection, database: str) -> None:
    """Codes for everyone in the events or the directory who has none (clickhouse-init, before the bitmaps fill)."""
    name = database_name(database)
    top = given(connection, name)
    connection.command(_NUMBER.format(db=name), {"given": top})
    connection.command(  # never below the highest given: the holder of a forgotten top code must not be followed
        f"insert into {name}.telemetry_meta (key, value) "  # noqa: S608
        f"select {{k:String}}, toString(greatest(max(code), {{given:UInt32}})) from {name}.user_codes",
        {"k": GIVEN, "given": top},
    )
