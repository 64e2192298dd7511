"""The data folder as it really is: files that arrive late, repeat a key, cannot be read, or are very old.

Starts from the tiny org (tests/org.py) and changes one thing per test; expected numbers by hand.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import queries
from data import schema
from queries import analytics, billing, directory, usage, users
from queries.db import DataFolderError
from queries.filters import Filters
from queries.period import Period
from queries.scope import Scope
from tests import dash_payloads as dp
from tests import org
from tests.conftest import AuthActions, make_app
from tests.test_access import dependencies

ORG = Scope.organization()
WEEK = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8))  # UTC: e1..e6
NY = "America/New_York"
BY_HAND = "outside Telemetry's writer"
BAD_FILE = "events/utc_date=2026-03-10/zz-bad.parquet"  # a date of its own: copied in by hand


def write_atomically(frame: pl.DataFrame, path: Path) -> None:
    draft = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(draft)
    draft.rename(path)


def write_corrupt_event_file(data_dir: Path) -> None:
    (data_dir / BAD_FILE).parent.mkdir()
    (data_dir / BAD_FILE).write_bytes(b"PAR1 this was cut short while copying")


def write_stray_event(data_dir: Path, at: dt.datetime) -> None:
    """One event of Mia's from a machine whose clock was not set."""
    row = (
        org.events_frame()
        .filter(pl.col("event_id") == "e1")
        .with_columns(pl.lit("stray").alias("event_id"), pl.lit(at).cast(schema.UTC_TS).alias("ts"))
    )
    folder = schema.partition_dir(data_dir, at.date().isoformat())
    folder.mkdir(parents=True)
    row.write_parquet(folder / "part-0.parquet")


@pytest.fixture
def context(app):
    with app.app_context():
        yield


# A directory file that appears after the app started


def test_a_directory_file_added_after_start_is_read(data_dir, password_hash):
    teams = schema.directory_dir(data_dir) / "teams.parquet"
    teams.unlink()
    app = make_app(data_dir, password_hash)
    with app.app_context():
        assert directory.teams_in_scope(ORG).is_empty()
        by_team = usage.interactions_by_key(Filters.asking(WEEK, ORG), "team")
        assert by_team["label"].to_list() == ["t_eng", "t_legal", "t_sales"]
    write_atomically(pl.DataFrame(org.TEAMS, schema=schema.TEAMS, orient="row"), teams)
    with app.app_context():  # the next request
        assert directory.teams_in_scope(ORG)["name"].to_list() == ["Engineering", "Legal", "Sales"]
        by_team = usage.interactions_by_key(Filters.asking(WEEK, ORG), "team")
        assert by_team["label"].to_list() == ["Engineering", "Legal", "Sales"]


def test_concurrent_first_requests_open_one_database(app, monkeypatch):
    opened = []
    callers = threading.Semaphore(0)

    class SlowToOpen(queries.Database):
        def __init__(self, *args, **kwargs) -> None:
            opened.append(self)
            for _ in range(4):  # every thread has called database() before the first one opens it
                assert callers.acquire(timeout=120), "a thread never asked for the database"
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(queries, "Database", SlowToOpen)
    app.extensions.pop("telemetry_db", None)
    got = []

    def first_request() -> None:
        with app.app_context():
            callers.release()
            got.append(queries.database())

    threads = [threading.Thread(target=first_request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(opened) == 1 and all(db is opened[0] for db in got)


# Directory files that repeat a key (import-directory refuses them; a hand-made file may not)


@pytest.fixture
def repeated_keys(data_dir: Path) -> Path:
    folder = schema.directory_dir(data_dir)
    teams = [*org.TEAMS, ("t_eng", "Engineering (old name)")]
    pl.DataFrame(teams, schema=schema.TEAMS, orient="row").write_parquet(folder / "teams.parquet")
    created = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    agents = [(a, n, t, created) for a, n, t in [*org.AGENTS, ("a_code", "Code Helper", "t_eng")]]
    pl.DataFrame(agents, schema=schema.AGENTS, orient="row").write_parquet(folder / "agents.parquet")
    people = pl.read_parquet(folder / "users.parquet")
    pl.concat([people, people.filter(pl.col("user_id") == "u4")]).write_parquet(folder / "users.parquet")
    managers = [*org.TEAM_MANAGERS, ("u2", "t_eng")]
    pl.DataFrame(managers, schema=schema.TEAM_MANAGERS, orient="row").write_parquet(folder / "team_managers.parquet")
    return data_dir


@pytest.fixture
def app_with_repeats(repeated_keys, password_hash):
    app = make_app(repeated_keys, password_hash)
    with app.app_context():
        yield app


@pytest.mark.usefixtures("app_with_repeats")
def test_a_repeated_key_is_one_row_and_counts_once():
    assert usage.interactions_by_key(Filters.asking(WEEK, ORG), "team").rows() == [
        ("t_eng", "Engineering", 4, 2, Decimal("0.723333")),  # e1 e2 e4 e6, by Mia and Max
        ("t_legal", "Legal", 1, 1, Decimal("2.000000")),
        ("t_sales", "Sales", 1, 1, Decimal("1.000001")),
    ]
    assert usage.interactions_by_key(Filters.asking(WEEK, ORG), "agent").rows() == [
        ("a_code", "Code Helper", 4, 2, Decimal("1.390001")),
        ("a_draft", "Drafting", 2, 2, Decimal("2.333333")),
    ]
    assert usage.interactions_by_key(Filters.asking(WEEK, ORG), "user").filter(pl.col("key") == "u4").rows() == [
        ("u4", "Mia Member", 3, 1, Decimal("0.390000"))
    ]
    cost = billing.cost_by_key(Filters.asking(WEEK, ORG), "team")
    assert cost["key"].to_list() == ["t_legal", "t_sales", "t_eng"]
    assert cost["cost_usd"].sum() == Decimal("3.723334")
    assert billing.cost_by_key(Filters.asking(WEEK, ORG), "agent")["key"].to_list() == ["a_draft", "a_code"]


@pytest.mark.usefixtures("app_with_repeats")
def test_a_repeated_person_is_one_member():
    teams = analytics.team_stats(Filters.asking(WEEK, ORG))
    assert teams.select("key", "members", "interactions").rows() == [
        ("t_eng", 4, 4),  # Ada, Max, Mia, Ivy
        ("t_legal", 2, 1),
        ("t_sales", 1, 1),
    ]
    assert directory.teams_in_scope(ORG).rows() == [("t_eng", "Engineering", 4), ("t_legal", "Legal", 2),
                                                    ("t_sales", "Sales", 1)]  # fmt: skip
    assert usage.adoption(Filters.asking(WEEK, ORG)).rows() == [(4, 7)]  # Mia, Sam, Max, Lee of the 7 people
    assert analytics.agent_stats(Filters.asking(WEEK, ORG))["key"].to_list() == ["a_code", "a_draft"]
    assert users.user_agents(Filters.asking(WEEK, ORG), "u4").select("agent_id", "agent", "interactions").rows() == [
        ("a_code", "Code Helper", 3)
    ]
    assert directory.managed_team_ids("u2") == ["t_eng", "t_sales"]
    over_time = analytics.interactions_over_time_by(Filters.asking(WEEK, ORG, "day"), "team")
    assert over_time.height == 7 * 3 and over_time["interactions"].sum() == 6
    labels = analytics.filter_labels(ORG.narrow(["t_eng"], ["a_code"]))
    assert labels.rows() == [("agent", "a_code", "Code Helper"), ("team", "t_eng", "Engineering")]


# Files that cannot be read


def test_only_parquet_files_in_partition_folders_are_events(data_dir, password_hash):
    (schema.partition_dir(data_dir, "2026-03-02") / "notes.txt").write_text("checked by Max")
    backup = schema.events_dir(data_dir) / "backup"
    backup.mkdir()
    (backup / "part-0.parquet").write_bytes(
        (schema.partition_dir(data_dir, "2026-03-02") / "part-0.parquet").read_bytes()
    )
    app = make_app(data_dir, password_hash)
    with app.app_context():
        assert usage.summary(Filters.asking(WEEK, ORG))["interactions"][0] == 6


def test_an_unreadable_event_file_is_named(data_dir, password_hash):
    write_corrupt_event_file(data_dir)
    app = make_app(data_dir, password_hash)
    with app.app_context():  # the rollups must take in the new date: their rebuild names the file
        with pytest.raises(DataFolderError, match=f"^The data folder has an unreadable file: {BAD_FILE}$"):
            usage.summary(Filters.asking(WEEK, ORG))
        assert BY_HAND in queries.data_notice()  # and the pages say why there is no figure
    shutil.rmtree((data_dir / BAD_FILE).parent)  # taken away by someone: the next question rebuilds them
    with app.app_context():
        assert usage.summary(Filters.asking(WEEK, ORG))["interactions"][0] == 6
        assert queries.data_notice() is None


def test_an_unreadable_first_event_file_is_named(data_dir, password_hash):
    bad = schema.events_dir(data_dir) / "utc_date=2000-01-01" / "bad.parquet"  # before every other date: the
    bad.parent.mkdir()  # first file of all, whose footer the events view looks at
    bad.write_bytes(b"PAR1 this was cut short while copying")
    app = make_app(data_dir, password_hash)
    named = "unreadable file: events/utc_date=2000-01-01/bad.parquet$"
    with app.app_context(), pytest.raises(DataFolderError, match=named):
        usage.summary(Filters.asking(WEEK, ORG))


def test_an_unreadable_directory_file_is_named(data_dir, password_hash):
    (schema.directory_dir(data_dir) / "teams.parquet").write_bytes(b"team_id,name\nt_eng,Engineering\n")
    app = make_app(data_dir, password_hash)
    with app.app_context(), pytest.raises(DataFolderError, match="unreadable file: directory/teams.parquet"):
        directory.teams_in_scope(ORG)


def test_the_api_answers_503_naming_the_file(data_dir, password_hash):
    write_corrupt_event_file(data_dir)
    client = make_app(data_dir, password_hash).test_client()
    AuthActions(client).login("admin")
    response = client.get("/api/v1/summary?start=2026-03-02&end=2026-03-08")
    assert response.status_code == 503
    assert response.get_json() == {"error": f"The data folder has an unreadable file: {BAD_FILE}"}


def test_the_pages_name_the_file(data_dir, password_hash):
    write_corrupt_event_file(data_dir)
    app = make_app(data_dir, password_hash)
    deps = dependencies(app)
    client = app.test_client()
    AuthActions(client).login("admin")
    body = dp.payload(
        dp.find(deps, "dashboard-kpis"), {"dashboard-query.data": {"start": "2026-03-02", "end": "2026-03-08"}}
    )
    response = dp.post(client, body)
    assert response.status_code == 200
    alert = response.get_json()["sideUpdate"]["shell-error"]["children"]["props"]
    assert alert["children"] == f"The data folder has an unreadable file: {BAD_FILE}. Tell your administrator."


# The first and last day with data ("All time", the billing periods): exact, without reading every event


@pytest.mark.parametrize(
    ("scope", "tz", "bounds"),
    [
        (ORG, "UTC", ("2026-02-25", "2026-03-09")),
        (ORG, NY, ("2026-02-25", "2026-03-09")),  # e8 at 04:30 UTC is 00:30 EDT on 9 March
        (Scope.teams({"t_legal"}), "UTC", ("2026-03-04", "2026-03-04")),  # e5 only
        (Scope.teams({"t_legal"}), NY, ("2026-03-03", "2026-03-03")),  # 21:00 the evening before
        (ORG.narrow(agents=["a_draft"]), "UTC", ("2026-03-03", "2026-03-04")),  # e4, e5
        (Scope.teams({"t_sales"}), NY, ("2026-03-03", "2026-03-09")),  # e3, e7, e8
        (Scope.teams({"t_eng", "t_sales"}), "UTC", ("2026-02-25", "2026-03-09")),
        (Scope.teams(()), "UTC", (None, None)),
    ],
)
def test_data_bounds_are_exact_in_every_scope(data_dir, password_hash, scope, tz, bounds):
    schema.partition_dir(data_dir, "2026-01-01").mkdir()  # an empty partition folder comes first
    with make_app(data_dir, password_hash).app_context():
        found = usage.data_bounds(scope, tz).row(0)
    assert found == tuple(dt.date.fromisoformat(day) if day else None for day in bounds)


def test_data_bounds_come_from_the_rollups_and_open_no_event_file(data_dir, password_hash):
    # put by hand into a partition the rollups hold (not seen until `flask rollup`): never opened
    (data_dir / "events/utc_date=2026-03-03/zz-bad.parquet").write_bytes(b"PAR1 this was cut short while copying")
    with make_app(data_dir, password_hash).app_context():
        assert usage.data_bounds(ORG, "UTC").row(0) == (dt.date(2026, 2, 25), dt.date(2026, 3, 9))


# One very old event


def test_one_very_old_event_breaks_nothing(data_dir, password_hash):
    write_stray_event(data_dir, dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    app = make_app(data_dir, password_hash)
    with app.app_context():
        assert usage.data_bounds(ORG, "UTC").row(0) == (dt.date(1970, 1, 1), dt.date(2026, 3, 9))
    deps = dependencies(app)
    client = app.test_client()
    AuthActions(client).login("admin")
    filters = dp.find(deps, r"^\.\.shell-location\.search\.\.\.filter-preset")
    shared_link = {"shell-location.search": "?start=2026-03-02&end=2026-03-08", "shell-location.pathname": "/telemetry"}
    body = dp.payload(filters, shared_link)
    body["changedPropIds"] = ["shell-location.search"]
    response = dp.post(client, body)
    assert response.status_code == 200
    assert response.get_json()["response"]["filter-preset"]["value"] == "custom"
    options = dp.post(client, dp.payload(dp.find(deps, "billing-period.options"), {"billing-query.data": {}}))
    periods = options.get_json()["response"]["billing-period"]["options"]
    assert len(periods) == 36 and periods[0]["label"].endswith("(current)")
