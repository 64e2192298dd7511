"""The rollups answer every question exactly as the raw events do, and only while they are current."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from flask import Flask
from polars.testing import assert_frame_equal

import queries
from app import create_app
from callbacks.shell import update_data_notice
from data import schema
from data.demo import write_demo
from data.ingest import compaction
from data.ingest.compaction import compact
from data.ingest.directory import import_directory
from data.ingest.purge import Selection
from data.ingest.purge import purge as purge_events
from data.ingest.storage import locked
from data.ingest.writer import ingest_files
from data.rollups import build as rollup
from data.rollups.manifest import read_manifest, rollups_check
from queries import adoption, analytics, billing, budgets, usage, users
from queries import cache as query_cache
from queries.filters import Filters
from queries.period import Period
from queries.scope import Scope
from tests import org
from tests.oracle import events_view, raw_events
from tests.test_ingest import event, jsonl, with_prices
from tests.test_otlp import TOKEN, otlp_json, otlp_json_span
from tests.test_people_scope import write_org_with_a_mover

TZ = "America/New_York"
END = dt.date(2026, 4, 20)  # the demo's 120 days cross the DST change of 2026-03-08


def write_demo_org(folder: Path) -> None:
    """The demo org these tests and tests/test_clickhouse*.py ask: 80 people over 120 days to END."""
    write_demo(folder, 80, 120, seed=5, end=END, tz=TZ)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rollups") / "data"
    org.write_rolled_up(folder, write_demo_org, tz=TZ)  # written and built once per process, copied
    return folder


def _app(folder: Path, tz: str) -> Flask:
    config = {"TESTING": True, "DATA_DIR": str(folder), "SECRET_KEY": "t", "ORG_TIMEZONE": tz}
    config["ROLLUP_REBUILD_WAIT"] = 600
    return create_app(config, with_dash=False)


@pytest.fixture(scope="module")
def demo_app(demo_dir: Path):
    return _app(demo_dir, TZ)


def _teams_and_agents(app) -> tuple[list[str], list[str]]:
    with app.app_context():
        cur = queries.cursor()
        teams = [row[0] for row in cur.sql("select team_id from teams order by team_id").fetchall()]
        agents = [row[0] for row in cur.sql("select agent_id from agents order by agent_id").fetchall()]
    return teams, agents


def _periods() -> list[Period]:
    return [
        Period(END - dt.timedelta(days=119), END, TZ),  # everything
        Period(dt.date(2026, 2, 25), dt.date(2026, 3, 26), TZ),  # 30 days over the DST change
        Period(dt.date(2026, 3, 8), dt.date(2026, 3, 8), TZ),  # the 23-hour day
        Period(dt.date(2026, 3, 30), dt.date(2026, 4, 5), TZ),  # one week, across a month's end
        Period(END - dt.timedelta(days=10), END + dt.timedelta(days=20), TZ),  # runs past the data
        Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31), TZ),  # before any data
    ]


def _scopes(teams: list[str], agents: list[str]) -> list[Scope]:
    organization = Scope.organization()
    return [
        organization,
        Scope.teams(teams[:2]),
        organization.narrow(agents=agents[:3]),
        Scope.teams(teams[1:4]).narrow(agents=agents[1:6]),
        Scope.teams([]),
    ]


def _questions(user_id: str) -> dict[str, Callable[[Period, Scope], pl.DataFrame]]:
    today = END
    return {
        "summary": lambda p, s: usage.summary(Filters.asking(p, s)),
        "adoption": lambda p, s: usage.adoption(Filters.asking(p, s)),
        "by team": lambda p, s: usage.interactions_by_key(Filters.asking(p, s), "team"),
        "by agent": lambda p, s: usage.interactions_by_key(Filters.asking(p, s), "agent"),
        "by user": lambda p, s: usage.interactions_by_key(Filters.asking(p, s), "user"),
        "daily": lambda p, s: usage.interactions_over_time(Filters.asking(p, s, "day")),
        "weekly": lambda p, s: usage.interactions_over_time(Filters.asking(p, s, "week")),
        "monthly": lambda p, s: usage.interactions_over_time(Filters.asking(p, s, "month")),
        "agent stats": lambda p, s: analytics.agent_stats(Filters.asking(p, s)),
        "team stats": lambda p, s: analytics.team_stats(Filters.asking(p, s)),
        "stacked by agent": lambda p, s: analytics.interactions_over_time_by(Filters.asking(p, s, "week"), "agent", 3),
        "stacked by team": lambda p, s: analytics.interactions_over_time_by(Filters.asking(p, s, "day"), "team", 2),
        "heat map": lambda p, s: analytics.activity_heatmap(Filters.asking(p, s)),
        "user activity": lambda p, s: users.user_activity(Filters.asking(p, s), today=today),
        "adoption curve": lambda p, s: users.adoption_curve(Filters.asking(p, s)),
        "one user by day": lambda p, s: users.user_daily_activity(Filters.asking(p, s), user_id),
        "one user's agents": lambda p, s: users.user_agents(Filters.asking(p, s), user_id),
        "cost by team": lambda p, s: billing.cost_by_key(Filters.asking(p, s), "team"),
        "cost by agent": lambda p, s: billing.cost_by_key(Filters.asking(p, s), "agent"),
        "cost by model": lambda p, s: billing.cost_by_key(Filters.asking(p, s), "model"),
        "cost by day": lambda p, s: billing.cost_by_day(Filters.asking(p, s)),
        "budget spend by day": lambda p, s: budgets.budget_spend_by_day(Filters.asking(p, s)),
        "adoption funnel": lambda p, s: adoption.funnel(Filters.asking(p, s), "org", today),
        "adoption funnel by team": lambda p, s: adoption.funnel(Filters.asking(p, s), "team", today),
        "adoption funnel by agent": lambda p, s: adoption.funnel(Filters.asking(p, s), "agent", today),
        "active people by day": lambda p, s: adoption.active_days(Filters.asking(p, s), "org", today),
        "active people by team": lambda p, s: adoption.active_days(Filters.asking(p, s), "team", today),
        "active people by agent": lambda p, s: adoption.active_days(Filters.asking(p, s), "agent", today),
        "cohorts": lambda p, s: adoption.cohorts(Filters.asking(p, s), today),
        "seats to reclaim": lambda p, s: adoption.reclaim(s, TZ, 30, p.end),
        "agent uptake": lambda p, s: adoption.uptake(Filters.asking(p, s), today),
    }


def _busiest_user(app) -> str:
    with app.app_context():
        busiest = "select user_id from events group by 1 order by count(*) desc, 1 limit 1"
        events_view(queries.cursor(), app.config["DATA_DIR"])
        return queries.cursor().sql(busiest).fetchall()[0][0]


def _cases(teams: list[str], agents: list[str], every_pair: bool, scoped: int = 1) -> list[tuple[Period, Scope]]:
    """Periods and scopes to compare: each period in the whole organization and each scope over the 30 days across
    the DST change (`scoped=2`: over everything too), or, with `every_pair`, every period in every scope."""
    periods, scopes = _periods(), _scopes(teams, agents)
    if every_pair:
        return [(period, scope) for period in periods for scope in scopes]
    over = [periods[1], periods[0]][:scoped]
    return [(period, scopes[0]) for period in periods] + [(p, s) for p in over for s in scopes[1:]]


def sampled_cases(teams: list[str], agents: list[str], name: str) -> list[tuple[Period, Scope]]:
    """`make test`'s three cases of a question: the 30 days across the DST change in the whole organization, one
    other period in it and one other scope over those 30 days, the period and the scope taken in turn from one
    question to the next, so that the questions together ask each period and each scope (`make test-long`: every
    period in every scope, for each question)."""
    periods, scopes = _periods(), _scopes(teams, agents)
    turn = QUESTIONS.index(name)
    others = periods[:1] + periods[2:]
    return [(periods[1], scopes[0]), (others[turn % len(others)], scopes[0]), (periods[1], scopes[1 + turn % 4])]


def _compare(app, name: str, every_pair: bool) -> int:
    teams, agents = _teams_and_agents(app)
    compared = 0
    cases = _cases(teams, agents, every_pair=True) if every_pair else sampled_cases(teams, agents, name)
    with app.app_context(), query_cache.bypassed():
        assert queries.database().rollups_current(TZ)
        question = _questions(_busiest_user(app))[name]
        for period, scope in cases:
            from_rollups = question(period, scope)
            with raw_events():
                from_raw = question(period, scope)
            assert from_rollups.height == from_raw.height, (name, period, scope)
            assert_frame_equal(from_rollups, from_raw, check_exact=False, rel_tol=1e-12, abs_tol=0)
            compared += 1
    return compared


def assert_rollups_answer_as_raw(app, user_id: str, period: Period, scopes: tuple[Scope, ...]) -> None:
    """Every question, in each scope, answers from the rollups exactly as from the raw events."""
    with app.app_context(), query_cache.bypassed():
        assert queries.database().rollups_current(TZ)
        for question in _questions(user_id).values():
            for scope in scopes:
                with raw_events():
                    expected = question(period, scope)
                assert_frame_equal(question(period, scope), expected, check_exact=False, rel_tol=1e-12)


QUESTIONS = list(_questions("u"))


@pytest.mark.parametrize("name", QUESTIONS)
def test_every_question_answers_the_same_from_rollups_as_from_raw_events(demo_app, name: str) -> None:
    assert _compare(demo_app, name, every_pair=False) == 3


@pytest.mark.long
@pytest.mark.parametrize("name", QUESTIONS)
def test_every_question_in_every_period_and_scope_from_rollups_as_from_raw_events(demo_app, name: str) -> None:
    assert _compare(demo_app, name, every_pair=True) == 6 * 5


def test_the_sampled_cases_ask_every_period_and_scope_and_each_question_the_dst_change() -> None:
    teams, agents = [f"t{n}" for n in range(5)], [f"a{n}" for n in range(6)]
    periods, scopes = _periods(), _scopes(teams, agents)
    asked = {name: sampled_cases(teams, agents, name) for name in QUESTIONS}
    assert all((periods[1], scopes[0]) in cases for cases in asked.values())
    everything = [case for cases in asked.values() for case in cases]
    assert all(any(period == asked_period for asked_period, _ in everything) for period in periods)
    assert all(any(scope == asked_scope for _, asked_scope in everything) for scope in scopes)


def test_the_data_bounds_are_the_same_from_rollups(demo_app) -> None:
    teams, agents = _teams_and_agents(demo_app)
    with demo_app.app_context(), query_cache.bypassed():
        for scope in _scopes(teams, agents):
            from_rollups = usage.data_bounds(scope, TZ)
            with raw_events():
                assert_frame_equal(from_rollups, usage.data_bounds(scope, TZ))


def test_no_question_reads_the_events(demo_dir: Path, tmp_path: Path) -> None:
    """Every event file made unreadable behind the writer's back (not seen: nothing asks for them): every
    question still answers, the same as before."""
    folder = _copy(demo_dir, tmp_path)
    app = _app(folder, TZ)
    with app.app_context(), query_cache.bypassed():
        before = {name: q(_periods()[1], Scope.organization()) for name, q in _questions("u").items()}
    for part in folder.glob("events/utc_date=*/*.parquet"):
        part.write_bytes(b"PAR1 not Parquet any more")
    with app.app_context(), query_cache.bypassed():
        for name, question in _questions("u").items():
            assert_frame_equal(question(_periods()[1], Scope.organization()), before[name])


def _copy(demo_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(demo_dir, folder)
    rollup.build(folder, TZ)  # copies have new inodes: the manifest must describe these files
    return folder


def test_a_partition_copied_in_by_hand_is_reported_and_taken_in_by_a_rebuild(
    demo_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(demo_dir, folder)
    day = schema.partition_dir(folder, END.isoformat())
    day.rename(tmp_path / day.name)
    rollup.build(folder, TZ)  # without that day's events
    app = _app(folder, TZ)
    period = Period(END - dt.timedelta(days=6), END, TZ)
    with app.app_context():
        db = queries.database()
        assert db.rollups_current(TZ) and queries.data_notice() is None
        before = usage.summary(Filters.asking(period, Scope.organization()))
        (tmp_path / day.name).rename(day)  # by hand, not through the writer
        caplog.set_level(logging.WARNING, logger="queries.db")
        assert not db.rollups_current(TZ) and not db.rollups_current(TZ)
        notice = queries.data_notice()
        # the page says it for its reader, who can run no command: what happens and what to do if it lasts
        assert "outside Telemetry's writer" in notice and "being rebuilt" in notice
        assert "flask" not in notice and "rollup" not in notice
        logged = [r.getMessage() for r in caplog.records if "outside Telemetry's writer" in r.getMessage()]
        assert len(logged) == 1 and "rebuilt now" in logged[0]  # once, however often asked
        assert update_data_notice("/telemetry/dashboard").children == notice  # the banner on every page
        after = usage.summary(Filters.asking(period, Scope.organization()))  # waits for the rebuild
        assert after["interactions"][0] > before["interactions"][0]
        assert db.rollups_current(TZ) and queries.data_notice() is None
        assert update_data_notice("/telemetry/dashboard") is None
        with raw_events():
            assert_frame_equal(usage.summary(Filters.asking(period, Scope.organization())), after)


def test_the_per_person_list_from_the_rollups_follows_a_new_directory_file(demo_dir: Path, tmp_path: Path) -> None:
    folder = _copy(demo_dir, tmp_path)
    app = _app(folder, TZ)
    period = Period(END - dt.timedelta(days=29), END, TZ)
    with app.app_context():
        assert queries.database().rollups_current(TZ)
        before = users.user_activity(Filters.asking(period, Scope.organization()))
    busiest = before.row(0, named=True)
    idle = before.filter(pl.col("interactions") == 0)["user_id"].to_list()
    people = pl.read_parquet(folder / "directory" / "users.parquet")
    new_name = (
        pl.when(pl.col("user_id") == busiest["user_id"]).then(pl.lit("Renamed Person"))
        .when(pl.col("user_id").is_in(idle[:2])).then(None)  # no name: listed after the named
        .when(pl.col("user_id").is_in(idle[2:5])).then(pl.lit("Same Name"))  # then by user id
        .otherwise("name")
    )  # fmt: skip
    people.with_columns(new_name.alias("name")).write_parquet(folder / "directory" / "users.tmp")
    os.replace(folder / "directory" / "users.tmp", folder / "directory" / "users.parquet")
    with app.app_context():  # a new request
        after = users.user_activity(Filters.asking(period, Scope.organization()))
        with raw_events():
            assert_frame_equal(after, users.user_activity(Filters.asking(period, Scope.organization())))
    assert after.row(0, named=True) == {**busiest, "name": "Renamed Person"}
    assert after.height == before.height
    assert after["user_id"].tail(2).sort().to_list() == sorted(idle[:2]) and after["name"].tail(2).is_null().all()
    same = after.filter(pl.col("name") == "Same Name")["user_id"].to_list()
    assert same == sorted(idle[2:5])


def test_rollups_of_another_time_zone_are_not_used(demo_dir: Path, tmp_path: Path) -> None:
    folder = _copy(demo_dir, tmp_path)
    app = _app(folder, "UTC")
    with app.app_context():
        assert not queries.database().rollups_current("UTC")
        assert not queries.database().rollups_current(TZ) or read_manifest(folder)["tz"] == TZ


def test_an_incremental_update_writes_the_same_files_as_a_full_build(demo_dir: Path, tmp_path: Path) -> None:
    folder = _copy(demo_dir, tmp_path)
    days = [dt.date(2026, 3, 7), dt.date(2026, 3, 8), dt.date(2026, 3, 9), dt.date(2026, 4, 1)]
    rollup.build(folder, TZ, days)
    for table in rollup.TABLES:
        for full in sorted((demo_dir / "rollups" / table).glob("month=*/*.parquet")):
            part = folder / "rollups" / table / full.parent.name / full.name
            assert_frame_equal(pl.read_parquet(part), pl.read_parquet(full))


def _add_events(folder: Path, name: str, *changes: dict) -> list[dt.date]:
    """Events like the demo's first one, each changed as given (`ts` a UTC datetime), written as a file of
    their own into their date's folder; returns the local days to update."""
    template = pl.read_parquet(next(folder.glob("events/utc_date=*/*.parquet"))).head(1)
    dates = set()
    for number, change in enumerate(changes):
        date = change["ts"].date()
        row = template.with_columns(event_id=pl.lit(f"{name}-{number}"), **{k: pl.lit(v) for k, v in change.items()})
        (partition := schema.partition_dir(folder, date.isoformat())).mkdir(exist_ok=True)
        row.cast(template.schema).write_parquet(partition / f"{name}-{number}.parquet")
        dates.add(date)
    return rollup.local_days_of(dates)


def _assert_totals_as_a_full_build(folder: Path, tmp_path: Path, step: str) -> None:
    full = tmp_path / f"full-{step}"
    shutil.copytree(folder, full)
    rollup.build(full, TZ)  # the codes kept, as every full build keeps them
    assert_frame_equal(pl.read_parquet(folder / "rollups" / "user_totals.parquet"),
                       pl.read_parquet(full / "rollups" / "user_totals.parquet"))  # fmt: skip


# Compared with a full build (1.5 CPU-s each) after the appends, the erasure and the earlier month in `make test`;
# after each append too in `make test-long`: the appends keep the rows before them, so a wrong one stays to the end.
@pytest.mark.parametrize("every_step", [False, pytest.param(True, marks=pytest.mark.long)], ids=["ends", "every-step"])
def test_user_totals_after_an_update_of_its_last_months_is_as_a_full_build(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, every_step: bool
) -> None:
    """Writes to the last month append to `user_totals` (nothing read but its old rows and those months'):
    the same rows, in the same order, as a build from every month; a write to an earlier month builds it all."""
    folder = _copy(demo_dir, tmp_path)
    people = pl.read_parquet(folder / "rollups" / "user_totals.parquet").filter(pl.col("agent_id").is_null())
    mover = people.filter(~pl.col("moved")).row(0, named=True)
    other_team = people.filter(pl.col("team_id") != mover["team_id"])["team_id"][0]
    at = lambda day, hour=15: dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)  # noqa: E731
    steps = {
        "a day of the last month": [{"ts": at(END - dt.timedelta(days=3))}, {"ts": at(END, 2)}],
        "a new person": [{"ts": at(END), "user_id": "u_new"}, {"ts": at(END, 3), "user_id": "u_new"}],
        "a person moving team": [{"ts": at(END), "user_id": mover["user_id"], "team_id": other_team}],
        "a day starting a month": [{"ts": at(dt.date(2026, 5, 1), 4), "agent_id": "a_new"}],
        "a month after an empty one": [
            {"ts": at(dt.date(2026, 7, 31), 23), "user_id": "u_new"},
            {"ts": at(dt.date(2026, 7, 30)), "user_id": "u_gone"},
        ],
    }
    full_build = rollup._build_totals  # the full builds compared with, in folders of their own, use it

    def never_here(at: Path) -> int:
        assert at != folder / "rollups", "built from every month"
        return full_build(at)

    monkeypatch.setattr(rollup, "_build_totals", never_here)
    for step, changes in steps.items():
        rollup.build(folder, TZ, _add_events(folder, step.replace(" ", "-"), *changes))
        if every_step or step == list(steps)[-1]:
            _assert_totals_as_a_full_build(folder, tmp_path, step)
    (schema.partition_dir(folder, "2026-07-30") / "a-month-after-an-empty-one-1.parquet").unlink()  # erased
    rollup.build(folder, TZ, rollup.local_days_of([dt.date(2026, 7, 30)]))
    _assert_totals_as_a_full_build(folder, tmp_path, "erased")
    monkeypatch.setattr(rollup, "_build_totals", full_build)
    rollup.build(folder, TZ, _add_events(folder, "earlier", {"ts": at(dt.date(2026, 3, 10)), "user_id": "u_new"}))
    _assert_totals_as_a_full_build(folder, tmp_path, "an earlier month")


def test_user_totals_holds_each_persons_local_days_as_bit_masks_and_running_sums(tmp_path: Path) -> None:
    """tests/org.py in New York, worked out by hand: the lists start at February (Mia's 25 February, a
    Wednesday, bit 24). Mia's 2 March (Monday, twice) and 8 March (Sunday, 01:30 just before the clocks went
    forward) are bits 1 and 7; Sam's 9 March 03:30 UTC is still 8 March locally (EDT), 04:30 UTC is 9 March;
    Max and Lee are on 3 March (Tuesday) locally, Lee's event on 4 March in UTC. One row per person and team
    over all agents (agent_id null), and one per agent."""
    folder = tmp_path / "data"
    org.write_org(folder)
    rollup.build(folder, TZ)
    rows = pl.read_parquet(folder / "rollups" / "user_totals.parquet")
    got = {
        (r["user_id"], r["team_id"], r["agent_id"]): (r["month0"], r["days"], r["working_days"], r["days_before"],
                                                     r["working_days_before"], r["first_day"], r["last_day"])
        for r in rows.iter_rows(named=True)
    }  # fmt: skip
    feb, mar = 2026 * 12 + 1, dt.date(2026, 3, 1)  # month0: February 2026, months since year 0
    mia = (feb, [2**24, 2**1 + 2**7], [2**24, 2**1], [0, 1], [0, 1], dt.date(2026, 2, 25), mar.replace(day=8))
    sam = (feb, [0, 2**2 + 2**7 + 2**8], [0, 2**2 + 2**8], [0, 0], [0, 0], mar.replace(day=3), mar.replace(day=9))
    max_ = (feb, [0, 2**2], [0, 2**2], [0, 0], [0, 0], mar.replace(day=3), mar.replace(day=3))
    lee = (feb, [0, 2**2], [0, 2**2], [0, 0], [0, 0], mar.replace(day=3), mar.replace(day=3))
    assert got == {
        ("u4", "t_eng", None): mia, ("u4", "t_eng", "a_code"): mia,
        ("u5", "t_sales", None): sam, ("u5", "t_sales", "a_code"): sam,
        ("u2", "t_eng", None): max_, ("u2", "t_eng", "a_draft"): max_,
        ("u3", "t_legal", None): lee, ("u3", "t_legal", "a_draft"): lee,
    }  # fmt: skip
    # per day with activity, in day order over the whole history: interactions and cost so far, the day's last instant
    utc = dt.UTC
    days_of = {
        (r["user_id"], r["agent_id"]): (r["running_interactions"], [str(c) for c in r["running_cost_usd"]],
                                        r["day_last_ts"])
        for r in rows.iter_rows(named=True)
    }  # fmt: skip
    assert days_of[("u4", None)] == days_of[("u4", "a_code")] == (
        [1, 3, 4], ["0.050000", "0.400000", "0.440000"],
        [dt.datetime(2026, 2, 25, 12, tzinfo=utc), dt.datetime(2026, 3, 2, 15, 30, tzinfo=utc),
         dt.datetime(2026, 3, 8, 6, 30, tzinfo=utc)],
    )  # fmt: skip
    assert days_of[("u5", None)] == (
        [1, 2, 3], ["1.000001", "1.500001", "2.200001"],
        [dt.datetime(2026, 3, 3, 9, tzinfo=utc), dt.datetime(2026, 3, 9, 3, 30, tzinfo=utc),
         dt.datetime(2026, 3, 9, 4, 30, tzinfo=utc)],
    )  # fmt: skip
    assert rows["agent_id"].head(4).is_null().all()  # the rows over all agents first


def test_the_hand_made_org_answers_the_same_with_rollups(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    org.write_org(folder)
    rollup.build(folder, "America/New_York")
    app = _app(folder, TZ)
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), TZ)
    assert_rollups_answer_as_raw(app, "u1", period, (Scope.organization(), Scope.teams(["t_legal"])))


def test_a_week_that_ends_in_a_month_without_events_is_counted(tmp_path: Path) -> None:
    # the last event is on Thursday 30 April, local (1 May, 02:00 UTC): its week, 27 April to 3 May, is kept
    # with May, a month with no events of its own
    folder = tmp_path / "data"
    org.write_org(folder, [*org.EVENTS, ("e9", "2026-05-01 02:00", "u5", "t_sales", "a_code", "0.070000", "ok")])
    rollup.build(folder, TZ)
    app = _app(folder, TZ)
    period = Period(dt.date(2026, 4, 1), dt.date(2026, 5, 31), TZ)
    with app.app_context(), query_cache.bypassed():
        weeks = usage.interactions_over_time(Filters.asking(period, Scope.organization(), "week"))
    week = weeks.filter(pl.col("key") == dt.date(2026, 4, 27)).row(0, named=True)
    assert (week["interactions"], week["active_users"], str(week["cost_usd"])) == (1, 1, "0.070000")
    assert_rollups_answer_as_raw(app, "u5", period, (Scope.organization(), Scope.teams(["t_sales"])))


def test_the_rollup_command_builds_and_reports(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    org.write_org(folder)
    app = _app(folder, TZ)
    result = app.test_cli_runner().invoke(args=["rollup"])
    assert result.exit_code == 0, result.output
    assert "Rolled up" in result.output and "user_day" in result.output
    assert read_manifest(folder)["tz"] == TZ
    assert not any(name.startswith(".") for name in os.listdir(folder / "rollups"))
    again = app.test_cli_runner().invoke(args=["rollup", "--if-stale"])
    assert again.exit_code == 0 and "up to date" in again.output


def test_ingesting_events_updates_the_rollups(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    app = _app(folder, TZ)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["rollup"]).exit_code == 0
    late = (event("late-1", "2026-03-08T05:30:00Z"), event("late-2", "2026-03-09T03:00:00Z"))
    batch = jsonl(tmp_path / "late.jsonl", *late)
    result = runner.invoke(args=["ingest", str(batch)])
    assert result.exit_code == 0, result.output
    assert "rollups: " in result.output
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), TZ)
    assert_rollups_answer_as_raw(app, "u4", period, (Scope.organization(), Scope.teams(["t_eng"])))


def test_the_first_ingestion_creates_the_rollups_with_no_separate_call(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    app = _app(folder, TZ)
    batch = jsonl(tmp_path / "late.jsonl", event("late-1", "2026-03-08T05:30:00Z"))
    result = app.test_cli_runner().invoke(args=["ingest", str(batch)])
    assert result.exit_code == 0, result.output
    assert read_manifest(folder)["tz"] == TZ and read_manifest(folder)["events_version"] == 1
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), TZ)
    assert_rollups_answer_as_raw(app, "u4", period, (Scope.organization(), Scope.teams(["t_eng"])))


def test_the_receiver_keeps_the_rollups_current_with_each_request(tmp_path: Path) -> None:
    """An acknowledged OTLP request is on disk and in the rollups: no timer, no separate update."""
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    config = {"TESTING": True, "DATA_DIR": str(folder), "SECRET_KEY": "t", "ORG_TIMEZONE": TZ, "INGEST_TOKEN": TOKEN}
    app = create_app(config, with_dash=False)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), TZ)
    for number, user in enumerate(("u4", "u5"), start=1):
        body = json.dumps(otlp_json(otlp_json_span(f"{number:016x}", user))).encode()
        assert app.test_client().post("/v1/traces", data=body, headers=headers).status_code == 200
        assert read_manifest(folder)["events_version"] == number
        assert_rollups_answer_as_raw(app, user, period, (Scope.organization(), Scope.teams(["t_eng"])))


def test_a_compaction_changes_no_row_and_keeps_the_rollups_current(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    app = _app(folder, TZ)
    runner = app.test_cli_runner()
    for number in (1, 2):  # two more files on a date
        batch = jsonl(tmp_path / f"b{number}.jsonl", event(f"late-{number}", "2026-03-04T15:00:00Z"))
        assert runner.invoke(args=["ingest", str(batch)]).exit_code == 0
    manifest, events = read_manifest(folder), schema.read_version(folder)["events"]
    with app.app_context():
        db = queries.database()
        assert db.rollups_current(TZ)
        version = query_cache.data_version(db.data_dir)
    result = runner.invoke(args=["compact"])
    assert "2026-03-04: 3 files -> 1" in result.output, result.output
    assert read_manifest(folder) == manifest and schema.read_version(folder)["events"] == events
    with app.app_context():
        assert db.rollups_current(TZ) and queries.data_notice() is None
        assert query_cache.data_version(db.data_dir) == version  # the cached answers stand


def test_seeding_the_demo_builds_its_rollups(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    app = _app(folder, TZ)
    result = app.test_cli_runner().invoke(args=["seed-demo", "--users", "20", "--days", "10"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert queries.database().rollups_current(TZ)


def test_rollups_of_an_older_layout_are_not_read_until_rebuilt(demo_dir: Path, tmp_path: Path) -> None:
    folder = _copy(demo_dir, tmp_path)
    manifest_path = folder / "rollups" / "manifest.json"
    old = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**old, "format": 1}))
    app = _app(folder, TZ)
    with app.app_context():
        assert not queries.database().rollups_current(TZ)
    result = app.test_cli_runner().invoke(args=["rollup", "--if-stale"])
    assert result.exit_code == 0 and "Rolled up" in result.output
    with app.app_context():
        assert queries.database().rollups_current(TZ)


def _same(from_rollups: pl.DataFrame, from_raw: pl.DataFrame, *asked: object) -> None:
    try:
        assert_frame_equal(from_rollups, from_raw, check_exact=False, rel_tol=1e-12, abs_tol=0)
    except AssertionError as error:
        raise AssertionError(f"{asked}: {error}") from None


def _people_questions() -> dict[str, Callable[[Period, Scope], pl.DataFrame]]:
    """The questions that list people or count them against a list (docs/schema.md, "Who is counted where")."""
    return {
        "adoption": lambda p, s: usage.adoption(Filters.asking(p, s)),
        "team stats": lambda p, s: analytics.team_stats(Filters.asking(p, s)),
        "by user": lambda p, s: usage.interactions_by_key(Filters.asking(p, s), "user"),
        "user activity": lambda p, s: users.user_activity(Filters.asking(p, s), today=END),
        "adoption curve": lambda p, s: users.adoption_curve(Filters.asking(p, s)),
    }


def test_people_who_moved_teams_are_listed_the_same_from_rollups(tmp_path: Path) -> None:
    # Kim moved from Sales to Legal mid-week (tests/test_people_scope.py): seen by each manager and the org
    folder = tmp_path / "data"
    write_org_with_a_mover(folder)
    rollup.build(folder, TZ)
    app = _app(folder, TZ)
    days = ((1, 31), (2, 8), (4, 4))  # March: the month, Kim's week, the day between her teams
    periods = [Period(dt.date(2026, 3, first), dt.date(2026, 3, last), TZ) for first, last in days]
    scopes = (Scope.organization(), Scope.teams(["t_eng", "t_sales"]), Scope.teams(["t_legal"]),
              Scope.teams(["t_sales"]).narrow(agents=["a_code"]))  # fmt: skip
    with app.app_context(), query_cache.bypassed():
        assert queries.database().rollups_current(TZ)
        for name, question in _people_questions().items():
            for period in periods:
                for scope in scopes:
                    with raw_events():
                        expected = question(period, scope)
                    _same(question(period, scope), expected, name, period, scope)


def _move_people(folder: Path, teams: list[str], since: dt.date) -> None:
    """Every fifth person of the demo works for the next team (in id order) from `since` on, the directory
    unchanged: people who moved, or work for two teams."""
    users_ids = sorted(pl.read_parquet(folder / "directory" / "users.parquet")["user_id"])
    movers = users_ids[::5]
    next_team = pl.DataFrame({"team_id": teams, "moved_to": teams[1:] + teams[:1]})
    for part in sorted((folder / "events").glob("utc_date=*/*.parquet")):
        if dt.date.fromisoformat(part.parent.name.split("=")[1]) < since:
            continue
        events = pl.read_parquet(part)
        moved = events.join(next_team, on="team_id", how="left", maintain_order="left").with_columns(
            pl.when(pl.col("user_id").is_in(movers)).then("moved_to").otherwise("team_id").alias("team_id")
        )
        moved.select(events.columns).write_parquet(part)


@pytest.mark.long  # the hand-made mover (above) runs in `make test`; the demo's hundreds in test-long
def test_people_of_the_demo_who_moved_teams_are_listed_the_same_from_rollups(demo_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    shutil.copytree(demo_dir, folder)
    app = _app(folder, TZ)
    teams, agents = _teams_and_agents(app)
    _move_people(folder, teams, dt.date(2026, 3, 1))
    rollup.build(folder, TZ)
    with app.app_context(), query_cache.bypassed():
        assert queries.database().rollups_current(TZ)
        for name, question in _people_questions().items():
            for period in _periods():
                for scope in _scopes(teams, agents):
                    from_rollups = question(period, scope)
                    with raw_events():
                        from_raw = question(period, scope)
                    _same(from_rollups, from_raw, name, period, scope)


# --- The version file: a change by hand lasts until a full build; a write under way is no change by hand ---

BY_HAND = "outside Telemetry's writer"


def _org_with_rollups(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    with locked(folder):
        rollup.build(folder, TZ)
    return folder


def _why_not(folder: Path) -> str | None:
    manifest, why_not, _notice = rollups_check(folder, TZ)
    assert (manifest is None) == (why_not is not None)
    return why_not


@pytest.mark.parametrize("change", ["added", "removed"])
def test_a_partition_folder_changed_by_hand_stays_noticed_through_later_writes_until_a_full_build(
    tmp_path: Path, change: str
) -> None:
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    day = schema.partition_dir(folder, "2026-03-03")
    aside = tmp_path / day.name
    if change == "added":
        day.rename(aside)
    with locked(folder):
        rollup.build(folder, TZ)
    day.rename(aside) if change == "removed" else aside.rename(day)  # by hand
    assert BY_HAND in _why_not(folder)
    app = _app(folder, TZ)
    writes = {
        "a compaction that changes nothing": lambda: compact(folder, partitions=[]),
        "an ingest of another date": lambda: ingest_files(
            folder, [jsonl(tmp_path / "other.jsonl", event("other-1", "2026-03-20T12:00:00Z"))], tz=TZ
        ),
        "a directory import": lambda: import_directory(folder, [schema.directory_dir(folder) / "teams.parquet"]),
        "a rebuild of a few days": lambda: app.test_cli_runner().invoke(args=["rollup", "--day", "2026-03-20"]),
    }
    for write in writes.values():
        write()
        assert BY_HAND in _why_not(folder), write
    with app.app_context():
        assert BY_HAND in queries.data_notice() and not queries.database().rollups_current(TZ)
    assert app.test_cli_runner().invoke(args=["rollup"]).exit_code == 0
    assert _why_not(folder) is None and not schema.read_version(folder)["by_hand"]
    with app.app_context():
        assert queries.data_notice() is None and queries.database().rollups_current(TZ)
        period = Period(dt.date(2026, 2, 1), dt.date(2026, 3, 31), TZ)
        with_rollups = usage.summary(Filters.asking(period, Scope.organization()))
        with raw_events():
            assert_frame_equal(with_rollups, usage.summary(Filters.asking(period, Scope.organization())))


def _look_during(monkeypatch: pytest.MonkeyPatch, module: object, name: str, look: Callable[[], None]) -> None:
    """Have `module.name`, which a writer calls after changing folders and before writing the version, look first."""
    original = getattr(module, name)

    def spy(*args, **kwargs):
        look()
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)


@pytest.mark.parametrize("write", ["ingest into a new date", "compaction", "purge of a whole date"])
def test_a_write_under_way_is_not_taken_for_a_change_by_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, write: str
) -> None:
    folder = _org_with_rollups(tmp_path)
    if write == "compaction":  # a second file on 2026-03-04
        ingest_files(folder, [jsonl(tmp_path / "more.jsonl", event("more-1", "2026-03-04T15:00:00Z"))], tz=TZ)
    app = _app(folder, TZ)
    before = query_cache.data_version(folder)
    listing = schema.folder_stat(schema.events_dir(folder))
    seen: list[tuple] = []

    def look() -> None:
        with app.app_context():
            notice = queries.data_notice()
        changed = schema.folder_stat(schema.events_dir(folder)) != listing  # the write's own folder change
        seen.append((changed, _why_not(folder), notice, query_cache.data_version(folder)))

    caplog.set_level(logging.WARNING, logger="queries.db")
    if write == "ingest into a new date":
        _look_during(monkeypatch, rollup, "build", look)
        ingest_files(folder, [jsonl(tmp_path / "new.jsonl", event("new-1", "2026-03-25T12:00:00Z"))], tz=TZ)
    elif write == "compaction":
        _look_during(monkeypatch, compaction, "_retire", look)  # right after the folder swap
        assert compact(folder)
    else:
        _look_during(monkeypatch, rollup, "build", look)  # after the date's folder went
        done = purge_events(folder, Selection(first=dt.date(2026, 3, 3), last=dt.date(2026, 3, 3)), TZ)
        assert done.events and not schema.partition_dir(folder, "2026-03-03").exists()
    assert seen == [(True, None, None, before)]
    assert not [r for r in caplog.records if r.name == "queries.db"]
    assert _why_not(folder) is None and "writing" not in schema.read_version(folder)


def test_a_writer_that_died_mid_write_leaves_the_folder_noticed_from_the_next_lock_holder(tmp_path: Path) -> None:
    folder = _org_with_rollups(tmp_path)
    day = schema.partition_dir(folder, "2026-03-03")
    with locked(folder):  # a write's first steps, by hand; then it dies before writing the version
        schema.begin_write(folder, rollups=True)
        day.rename(tmp_path / day.name)
    assert _why_not(folder) is None  # taken for a write under way, until the lock is next taken
    compact(folder, partitions=[])
    assert BY_HAND in _why_not(folder) and "writing" not in schema.read_version(folder)
    compact(folder, partitions=[])
    assert BY_HAND in _why_not(folder)
    assert _app(folder, TZ).test_cli_runner().invoke(args=["rollup"]).exit_code == 0
    assert _why_not(folder) is None


def test_a_version_read_just_before_a_write_began_is_not_taken_for_a_change_by_hand(tmp_path: Path) -> None:
    folder = _org_with_rollups(tmp_path)
    read_before = schema.read_version(folder)  # a reader reads the version file, then a write begins
    with locked(folder):
        schema.begin_write(folder, rollups=True)
        schema.partition_dir(folder, "2026-03-25").mkdir()  # the write's new date; then the reader's stat
        assert not schema.changed_by_hand(folder, read_before)
        assert rollups_check(folder, TZ, read_before)[1] is None
        schema.write_version(folder, data_changed=True, events_changed=False)
    schema.partition_dir(folder, "2026-03-26").mkdir()  # by hand
    assert schema.changed_by_hand(folder, schema.read_version(folder)) and BY_HAND in _why_not(folder)


def test_an_update_after_a_failed_one_takes_in_the_days_the_failed_one_missed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _org_with_rollups(tmp_path)
    working = rollup.build

    def broken(*args, **kwargs) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(rollup, "build", broken)
    purged = purge_events(folder, Selection(first=dt.date(2026, 3, 3), last=dt.date(2026, 3, 3)), TZ)
    assert purged.events and purged.rollup_error == "disk full"
    assert "older than the events" in _why_not(folder)
    monkeypatch.setattr(rollup, "build", working)
    assert purge_events(folder, Selection(first=dt.date(2026, 3, 9), last=dt.date(2026, 3, 9)), TZ).events
    assert _why_not(folder) is None
    app = _app(folder, TZ)
    period = Period(dt.date(2026, 2, 1), dt.date(2026, 3, 31), TZ)
    with app.app_context(), query_cache.bypassed():
        assert queries.database().rollups_current(TZ)
        with_rollups = usage.summary(Filters.asking(period, Scope.organization()))
        with raw_events():
            assert_frame_equal(with_rollups, usage.summary(Filters.asking(period, Scope.organization())))


def test_the_rollup_command_if_stale_rebuilds_after_a_writer_that_died(tmp_path: Path) -> None:
    folder = _org_with_rollups(tmp_path)
    with locked(folder):  # a write's first steps, by hand; then it dies before writing the version
        schema.begin_write(folder, rollups=True)
        schema.partition_dir(folder, "2026-03-03").rename(tmp_path / "2026-03-03")
    runner = _app(folder, TZ).test_cli_runner()
    assert "Rolled up" in runner.invoke(args=["rollup", "--if-stale"]).output  # as `make run` starts
    assert _why_not(folder) is None and not schema.read_version(folder)["by_hand"]
    assert "up to date" in runner.invoke(args=["rollup", "--if-stale"]).output
