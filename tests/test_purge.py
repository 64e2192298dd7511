"""`flask --app app purge` (data/ingest/purge.py) on the tiny org: each selector removes exactly the events
worked out by hand below, dry runs and refusals change nothing, dates are rewritten atomically, the
rollups follow, the audit log records it, and an erased person leaves no copy behind."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data import schema
from data.ingest import purge, storage
from data.rollups import build as rollup
from queries import cache as query_cache
from queries import usage
from queries.filters import Filters
from queries.period import Period
from queries.scope import Scope
from tests import org
from tests.oracle import raw_events
from tests.test_ingest import assert_readable, event, events, jsonl, with_prices
from tests.test_rollups import TZ, _app, assert_rollups_answer_as_raw

ALL = [e[0] for e in org.EVENTS]  # e0 .. e8; see tests/org.py for their dates, users and costs


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The tiny org with prices and rollups in New York time (local days straddle UTC dates)."""
    data_dir = tmp_path / "data"
    org.write_rolled_up(data_dir, org.write_org, with_prices, tz=TZ)
    return data_dir


@pytest.fixture
def cli(folder: Path):
    return _app(folder, TZ).test_cli_runner()


def left(data_dir: Path) -> list[str]:
    return sorted(events(data_dir)["event_id"].to_list())


def snapshot(data_dir: Path) -> dict[str, bytes]:
    """Every file of the data folder but the lock and the accounts database, with its bytes."""
    return {
        str(p.relative_to(data_dir)): p.read_bytes()
        for p in sorted(data_dir.rglob("*"))
        if p.is_file() and p.name != storage.LOCK_FILE and not p.name.startswith("telemetry.sqlite")
    }


def audit_entries(runner, action: str = "purge_events") -> list[dict]:
    result = runner.invoke(args=["audit", "--json"])
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in result.output.splitlines()]
    return [e for e in entries if e["action"] == action]


# --- Selectors -------------------------------------------------------------------------------------


def _ids_file(tmp_path: Path) -> list[str]:
    (tmp_path / "ids.txt").write_text("e1\n\n  e7  \nnot-an-event\n")
    return ["--event-ids", str(tmp_path / "ids.txt")]


def _jsonl_source(tmp_path: Path) -> list[str]:
    # e2 as ingest would take it; e5's record breaks the contract (it went to quarantine, or came
    # from elsewhere): its id is still in the file, so it is selected too
    bad = event("e5", input_tokens=-1)
    return ["--source", str(jsonl(tmp_path / "bad.jsonl", event("e2"), bad, "not json"))]


def _csv_source(tmp_path: Path) -> list[str]:
    path = tmp_path / "bad.csv"
    path.write_text("event_id,ts,user_id\ne3,2026-03-03T09:00:00Z,u5\ne4,,\n")
    return ["--source", str(path)]


def _parquet_source(tmp_path: Path) -> list[str]:
    path = tmp_path / "bad.parquet"
    org.events_frame().filter(pl.col("event_id").is_in(["e6", "e8"])).write_parquet(path)
    return ["--source", str(path)]


def _txt_source_with_format(tmp_path: Path) -> list[str]:
    path = jsonl(tmp_path / "export.txt", event("e0"))
    return ["--source", str(path), "--format", "jsonl"]


SELECTIONS = {
    "event ids": (lambda _: ["--event-id", "e1", "--event-id", "e7", "--event-id", "nope"], ["e1", "e7"]),
    "event ids and a file of them": (
        lambda t: ["--event-id", "e0", *_ids_file(t)],
        ["e0", "e1", "e7"],
    ),
    "a jsonl source": (_jsonl_source, ["e2", "e5"]),
    "a csv source": (_csv_source, ["e3", "e4"]),
    "a parquet source": (_parquet_source, ["e6", "e8"]),
    "a source with --format": (_txt_source_with_format, ["e0"]),
    "a user": (lambda _: ["--user", "u5"], ["e3", "e7", "e8"]),
    "a UTC date range, inclusive": (lambda _: ["--from", "2026-03-03", "--to", "2026-03-08"], ["e3", "e4", "e5", "e6"]),
    "from a date on": (lambda _: ["--from", "2026-03-08"], ["e6", "e7", "e8"]),
    "up to a date": (lambda _: ["--to", "2026-03-02"], ["e0", "e1", "e2"]),
    # AND: u4's events in 2026-03-02..08 (not e0, before), and of those only the ids listed
    "a user and a range": (
        lambda _: ["--user", "u4", "--from", "2026-03-02", "--to", "2026-03-08"],
        ["e1", "e2", "e6"],
    ),
    "ids, a user and a range": (
        lambda _: ["--event-id", "e1", "--event-id", "e3", "--event-id", "e6", "--user", "u4", "--to", "2026-03-07"],
        ["e1"],
    ),
    "a user with nothing in the range": (lambda _: ["--user", "u3", "--to", "2026-03-01"], []),
    "a directory user without events": (lambda _: ["--user", "u6"], []),
}


@pytest.mark.parametrize("name", SELECTIONS)
def test_each_selector_removes_exactly_its_events(cli, folder: Path, tmp_path: Path, name: str) -> None:
    make_args, removed = SELECTIONS[name]
    result = cli.invoke(args=["purge", *make_args(tmp_path)])
    assert result.exit_code == 0, result.output
    assert left(folder) == sorted(set(ALL) - set(removed))
    assert f"Purged {len(removed)} interactions" in result.output
    assert_readable(folder)


def test_a_dry_run_prints_what_would_go_and_changes_nothing(cli, folder: Path) -> None:
    before = snapshot(folder)
    result = cli.invoke(args=["purge", "--user", "u4", "--dry-run"])
    assert result.exit_code == 0, result.output
    # u4: e0 on 02-25 ($0.05), e1 and e2 on 03-02 ($0.10 + $0.25), e6 on 03-08 ($0.04)
    assert result.output.splitlines() == [
        "2026-02-25: 1 interactions, $0.050000 (date left empty)",
        "2026-03-02: 2 interactions, $0.350000 (date left empty)",
        "2026-03-08: 1 interactions, $0.040000 (date left empty)",
        "Dry run: would remove 4 interactions ($0.440000) from 3 UTC dates; nothing changed.",
    ]
    assert snapshot(folder) == before
    assert audit_entries(cli) == []


def test_the_summary_counts_and_costs_per_utc_date(folder: Path) -> None:
    selection = purge.Selection(user_id="u5")
    done = purge.purge(folder, selection, TZ)
    # u5: e3 on 03-03 ($1.000001, e4 stays), e7 and e8 on 03-09 ($0.50 + $0.70)
    assert done.dates == (
        purge.DatePurge("2026-03-03", 1, Decimal("1.000001"), 1),
        purge.DatePurge("2026-03-09", 2, Decimal("1.200000"), 0),
    )
    assert (done.events, done.cost_usd) == (3, Decimal("2.200001"))
    assert done.rollups is not None and done.rollups.days == 6  # 03-02..04 and 03-08..10, local days


def test_a_date_left_empty_loses_its_folder_and_the_others_keep_their_rows(cli, folder: Path) -> None:
    result = cli.invoke(args=["purge", "--event-id", "e0", "--event-id", "e3"])
    assert result.exit_code == 0, result.output
    assert "2026-02-25: 1 interactions, $0.050000 (date left empty)" in result.output
    assert "2026-03-03: 1 interactions, $1.000001 (1 left)" in result.output
    assert not schema.partition_dir(folder, "2026-02-25").exists()
    (kept,) = schema.partition_dir(folder, "2026-03-03").glob("*.parquet")
    # the row kept is the same row, every column, with the contract's types
    expected = org.events_frame().filter(pl.col("event_id") == "e4")
    assert_frame_equal(pl.read_parquet(kept, hive_partitioning=False), expected)
    hidden = [p for p in schema.events_dir(folder).rglob("*") if p.name.startswith(".")]
    assert hidden == []


def test_dates_without_selected_rows_are_not_rewritten(cli, folder: Path) -> None:
    untouched = schema.partition_dir(folder, "2026-03-04") / "part-0.parquet"
    inode = untouched.stat().st_ino
    assert cli.invoke(args=["purge", "--user", "u4"]).exit_code == 0
    assert untouched.stat().st_ino == inode


# --- Rollups and audit ----------------------------------------------------------------------------


def _rollup_frames(data_dir: Path) -> dict[str, pl.DataFrame]:
    """Each rollup table's rows, all months together (a month emptied by a purge keeps an empty file)."""
    return {
        table: pl.concat([pl.read_parquet(p) for p in sorted((data_dir / "rollups" / table).glob("month=*/*.parquet"))])
        for table in rollup.TABLES
    }


@pytest.mark.parametrize(
    "args",
    [["--user", "u4"], ["--from", "2026-03-03", "--to", "2026-03-03"], ["--event-id", "e5", "--event-id", "e8"]],
)
def test_the_rollups_after_a_purge_equal_a_full_rebuild(folder: Path, tmp_path: Path, args: list[str]) -> None:
    app = _app(folder, TZ)
    result = app.test_cli_runner().invoke(args=["purge", *args])
    assert result.exit_code == 0, result.output
    assert "rollups: " in result.output
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(folder, rebuilt)
    shutil.rmtree(rebuilt / "rollups")
    rollup.build(rebuilt, TZ)
    for table, frame in _rollup_frames(folder).items():
        assert_frame_equal(frame, _rollup_frames(rebuilt)[table], check_row_order=False)
    period = Period(dt.date(2026, 2, 1), dt.date(2026, 3, 31), TZ)
    assert_rollups_answer_as_raw(app, "u4", period, (Scope.organization(), Scope.teams(["t_eng"])))


def test_a_purge_is_audited_with_its_selectors_and_counts(cli, folder: Path, tmp_path: Path) -> None:
    result = cli.invoke(args=["purge", "--user", "u5", "--to", "2026-03-08", *_ids_file(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Purged 0 interactions ($0.000000) from 0 UTC dates."
    result = cli.invoke(args=["purge", "--user", "u5", "--from", "2026-03-09"])
    assert result.output.splitlines()[-1] == "Purged 2 interactions ($1.200000) from 1 UTC dates."
    newest, first = audit_entries(cli)
    assert newest["actor"] == "cli"
    assert newest["detail"] == {
        "selectors": {"user": "u5", "from": "2026-03-09"},
        "events": 2,
        "cost_usd": "1.200000",
        "utc_dates": 1,
        "first_date": "2026-03-09",
        "last_date": "2026-03-09",
    }
    selectors = {"user": "u5", "to": "2026-03-08", "event_ids": 3, "event_ids_file": str(tmp_path / "ids.txt")}
    assert first["detail"]["selectors"] == selectors and first["detail"]["events"] == 0


def test_a_failed_rollup_update_leaves_the_purge_done_and_audited(cli, folder: Path, monkeypatch) -> None:
    def broken(*args, **kwargs) -> None:
        raise RuntimeError("Overflow in SUM")

    monkeypatch.setattr(rollup, "build", broken)
    result = cli.invoke(args=["purge", "--event-id", "e5"])
    assert result.exit_code == 1
    assert "rollups: not updated (Overflow in SUM)" in result.output
    assert result.output.splitlines()[-1] == "Purged 1 interactions ($2.000000) from 1 UTC dates."
    assert "e5" not in left(folder)
    (entry,) = audit_entries(cli)
    assert entry["detail"]["events"] == 1
    assert audit_entries(cli, "purge_rollups_failed")[0]["detail"] == {"error": "Overflow in SUM"}


def test_a_purge_is_audited_before_and_as_soon_as_the_files_change(cli, folder: Path, monkeypatch) -> None:
    """Recorded under the writer's lock, before the rollups: a process killed after the swap left its trace."""
    def killed(*args, **kwargs) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(rollup, "build", killed)
    result = cli.invoke(args=["purge", "--event-id", "e5"])
    assert result.exit_code != 0  # click turns the interrupt into an abort
    assert "e5" not in left(folder)
    assert [e["detail"]["events"] for e in audit_entries(cli, "purge_started")] == [0]
    assert [e["detail"]["events"] for e in audit_entries(cli)] == [1]


# --- Refusals --------------------------------------------------------------------------------------


def _empty_ids(tmp_path: Path) -> list[str]:
    (tmp_path / "none.txt").write_text("\n  \n")
    return ["--event-ids", str(tmp_path / "none.txt")]


REFUSALS = {
    "no selector": (lambda _: [], "no selector"),
    "only --dry-run": (lambda _: ["--dry-run"], "no selector"),
    "unknown user": (lambda _: ["--user", "u99"], "unknown user 'u99'"),
    "backwards range": (lambda _: ["--from", "2026-03-05", "--to", "2026-03-04"], "--from 2026-03-05 is after --to"),
    "missing id file": (lambda t: ["--event-ids", str(t / "missing.txt")], "missing.txt: no such file"),
    "empty id file": (_empty_ids, "names no event id"),
    "missing source": (lambda t: ["--source", str(t / "missing.jsonl")], "missing.jsonl: no such file"),
    "source of unknown format": (
        lambda t: ["--source", str(jsonl(t / "x.txt", event("e1")))],
        "cannot tell the format",
    ),
    "source without ids": (lambda t: ["--source", str(jsonl(t / "empty.jsonl", "{}"))], "no event ids found"),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_a_refused_purge_says_why_in_one_line_and_changes_nothing(cli, folder: Path, tmp_path: Path, name) -> None:
    make_args, message = REFUSALS[name]
    before = snapshot(folder)
    result = cli.invoke(args=["purge", *make_args(tmp_path)])
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 1 and message in result.output, result.output
    assert snapshot(folder) == before
    assert audit_entries(cli) == []


def test_a_user_already_removed_from_the_directory_can_still_be_purged(cli, folder: Path) -> None:
    users = pl.read_parquet(folder / "directory" / "users.parquet").filter(pl.col("user_id") != "u5")
    users.write_parquet(folder / "directory" / "users.parquet")
    result = cli.invoke(args=["purge", "--user", "u5"])
    assert result.exit_code == 0, result.output
    assert left(folder) == sorted(set(ALL) - {"e3", "e7", "e8"})


# --- Atomicity and erasure ------------------------------------------------------------------------


def test_a_failure_between_dates_leaves_each_date_old_or_new(folder: Path, monkeypatch) -> None:
    original = purge._swap_folders
    swaps = []

    def fail_on_second(new: Path, current: Path) -> None:
        swaps.append(current.name)
        if len(swaps) == 2:
            raise OSError("disk full")
        original(new, current)

    monkeypatch.setattr(purge, "_swap_folders", fail_on_second)
    with pytest.raises(OSError, match="disk full"):
        purge.purge(folder, purge.Selection(user_id="u4"), TZ)
    assert_readable(folder)
    # u4's dates in order: 02-25 (done: e0 gone), 03-02 (failed: e1, e2 still there), 03-08 (not begun)
    assert left(folder) == sorted(set(ALL) - {"e0"})
    monkeypatch.setattr(purge, "_swap_folders", original)
    again = purge.purge(folder, purge.Selection(user_id="u4"), TZ)  # the next writer clears the staging
    assert again.events == 3 and left(folder) == sorted(set(ALL) - {"e0", "e1", "e2", "e6"})
    assert [p.name for p in (folder / storage.STAGING).iterdir() if not p.name.startswith(storage.RETIRED)] == []


def test_the_fallback_swap_gives_the_same_result(folder: Path, monkeypatch) -> None:
    monkeypatch.setattr(purge, "_swap_folders", storage._swap_by_renames)
    purge.purge(folder, purge.Selection(first=dt.date(2026, 3, 3), last=dt.date(2026, 3, 4)), TZ)
    assert left(folder) == sorted(set(ALL) - {"e3", "e4", "e5"})
    assert not schema.partition_dir(folder, "2026-03-03").exists()


def test_an_erased_person_leaves_no_copy_once_the_old_files_are_retired(
    cli, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.invoke(args=["purge", "--user", "u4"]).exit_code == 0
    monkeypatch.setattr(storage, "RETIRE_SECONDS", 0)  # "a minute later"
    assert cli.invoke(args=["rollup"]).exit_code == 0  # as the docs say: clears the retired files
    for path in folder.rglob("*.parquet"):
        frame = pl.read_parquet(path, hive_partitioning=False)
        if "user_id" in frame.columns and path.parent.name != "directory":
            assert "u4" not in frame["user_id"].to_list(), path


def test_the_running_app_answers_after_every_event_is_purged(folder: Path) -> None:
    app = _app(folder, TZ)
    period = Period(dt.date(2026, 2, 1), dt.date(2026, 3, 31), TZ)
    with app.app_context(), query_cache.bypassed():
        assert usage.summary(Filters.asking(period, Scope.organization()))["interactions"][0] == len(ALL)
    purge.purge(folder, purge.Selection(first=dt.date(2000, 1, 1)), TZ)  # as another process would
    assert not any(schema.events_dir(folder).iterdir())
    with app.app_context(), query_cache.bypassed(), raw_events():  # a new request: no "unreadable file"
        assert usage.summary(Filters.asking(period, Scope.organization()))["interactions"][0] == 0
