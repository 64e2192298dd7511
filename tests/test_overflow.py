"""Sums over values no interaction can hold, from a Parquet file copied into `events/` by hand (bypassing
validation): every figure is exact and shown, from raw events and from the rollups, and the rollup build
succeeds. Numbers worked out from tests/org.py.

The hand-made file adds two events on 5 March 2026 (UTC) by Mia (u4, Engineering, Code Helper), each
with 2**63 - 1 input and output tokens and a cost of $1, to the tiny org's eight March events (e1..e8,
$4.923334, 1000 / 200 tokens each). In the week 2-8 March Code Helper had e1 e2 e3 e6 besides.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import queries
from callbacks import analytics, billing, dashboard, users
from data import schema
from queries import usage
from queries.filters import Filters
from queries.period import Period
from queries.scope import Scope
from tests import org

INT64_MAX = 2**63 - 1
WEEK = {"start": "2026-03-02", "end": "2026-03-08"}
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
TODAY = dt.date(2026, 11, 25)
HAND_MADE = "events/utc_date=2026-03-05/part-0.parquet"


def hand_made_events(n: int, tokens: int, cost: str) -> pl.DataFrame:
    rows = [
        {
            "event_id": f"h{i}", "ts": dt.datetime(2026, 3, 5, 12, i, tzinfo=dt.UTC), "user_id": "u4",
            "team_id": "t_eng", "agent_id": "a_code", "model": "claude-sonnet-4.5", "conversation_id": "c_h",
            "input_tokens": tokens, "output_tokens": tokens, "cost_usd": Decimal(cost), "latency_ms": 900,
            "status": "ok",
        }
        for i in range(n)
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=schema.EVENTS)


def copy_in(folder: Path, frame: pl.DataFrame) -> None:
    path = folder / HAND_MADE
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    org.write_org(folder)
    copy_in(folder, hand_made_events(2, INT64_MAX, "1.000000"))
    return folder


def everything_answers(app, client, auth, signed_in) -> None:
    """The API, and every callback of Dashboard, Analytics, Billing and Users, answer exactly."""
    auth.login("admin")
    answer = client.get("/api/v1/summary?start=2026-03-01&end=2026-03-09")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {
        "interactions": 10, "active_users": 4, "cost_usd": "6.923334", "start": "2026-03-01", "end": "2026-03-09",
    }  # fmt: skip
    with app.app_context():
        nine_days = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 9), "UTC")
        summary = usage.summary(Filters.asking(nine_days, Scope.organization())).select("input_tokens", "output_tokens")
    assert summary.row(0) == (8 * 1000 + 2 * INT64_MAX, 8 * 200 + 2 * INT64_MAX)
    with signed_in("admin"):
        for update in (dashboard.update_kpis, dashboard.update_trend, dashboard.update_cost,
                       dashboard.update_top_agents, dashboard.update_top_teams, analytics.update_teams,
                       analytics.update_over_time, analytics.update_heatmap, users.update_table,
                       users.update_distribution, users.update_adoption):  # fmt: skip
            update(WEEK)
        for update in (billing.update_summary, billing.update_daily, billing.update_teams, billing.update_agents,
                       billing.update_models):  # fmt: skip
            update(MARCH, TODAY)
        _figure, table = analytics.update_agents(WEEK)
    spec = json.loads(table.to_plotly_json()["props"]["data-table"])  # the table the browser draws
    [code_helper] = [row["cells"] for row in spec["rows"] if row["key"] == "a_code"]
    _text, tokens, detail = code_helper[[column["field"] for column in spec["columns"]].index("tokens")]
    tokens_in, tokens_out = 4 * 1000 + 2 * INT64_MAX, 4 * 200 + 2 * INT64_MAX
    assert tokens == tokens_in + tokens_out
    assert detail == f"{tokens_in + tokens_out:,}: {tokens_in:,} in · {tokens_out:,} out"


def test_int64_token_counts_copied_in_by_hand_keep_every_page_and_the_rollups_working(app, client, auth, signed_in):
    everything_answers(app, client, auth, signed_in)  # from the raw events: no rollups yet
    result = app.test_cli_runner().invoke(args=["rollup"])
    assert result.exit_code == 0, result.output
    assert "Rolled up" in result.output
    with app.app_context():
        assert queries.database().rollups_current("UTC")
    everything_answers(app, client, auth, signed_in)  # the same, from the rollups


def test_per_person_costs_beyond_int64_micro_dollars_are_summed_exactly(data_dir, app, client, auth):
    """Ten events of $999,999,999,999.999999 (the DECIMAL(18,6) most) pass 2**63 micro-dollars together:
    the per-person figures from the rollups are exact DECIMAL sums, never a wrapped-around int64."""
    (data_dir / HAND_MADE).unlink()
    copy_in(data_dir, hand_made_events(10, 1000, "999999999999.999999"))
    assert app.test_cli_runner().invoke(args=["rollup"]).exit_code == 0
    auth.login("admin")
    answer = client.get("/api/v1/breakdown?by=user&start=2026-03-01&end=2026-03-09")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    mia = next(row for row in answer.get_json()["rows"] if row["key"] == "u4")
    # e1 e2 e6 ($0.39) and the ten: 9,999,999,999,999.99999 + 0.39
    assert (mia["interactions"], mia["cost_usd"]) == (13, "10000000000000.389990")
    summary = client.get("/api/v1/summary?start=2026-03-01&end=2026-03-09").get_json()
    assert summary["cost_usd"] == "10000000000004.923324"
