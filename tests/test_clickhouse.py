"""The ClickHouse backend (on chDB, in-process ClickHouse): its schema, the load of a Parquet data folder, and
every question it answers answering exactly as the DuckDB backend does, over the hand-made org (and the demo org in
`make test-long`).

Each org is loaded into chDB once per session (one engine per process: each org is a database in it).
`CLICKHOUSE_URL=… make test-clickhouse` runs the same tests on a ClickHouse server over HTTP instead, in
databases named telemetry_test_* (dropped first).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("chdb", reason="chDB is in requirements.txt: `make test` installs it")

import queries  # noqa: E402
from app import ConfigError, create_app  # noqa: E402
from data import schema  # noqa: E402
from data.clickhouse import ClickHouseError, connect  # noqa: E402
from data.clickhouse.codes import GIVEN, Codes  # noqa: E402
from data.clickhouse.load import load  # noqa: E402
from data.clickhouse.schema import Applied, init, rollup_select, tables  # noqa: E402
from data.ingest.storage import LOCK_FILE, locked  # noqa: E402
from queries import analytics, clickhouse, db, directory, usage  # noqa: E402
from queries import cache as query_cache  # noqa: E402
from queries.period import Period  # noqa: E402
from queries.scope import Scope  # noqa: E402
from tests import org  # noqa: E402
from tests.conftest import clickhouse_engine, make_app  # noqa: E402
from tests.test_api import bearer, token_for  # noqa: E402
from tests.test_rollups import (  # noqa: E402
    TZ,
    _app,
    _busiest_user,
    _cases,
    _questions,
    _teams_and_agents,
    sampled_cases,
    write_demo_org,
)

# Every question of tests/test_rollups.py: `_compare` asserts that each file it runs has a ClickHouse twin.
QUESTIONS = list(_questions("u"))


# `make test-clickhouse`: a ClickHouse server's HTTP interface (http(s)://USER:PASSWORD@HOST:PORT) instead of chDB
SERVER_URL = os.environ.get("TELEMETRY_TEST_CLICKHOUSE_URL")
if SERVER_URL and urlsplit(SERVER_URL).path.strip("/"):
    # the tests make, fill and drop databases of their own: never the organization's that an app's URL names
    pytest.exit("make test-clickhouse: give CLICKHOUSE_URL without a database (no /DATABASE path).", returncode=2)
PREFIX = "telemetry_test_" if SERVER_URL else ""  # a server may hold other databases: ours are named apart
DEMO, HANDMADE, CLI, API, MOVED = (PREFIX + name for name in ("demo", "handmade", "cli", "api", "moved"))


@pytest.fixture(scope="session")
def chdb(tmp_path_factory: pytest.TempPathFactory):
    """This process's chDB engine (one data path per process), or the server of `make test-clickhouse`, its test
    databases dropped."""
    if SERVER_URL:
        connection, _ = connect({"BACKEND": "clickhouse", "CLICKHOUSE_URL": SERVER_URL})
        for name in (DEMO, HANDMADE, CLI, API, MOVED):
            connection.command(f"drop database if exists {name}")
        return connection
    return clickhouse_engine(tmp_path_factory)


def backend(connection, database: str) -> dict:
    """The app's settings that answer from `connection` (chDB's engine, or the test server) and `database`."""
    if SERVER_URL:
        return {"BACKEND": "clickhouse", "CLICKHOUSE_URL": SERVER_URL, "CLICKHOUSE_DATABASE": database}
    return {"BACKEND": "chdb", "CHDB_PATH": str(connection.path), "CLICKHOUSE_DATABASE": database}


def _org(tmp_path_factory: pytest.TempPathFactory, chdb, name: str, write) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp(name) / "data"
    org.write_rolled_up(folder, write, tz=TZ)  # the demo's as tests/test_rollups.py's: built once per process
    init(chdb, name, TZ)
    load(chdb, name, folder)
    return folder, _app(folder, TZ)


@pytest.fixture(scope="session")
def demo_org(tmp_path_factory, chdb):
    return _org(tmp_path_factory, chdb, DEMO, write_demo_org)


@pytest.fixture(scope="session")
def hand_made_org(tmp_path_factory, chdb):
    return _org(tmp_path_factory, chdb, HANDMADE, org.write_org)


@contextmanager
def answering_from_clickhouse(connection, database: str, asked: list[str]) -> Iterator[None]:
    """Questions asked inside the block answer from ClickHouse where translated (DuckDB otherwise); `asked` gets
    the name of every SQL file run."""
    served = db.execute_on

    def execute(cursor, name: str, params: dict) -> pl.DataFrame:
        asked.append(name)
        if name not in clickhouse.translated():
            return served(cursor, name, params)
        return clickhouse.execute(connection, database, name, params)

    db.execute_on = execute
    try:
        with query_cache.bypassed():
            yield
    finally:
        db.execute_on = served


def _compare(app, connection, database: str, label: str, every_case: bool = False) -> int:
    teams, agents = _teams_and_agents(app)
    compared = 0
    with app.app_context(), query_cache.bypassed():
        question = _questions(_busiest_user(app))[label]
        # `make test`: test_rollups' three cases of the question; `-m long`: each period in the whole organization
        # and each scope over the 30 days across the DST change and over everything (14)
        cases = _cases(teams, agents, every_pair=False, scoped=2) if every_case else sampled_cases(teams, agents, label)
        for period, scope in cases:
            on_duckdb = question(period, scope)
            asked: list[str] = []
            with answering_from_clickhouse(connection, database, asked):
                on_clickhouse = question(period, scope)
            assert set(asked) <= clickhouse.translated(), (label, set(asked) - clickhouse.translated())
            assert_frame_equal(on_clickhouse, on_duckdb, check_exact=False, rel_tol=1e-12, abs_tol=0), (period, scope)
            compared += 1
    return compared


@pytest.mark.parametrize("label", QUESTIONS)
def test_every_question_answers_on_clickhouse_as_on_duckdb_for_the_hand_made_org(chdb, hand_made_org, label):
    assert _compare(hand_made_org[1], chdb, HANDMADE, label) == 3


@pytest.mark.long
@pytest.mark.parametrize("label", QUESTIONS)
def test_every_question_in_more_periods_and_scopes_on_clickhouse_as_on_duckdb(chdb, demo_org, hand_made_org, label):
    assert _compare(demo_org[1], chdb, DEMO, label, every_case=True) == 6 + 2 * 4
    assert _compare(hand_made_org[1], chdb, HANDMADE, label, every_case=True) == 6 + 2 * 4


# The hand-made org and what user_month's masks and its mix with user_day must get right (times UTC, days New
# York's): Mia (u4) moves to Sales on 03-20, has a day in both teams and two agents, and moves back in April; an
# event on 04-01 UTC is 03-31 local (the month's last day), one on 05-01 UTC is 04-30; Sam (u5) is active across
# months and on both 01:30s of 11-01 (daylight saving's end); Lee (u3) after the hand-made org's end.
MOVED_EVENTS = [
    *org.EVENTS,
    ("m1", "2026-03-20 14:00", "u4", "t_sales", "a_code", "0.010000", "ok"),
    ("m2", "2026-03-20 16:00", "u4", "t_eng", "a_draft", "0.020000", "error"),
    ("m3", "2026-04-01 03:30", "u4", "t_sales", "a_draft", "0.030000", "ok"),
    ("m4", "2026-04-15 12:00", "u4", "t_eng", "a_code", "0.040000", "ok"),
    ("m5", "2026-03-31 12:00", "u5", "t_sales", "a_code", "0.050000", "ok"),
    ("m6", "2026-04-02 12:00", "u5", "t_sales", "a_code", "0.060000", "ok"),
    ("m7", "2026-05-01 02:00", "u5", "t_sales", "a_code", "0.070000", "ok"),
    ("m8", "2026-11-01 05:30", "u5", "t_sales", "a_code", "0.080000", "ok"),
    ("m9", "2026-11-01 06:30", "u5", "t_sales", "a_code", "0.090000", "ok"),
    ("m10", "2026-04-10 15:00", "u3", "t_legal", "a_draft", "0.100000", "ok"),
    ("m11", "2026-02-27 15:00", "u2", "t_eng", "a_code", "0.110000", "ok"),
]


@pytest.fixture(scope="session")
def moved_org(tmp_path_factory, chdb):
    return _org(tmp_path_factory, chdb, MOVED, lambda folder: org.write_org(folder, MOVED_EVENTS))


def _moved_cases(label: str | None = None) -> list[tuple[Period, Scope]]:
    """Periods cutting months, whole months, a month's last day, daylight saving's end; in the organization, and
    over a cut period in a manager's teams, one team, an agent. For one question (`make test`): the cut period in
    the organization, one other period and one scope, taken in turn from one question to the next."""
    cut = Period(dt.date(2026, 3, 5), dt.date(2026, 4, 10), TZ)
    periods = [
        cut,
        Period(dt.date(2026, 3, 1), dt.date(2026, 4, 30), TZ),
        Period(dt.date(2026, 3, 31), dt.date(2026, 3, 31), TZ),
        Period(dt.date(2026, 2, 26), dt.date(2026, 11, 30), TZ),
        Period(dt.date(2026, 10, 25), dt.date(2026, 11, 5), TZ),
    ]
    organization = Scope.organization()
    scopes = [Scope.teams(["t_eng", "t_sales"]), Scope.teams(["t_sales"]), organization.narrow(agents=["a_code"])]
    if label is None:
        return [(period, organization) for period in periods] + [(cut, scope) for scope in scopes]
    turn = QUESTIONS.index(label)
    return [(cut, organization), (periods[1 + turn % 4], organization), (cut, scopes[turn % 3])]


@pytest.mark.parametrize("every_case", [False, pytest.param(True, marks=pytest.mark.long)], ids=["sampled", "every"])
@pytest.mark.parametrize("label", QUESTIONS)
def test_every_question_answers_alike_for_a_person_who_moved_teams_and_cut_months(chdb, moved_org, label, every_case):
    app = moved_org[1]
    with app.app_context(), query_cache.bypassed():
        question = _questions("u4")[label]
        for period, scope in _moved_cases(None if every_case else label):
            on_duckdb = question(period, scope)
            with answering_from_clickhouse(chdb, MOVED, []):
                on_clickhouse = question(period, scope)
            assert_frame_equal(on_clickhouse, on_duckdb, check_exact=False, rel_tol=1e-12, abs_tol=0), (period, scope)


# The demo org's questions are compared in `make test-long` (above), its tabs in tests/test_clickhouse_tabs.py.
@pytest.mark.parametrize(
    ("org_fixture", "database"), [("hand_made_org", HANDMADE), pytest.param("demo_org", DEMO, marks=pytest.mark.long)]
)
def test_the_data_bounds_are_the_same_on_clickhouse(chdb, request, org_fixture, database) -> None:
    app = request.getfixturevalue(org_fixture)[1]
    teams, agents = _teams_and_agents(app)
    scopes = [
        Scope.organization(),
        Scope.teams(teams[:2]),
        Scope.teams([]),
        Scope.organization().narrow(agents=agents[:1]),
    ]
    with app.app_context(), query_cache.bypassed():
        for scope in scopes:
            on_duckdb = usage.data_bounds(scope, TZ)
            with answering_from_clickhouse(chdb, database, []):
                assert_frame_equal(usage.data_bounds(scope, TZ), on_duckdb)


def _totals(connection, database: str) -> dict:
    """What a load could change: every table's rows and the sums the questions read."""
    counts = {
        table: connection.arrow(f"select count() as n from {database}.{table}").column("n")[0].as_py()  # noqa: S608
        for table in ("events", "users", "teams", "team_managers", "agents", "prices")
    }
    sums = connection.arrow(
        f"select sum(interactions) as i, sum(cost_usd) as c from {database}.cube"  # noqa: S608
    ).to_pylist()[0]
    people = connection.arrow(f"select groupBitmapMerge(users) as p from {database}.people_days").column("p")[0].as_py()  # noqa: S608
    return {**counts, **sums, "people": people}


def _database_at_migration(
    chdb, folder: Path, name: str, migration: int, missing: tuple[str, ...], dropped: tuple[str, ...] = ()
) -> None:
    """The hand-made org loaded into `name` as a database at `migration` is: without the `missing` tables (and their
    views), with the `dropped` ones a later migration drops (`_old_rollup`), that migration recorded."""
    org.write_org(folder, MOVED_EVENTS)
    chdb.command(f"drop database if exists {name}")
    init(chdb, name, TZ)
    load(chdb, name, folder)
    for table in dropped:
        _old_rollup(chdb, name, table)
    for table in missing:
        chdb.command(f"drop view if exists {name}.{table}_mv")
        chdb.command(f"drop table {name}.{table}")
    if "user_codes" in missing:  # nor the highest code given, kept beside them
        chdb.command(f"delete from {name}.telemetry_meta where key = {{k:String}}", {"k": GIVEN})  # noqa: S608
    chdb.command(f"insert into {name}.telemetry_meta (key, value) values ('migration', '{migration}')")  # noqa: S608


def test_clickhouse_init_migrates_a_database_made_before_user_month(chdb, tmp_path) -> None:
    name = PREFIX + "migrated"
    # before migration 1: no user_month (nor user_totals, of migration 2, the bitmaps, of 4); user_sets (dropped by 5)
    _database_at_migration(chdb, tmp_path / "data", name, 0, (*LATER, "user_totals", "user_month"), ("user_sets",))

    assert init(chdb, name, TZ) == Applied(created=False, rebuilt=False, migrated=(1, 2, 3, 4, 5, 6))
    assert not {"user_sets", "user_weeks"} & tables(chdb, name)
    assert init(chdb, name, TZ) == Applied(created=False, rebuilt=False, migrated=())
    chdb.command(f"optimize table {name}.user_month final")
    kept, made = (
        chdb.arrow(f"select * from ({source}) order by all").to_pylist()  # noqa: S608
        for source in (f"select * from {name}.user_month", rollup_select("user_month", name, TZ))  # noqa: S608
    )
    assert kept == made
    # Mia in Engineering with Code Helper in March: New York's 2nd (a Monday: e1, e2) and 8th (a Sunday: e6, at
    # 01:30 before the clocks went forward)
    mia = chdb.arrow(
        f"select interactions, days, working_days, first_day, last_day from {name}.user_month "  # noqa: S608
        "where user_id = 'u4' and team_id = 't_eng' and agent_id = 'a_code' and month = '2026-03-01'"
    ).to_pylist()
    assert mia == [{"interactions": 3, "days": 2**1 + 2**7, "working_days": 2**1,
                    "first_day": dt.date(2026, 3, 2), "last_day": dt.date(2026, 3, 8)}]  # fmt: skip
    chdb.command(f"drop database {name}")


def _insert_late_event(chdb, name: str) -> None:
    """Mia with Code Helper in Engineering at 02:00 UTC on 1 May: 22:00 on 30 April in New York."""
    chdb.command(
        f"insert into {name}.events (event_id, ts, user_id, team_id, agent_id, model, status) values "  # noqa: S608
        "('late', '2026-05-01 02:00:00', 'u4', 't_eng', 'a_code', 'gpt-4o', 'ok')"
    )


def test_clickhouse_init_migrates_a_database_made_before_user_totals(chdb, tmp_path) -> None:
    name = PREFIX + "migrated_totals"
    # at migration 1: no user_totals (nor the bitmaps, of 4)
    _database_at_migration(chdb, tmp_path / "data", name, 1, (*LATER, "user_totals"), ("user_sets",))

    assert init(chdb, name, TZ) == Applied(created=False, rebuilt=False, migrated=(2, 3, 4, 5, 6))
    assert init(chdb, name, TZ) == Applied(created=False, rebuilt=False, migrated=())
    # an event inserted afterwards reaches it through user_month's view: Mia with Code Helper in Engineering at
    # 02:00 UTC on 1 May, 22:00 on 30 April in New York
    _insert_late_event(chdb, name)
    chdb.command(f"optimize table {name}.user_totals final")
    mia = chdb.arrow(
        f"select agent_id, team_id, first_day, last_day from {name}.user_totals "  # noqa: S608
        "where user_id = 'u4' order by agent_id, team_id"
    ).to_pylist()
    day = dt.date
    # Engineering with Code Helper: 25 February (e0) to the late event; Sales: Code Helper on 20 March (m1), Draft on
    # New York's 31 March (m3, 03:30 UTC on 1 April); Engineering with Draft on 20 March (m2); '': every agent
    assert [tuple(row.values()) for row in mia] == [
        ("", "t_eng", day(2026, 2, 25), day(2026, 4, 30)),
        ("", "t_sales", day(2026, 3, 20), day(2026, 3, 31)),
        ("a_code", "t_eng", day(2026, 2, 25), day(2026, 4, 30)),
        ("a_code", "t_sales", day(2026, 3, 20), day(2026, 3, 20)),
        ("a_draft", "t_eng", day(2026, 3, 20), day(2026, 3, 20)),
        ("a_draft", "t_sales", day(2026, 3, 31), day(2026, 3, 31)),
    ]
    chdb.command(f"drop database {name}")


BITMAPS = ("people_days", "people_weeks", "people_months", "user_codes")  # migration 4
LATER = ("active_windows", *BITMAPS)  # migrations 4 and 6 (the windows first: their view reads people_days)
_day = dt.date
# The moved org's people per New York week (Mondays) and month, with the late event: Mia and Max the week of 23
# February (e0, m11); Mia, Sam, Max and Lee the week of 2 March (e1-e6, and e7 on Sunday the 8th at 23:30); Sam on
# Monday 9 March at 00:30 (e8); Mia on the 20th (m1, m2); the week of 30 March cut at the month: Mia (m3, 31 March at
# 23:30) and Sam (m5) in March, Sam in April (m6); Lee (m10), Mia (m4); Sam (m7) and Mia (late) on 30 April; Sam on 1
# November twice, daylight saving's end (m8, m9)
MOVED_WEEKS = [
    (_day(2026, 2, 23), _day(2026, 2, 1), 2),
    (_day(2026, 3, 2), _day(2026, 3, 1), 4),
    (_day(2026, 3, 9), _day(2026, 3, 1), 1),
    (_day(2026, 3, 16), _day(2026, 3, 1), 1),
    (_day(2026, 3, 30), _day(2026, 3, 1), 2),
    (_day(2026, 3, 30), _day(2026, 4, 1), 1),
    (_day(2026, 4, 6), _day(2026, 4, 1), 1),
    (_day(2026, 4, 13), _day(2026, 4, 1), 1),
    (_day(2026, 4, 27), _day(2026, 4, 1), 2),
    (_day(2026, 10, 26), _day(2026, 11, 1), 1),
]


def _old_rollup(chdb, name: str, table: str) -> None:
    """A stand-in for a rollup a migration dropped (user_sets, user_weeks): a table of who was active per local day,
    kept by a view over the events, as they were."""
    chdb.command(
        f"create table {name}.{table} (day Date, team_id String, agent_id LowCardinality(String), "
        "users AggregateFunction(uniqExact, String)) engine = AggregatingMergeTree order by (team_id, agent_id, day)"
    )
    select = f"select toDate(ts, '{TZ}') as day, team_id, agent_id, uniqExactState(user_id) as users from {name}.events"  # noqa: S608
    chdb.command(f"create materialized view {name}.{table}_mv to {name}.{table} as {select} group by all")


def test_clickhouse_init_drops_the_sets_no_question_reads(chdb, tmp_path) -> None:
    """A database at migration 4 has user_sets and user_weeks and their views: migration 5 drops all four, and an
    event inserted afterwards still reaches the rollups that are kept."""
    name = PREFIX + "migrated_sets"
    _database_at_migration(chdb, tmp_path / "data", name, 4, ("active_windows",), ("user_sets", "user_weeks"))
    assert {"user_sets", "user_sets_mv", "user_weeks", "user_weeks_mv"} <= tables(chdb, name)

    assert init(chdb, name, TZ) == Applied(created=False, rebuilt=False, migrated=(5, 6))
    assert not {"user_sets", "user_sets_mv", "user_weeks", "user_weeks_mv"} & tables(chdb, name)
    assert init(chdb, name, TZ) == Applied(created=False, rebuilt=False, migrated=())
    # Mia's April in New York: m4 (the 15th); then the late event (the 30th) reaches her month through its view
    april = f"select toInt64(sum(interactions)) as n from {name}.user_month where user_id = 'u4' and month = '2026-04-01'"  # noqa: S608, E501
    assert chdb.arrow(april).column("n").to_pylist() == [1]
    _insert_late_event(chdb, name)
    assert chdb.arrow(april).column("n").to_pylist() == [2]
    chdb.command(f"drop database {name}")


def test_clickhouse_init_migrates_a_database_made_before_the_people_bitmaps(chdb, tmp_path) -> None:
    name = PREFIX + "migrated_bitmaps"
    # at migration 3: no codes, no bitmaps
    _database_at_migration(chdb, tmp_path / "data", name, 3, LATER, ("user_sets", "user_weeks"))

    assert init(chdb, name, TZ) == Applied(created=False, rebuilt=False, migrated=(4, 5, 6))
    assert init(chdb, name, TZ) == Applied(created=False, rebuilt=False, migrated=())
    # everyone in the events or the directory, by team (their first event's, else the directory's), then id:
    # Engineering's Ada (u1, no events), Max (u2, m11), Mia (u4, e0), Ivy (u7, no events); Legal's Lee (u3) and Noa
    # (u6, no events); Sales' Sam (u5)
    coded = chdb.arrow(f"select user_id, code from {name}.user_codes order by code").to_pylist()  # noqa: S608
    assert [tuple(row.values()) for row in coded] == [
        ("u1", 1), ("u2", 2), ("u4", 3), ("u7", 4), ("u3", 5), ("u6", 6), ("u5", 7)
    ]  # fmt: skip
    everyone = pl.from_arrow(chdb.arrow(f"select user_id, team_id from {name}.events"))  # noqa: S608
    assert Codes(chdb, name).give(everyone) == 0  # given again: nothing changes
    _insert_late_event(chdb, name)  # through the views: Mia has a code
    weeks = chdb.arrow(
        f"select week, month, toInt64(groupBitmapMerge(users)) as people from {name}.people_weeks "  # noqa: S608
        "group by week, month order by week, month"
    ).to_pylist()
    assert [tuple(row.values()) for row in weeks] == MOVED_WEEKS
    months = chdb.arrow(
        f"select month, toInt64(groupBitmapMerge(users)) as people from {name}.people_months "  # noqa: S608
        "group by month order by month"
    ).to_pylist()
    # February: Mia, Max; March: Mia, Sam, Max, Lee; April: Mia, Sam, Lee; November: Sam
    day = dt.date
    assert [tuple(row.values()) for row in months] == [
        (day(2026, 2, 1), 2), (day(2026, 3, 1), 4), (day(2026, 4, 1), 3), (day(2026, 11, 1), 1)
    ]  # fmt: skip
    # 9 March in New York: Sam's e7 (03:30 UTC, the 8th) is the day before; e8 (04:30 UTC) is the 9th
    ninth = f"select groupBitmapMerge(users) as people from {name}.people_days where day = '2026-03-09'"  # noqa: S608
    assert chdb.arrow(ninth).column("people").to_pylist() == [1]
    chdb.command(f"drop database {name}")


def _windows(chdb, name: str, day: str, team: str = "", agent: str = "") -> tuple[int, int, int]:
    """active_windows' people on a New York day for everyone ('', ''), a team or an agent: dau, wau, mau."""
    found = chdb.arrow(
        f"select toInt64(groupBitmapMerge(dau)) as d, toInt64(groupBitmapMerge(wau)) as w, "  # noqa: S608
        f"toInt64(groupBitmapMerge(mau)) as m from {name}.active_windows "
        "where day = {day:Date} and team_id = {team:String} and agent_id = {agent:String}",
        {"day": day, "team": team, "agent": agent},
    ).to_pylist()
    return tuple(found[0].values())


def test_clickhouse_init_migrates_a_database_made_before_active_windows(chdb, tmp_path) -> None:
    """Migration 6 adds active_windows and fills it from people_days; an event inserted afterwards reaches it through
    people_days' view, into the windows of the 28 days from its day on."""
    name = PREFIX + "migrated_windows"
    _database_at_migration(chdb, tmp_path / "data", name, 5, ("active_windows",))

    assert init(chdb, name, TZ) == Applied(created=False, rebuilt=False, migrated=(6,))
    assert init(chdb, name, TZ) == Applied(created=False, rebuilt=False, migrated=())
    # New York's 9 March: Sam (e8; e7 is the 8th, 23:30); the 7 days from the 3rd: Sam, Max (e4), Lee (e5) on the
    # 3rd, Mia (e6) on the 8th; the 28 days from 10 February: the same four (Mia and Max in February too)
    assert _windows(chdb, name, "2026-03-09") == (1, 4, 4)
    assert _windows(chdb, name, "2026-03-10") == (0, 2, 4)  # Mia on the 8th, Sam on the 8th and 9th
    assert _windows(chdb, name, "2026-03-09", team="t_sales") == (1, 1, 1)
    assert _windows(chdb, name, "2026-03-09", agent="a_draft") == (0, 2, 2)  # Max (e4) and Lee (e5) on the 3rd
    assert _windows(chdb, name, "2026-03-09", agent="a_code") == (1, 2, 3)  # Sam; Mia; Max on 27 February (m11)
    # 30 April: Sam (m7, 22:00); the 28 days from 3 April: Lee (m10), Mia (m4), Sam. Then Mia's late event (22:00,
    # 02:00 UTC on 1 May), counted in the windows up to 27 days after
    assert _windows(chdb, name, "2026-04-30") == (1, 1, 3)
    _insert_late_event(chdb, name)
    assert _windows(chdb, name, "2026-04-30") == (2, 2, 3)
    assert _windows(chdb, name, "2026-05-27") == (0, 0, 2)
    last = chdb.arrow(f"select max(day) as last from {name}.active_windows where day < '2026-10-01'").to_pylist()  # noqa: S608
    assert last == [{"last": dt.date(2026, 5, 27)}]
    chdb.command(f"optimize table {name}.active_windows final")
    sets = (f"arraySort(bitmapToArray({b})) as {b}" for b in ("dau", "wau", "mau"))
    members = ", ".join(["day, team_id, agent_id", *sets])
    kept, made = (
        chdb.arrow(f"select {members} from ({source}) order by all").to_pylist()  # noqa: S608
        for source in (f"select * from {name}.active_windows", rollup_select("active_windows", name, TZ))  # noqa: S608
    )
    assert kept == made
    chdb.command(f"drop database {name}")


def test_clickhouse_init_and_load_commands_load_a_data_folder_once(chdb, data_dir, password_hash) -> None:
    """`clickhouse-init` then `clickhouse-load --from` the hand-made org: its 9 events, 7 people and $4.973334
    (tests/org.py); a second load, and a second init, change nothing; a new zone moves the local days."""
    config = {**backend(chdb, CLI), "BACKEND": "duckdb"}  # the commands of an app still on DuckDB
    app = make_app(data_dir, password_hash, ORG_TIMEZONE=TZ, **config)
    runner = app.test_cli_runner()
    done = runner.invoke(args=["clickhouse-init"])
    assert done.exit_code == 0, done.output
    assert f"ClickHouse database {CLI} created; rollups made" in done.output
    done = runner.invoke(args=["clickhouse-load", "--from", str(data_dir)])
    assert done.exit_code == 0, done.output
    assert "Loaded 9 events in 1 batches from 6 UTC dates (0 already there)" in done.output
    first = _totals(chdb, CLI)
    assert first == {"events": 9, "users": 7, "teams": 3, "team_managers": 3, "agents": 2, "prices": 0,
                     "i": 9, "c": Decimal("4.973334"), "people": 4}  # fmt: skip
    again = runner.invoke(args=["clickhouse-load", "--from", str(data_dir)])
    assert "Loaded 0 events in 0 batches from 6 UTC dates (9 already there)" in again.output, again.output
    assert runner.invoke(args=["clickhouse-init"]).output == f"ClickHouse database {CLI} brought up to date.\n"
    assert _totals(chdb, CLI) == first
    # e4 (2026-03-03 23:30 UTC) is 3 March in New York and 4 March in Tokyo
    day_of_e4 = f"select day from {CLI}.user_day where user_id = 'u2'"  # noqa: S608
    assert [str(d) for d in chdb.arrow(day_of_e4).column("day").to_pylist()] == ["2026-03-03"]
    app.config["ORG_TIMEZONE"] = "Asia/Tokyo"
    done = runner.invoke(args=["clickhouse-init"])
    assert "rollups made and filled from the events" in done.output, done.output
    assert [str(d) for d in chdb.arrow(day_of_e4).column("day").to_pylist()] == ["2026-03-04"]
    assert _totals(chdb, CLI) == first


def test_clickhouse_load_waits_for_the_writers_lock(chdb, data_dir, password_hash) -> None:
    """Another writer holds the data folder's lock: `clickhouse-load` waits for it, its database not even made,
    and loads the hand-made org's 9 events once the lock is released."""
    database = f"{CLI}_waits"
    chdb.command(f"drop database if exists {database}")
    app = make_app(data_dir, password_hash, ORG_TIMEZONE=TZ, **{**backend(chdb, database), "BACKEND": "duckdb"})
    if not Path("/proc/locks").exists():
        pytest.skip("who waits for a lock is read from Linux's /proc/locks")
    found: dict = {}
    command = ["clickhouse-load", "--from", str(data_dir)]
    loader = threading.Thread(target=lambda: found.update(done=app.test_cli_runner().invoke(args=command)))
    with locked(data_dir):
        loader.start()
        _wait_for(lambda: _waiting_for_lock(data_dir / LOCK_FILE) or not loader.is_alive())
        assert "done" not in found  # not finished: waiting
        exists = "select count() as n from system.databases where name = {name:String}"
        assert chdb.arrow(exists, {"name": database}).column("n").to_pylist() == [0]
    loader.join()
    assert found["done"].exit_code == 0, found["done"].output
    assert "Loaded 9 events in 1 batches from 6 UTC dates (0 already there)" in found["done"].output
    assert _totals(chdb, database)["events"] == 9
    chdb.command(f"drop database {database}")


def _waiting_for_lock(path: Path) -> bool:
    """Whether a flock of the file waits (Linux: a `->` line of /proc/locks names the file's device and inode)."""
    found = path.stat()
    key = f"{os.major(found.st_dev):02x}:{os.minor(found.st_dev):02x}:{found.st_ino} "
    return any("->" in line and key in line for line in Path("/proc/locks").read_text().splitlines())


def _wait_for(condition, limit: float = 120.0) -> None:
    """Until `condition()` holds (polled; the limit only turns a hang into a failure)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def test_a_load_inserts_the_dates_clickhouse_lacks_and_checks_the_ids_of_those_it_has(chdb, data_dir) -> None:
    """The hand-made org's 9 events on 6 UTC dates loaded, then one date's 2 events taken out (a folder that grew,
    or a load that failed there): loading again inserts those 2 and finds the other 7 already there."""
    database = f"{CLI}_partial"
    init(chdb, database, TZ)
    assert load(chdb, database, data_dir).events == 9
    chdb.command(f"delete from {database}.events where toDate(ts) = '2026-03-02'")  # noqa: S608
    assert _totals(chdb, database)["events"] == 7
    again = load(chdb, database, data_dir)
    assert (again.events, again.duplicates, again.dates) == (2, 7, 6)
    assert _totals(chdb, database)["events"] == 9


def test_a_load_takes_each_file_of_a_date_in_microseconds_rounded_as_duckdb_reads_it(chdb, tmp_path) -> None:
    """Files copied in by hand in nanoseconds, 500 past each instant (new ids): beside 9 March's file (the writer's,
    in microseconds), and in place of 2 March's. Main's load failed on 9 March (Polars could not put the two
    together) and truncated an ns file to the microsecond; DuckDB reads each instant 1 µs later (rounded)."""
    folder = tmp_path / "data"
    org.write_org(folder)
    copies = []
    for date, name in (("2026-03-09", "by-hand.parquet"), ("2026-03-02", "part-0.parquet")):
        day = schema.partition_dir(folder, date)
        frame = pl.read_parquet(day / "part-0.parquet", hive_partitioning=False)
        copies.append(frame.select(pl.col("event_id") + "-ns", "ts"))
        frame.with_columns(
            pl.col("event_id") + "-ns", pl.col("ts").dt.cast_time_unit("ns") + pl.duration(nanoseconds=500)
        ).write_parquet(day / name)
    expected = pl.concat(copies).sort("event_id")
    database = f"{CLI}_ns"
    init(chdb, database, TZ)
    assert load(chdb, database, folder).events == len(org.EVENTS) + copies[0].height
    stored = pl.from_arrow(
        chdb.arrow(f"select event_id, ts from {database}.events where endsWith(event_id, '-ns') order by event_id")  # noqa: S608
    )
    assert stored["event_id"].to_list() == expected["event_id"].to_list()
    assert stored["ts"].to_list() == [ts + dt.timedelta(microseconds=1) for ts in expected["ts"]]


def test_clickhouse_commands_need_chdb_path_or_a_server(app) -> None:
    done = app.test_cli_runner().invoke(args=["clickhouse-init"])
    assert done.exit_code != 0
    assert "Set CHDB_PATH (the folder of the chDB engine's data) or CLICKHOUSE_URL" in done.output


def test_the_directory_questions_answer_on_clickhouse_as_on_duckdb(chdb, hand_made_org) -> None:
    """The tiny org's directory (tests/org.py): Max manages Engineering and Sales, emails match in any case."""
    app = hand_made_org[1]
    scopes = [Scope.organization(), Scope.teams(["t_eng", "t_sales"]), Scope.teams([]),
              Scope.organization().narrow(["t_legal"], ["a_code"])]  # fmt: skip
    asks = [
        lambda: directory.agents(),
        lambda: directory.managed_team_ids("u2"),
        lambda: directory.user_by_email("MANAGER@test.example"),
        lambda: directory.user_by_email("nobody@x.example"),
    ]
    asks += [lambda s=s: directory.teams_in_scope(s) for s in scopes]
    asks += [lambda s=s: analytics.filter_labels(s) for s in scopes]
    with app.app_context(), query_cache.bypassed():
        for ask in asks:
            on_duckdb = ask()
            with answering_from_clickhouse(chdb, HANDMADE, []):
                on_clickhouse = ask()
            if isinstance(on_duckdb, pl.DataFrame):
                assert_frame_equal(on_clickhouse, on_duckdb)
            else:
                assert on_clickhouse == on_duckdb
        with answering_from_clickhouse(chdb, HANDMADE, []):
            assert directory.managed_team_ids("u2") == ["t_eng", "t_sales"]
            assert directory.user_by_email("MANAGER@test.example")["user_id"] == "u2"


def test_every_question_has_a_clickhouse_file() -> None:
    """Every named question of queries/sql/ (not DuckDB's set-up: macros, tables, local midnights) has its
    ClickHouse twin, and no other."""
    set_up = {"macros", "cover", "totals_in_scope", "people_codes", "local_midnights"}
    duckdb_questions = {path.stem for path in db.SQL_DIR.glob("*.sql")} - set_up
    assert clickhouse.translated() == duckdb_questions


API_QUERIES = [
    "summary?start=2026-03-02&end=2026-03-08",
    "summary?start=2026-02-01&end=2026-03-31&agents=a_code",
    *(f"breakdown?by={by}&start=2026-02-20&end=2026-03-10" for by in ("team", "agent", "user", "day", "week", "month")),
    "adoption?by=team&start=2026-03-01&end=2026-03-31",
    "adoption?by=agent&start=2026-03-01&end=2026-03-09",
    "cohorts?start=2026-02-01&end=2026-03-31",
    "reclaim?days=30",
]


def test_the_api_answers_the_same_with_telemetry_backend_chdb(chdb, data_dir, tmp_path, password_hash, results) -> None:
    """TELEMETRY_BACKEND=chdb: the app reads the organization's ClickHouse database, and every API answer, for
    every role, is the DuckDB backend's, the hand-worked figures of tests/test_api.py among them."""
    init(chdb, API, "UTC")
    load(chdb, API, data_dir)
    on_duckdb = make_app(data_dir, password_hash)
    config = backend(chdb, API)
    on_chdb = make_app(data_dir, password_hash, ACCOUNTS_DB=str(tmp_path / "accounts.sqlite"), **config)
    assert on_chdb.config["BACKEND"] == config["BACKEND"]
    for who in ("admin", "manager", "legal_manager"):
        tokens = [bearer(token_for(app, who)) for app in (on_duckdb, on_chdb)]
        for query in API_QUERIES:
            duckdb_answer = on_duckdb.test_client().get(f"/api/v1/{query}", headers=tokens[0])
            chdb_answer = on_chdb.test_client().get(f"/api/v1/{query}", headers=tokens[1])
            assert duckdb_answer.status_code == chdb_answer.status_code == 200, (who, query)
            assert chdb_answer.get_json() == duckdb_answer.get_json(), (who, query)
    summary = on_chdb.test_client().get(f"/api/v1/{API_QUERIES[0]}", headers=bearer(token_for(on_chdb, "admin")))
    assert summary.get_json() == {
        "interactions": 6, "active_users": 4, "cost_usd": "3.723334", "start": "2026-03-02", "end": "2026-03-08"
    }  # fmt: skip


def test_the_backend_setting_takes_duckdb_or_chdb(monkeypatch, data_dir) -> None:
    monkeypatch.setenv("TELEMETRY_BACKEND", "postgres")
    with pytest.raises(ConfigError, match="TELEMETRY_BACKEND='postgres'.*duckdb, chdb or clickhouse"):
        create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "t"}, with_dash=False)
    monkeypatch.setenv("TELEMETRY_BACKEND", "chdb")
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "t"}, with_dash=False)
    assert app.config["BACKEND"] == "chdb"
    with app.app_context(), pytest.raises(ClickHouseError, match="Set CHDB_PATH"):
        queries.run("agents")


def test_parameters_are_bound_as_given_whatever_their_text(chdb) -> None:
    """Ids with quotes, backslashes, tabs and newlines come back as given: bound, never formatted into the SQL."""
    odd = ["o'brien", "back\\slash", "tab\there", "new\nline", "]'); drop table x; --"]
    found = chdb.arrow("select {ids:Array(String)} as ids, {one:String} as one", {"ids": odd, "one": odd[3]})
    assert found.to_pylist() == [{"ids": odd, "one": odd[3]}]
