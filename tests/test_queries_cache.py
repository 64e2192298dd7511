"""The result cache (queries/cache.py): hits, invalidation by new data, scopes apart, bounded memory, one
computation for threads asking the same."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import queries
from data import schema
from data.ingest import compact, import_directory, ingest_files
from queries import adoption, analytics, cache, db, usage
from queries.filters import Filters
from queries.period import Period
from queries.scope import Scope
from tests import org
from tests.test_ingest import with_prices

ORG = Scope.organization()
MAX = Scope.teams({"t_eng", "t_sales"})  # u2 manages Engineering and Sales
LEE = Scope.teams({"t_legal"})  # u3 manages Legal
WEEK = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8))  # UTC: e1..e6
RECORD = {
    "event_id": "n3",
    "ts": "2026-03-03T12:00:00Z",
    "user_id": "u4",
    "agent_id": "a_code",
    "model": "claude-sonnet-4.5",
    "conversation_id": "c_n3",
    "input_tokens": 1000,
    "output_tokens": 200,
    "latency_ms": 700,
    "status": "ok",
}


@pytest.fixture
def executions(monkeypatch) -> list[str]:
    """The SQL files DuckDB actually ran, in order."""
    ran: list[str] = []
    execute = db.execute_on

    def counting(cursor, name, params):
        ran.append(name)
        return execute(cursor, name, params)

    monkeypatch.setattr(db, "execute_on", counting)
    return ran


def totals(period: Period, scope: Scope) -> tuple:
    row = usage.summary(Filters.asking(period, scope)).row(0, named=True)
    return row["interactions"], row["active_users"], row["cost_usd"], row["errors"]


def event_frame(event_id: str, at: str, user: str = "u4", team: str = "t_eng", cost: str = "1.000000") -> pl.DataFrame:
    row = {
        "event_id": event_id,
        "ts": dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC),
        "user_id": user,
        "team_id": team,
        "agent_id": "a_code",
        "model": "claude-sonnet-4.5",
        "conversation_id": f"c_{event_id}",
        "input_tokens": 1000,
        "output_tokens": 200,
        "cost_usd": Decimal(cost),
        "latency_ms": 900,
        "status": "ok",
    }
    return pl.DataFrame([row], schema=schema.EVENTS)


def write_by_hand(data_dir: Path, frame: pl.DataFrame, name: str) -> None:
    """As a person or another program would: a new file renamed into its date's partition folder."""
    folder = schema.partition_dir(data_dir, f"{frame['ts'][0]:%Y-%m-%d}")
    folder.mkdir(parents=True, exist_ok=True)
    draft = folder / f".{name}.tmp"
    frame.write_parquet(draft)
    draft.rename(folder / name)


def test_a_repeated_query_is_answered_from_the_cache(app, results, executions):
    with app.app_context():
        first = totals(WEEK, ORG)
    with app.app_context():  # the next request
        again = totals(WEEK, ORG)
    assert first == again == (6, 4, Decimal("3.723334"), 1)
    assert executions == ["summary"]
    assert (results.hits["question"], results.misses["question"], len(results)) == (1, 1, 1)


def test_other_parameters_are_other_entries(app, results, executions):
    with app.app_context():
        assert totals(WEEK, ORG)[0] == 6
        assert totals(Period(dt.date(2026, 3, 2), dt.date(2026, 3, 9)), ORG)[0] == 8
        assert usage.interactions_by_key(Filters.asking(WEEK, ORG), "agent")["interactions"].to_list() == [4, 2]
        assert usage.interactions_by_key(Filters.asking(WEEK, ORG), "user")["interactions"].to_list() == [3, 1, 1, 1]
    assert executions == ["summary", "summary", "interactions_by_team_and_agent", "interactions_by_user"]


def test_teams_and_agents_are_answered_by_one_statement(app, results, executions):
    """A tab shows both (the Dashboard's top agents and teams): asking by team after by agent runs nothing more."""
    with app.app_context():
        assert usage.interactions_by_key(Filters.asking(WEEK, ORG), "agent")["interactions"].to_list() == [4, 2]
        assert usage.interactions_by_key(Filters.asking(WEEK, ORG), "team")["interactions"].to_list() == [4, 1, 1]
    assert executions == ["interactions_by_team_and_agent"]


def test_the_organisations_and_its_teams_funnels_are_answered_by_one_statement(app, results, executions):
    """The Adoption tab shows both (its funnel and its teams' table): by team after the organisation runs nothing
    more; by agent is another statement."""
    with app.app_context():
        assert adoption.funnel(Filters.asking(WEEK, ORG), "org", WEEK.end)["key"].to_list() == ["org"]
        teams = adoption.funnel(Filters.asking(WEEK, ORG), "team", WEEK.end)["key"].to_list()
        assert teams == ["t_eng", "t_legal", "t_sales"]
        assert adoption.funnel(Filters.asking(WEEK, ORG), "agent", WEEK.end)["key"].to_list() == ["a_code", "a_draft"]
    assert executions == ["adoption_funnel", "adoption_funnel"]


def test_zones_never_share_an_entry(app, results):
    """The rollups are built for one zone, so a question whose SQL names no zone (the heat map binds local days
    only) is still another entry in another zone: the hours of e1..e6 in UTC, then in New York (EST, then EDT
    from 8 March)."""
    utc = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8), "UTC")
    new_york = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8), "America/New_York")
    with app.app_context():
        for period, hours in ((utc, [2, 6, 9, 10, 15, 23]), (new_york, [1, 4, 5, 10, 18, 21, 23])):
            frame = analytics.activity_heatmap(Filters.asking(period, ORG))
            assert sorted(frame.filter(pl.col("interactions") > 0)["hour"].to_list()) == hours


def test_scopes_never_share_an_entry(app, results, executions):
    # Each viewer's numbers, worked out from tests/org.py: Max sees e1-e4 and e6 (u4, u5, u2);
    # Lee sees e5 (u3); the organization all six.
    with app.app_context():
        assert totals(WEEK, MAX) == (5, 3, Decimal("1.723334"), 1)
        assert totals(WEEK, ORG) == (6, 4, Decimal("3.723334"), 1)
        assert totals(WEEK, LEE) == (1, 1, Decimal("2.000000"), 0)
        # Asked again, in another order: each is served its own answer.
        assert totals(WEEK, LEE) == (1, 1, Decimal("2.000000"), 0)
        assert totals(WEEK, ORG) == (6, 4, Decimal("3.723334"), 1)
        assert totals(WEEK, MAX) == (5, 3, Decimal("1.723334"), 1)
        # A manager narrowing to a team they do not manage gets nothing, not the organization's entry.
        assert totals(WEEK, LEE.narrow(teams=["t_eng"])) == (0, 0, Decimal("0"), 0)
    assert executions == ["summary"] * 4
    assert len(results) == 4


def test_a_managers_answer_is_not_served_to_others_through_the_callbacks(app, signed_in, results, executions):
    from callbacks.dashboard import update_kpis

    query = {"start": "2026-03-02", "end": "2026-03-08"}
    answers = {}
    for who in ("manager", "admin", "legal_manager", "manager"):
        with signed_in(who):
            answers.setdefault(who, []).append(str(update_kpis(query)))
    assert answers["manager"][0] == answers["manager"][1]
    assert len({answers["manager"][0], answers["admin"][0], answers["legal_manager"][0]}) == 3
    # The KPIs (adoption among them: the summary's answer) run the summary for the period; the week before
    # starts before each viewer's first data (no change is shown), so it is not asked: 1 query per viewer,
    # the second visit of Max's none.
    assert len([name for name in executions if name == "summary"]) == 3


def test_a_new_partition_folder_is_seen_at_once(app, data_dir, results, executions):
    with app.app_context():
        assert totals(WEEK, ORG)[0] == 6
    write_by_hand(data_dir, event_frame("n1", "2026-03-05 12:00"), "part-9.parquet")
    with app.app_context():
        assert totals(WEEK, ORG) == (7, 4, Decimal("4.723334"), 1)
    assert executions == ["summary", "summary"]


def test_a_file_copied_into_a_partition_by_hand_is_taken_in_by_flask_rollup(app, data_dir, results, executions):
    """No poll over the data folder: a file put by hand into an existing partition folder is not seen until
    `flask --app app rollup` records the folder as it is (README: "Speed at scale")."""
    with app.app_context():
        assert totals(WEEK, ORG)[0] == 6
    write_by_hand(data_dir, event_frame("n2", "2026-03-03 12:00", user="u6", team="t_legal"), "part-9.parquet")
    with app.app_context():
        assert totals(WEEK, ORG)[0] == 6  # the cached answer: nothing told the readers
    result = app.test_cli_runner().invoke(args=["rollup"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert totals(WEEK, ORG) == (7, 5, Decimal("4.723334"), 1)
    assert executions == ["summary", "summary"]


def test_the_data_version_changes_exactly_when_a_writer_changes_the_data(data_dir, tmp_path):
    """Read from the version file on each question (no thread refreshes it): the same until a write that
    changes what a question can answer, and new at once after it, in this process or another."""
    with_prices(data_dir)
    first = cache.data_version(data_dir)
    assert cache.data_version(data_dir) == first
    write_by_hand(data_dir, event_frame("n4", "2026-03-03 13:00"), "part-8.parquet")  # an existing partition
    assert cache.data_version(data_dir) == first
    source = tmp_path / "n3.jsonl"
    source.write_text(json.dumps({**RECORD, "event_id": "n3"}) + "\n")
    assert ingest_files(data_dir, [source], now=dt.datetime(2026, 3, 10, tzinfo=dt.UTC)).written == 1
    after_ingest = cache.data_version(data_dir)
    assert after_ingest != first and cache.data_version(data_dir) == after_ingest
    assert compact(data_dir)  # merges files, changes no row: the answers stand
    assert cache.data_version(data_dir) == after_ingest
    assert ingest_files(data_dir, [source], now=dt.datetime(2026, 3, 10, tzinfo=dt.UTC)).duplicates == 1
    assert cache.data_version(data_dir) == after_ingest  # a write that wrote nothing
    import_directory(data_dir, [schema.directory_dir(data_dir) / "teams.parquet"])
    assert cache.data_version(data_dir) not in (first, after_ingest)


def test_an_import_in_this_process_is_seen_at_once(app, data_dir, results, executions, tmp_path):
    with_prices(data_dir)
    with app.app_context():
        assert totals(WEEK, ORG)[0] == 6
    source = tmp_path / "n3.jsonl"
    source.write_text(json.dumps(RECORD) + "\n")
    summary = ingest_files(data_dir, [source], now=dt.datetime(2026, 3, 10, tzinfo=dt.UTC))
    assert summary.written == 1
    with app.app_context():
        assert totals(WEEK, ORG)[0] == 7
    assert executions == ["summary", "summary"]


def test_a_new_directory_file_is_seen_at_once(app, data_dir, results):
    managers = schema.directory_dir(data_dir) / "team_managers.parquet"
    with app.app_context():
        assert usage.adoption(Filters.asking(WEEK, ORG))["users_with_access"][0] == 7
    users = pl.read_parquet(schema.directory_dir(data_dir) / "users.parquet")
    extra = users.head(1).with_columns(pl.lit("u8").alias("user_id"), pl.lit("new@test.example").alias("email"))
    draft = managers.with_name(".users.tmp")
    pl.concat([users, extra]).write_parquet(draft)
    draft.rename(managers.with_name("users.parquet"))
    with app.app_context():
        assert usage.adoption(Filters.asking(WEEK, ORG))["users_with_access"][0] == 8


def test_a_frame_changed_by_its_caller_leaves_the_cached_one_alone(app, results):
    with app.app_context():
        frame = usage.interactions_by_key(Filters.asking(WEEK, ORG), "agent")
        frame.insert_column(0, pl.Series("scratch", [0, 0]))
        frame.columns = [f"x{n}" for n in range(frame.width)]
        again = usage.interactions_by_key(Filters.asking(WEEK, ORG), "agent")
    assert again.columns[0] == "key"
    assert again["interactions"].to_list() == [4, 2]


def test_errors_are_not_cached(app, data_dir, results):
    (data_dir / "rollups/cube/month=2026-03/part-0.parquet").write_bytes(b"PAR1 cut short")
    with app.app_context(), pytest.raises(db.DataFolderError):
        usage.summary(Filters.asking(WEEK, ORG))
    assert len(results) == 0


def test_the_memory_bound_evicts_the_least_recently_used_of_either_kind():
    frame = pl.DataFrame({"n": range(1000)})  # 8,000 bytes of Int64
    size = frame.estimated_size() + cache.KEY_OVERHEAD
    results = cache.ResultCache(max_bytes=3 * size)
    results.frame(("question", "a"), lambda: frame)
    results.get_or_compute(("output", "b"), lambda: cache.Kept({"figure": "b"}, size))  # a tab's output
    results.frame(("question", "c"), lambda: frame)
    assert results.kept(("question", "a")) is not cache.MISSING  # a is now the most recently used
    results.frame(("question", "d"), lambda: frame)
    assert results.kept(("output", "b")) is cache.MISSING  # the least recently used went
    assert [results.kept(("question", key)) is not cache.MISSING for key in "acd"] == [True, True, True]
    assert results.size_bytes == 3 * size <= results.max_bytes
    results.frame(("question", "huge"), lambda: pl.DataFrame({"n": range(10_000)}))  # bigger than the cache
    assert results.kept(("question", "huge")) is cache.MISSING  # not kept, and nothing went for it
    assert len(results) == 3


def test_threads_asking_the_same_question_compute_it_once(monkeypatch):
    waiting, started, release, computed = threading.Event(), threading.Event(), threading.Event(), []

    class Watched(threading.Condition):
        """The cache's condition, telling when a thread waits on it for another's answer."""

        def wait(self, timeout: float | None = None) -> bool:
            waiting.set()
            return super().wait(timeout)

    with monkeypatch.context() as patched:
        patched.setattr(cache.threading, "Condition", Watched)
        results = cache.ResultCache(max_bytes=2**20)

    def slow() -> pl.DataFrame:
        computed.append("first")
        started.set()
        assert release.wait(30)
        return pl.DataFrame({"n": [1]})

    def fast() -> pl.DataFrame:
        computed.append("second")
        return pl.DataFrame({"n": [2]})

    answers = {}
    first = threading.Thread(target=lambda: answers.setdefault(1, results.frame(("question", "q"), slow)))
    second = threading.Thread(target=lambda: answers.setdefault(2, results.frame(("question", "q"), fast)))
    first.start()
    assert started.wait(30)
    second.start()
    assert waiting.wait(30)  # the second thread waits for the first one's answer
    release.set()
    first.join(30)
    second.join(30)
    assert computed == ["first"]
    assert answers[1]["n"].to_list() == answers[2]["n"].to_list() == [1]
    assert (results.misses["question"], results.hits["question"]) == (1, 1)


def test_a_failed_computation_is_not_kept_and_the_next_asker_computes(results):
    def failing() -> pl.DataFrame:
        raise RuntimeError("unreadable")

    with pytest.raises(RuntimeError):
        results.frame(("question", "q"), failing)
    assert results.frame(("question", "q"), lambda: pl.DataFrame({"n": [3]}))["n"].to_list() == [3]
    assert len(results) == 1


def test_a_zero_limit_turns_the_cache_off(app, results, executions):
    results.max_bytes = 0
    with app.app_context():
        totals(WEEK, ORG)
        totals(WEEK, ORG)
    assert executions == ["summary", "summary"]
    assert len(results) == 0


def test_the_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setattr(cache, "_cache", None)
    monkeypatch.setenv("TELEMETRY_CACHE_MB", "3")
    assert cache.result_cache().max_bytes == 3 * 2**20
    monkeypatch.setattr(cache, "_cache", None)
    monkeypatch.delenv("TELEMETRY_CACHE_MB")
    assert cache.result_cache().max_bytes == cache.DEFAULT_MB * 2**20


def test_org_fixture_unchanged():
    assert len(org.EVENTS) == 9  # the expectations above count on tests/org.py as it is


def test_a_finished_answer_is_kept_finished_per_what_it_depends_on(app, results, executions):
    finished: list[object] = []

    def finish(frame: pl.DataFrame) -> pl.DataFrame:
        finished.append(frame.height)
        return frame.with_columns(pl.lit("done").alias("state"))

    params = Filters.asking(WEEK, ORG).params()
    with app.app_context():
        first = queries.run("summary", params, then=finish, then_depends_on=("monday",))
        again = queries.run("summary", params, then=finish, then_depends_on=("monday",))
        other_day = queries.run("summary", params, then=finish, then_depends_on=("tuesday",))
        plain = queries.run("summary", params)
    assert first["state"].to_list() == again["state"].to_list() == other_day["state"].to_list() == ["done"]
    assert finished == [1, 1]  # once per day it depends on; the repeat came finished from the cache
    assert "state" not in plain.columns and executions == ["summary", "summary", "summary"]


@pytest.mark.parametrize(("setting", "limit"), [("", 192 * 2**20), ("0", 0), ("1.5", int(1.5 * 2**20))])
def test_the_cache_reads_its_setting_as_the_start_up_check_does(monkeypatch, setting, limit):
    """An empty TELEMETRY_CACHE_MB is unset at start (the default), so it must be here too, not a crash."""
    monkeypatch.setenv("TELEMETRY_CACHE_MB", setting)
    monkeypatch.setattr(cache, "_cache", None)
    assert cache.result_cache().max_bytes == limit
