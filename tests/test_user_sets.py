"""Distinct users from the rollups' bitmaps: the units that cover a period, and bitmaps that grow."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from data import schema
from data.rollups.manifest import read_manifest
from queries.period import Period
from queries.scope import Scope
from tests import org
from tests.test_ingest import event, jsonl, with_prices
from tests.test_rollups import TZ, _app, assert_rollups_answer_as_raw

GRAINS = ("period", "day", "week", "month")


def _periods() -> list[tuple[dt.date, dt.date]]:
    starts = [dt.date(2025, 12, 1), dt.date(2025, 12, 6), dt.date(2026, 2, 23), dt.date(2026, 3, 31)]
    lengths = [1, 6, 7, 13, 28, 31, 45, 92, 365, 400]
    return [(start, start + dt.timedelta(days=n - 1)) for start in starts for n in lengths]


def _bucket(day: dt.date, start: dt.date, grain: str) -> dt.date:
    if grain == "period":
        return start
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def _days_of(kind: str, first: dt.date) -> set[dt.date]:
    if kind == "day":
        return {first}
    if kind == "week":
        return {first + dt.timedelta(days=i) for i in range(7)}
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return {first + dt.timedelta(days=i) for i in range((following - first).days)}


@pytest.mark.parametrize("grain", GRAINS)
def test_the_units_of_each_bucket_cover_exactly_its_days_in_the_period(grain: str) -> None:
    for start, end in _periods():
        rows = [(unit["bucket"], unit["kind"], unit["start"]) for unit in Period(start, end).units(grain)]
        wanted: dict[dt.date, set[dt.date]] = {}
        for i in range((end - start).days + 1):
            day = start + dt.timedelta(days=i)
            wanted.setdefault(_bucket(day, start, grain), set()).add(day)
        covered: dict[dt.date, set[dt.date]] = {}
        for bucket, kind, first in rows:
            covered.setdefault(bucket, set()).update(_days_of(kind, first))
        assert covered == wanted, (start, end, grain)


def test_whole_months_and_weeks_are_one_unit_each() -> None:
    rows = Period(dt.date(2025, 12, 6), dt.date(2026, 12, 5)).units("period")
    kinds = [unit["kind"] for unit in rows]
    assert kinds.count("month") == 11  # January to November 2026
    assert kinds.count("day") <= 12  # only the ends' partial weeks
    assert len(rows) < 30


def test_new_people_beyond_the_bitmaps_length_are_counted(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    app = _app(folder, TZ)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["rollup"]).exit_code == 0
    before = read_manifest(folder)["capacity"]
    users_file = schema.directory_dir(folder) / "users.parquet"
    joined = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    people = [(f"newcomer-{i:03}", f"N {i}", f"n{i}@x", "t_eng", "member", joined, True) for i in range(before + 1)]
    added = pl.concat([pl.read_parquet(users_file), pl.DataFrame(people, schema=schema.USERS, orient="row")])
    added.write_parquet(users_file)
    newcomers = [event(f"new-{i}", "2026-03-10T15:00:00Z", user_id=f"newcomer-{i:03}") for i in range(before + 1)]
    result = runner.invoke(args=["ingest", str(jsonl(tmp_path / "new.jsonl", *newcomers))])
    assert result.exit_code == 0, result.output
    assert read_manifest(folder)["capacity"] > before
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), TZ)
    assert_rollups_answer_as_raw(app, "newcomer-001", period, (Scope.organization(), Scope.teams(["t_eng"])))


def test_updates_and_rebuilds_keep_the_codes_people_had(tmp_path: Path) -> None:
    """A newcomer is appended, and keeps their code through a full rebuild (a fresh numbering would put
    them first: their team and id sort first); a reader may pair one build's bitmaps with the next's codes."""
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    app = _app(folder, TZ)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["rollup"]).exit_code == 0
    codes_file = folder / "rollups" / "user_codes.parquet"
    codes = pl.read_parquet(codes_file)
    users_file = schema.directory_dir(folder) / "users.parquet"
    users = pl.read_parquet(users_file)
    first_team = users["team_id"].drop_nulls().min()
    joined = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    row = ("0000-new", "N", "n@x", first_team, "member", joined, True)
    newcomer = pl.DataFrame([row], schema=schema.USERS, orient="row")
    pl.concat([users, newcomer]).write_parquet(users_file)
    batch = jsonl(tmp_path / "new.jsonl", event("new-1", "2026-03-10T15:00:00Z", user_id="0000-new"))
    assert runner.invoke(args=["ingest", str(batch)]).exit_code == 0
    updated = pl.read_parquet(codes_file)
    assert updated.head(codes.height).equals(codes)
    assert updated.row(-1) == ("0000-new", codes.height)
    assert runner.invoke(args=["rollup"]).exit_code == 0
    assert pl.read_parquet(codes_file).equals(updated)
    assert json.loads((folder / "rollups" / "manifest.json").read_text())["capacity"] % 64 == 0
