"""`active_windows` (data/rollups/windows.py): the active-people curves it answers are the raw events',
and a write that touches a few days leaves it as a full build would."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import queries
from data import schema
from data.rollups import build as rollup
from data.rollups.manifest import WINDOWS, rollups_dir
from data.rollups.windows import active_windows
from queries import adoption
from queries import cache as query_cache
from queries.filters import Filters
from queries.scope import Scope
from tests.oracle import raw_events
from tests.test_rollups import END, TZ, _add_events, _app, _copy, _periods, _same, _teams_and_agents, demo_dir  # noqa: F401


def _scopes(teams: list[str], agents: list[str]) -> list[Scope]:
    """Scopes whose keys are one group of `active_windows` for some groupings, and two that are not."""
    organization = Scope.organization()
    return [
        organization,
        Scope.teams(teams[1:2]),
        Scope.teams(teams[:3]),
        organization.narrow(agents=agents[2:3]),
        organization.narrow(agents=agents[:2]),
        Scope.teams(teams[:1]).narrow(agents=agents[:1]),
        Scope.teams([]),
    ]


# Each scope over the 30 days across the DST change, the organization over every period too; every scope over every
# period in `make test-long`.
@pytest.mark.parametrize("every_pair", [False, pytest.param(True, marks=pytest.mark.long)])
def test_the_active_people_curves_answer_as_the_raw_events_in_every_scope(demo_dir: Path, every_pair) -> None:  # noqa: F811
    app = _app(demo_dir, TZ)
    teams, agents = _teams_and_agents(app)
    periods = [_periods()[1], _periods()[0], _periods()[-2]]  # across the DST change, everything, past the data's end
    scopes = _scopes(teams, agents)
    cases = [(p, s) for p in periods for s in scopes if every_pair or p == periods[0] or s == scopes[0]]
    with app.app_context(), query_cache.bypassed():
        assert queries.database().rollups_current(TZ)
        for period, scope in cases:
            for by in adoption.BY:
                # judged up to the period's end: past the data's, the windows reach into the next month
                from_rollups = adoption.active_days(Filters.asking(period, scope), by, period.end)
                with raw_events():
                    from_raw = adoption.active_days(Filters.asking(period, scope), by, period.end)
                _same(from_rollups, from_raw, period, scope, by)
                assert from_rollups.height or scope != Scope.organization()


def _windows(folder: Path) -> dict[str, pl.DataFrame]:
    found = sorted((rollups_dir(folder) / WINDOWS).glob("month=*/part-0.parquet"))
    return {path.parent.name: pl.read_parquet(path) for path in found}


def _assert_windows_as_a_full_build(folder: Path, tmp_path: Path, step: str) -> None:
    full = tmp_path / f"full-{step}"
    shutil.copytree(folder, full)
    rollup.build(full, TZ)
    updated, built = _windows(folder), _windows(full)
    assert list(updated) == list(built), step
    for month, frame in built.items():
        assert_frame_equal(updated[month], frame, check_exact=True)


@pytest.mark.parametrize("step", ["a day of the last month", "a new month after the data", "an erased day"])
def test_an_update_of_a_few_days_leaves_active_windows_as_a_full_build(
    demo_dir: Path,  # noqa: F811
    tmp_path: Path,
    step: str,
) -> None:
    folder = _copy(demo_dir, tmp_path)
    before = _windows(folder)
    at = lambda day, hour=15: dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)  # noqa: E731
    if step == "a day of the last month":
        days = _add_events(folder, "late", {"ts": at(END - dt.timedelta(days=2)), "user_id": "u_new"})
    elif step == "a new month after the data":  # its windows run 27 days into the month after
        days = _add_events(folder, "june", {"ts": at(dt.date(2026, 6, 20), 4)})
    else:
        partition = schema.partition_dir(folder, (END - dt.timedelta(days=20)).isoformat())
        for part in partition.glob("*.parquet"):
            part.unlink()
        days = rollup.local_days_of([END - dt.timedelta(days=20)])
    rollup.build(folder, TZ, days)
    after = _windows(folder)
    assert set(after) != set(before) or any(not frame.equals(before[month]) for month, frame in after.items())
    _assert_windows_as_a_full_build(folder, tmp_path, step.replace(" ", "-"))


def test_a_day_counts_in_the_7_and_the_28_days_that_end_on_each_day_after_it() -> None:
    """Ann active on 20 February and 1 March, Ben on 1 and 10 March: worked out by hand from those days."""
    bitmap = lambda *codes: sum(1 << code for code in codes).to_bytes(16, "little")  # noqa: E731
    days = pl.DataFrame(
        {
            "day": [dt.date(2026, 2, 20), dt.date(2026, 3, 1), dt.date(2026, 3, 10)],
            "team_id": [None] * 3,
            "agent_id": [None] * 3,
            "users": [bitmap(0), bitmap(0, 70), bitmap(70)],
        },
        schema={"day": pl.Date, "team_id": pl.String, "agent_id": pl.String, "users": pl.Binary},
    )
    rows = active_windows(days, dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    counts = {day: (dau, wau, mau) for day, dau, wau, mau in rows.select("day", "dau", "wau", "mau").iter_rows()}
    assert min(counts) == dt.date(2026, 3, 1)  # 20 February is before the days asked for
    assert max(counts) == dt.date(2026, 4, 6)  # the last with Ben's 10 March in its 28 days: none after
    assert counts[dt.date(2026, 3, 1)] == (2, 2, 2)
    assert counts[dt.date(2026, 3, 7)] == (0, 2, 2)  # 1-7 March
    assert counts[dt.date(2026, 3, 8)] == (0, 0, 2)  # 2-8 March: nobody; 9 February - 8 March: both
    assert counts[dt.date(2026, 3, 10)] == (1, 1, 2)
    assert counts[dt.date(2026, 3, 28)] == (0, 0, 2)  # 1-28 March
    assert counts[dt.date(2026, 3, 29)] == (0, 0, 1)  # 2-29 March: Ben
    assert counts[dt.date(2026, 4, 6)] == (0, 0, 1)
    assert rows.height == 37 and rows["team_id"].is_null().all() and rows["agent_id"].is_null().all()


def test_a_person_of_no_team_does_not_hide_everyone_else_that_day() -> None:
    """A null team's day set has everyone's key (both null): on 5 May two people of teams and one of none were
    active, so everyone's count is 3, whichever of the two rows comes first."""
    day = dt.date(2026, 5, 5)
    bitmap = lambda *codes: sum(1 << code for code in codes).to_bytes(8, "little")  # noqa: E731
    for rows in ([bitmap(0, 1), bitmap(2)], [bitmap(2), bitmap(0, 1)]):  # everyone's, then no team's; and reversed
        days = pl.DataFrame(
            {"day": [day, day], "team_id": [None, None], "agent_id": [None, None], "users": rows},
            schema={"day": pl.Date, "team_id": pl.String, "agent_id": pl.String, "users": pl.Binary},
        )
        counts = active_windows(days, day, day).select("dau", "wau", "mau").rows()
        assert counts == [(3, 3, 3)]
