"""The demo org: deterministic, in the data contract exactly, and shaped like a real company."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from flask import Flask

from data import schema
from data.cli import init_app
from data.demo import DemoDataExistsError, write_demo
from data.demo.cast import AGENTS, DEMO_ADMIN_EMAIL, DEMO_MANAGER_EMAIL, MIN_USERS, MODEL_INDEX, ROW_GROUP_ROWS
from data.demo.events import cost_micro_usd

# A New York org over the 2026 switch to daylight saving time (March 8).
ORG = {"users": 120, "days": 30, "seed": 7, "end": date(2026, 3, 20), "tz": "America/New_York"}
FIRST_DAY, LAST_DAY = date(2026, 2, 19), date(2026, 3, 20)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    summary = write_demo(out, **ORG)
    assert (summary.users, summary.first_date, summary.last_date) == (120, FIRST_DAY, LAST_DAY)
    return out


@pytest.fixture(scope="module")
def con(demo: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.sql("set TimeZone = 'UTC'")
    glob = str(schema.events_dir(demo) / "**" / "*.parquet")
    con.read_parquet(glob, hive_partitioning=True).create_view("events")
    for name in schema.DIRECTORY:
        con.read_parquet(str(schema.directory_dir(demo) / f"{name}.parquet")).create_view(name)
    return con


def one(con: duckdb.DuckDBPyConnection, query: str, **params) -> tuple:
    """The single row a query returns."""
    (row,) = con.sql(query, params=params).fetchall()
    return row


def column(con: duckdb.DuckDBPyConnection, query: str) -> list:
    """The single column a query returns."""
    return [value for (value,) in con.sql(query).fetchall()]


def events_frame(out: Path) -> pl.DataFrame:
    files = sorted(schema.events_dir(out).glob("*/*.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files]).sort("event_id")


def directory_frames(out: Path) -> dict[str, pl.DataFrame]:
    return {f.stem: pl.read_parquet(f) for f in sorted(schema.directory_dir(out).glob("*.parquet"))}


# --- Determinism ----------------------------------------------------------------------------------


def test_same_arguments_give_identical_data(demo: Path, tmp_path: Path) -> None:
    write_demo(tmp_path, **ORG)
    assert events_frame(tmp_path).equals(events_frame(demo))
    again, first = directory_frames(tmp_path), directory_frames(demo)
    assert list(again) == list(first) == ["agents", "prices", "team_managers", "teams", "users"]
    assert all(again[name].equals(first[name]) for name in first)


def test_another_seed_gives_other_data(demo: Path, tmp_path: Path) -> None:
    write_demo(tmp_path, **{**ORG, "seed": 8})
    assert not events_frame(tmp_path).equals(events_frame(demo))
    assert not directory_frames(tmp_path)["users"].equals(directory_frames(demo)["users"])


# --- The data contract ----------------------------------------------------------------------------


def test_each_events_file_has_the_exact_schema_sorted_by_ts(demo: Path) -> None:
    files = sorted(schema.events_dir(demo).glob("*/*.parquet"))
    # Local days Feb 19..Mar 20 in New York end after midnight UTC: one more UTC date.
    assert [f.parent.name for f in files][0] == "utc_date=2026-02-19"
    assert [f.parent.name for f in files][-1] == "utc_date=2026-03-21"
    assert len(files) == 31
    for file in files:
        assert pl.read_parquet_schema(file) == schema.EVENTS
        frame = pl.read_parquet(file)
        assert frame["ts"].is_sorted()
        utc_date = date.fromisoformat(file.parent.name.removeprefix("utc_date="))
        assert frame["ts"].dt.date().unique().to_list() == [utc_date]
        metadata = pq.ParquetFile(file).metadata
        assert all(
            metadata.row_group(i).num_rows <= ROW_GROUP_ROWS for i in range(metadata.num_row_groups)
        )


def test_hive_partition_is_the_utc_date_of_ts(con: duckdb.DuckDBPyConnection) -> None:
    rows, mismatched = one(
        con,
        "select count(*), count(*) filter (where utc_date <> (ts at time zone 'UTC')::date) "
        "from events",
    )
    assert rows > 10_000 and mismatched == 0


def test_directory_files_have_the_exact_schemas(demo: Path) -> None:
    for name, expected in schema.DIRECTORY.items():
        assert pl.read_parquet_schema(schema.directory_dir(demo) / f"{name}.parquet") == expected


def test_events_point_at_the_directory(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "select count(*) = count(distinct event_id) from events") == (True,)
    orphans = one(
        con,
        """
        select
            count(*) filter (where u.user_id is null),
            count(*) filter (where t.team_id is null),
            count(*) filter (where a.agent_id is null),
            count(*) filter (where p.model is null),
            count(*) filter (where e.team_id <> u.team_id)
        from events e
        left join users u using (user_id)
        left join teams t on t.team_id = e.team_id
        left join agents a using (agent_id)
        left join prices p using (model)
        """,
    )
    assert orphans == (0, 0, 0, 0, 0)


def test_no_event_before_its_user_or_agent_existed(con: duckdb.DuckDBPyConnection) -> None:
    early = one(
        con,
        """
        select
            count(*) filter (where e.ts < u.created_at),
            count(*) filter (where e.ts < a.created_at)
        from events e join users u using (user_id) join agents a using (agent_id)
        """,
    )
    assert early == (0, 0)
    # Some people and agents were created during the window, so the check above has teeth.
    hired, launched = one(
        con,
        "select (select count(*) from users where created_at >= $first), "
        "(select count(*) from agents where created_at >= $first)",
        first=FIRST_DAY,
    )
    assert hired >= 2 and launched >= 5


def test_cost_is_the_price_formula_to_the_micro_dollar(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.sql(
        """
        select e.input_tokens, e.output_tokens, e.cost_usd, p.input_usd_per_mtok,
               p.output_usd_per_mtok
        from events e join prices p using (model)
        where p.valid_from <= e.utc_date and (p.valid_to is null or e.utc_date < p.valid_to)
        using sample 3000 rows (reservoir, 1)
        """
    ).fetchall()
    assert len(rows) == 3000
    for input_tokens, output_tokens, cost, input_price, output_price in rows:
        exact = (input_tokens * input_price + output_tokens * output_price) / Decimal(10**6)
        assert cost == exact.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def test_cost_rounds_half_up_once_on_the_sum() -> None:
    haiku, mini = MODEL_INDEX["claude-haiku-4.5"], MODEL_INDEX["gpt-5-mini"]
    # 1 input token of gpt-5-mini is $0.00000025: 0.25 micro-dollars, rounds down; 2 of them
    # are 0.5 micro-dollars, half: rounds up. 3 haiku output tokens: exactly 15 micro-dollars.
    cost = cost_micro_usd(np.array([1, 2, 0]), np.array([0, 0, 3]), np.array([mini, mini, haiku]))
    assert cost.tolist() == [0, 1, 15]


# --- Realism --------------------------------------------------------------------------------------


def test_adoption_is_staggered_and_incomplete(con: duckdb.DuckDBPyConnection) -> None:
    never, first_days = one(
        con,
        """
        with firsts as (
            select user_id, min(timezone('America/New_York', ts))::date as first_day
            from events group by user_id
        )
        select
            (select count(*) from users where user_id not in (select user_id from firsts))
                / (select count(*) from users),
            count(distinct first_day)
        from firsts
        """,
    )
    assert 0.15 <= never <= 0.30
    assert first_days >= 10  # people start on many different days, not all at once


def test_people_who_left_have_no_recent_events(con: duckdb.DuckDBPyConnection) -> None:
    left, recent = one(
        con,
        """
        select count(distinct u.user_id), count(e.event_id)
        from users u left join events e
            on e.user_id = u.user_id and e.ts >= timestamptz '2026-03-14 00:00:00-04'
        where not u.active
        """,
    )
    assert left >= 2 and recent == 0


def test_roles_and_team_managers(con: duckdb.DuckDBPyConnection) -> None:
    roles = dict(con.sql("select role, count(*) from users group by role").fetchall())
    assert roles["admin"] >= 1 and set(roles) == set(schema.ROLES)
    assert one(con, "select role, name from users where email = $e", e=DEMO_ADMIN_EMAIL) == (
        "admin",
        "Avery Admin",
    )
    demo_manager_teams = one(
        con,
        "select count(*) from team_managers join users using (user_id) where email = $e",
        e=DEMO_MANAGER_EMAIL,
    )
    assert demo_manager_teams == (2,)
    managers_per_team = column(
        con,
        "select count(m.user_id) from teams t left join team_managers m using (team_id) "
        "group by t.team_id",
    )
    assert set(managers_per_team) <= {1, 2}
    teams_per_manager = column(
        con,
        "select count(m.team_id) from users u left join team_managers m using (user_id) "
        "where u.role = 'manager' group by u.user_id",
    )
    assert teams_per_manager.count(0) == 1 and teams_per_manager.count(2) >= 1
    assert one(
        con, "select count(*) from team_managers join users using (user_id) where role <> 'manager'"
    ) == (0,)


def test_names_and_emails_look_real(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "select count(*) = count(distinct email) from users") == (True,)
    odd = one(
        con,
        "select count(*) from users "
        "where not regexp_full_match(email, $pattern) and email not in ($a, $m)",
        pattern=r"[a-z\-]+\.[a-z\-]+\d*@acme\.example",
        a=DEMO_ADMIN_EMAIL,
        m=DEMO_MANAGER_EMAIL,
    )
    assert odd == (0,)
    assert one(con, "select min(user_id), max(user_id) from users") == ("u_00001", "u_00120")
    assert one(con, "select count(*) from teams where team_id = 't_engineering'") == (1,)


def test_weekends_are_quiet_and_days_peak_in_office_hours(con: duckdb.DuckDBPyConnection) -> None:
    weekday, weekend = one(
        con,
        """
        with days as (
            select timezone('America/New_York', ts)::date as day, count(*) as interactions
            from events group by day
        )
        select avg(interactions) filter (where isodow(day) <= 5),
               avg(interactions) filter (where isodow(day) > 5)
        from days
        """,
    )
    assert weekend < 0.2 * weekday
    busiest = con.sql(
        "select hour(timezone('America/New_York', ts)) as h from events group by h "
        "order by count(*) desc limit 3"
    ).fetchall()
    assert all(9 <= h <= 16 for (h,) in busiest)


def test_rhythm_follows_local_time_across_daylight_saving(con: duckdb.DuckDBPyConnection) -> None:
    """After March 8 each person's day starts an hour earlier in UTC, and not at all in New York."""
    query = """
        with local as (
            select user_id, ts, timezone('America/New_York', ts) as local_ts
            from events
            where isodow(timezone('America/New_York', ts)) <= 5
        ),
        hours as (  -- hours after the local day's midnight, on the local or on the UTC clock
            select user_id, local_ts::date < date '2026-03-08' as before,
                   (epoch({clock}) - epoch(local_ts::date::timestamp)) / 3600 as hour
            from local
        ),
        shifts as (
            select avg(hour) filter (where before) - avg(hour) filter (where not before) as shift
            from hours group by user_id having count(*) filter (where before) >= 20
                                          and count(*) filter (where not before) >= 20
        )
        select avg(shift), count(*) from shifts
    """
    local_shift, people = one(con, query.format(clock="local_ts"))
    utc_shift, _ = one(con, query.format(clock="ts"))
    assert people >= 30
    assert abs(local_shift) < 0.5  # ignoring DST would make it 1
    assert 0.5 < utc_shift < 1.5


def test_agent_popularity_has_a_long_tail(con: duckdb.DuckDBPyConnection) -> None:
    top, median = one(
        con,
        "select max(n), median(n) from (select agent_id, count(*) n from events group by agent_id)",
    )
    assert top >= 5 * median
    assert one(con, "select count(*) from agents") == (23,)


def test_teams_reach_for_their_own_agents(con: duckdb.DuckDBPyConnection) -> None:
    favourite = con.sql(
        """
        select team_id, arg_max(agent_id, n), max(n) / sum(n)
        from (select team_id, agent_id, count(*) n from events group by all)
        group by team_id
        """
    ).fetchall()
    owners = dict(con.sql("select agent_id, owner_team_id from agents").fetchall())
    by_id = {agent.agent_id: agent for agent in AGENTS}
    for team_id, agent_id, share in favourite:
        agent = by_id[agent_id]
        assert agent.general or owners[agent_id] == team_id or team_id[2:] in agent.relevant
        assert share > 0.15  # a favourite, not one agent among many
    assert dict((t, a) for t, a, _ in favourite)["t_engineering"] == "a_code_review_assistant"


def test_a_few_percent_errors_which_still_cost_input(con: duckdb.DuckDBPyConnection) -> None:
    share, max_output, min_input = one(
        con,
        "select avg((status = 'error')::int), "
        "max(output_tokens) filter (where status = 'error'), "
        "min(input_tokens) filter (where status = 'error') from events",
    )
    assert 0.01 <= share <= 0.08
    assert max_output <= 40 and min_input > 0
    assert one(con, "select count(*) from events where status not in ('ok', 'error')") == (0,)


def test_there_is_a_cost_spike(con: duckdb.DuckDBPyConnection) -> None:
    highest, typical = one(
        con,
        """
        with days as (
            select timezone('America/New_York', ts)::date as day, sum(cost_usd) as cost
            from events group by day
        )
        select max(cost), median(cost) from days where isodow(day) <= 5
        """,
    )
    assert highest > 2 * typical


# --- Writing safely -------------------------------------------------------------------------------


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    small = {**ORG, "users": MIN_USERS, "days": 3}
    write_demo(tmp_path, **small)
    (tmp_path / "accounts.sqlite").write_text("not ours")
    before = events_frame(tmp_path)
    with pytest.raises(DemoDataExistsError, match="already holds Telemetry data"):
        write_demo(tmp_path, **{**small, "seed": 8})
    assert events_frame(tmp_path).equals(before)
    write_demo(tmp_path, **{**small, "seed": 8}, overwrite=True)
    assert not events_frame(tmp_path).equals(before)
    # Only events/ and directory/ are replaced; nothing of the staging folder is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.sqlite", "directory", "events"]


def test_a_failed_run_leaves_the_old_data_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = {**ORG, "users": MIN_USERS, "days": 3}
    write_demo(tmp_path, **small)
    before = events_frame(tmp_path)

    def broken(*_args) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("data.demo._write_directory", broken)
    with pytest.raises(OSError, match="disk full"):
        write_demo(tmp_path, **{**small, "seed": 8}, overwrite=True)
    assert events_frame(tmp_path).equals(before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["directory", "events"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"users": MIN_USERS - 1}, "users must be at least"),
        ({"days": 0}, "days must be at least 1"),
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_bad_arguments_are_explained(tmp_path: Path, arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_demo(tmp_path, **{**ORG, **arguments})
    assert not schema.has_events(tmp_path)


def test_the_smallest_org_is_still_complete(tmp_path: Path) -> None:
    summary = write_demo(tmp_path, users=MIN_USERS, days=1, seed=3, end=date(2026, 3, 20))
    assert (summary.teams, summary.events > 0) == (5, True)
    managers = pl.read_parquet(schema.directory_dir(tmp_path) / "team_managers.parquet")
    assert managers["team_id"].n_unique() == 5


# --- The CLI --------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path):
    app = Flask(__name__)
    app.config.update(DATA_DIR=str(tmp_path / "data"), ORG_TIMEZONE="Europe/Paris")
    init_app(app)
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["seed-demo", *args])


def test_seed_demo_command_writes_into_data_dir(cli, tmp_path: Path) -> None:
    result = cli("--users", "20", "--days", "5", "--end", "2026-03-20")
    assert result.exit_code == 0, result.output
    assert "20 users" in result.output and "2026-03-16..2026-03-20 (Europe/Paris)" in result.output
    assert schema.has_events(tmp_path / "data")
    users = pl.read_parquet(schema.directory_dir(tmp_path / "data") / "users.parquet")
    assert users.height == 20


def test_seed_demo_command_refuses_existing_data_and_bad_numbers(cli, tmp_path: Path) -> None:
    args = ("--users", "20", "--days", "2", "--end", "2026-03-20")
    assert cli(*args).exit_code == 0
    again = cli(*args)
    assert again.exit_code != 0 and "--overwrite" in again.output
    assert cli(*args, "--overwrite", "--seed", "5").exit_code == 0
    out = tmp_path / "elsewhere"
    assert cli(*args, "--out", str(out)).exit_code == 0 and schema.has_events(out)
    for bad in (["--users", "0"], ["--days", "0"]):
        result = cli(*bad)
        assert result.exit_code == 2 and "must be at least" in result.output
