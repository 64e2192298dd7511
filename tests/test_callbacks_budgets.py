"""The Billing tab's budgets and the Dashboard's organization budget, as each role sees them (hand-made org;
figures as in tests/test_alerts_budgets.py: 9 March 2026, the organization spent 4.923334 in March)."""

from __future__ import annotations

import json

import plotly

from callbacks import budgets as cb
from callbacks import dashboard
from tests.test_alerts_budgets import TODAY, check, cli

QUERY = {"start": "2026-03-01", "end": "2026-03-31"}


def _text(component) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def _budgets(app) -> None:
    for args in (("org", "8", "month"), ("team:t_sales", "2", "billing"), ("team:t_legal", "10", "billing"),
                 ("agent:a_draft", "2.9", "billing")):  # fmt: skip
        scope, usd, cadence = args
        assert cli(app, "budget-set", "--scope", scope, "--usd", usd, "--cadence", cadence).exit_code == 0


def test_an_admin_sees_every_budget_against_its_spend_with_projection_and_run_out(app, signed_in) -> None:
    _budgets(app)
    with signed_in("admin"):
        section = _text(cb.update_budgets(QUERY, TODAY))
    # The organization first, then by share used: Sales 110 %, Drafting 80.5 %, Legal 20 %.
    shown = (
        "Organization",
        "62%",
        " of $8.00 used",
        "$4.92 spent · projected $16.63 · runs out 15 Mar 2026",
        "Team Sales",
        "110%",
        "ran out 9 Mar 2026",
        "Agent Drafting",
        "Team Legal",
        "lasts the period",
    )
    for text in shown:
        assert text in section, text
    assert section.index("Team Sales") < section.index("Agent Drafting") < section.index("Team Legal")
    assert "No alerts sent yet." in section


def test_the_budget_chart_draws_cumulative_spend_the_projection_and_the_budget(app, signed_in) -> None:
    _budgets(app)
    with signed_in("admin"):
        from alerts.status import statuses

        found, _spend = statuses(app.extensions["telemetry_alerts"].budgets()[:1], TODAY, 1, "UTC")
        fig = cb.budget_figure(found[0], "Organization")
    spent, projected, budget = fig["data"]
    assert spent["y"] == [0.0, 0.35, 1.68, 3.68, 3.68, 3.68, 3.68, 3.72, 4.92]
    assert projected["y"] == [4.92, 16.63] and projected["x"][-1].isoformat() == "2026-03-31"
    assert budget["y"] == [8.0, 8.0] and budget["name"] == "Budget $8.00"


def test_a_manager_sees_only_their_teams_budgets_and_alerts(app, signed_in) -> None:
    _budgets(app)
    assert cli(app, "alert-channel-add", "--webhook", "https://hooks.example.com/x").exit_code == 0
    check(app)  # the webhook cannot be reached from the test: every delivery is listed as retrying
    with signed_in("manager"):  # Max: Engineering and Sales
        section = _text(cb.update_budgets(QUERY, TODAY))
    assert "Team Sales" in section and "Sales (team) has used 100% of its budget" in section
    for hidden in ("Organization", "Team Legal", "Agent Drafting", "The organization has used", "Drafting (agent)"):
        assert hidden not in section, hidden
    with signed_in("legal_manager"):
        assert "Team Sales" not in _text(cb.update_budgets(QUERY, TODAY))
    with signed_in("member"):
        assert cb.update_budgets(QUERY, TODAY)[0] == []


def test_the_alerts_sent_list_says_when_what_to_whom_by_which_channel_and_failures(app, signed_in) -> None:
    _budgets(app)
    assert cli(app, "alert-channel-add", "--webhook", "https://hooks.example.com/secret-path").exit_code == 0
    check(app)
    with signed_in("admin"):
        sent = _text(cb.update_budgets(QUERY, TODAY))
    assert "https://hooks.example.com/…" in sent and "secret-path" not in sent
    assert "webhook" in sent and "retrying: " in sent


def test_the_dashboard_cost_card_shows_the_organization_budget_used_to_admins_only(app, signed_in) -> None:
    with signed_in("admin"):
        assert "Budget:" not in _text(dashboard.update_kpis(QUERY, TODAY))
    _budgets(app)
    with signed_in("admin"):
        kpis = _text(dashboard.update_kpis(QUERY, TODAY))
    assert "Budget: 62% of $8.00 used (1 Mar – 31 Mar 2026)" in kpis
    assert '"children": "$4.92"' in kpis  # the card's figure itself is unchanged
    with signed_in("manager"):
        assert "Budget:" not in _text(dashboard.update_kpis(QUERY, TODAY))


def test_an_admin_sets_a_budget_from_the_form_checked_and_audited(app, signed_in) -> None:
    with signed_in("admin"):
        refused = _text(cb.set_budget(1, "team:t_sales", "-3", "billing", QUERY))
        assert "The budget must be more than $0 (got -3)." in refused and store_budgets(app) == []
        done = _text(cb.set_budget(1, "team:t_sales", "2.50", "month", QUERY))
    assert "Budget for team:t_sales set to $2.50." in done and "Team Sales" in done
    assert store_budgets(app) == [("team:t_sales", "month", "2.50")]
    entry = app.extensions["telemetry_store"].audit_entries(1)[0]
    assert (entry["actor"], entry["action"], entry["detail"]["usd"]) == ("admin@test.example", "budget_set", "2.50")


def test_a_manager_cannot_set_budgets_and_adds_recipients_for_their_teams_only(app, signed_in) -> None:
    with signed_in("manager"):
        assert "Only an admin can set budgets." in _text(cb.set_budget(1, "team:t_eng", "5", "billing", QUERY))
        other = _text(cb.add_recipient(1, "x@test.example", "team:t_legal", QUERY))
        assert "Unknown team 't_legal': not in your teams." in other
        assert "is not an email address" in _text(cb.add_recipient(1, "nope", "team:t_eng", QUERY))
        assert "x@test.example will receive the alerts of team:t_eng." in _text(
            cb.add_recipient(1, "x@test.example", "team:t_eng", QUERY)
        )
    assert store_budgets(app) == []
    assert [(c.target, c.scope) for c in app.extensions["telemetry_alerts"].channels()] == [
        ("x@test.example", "team:t_eng")
    ]
    entry = app.extensions["telemetry_store"].audit_entries(1)[0]
    assert (entry["actor"], entry["action"], entry["detail"]["scope"]) == (
        "manager@test.example",
        "alert_channel_add",
        "team:t_eng",
    )


def store_budgets(app) -> list[tuple[str, str, str]]:
    return [(b.scope, b.cadence, str(b.amount_usd)) for b in app.extensions["telemetry_alerts"].budgets()]
