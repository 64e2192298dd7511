"""Billing queries on the tiny org (tests/org.py), on awkward decimals and on a demo org; numbers worked out by hand.

The awkward April: nine events whose per-team, per-agent, per-model and per-day costs each round, one by
one, to cents that do NOT add up to the rounded total ($2.00 against $2.01); allocated cents must.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from app import create_app
from data import schema
from data.demo import write_demo
from queries import billing
from queries.billing_periods import billing_periods
from queries.filters import Filters
from queries.money import to_cents
from queries.period import Period
from queries.scope import Scope
from tests.org import events_frame, write_org, write_rolled_up

ORG = Scope.organization()
MAX = Scope.teams({"t_eng", "t_sales"})
NOBODY = Scope.teams(())
NY = "America/New_York"
D = Decimal
SONNET, GPT5, HAIKU = "claude-sonnet-4.5", "gpt-5", "claude-haiku-4.5"

# event_id, UTC time, user, team, agent, model, cost
AWKWARD = [
    ("x1", "2026-04-06 09:00", "u4", "t_eng", "a_code", SONNET, "0.167750"),
    ("x2", "2026-04-07 09:00", "u2", "t_eng", "a_draft", GPT5, "0.167250"),
    ("x3", "2026-04-06 10:00", "u5", "t_sales", "a_code", GPT5, "0.167750"),
    ("x4", "2026-04-07 10:00", "u5", "t_sales", "a_code", HAIKU, "0.167250"),
    ("x5", "2026-04-06 11:00", "u3", "t_legal", "a_code", HAIKU, "0.167750"),
    ("x6", "2026-04-07 11:00", "u3", "t_legal", "a_draft", SONNET, "0.167250"),
    ("x7", "2026-04-06 12:00", "u4", "t_eng", "a_code", SONNET, "0.333333"),
    ("x8", "2026-04-06 13:00", "u5", "t_sales", "a_code", GPT5, "0.333333"),
    ("x9", "2026-04-07 14:00", "u3", "t_legal", "a_draft", HAIKU, "0.333333"),
]
APRIL = Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30))
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
FEBRUARY = Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28))


def write_awkward_events(data_dir: Path) -> None:
    """Add the awkward April to a data folder holding the tiny org: one more Parquet file per UTC date."""
    template = events_frame().row(0, named=True)
    rows = [
        {**template, "event_id": e, "ts": dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC), "user_id": u,
         "team_id": t, "agent_id": a, "model": m, "conversation_id": f"c_{e}", "cost_usd": D(cost)}
        for e, at, u, t, a, m, cost in AWKWARD
    ]  # fmt: skip
    frame = pl.DataFrame(rows, schema=schema.EVENTS)
    for (day,), part in frame.group_by(pl.col("ts").dt.date(), maintain_order=True):
        target = schema.partition_dir(data_dir, day.isoformat())
        target.mkdir(parents=True, exist_ok=True)
        part.sort("ts").write_parquet(target / "part-0.parquet")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The tiny org plus the awkward April (February and March are unchanged)."""
    folder = tmp_path / "data"
    write_rolled_up(folder, write_org, write_awkward_events)
    return folder


@pytest.fixture(autouse=True)
def _context(app):
    with app.app_context():
        yield


def cents_by_label(frame: pl.DataFrame) -> dict[str, Decimal]:
    return dict(zip(frame["label"], frame["cost_cents"], strict=True))


def test_cost_per_team_agent_model_in_march():
    # Engineering e1 .10 + e2 .25 + e4 .333333 + e6 .04; Sales e3 1.000001 + e7 .50 + e8 .70; Legal e5 2.00
    teams = billing.cost_by_key(Filters.asking(MARCH, ORG), "team")
    assert teams.select("label", "interactions", "cost_usd").rows() == [
        ("Sales", 3, D("2.200001")),
        ("Legal", 1, D("2.000000")),
        ("Engineering", 4, D("0.723333")),
    ]
    assert [round(s, 4) for s in teams["share"]] == [0.4469, 0.4062, 0.1469]  # of 4.923334
    agents = billing.cost_by_key(Filters.asking(MARCH, ORG), "agent")
    assert agents.select("label", "cost_usd").rows() == [("Code Helper", D("2.590001")), ("Drafting", D("2.333333"))]
    models = billing.cost_by_key(Filters.asking(MARCH, ORG), "model")
    assert models.select("label", "cost_usd", "share").rows() == [(SONNET, D("4.923334"), 1.0)]
    assert billing.total_cost(Filters.asking(MARCH, ORG)) == D("4.923334")


def test_a_manager_sees_only_their_teams():
    teams = billing.cost_by_key(Filters.asking(MARCH, MAX), "team")
    assert teams.select("label", "cost_usd").rows() == [("Sales", D("2.200001")), ("Engineering", D("0.723333"))]
    assert billing.total_cost(Filters.asking(MARCH, MAX)) == D("2.923334")
    assert [round(s, 4) for s in teams["share"]] == [0.7526, 0.2474]  # shares of their own total
    assert billing.cost_by_key(Filters.asking(MARCH, NOBODY), "team").is_empty()


def test_an_agent_filter_narrows_every_breakdown():
    drafting = ORG.narrow(agents=["a_draft"])
    assert billing.cost_by_key(Filters.asking(MARCH, drafting), "team").select("label", "cost_usd").rows() == [
        ("Legal", D("2.000000")),
        ("Engineering", D("0.333333")),
    ]


def test_unknown_breakdown_is_refused():
    with pytest.raises(ValueError, match="Unknown breakdown"):
        billing.cost_by_key(Filters.asking(MARCH, ORG), "user")


def test_cost_per_day_lists_every_day_in_local_time():
    frame = billing.cost_by_day(Filters.asking(Period(MARCH.start, MARCH.end, NY), ORG))
    assert frame.height == 31
    nonzero = {row["label"]: row["cost_usd"] for row in frame.iter_rows(named=True) if row["interactions"]}
    assert nonzero == {
        "2026-03-02": D("0.350000"),  # e1, e2
        "2026-03-03": D("3.333334"),  # e3, e4 and e5 (21:00 local on the 3rd, UTC date the 4th)
        "2026-03-08": D("0.540000"),  # e6 at 01:30 EST, e7 at 23:30 EDT
        "2026-03-09": D("0.700000"),  # e8 at 00:30 EDT
    }
    assert sum(frame["cost_cents"].to_list()) == D("4.92")


def test_awkward_decimals_add_up_to_the_cent():
    total = billing.total_cost(Filters.asking(APRIL, ORG))
    assert total == D("2.004999")  # shown as $2.00
    teams = billing.cost_by_key(Filters.asking(APRIL, ORG), "team")
    assert set(teams["cost_usd"]) == {D("0.668333")}  # each rounds to 0.67: 3 × 0.67 = 2.01
    # Equal costs: the extra cents go to the earlier rows (by label: Engineering, Legal, Sales).
    assert cents_by_label(teams) == {"Engineering": D("0.67"), "Legal": D("0.67"), "Sales": D("0.66")}
    agents = billing.cost_by_key(Filters.asking(APRIL, ORG), "agent")
    # Code Helper 1.337166 (rounds to 1.34) + Drafting 0.667833 (0.67) = 2.01; the cent goes to the larger remainder
    assert cents_by_label(agents) == {"Code Helper": D("1.33"), "Drafting": D("0.67")}
    models = billing.cost_by_key(Filters.asking(APRIL, ORG), "model")
    assert set(models["cost_usd"]) == {D("0.668333")}
    assert sum(models["cost_cents"].to_list()) == D("2.00")
    days = billing.cost_by_day(Filters.asking(APRIL, ORG)).filter(pl.col("interactions") > 0)
    # 6 April 1.169916 (1.17) and 7 April 0.835083 (0.84) = 2.01 one by one; 1.17 + 0.83 allocated
    assert days.select("label", "cost_usd", "cost_cents").rows() == [
        ("2026-04-06", D("1.169916"), D("1.17")),
        ("2026-04-07", D("0.835083"), D("0.83")),
    ]
    for frame in (teams, agents, models, billing.cost_by_day(Filters.asking(APRIL, ORG))):
        assert sum(to_cents(c) for c in frame["cost_usd"]) != to_cents(total)  # plain rounding would not add up
        assert sum(frame["cost_cents"].to_list()) == to_cents(total) == D("2.00")


def test_projection_from_the_last_seven_complete_days():
    # Today 10 March: to date e1..e8 = 4.923334; 3..9 March e3..e8 = 4.573334, so 0.653333.../day;
    # nothing spent yet on the 10th, so a whole day for today plus 21 days after it:
    # 4.923334 + 22 × 4.573334 / 7 = 4.923334 + 14.373335 = 19.296669 (to the micro-dollar).
    projection = billing.projection(Filters.asking(MARCH, ORG), dt.date(2026, 3, 10))
    assert (projection.to_date, projection.rate_total) == (D("4.923334"), D("4.573334"))
    assert (projection.rate_period.start, projection.rate_period.end) == (dt.date(2026, 3, 3), dt.date(2026, 3, 9))
    assert (projection.elapsed_days, projection.remaining_days) == (10, 21)
    assert projection.today_so_far == D("0")
    assert projection.projected.quantize(D("0.000001")) == D("19.296669")
    assert to_cents(projection.run_rate) == D("0.65")


def test_projection_on_the_first_and_last_day():
    # 1 March: nothing yet this period; the last 7 days (22-28 Feb) hold e0, 0.05, so (1 + 30) × 0.05 / 7.
    first = billing.projection(Filters.asking(MARCH, ORG), dt.date(2026, 3, 1))
    assert (first.to_date, first.rate_total, first.remaining_days) == (D("0"), D("0.050000"), 30)
    assert to_cents(first.projected) == D("0.22")
    # 31 March: no days left, and the last 7 days (24-30 March) cost nothing: the cost so far.
    last = billing.projection(Filters.asking(MARCH, ORG), dt.date(2026, 3, 31))
    assert (last.remaining_days, last.projected) == (0, D("4.923334"))
    with pytest.raises(ValueError, match="containing today"):
        billing.projection(Filters.asking(FEBRUARY, ORG), dt.date(2026, 3, 10))


# --- A demo organization: every breakdown of every billing period adds up to the cent ------------


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder, users=60, days=40, seed=7, end=dt.date(2026, 3, 20))
    return create_app({"TESTING": True, "DATA_DIR": str(folder), "SECRET_KEY": "test"})


@pytest.mark.parametrize(("anchor", "count"), [(1, 2), (15, 3)])  # 9 Feb - 20 Mar: Feb, Mar; or from 15 Jan
def test_demo_breakdowns_add_up_to_the_total(demo_app, anchor, count):
    with demo_app.app_context():
        periods = billing_periods(dt.date(2026, 2, 9), dt.date(2026, 3, 20), anchor, "UTC")
        assert len(periods) == count
        for period in periods:
            total = to_cents(billing.total_cost(Filters.asking(period, ORG)))
            assert total > 0
            for by in billing.COST_KEYS:
                frame = billing.cost_by_key(Filters.asking(period, ORG), by)
                assert sum(frame["cost_cents"].to_list()) == total, (period, by)
                assert abs(frame["share"].sum() - 1) < 1e-9
            assert sum(billing.cost_by_day(Filters.asking(period, ORG))["cost_cents"].to_list()) == total, period


def test_projection_counts_the_rest_of_today_but_never_less_than_today_so_far():
    # Today 3 March: 2 and 3 March so far 0.35 + 1.333334; run rate of 24 Feb - 2 Mar: e0 + e1 + e2 = 0.40 / 7.
    projection = billing.projection(Filters.asking(MARCH, ORG), dt.date(2026, 3, 3))
    assert projection.today_so_far == D("1.333334")  # e3 and e4, more than a day at the run rate
    assert projection.rest_of_today == D("0")
    assert projection.projected == projection.to_date + projection.run_rate * 28
