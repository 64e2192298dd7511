"""Budgets and their alerts on the hand-made org (tests/org.py), every figure worked out by hand.

The org's cost per UTC day (the app's zone here is UTC), March 2026:
  2 Mar  0.350000  Engineering, Code Helper (0.10 + 0.25)
  3 Mar  1.333334  Sales, Code Helper 1.000001; Engineering, Drafting 0.333333
  4 Mar  2.000000  Legal, Drafting
  8 Mar  0.040000  Engineering, Code Helper
  9 Mar  1.200000  Sales, Code Helper (0.5 + 0.7)
March to the 9th: 4.923334. "Today" is 9 March 2026 (UTC) unless a test says otherwise.
The run rate on the 9th: the 7 days 2-8 March, 3.723334 / 7 a day; 22 days remain after the 9th.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from alerts.check import evaluate
from alerts.status import budget_period
from data import schema
from queries.budgets import budget_spend_by_day
from queries.filters import Filters
from queries.period import Period
from queries.scope import Scope
from tests import org
from tests.conftest import make_app
from tests.test_ingest import event, jsonl

TODAY = dt.date(2026, 3, 9)
RATE = Decimal("3.723334") / 7


@pytest.fixture
def app(data_dir: Path, password_hash: str):
    return make_app(data_dir, password_hash, PUBLIC_URL="https://telemetry.example")


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def store(app):
    return app.extensions["telemetry_alerts"]


def alerts_now(app, today: dt.date = TODAY) -> list[tuple[str, str]]:
    """(key, subject) of every alert that holds on `today`, raised before or not."""
    with app.app_context():
        _statuses, found = evaluate(store(app), today)
    return sorted((a.key, a.detail["subject"]) for a in found)


def check(app, today: dt.date = TODAY) -> str:
    result = cli(app, "check-alerts", "--today", today.isoformat())
    assert result.exit_code == 0, result.output
    return result.output


def raised(app) -> list[str]:
    """Subjects of every alert raised so far, oldest first (each once, whatever the channels)."""
    with store(app)._tx() as db:
        rows = db.execute("select detail from alerts order by id").fetchall()
    return [json.loads(detail)["subject"] for (detail,) in rows]


def ingest(app, tmp_path: Path, *records: dict) -> None:
    result = cli(app, "ingest", str(jsonl(tmp_path / f"late-{len(list(tmp_path.iterdir()))}.jsonl", *records)))
    assert result.exit_code == 0, result.output


# --- The commands --------------------------------------------------------------------------------------------


def test_budgets_are_set_changed_listed_and_removed_with_exact_amounts_and_audited(app) -> None:
    assert cli(app, "budget-set", "--scope", "org", "--usd", "1500").exit_code == 0
    assert cli(app, "budget-set", "--scope", "team:t_eng", "--usd", "99.95", "--cadence", "month").exit_code == 0
    assert cli(app, "budget-set", "--scope", "agent:a_code", "--usd", "0.10").exit_code == 0
    changed = cli(app, "budget-set", "--scope", "org", "--usd", "1500.01")
    assert changed.exit_code == 0 and "(was $1500)" in changed.output
    listed = cli(app, "budget-list").output.splitlines()
    assert [line.split() for line in listed] == [
        ["org", "billing", "1500.01"],
        ["agent:a_code", "billing", "0.10"],
        ["team:t_eng", "month", "99.95"],
    ]
    assert [b.amount_usd for b in store(app).budgets()] == [Decimal("1500.01"), Decimal("0.10"), Decimal("99.95")]
    assert cli(app, "budget-remove", "--scope", "agent:a_code").exit_code == 0
    assert [b.scope for b in store(app).budgets()] == ["org", "team:t_eng"]
    entries = app.extensions["telemetry_store"].audit_entries(10)
    actions = [(e["action"], e["detail"].get("scope"), e["detail"].get("usd")) for e in entries]
    assert actions[:3] == [
        ("budget_remove", "agent:a_code", None),
        ("budget_set", "org", "1500.01"),
        ("budget_set", "agent:a_code", "0.10"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("budget-set", "--scope", "org", "--usd", "-5"), "must be more than $0"),
        (("budget-set", "--scope", "org", "--usd", "0"), "must be more than $0"),
        (("budget-set", "--scope", "org", "--usd", "12.345"), "fractions of a cent"),
        (("budget-set", "--scope", "org", "--usd", "lots"), "is not an amount"),
        (("budget-set", "--scope", "org", "--usd", "NaN"), "is not an amount"),
        (("budget-set", "--scope", "team:t_nope", "--usd", "5"), "Unknown team 't_nope'"),
        (("budget-set", "--scope", "agent:a_nope", "--usd", "5"), "Unknown agent 'a_nope'"),
        (("budget-set", "--scope", "group:x", "--usd", "5"), "use org, team:ID or agent:ID"),
        (("budget-set", "--scope", "team:t_eng", "--usd", "5", "--as", "manager@test.example"), "Only an admin"),
        (("alert-channel-add", "--email", "finance"), "is not an email address"),
        (("alert-channel-add", "--email", "a@b.example\nBcc: x@y.example"), "is not an email address"),
        (("alert-channel-add", "--webhook", "ftp://hooks.example.com/x"), "is not an http(s) URL"),
        (("alert-channel-add", "--webhook", "hooks.example.com/x"), "is not an http(s) URL"),
        (("alert-channel-add", "--webhook", "http://127.0.0.1:8050/x"), "loopback and link-local"),
        (("alert-channel-add", "--webhook", "http://localhost/x"), "loopback and link-local"),
        (("alert-channel-add", "--webhook", "http://[::1]/x"), "loopback and link-local"),
        (("alert-channel-add", "--webhook", "http://169.254.169.254/latest"), "loopback and link-local"),
        (("alert-channel-add", "--email", "a@b.example", "--scope", "team:t_nope"), "Unknown team 't_nope'"),
        (("alert-channel-add", "--email", "a@b.example", "--webhook", "https://x.example/"), "Give one of"),
        (
            ("alert-channel-add", "--email", "a@b.example", "--scope", "team:t_legal", "--as", "manager@test.example"),
            "Unknown team 't_legal': not in your teams",
        ),
        (("alert-channel-add", "--email", "a@b.example", "--as", "manager@test.example"), "Only an admin"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(app, args: tuple[str, ...], message: str) -> None:
    assert cli(app, "budget-set", "--scope", "org", "--usd", "100").exit_code == 0
    before = (store(app).budgets(), store(app).channels(), app.extensions["telemetry_store"].audit_entries(5))
    result = cli(app, *args)
    assert result.exit_code == 1 and message in result.output, result.output
    after = (store(app).budgets(), store(app).channels(), app.extensions["telemetry_store"].audit_entries(5))
    assert after == before


def test_a_manager_adds_recipients_for_their_own_teams_and_a_webhook_is_never_shown_in_full(app) -> None:
    added = cli(app, "alert-channel-add", "--email", "eng-leads@test.example", "--scope", "team:t_eng",
                "--as", "manager@test.example")  # fmt: skip
    assert added.exit_code == 0, added.output
    hook = cli(app, "alert-channel-add", "--webhook", "https://hooks.slack.com/services/T0/B0/SECRETPATH")
    assert hook.exit_code == 0 and "Signing secret" in hook.output
    listed = cli(app, "alert-channel-list").output
    assert "eng-leads@test.example" in listed and "https://hooks.slack.com/…" in listed
    assert "SECRETPATH" not in listed + hook.output
    audit = app.extensions["telemetry_store"].audit_entries(2)
    assert [(e["actor"], e["detail"]["to"]) for e in audit] == [
        ("cli", "https://hooks.slack.com/…"),
        ("manager@test.example", "eng-leads@test.example"),
    ]
    assert [c.format for c in store(app).channels()] == ["", "slack"]


# --- Spend against budget ----------------------------------------------------------------------------------


def test_spend_by_day_per_scope_is_cumulative_from_the_period_start(app) -> None:
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 9), "UTC")
    with app.app_context():
        frame = budget_spend_by_day(Filters.asking(period, Scope.organization(), "day"))
    org_rows = frame.filter(pl.col("scope_kind") == "org")
    assert org_rows["day"].to_list() == [dt.date(2026, 3, d) for d in range(1, 10)]
    assert org_rows["cumulative_usd"].to_list() == [Decimal(x) for x in (
        "0", "0.35", "1.683334", "3.683334", "3.683334", "3.683334", "3.683334", "3.723334", "4.923334")]  # fmt: skip
    last = frame.filter(pl.col("day") == dt.date(2026, 3, 9)).select("scope_kind", "scope_id", "cumulative_usd")
    assert sorted(last.rows()) == [
        ("agent", "a_code", Decimal("2.590001")),
        ("agent", "a_draft", Decimal("2.333333")),
        ("org", None, Decimal("4.923334")),
        ("team", "t_eng", Decimal("0.723333")),
        ("team", "t_legal", Decimal("2.000000")),
        ("team", "t_sales", Decimal("2.200001")),
    ]


def test_a_budget_s_status_has_the_billing_tab_s_projection_and_a_run_out_day(app) -> None:
    cli(app, "budget-set", "--scope", "org", "--usd", "8", "--cadence", "month")
    with app.app_context():
        (status,), _alerts = evaluate(store(app), TODAY)
    assert status.period == Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), "UTC")
    assert status.spent == Decimal("4.923334") and status.used == Decimal("4.923334") / 8
    # Today's 1.20 is above the run rate, so nothing is added for the rest of today.
    assert status.projection.projected == Decimal("4.923334") + 22 * RATE
    # 8 - 4.923334 = 3.076666 left at 0.5319 a day: 5.78 days, so on the 6th day after today.
    assert status.run_out == dt.date(2026, 3, 15)


def test_billing_and_month_cadences_follow_the_billing_anchor(data_dir: Path, password_hash: str) -> None:
    app = make_app(data_dir, password_hash, BILLING_ANCHOR_DAY=5)
    cli(app, "budget-set", "--scope", "org", "--usd", "8")
    with app.app_context():
        (status,), _alerts = evaluate(store(app), TODAY)
    assert status.period == Period(dt.date(2026, 3, 5), dt.date(2026, 4, 4), "UTC")
    assert status.spent == Decimal("1.240000")  # 8 March 0.04 and 9 March 1.20
    assert budget_period("month", TODAY, 5, "UTC") == Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), "UTC")


# --- Alerts, worked out by hand ----------------------------------------------------------------------------


def test_thresholds_and_projection_on_the_hand_made_org(app) -> None:
    cli(app, "budget-set", "--scope", "org", "--usd", "8", "--cadence", "month")  # 61.5 %, projected 16.63
    cli(app, "budget-set", "--scope", "team:t_sales", "--usd", "2")  # 110 %
    cli(app, "budget-set", "--scope", "team:t_legal", "--usd", "10")  # 20 %, projected 2 + 23 × 2/7 = 8.57
    cli(app, "budget-set", "--scope", "agent:a_draft", "--usd", "2.9")  # 80.5 %; projected 2.33 + 23 × 2.33/7
    ids = {b.scope: b.id for b in store(app).budgets()}
    assert alerts_now(app) == sorted([
        (f"budget:{ids['org']}:2026-03-01:50", "The organization has used 50% of its budget"),
        (f"budget:{ids['org']}:2026-03-01:projected", "The organization is projected to exceed its budget"),
        (f"budget:{ids['team:t_sales']}:2026-03-01:50", "Sales (team) has used 50% of its budget"),
        (f"budget:{ids['team:t_sales']}:2026-03-01:80", "Sales (team) has used 80% of its budget"),
        (f"budget:{ids['team:t_sales']}:2026-03-01:100", "Sales (team) has used 100% of its budget"),
        (f"budget:{ids['agent:a_draft']}:2026-03-01:50", "Drafting (agent) has used 50% of its budget"),
        (f"budget:{ids['agent:a_draft']}:2026-03-01:80", "Drafting (agent) has used 80% of its budget"),
        (f"budget:{ids['agent:a_draft']}:2026-03-01:projected", "Drafting (agent) is projected to exceed its budget"),
    ])  # fmt: skip
    assert "8 new alert(s)" in check(app)
    assert "0 new alert(s)" in check(app)  # idempotent
    # On 1 April a new period starts: nothing spent yet; March's thresholds, still checked, were told already.
    assert "0 new alert(s)" in check(app, dt.date(2026, 4, 1))
    assert alerts_now(app, dt.date(2026, 4, 3)) == []


def test_a_budget_changed_mid_period_alerts_only_thresholds_not_yet_told(app) -> None:
    cli(app, "budget-set", "--scope", "org", "--usd", "20", "--cadence", "month")  # 24.6 %, projected 16.63
    check(app)
    assert raised(app) == []
    cli(app, "budget-set", "--scope", "org", "--usd", "8", "--cadence", "month")  # 61.5 %
    check(app)
    assert raised(app) == ["The organization has used 50% of its budget",
                           "The organization is projected to exceed its budget"]  # fmt: skip
    cli(app, "budget-set", "--scope", "org", "--usd", "6", "--cadence", "month")  # 82.1 %: 50 % told already
    check(app)
    assert raised(app)[2:] == ["The organization has used 80% of its budget"]


def test_a_late_event_crossing_a_threshold_is_alerted_at_the_next_check(app, tmp_path: Path) -> None:
    cli(app, "budget-set", "--scope", "team:t_legal", "--usd", "2.5")  # 2.00 of 2.50: 80 %, projected 8.57
    check(app)
    assert raised(app) == ["Legal (team) has used 50% of its budget", "Legal (team) has used 80% of its budget",
                           "Legal (team) is projected to exceed its budget"]  # fmt: skip
    # An event of 5 March arrives on the 9th: 2.50 of 2.50.
    ingest(app, tmp_path, event("late1", "2026-03-05T10:00:00Z", user_id="u3", agent_id="a_draft", cost_usd="0.5"))
    check(app)
    assert raised(app)[3:] == ["Legal (team) has used 100% of its budget"]


def test_a_late_event_of_the_period_just_ended_is_alerted_in_the_next_two_days(app, tmp_path: Path) -> None:
    cli(app, "budget-set", "--scope", "team:t_legal", "--usd", "2.5", "--cadence", "month")
    check(app, dt.date(2026, 4, 1))  # March: 2.00 of 2.50 (no projection: the period is over); April: nothing
    assert raised(app) == ["Legal (team) has used 50% of its budget", "Legal (team) has used 80% of its budget"]
    ingest(app, tmp_path, event("late3", "2026-03-31T10:00:00Z", user_id="u3", agent_id="a_draft", cost_usd="0.5"))
    check(app, dt.date(2026, 4, 2))
    assert raised(app)[2:] == ["Legal (team) has used 100% of its budget"]
    assert alerts_now(app, dt.date(2026, 4, 3)) == []  # three days in, March is no longer checked


def test_a_team_renamed_keeps_its_alerts_and_is_named_anew(app, data_dir: Path, tmp_path: Path) -> None:
    cli(app, "budget-set", "--scope", "team:t_sales", "--usd", "4")  # 2.200001 of 4: 55 %, projected 5.34
    check(app)
    assert raised(app) == ["Sales (team) has used 50% of its budget", "Sales (team) is projected to exceed its budget"]
    teams = [(t, "Sales EMEA" if t == "t_sales" else n) for t, n in org.TEAMS]
    teams_file = schema.directory_dir(data_dir) / "teams.parquet"
    pl.DataFrame(teams, schema=schema.TEAMS, orient="row").write_parquet(teams_file)
    ingest(app, tmp_path, event("late2", "2026-03-06T10:00:00Z", user_id="u5", cost_usd="1.0"))  # 3.200001: 80 %
    check(app)
    assert raised(app)[2:] == ["Sales EMEA (team) has used 80% of its budget"]


def test_a_day_far_above_the_trailing_median_is_an_anomaly_once(app, tmp_path: Path) -> None:
    # Legal, Drafting: $1 a day 23 Feb - 8 Mar (the 4th already had $2), then $5 on 9 March.
    days = [dt.date(2026, 2, 23) + dt.timedelta(days=i) for i in range(14)]
    records = [event(f"d{d:%m%d}", f"{d}T12:00:00Z", user_id="u3", agent_id="a_draft", cost_usd="1")
               for d in days if d != dt.date(2026, 3, 4)]  # fmt: skip
    records.append(event("spike", "2026-03-09T12:00:00Z", user_id="u3", agent_id="a_draft", cost_usd="5"))
    ingest(app, tmp_path, *records)
    # The 14 days before the 9th: median $1 (the 4th: $2); $5 > 3 × $1. The agent Drafting also had Engineering's
    # 0.333333 on the 3rd: its median is still $1. The 8th (yesterday) is $1: no anomaly.
    found = [(k, s) for k, s in alerts_now(app) if k.startswith("anomaly")]
    assert found == [
        ("anomaly:agent:a_draft:2026-03-09", "Unusual spend: Drafting (agent) on 9 Mar 2026"),
        ("anomaly:team:t_legal:2026-03-09", "Unusual spend: Legal (team) on 9 Mar 2026"),
    ]
    assert "2 new alert(s)" in check(app) and "0 new alert(s)" in check(app)


def test_check_alerts_reads_its_date_with_the_one_date_parser(app):
    result = cli(app, "check-alerts", "--today", "2026-02-30")
    assert result.exit_code == 2 and "The today date '2026-02-30' is not a date; use YYYY-MM-DD." in result.output
