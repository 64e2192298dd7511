"""The Billing tab's budgets in headless Chromium: spend against each budget, the alerts sent, axe finds nothing.

The tiny org gets a week of use up to yesterday (the real one: budgets are in their current period), $1.50 a
day for Engineering and $0.50 for Sales; budgets: the organization $20 a month, Engineering $8 and Sales $2.
The screenshot lands in tests/artifacts/billing-budgets-<scheme>.png.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from queries.period import today_local
from tests import org
from tests.conftest import make_app, serving
from tests.test_browser_a11y import axe_violations, dark, settled
from tests.test_browser_access import sign_in, wait
from tests.test_browser_analytics import click
from tests.test_ingest import event, jsonl

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def budget_server(tmp_path_factory, password_hash):
    folder = tmp_path_factory.mktemp("budgets") / "data"
    org.write_org(folder)
    app = make_app(folder, password_hash)
    today = today_local("UTC")
    records = []
    for back in range(1, 8):
        day = today - dt.timedelta(days=back)
        records.append(event(f"b{back}e", f"{day}T12:00:00Z", user_id="u4", cost_usd="1.5"))
        records.append(event(f"b{back}s", f"{day}T13:00:00Z", user_id="u5", cost_usd="0.5"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["ingest", str(jsonl(folder.parent / "week.jsonl", *records))]).exit_code == 0
    for scope, usd, cadence in (("org", "20", "month"), ("team:t_eng", "8", "month"), ("team:t_sales", "2", "month")):
        assert runner.invoke(args=["budget-set", "--scope", scope, "--usd", usd, "--cadence", cadence]).exit_code == 0
    assert runner.invoke(args=["alert-channel-add", "--webhook", "https://hooks.example.com/x"]).exit_code == 0
    assert runner.invoke(args=["check-alerts"]).exit_code == 0  # listed as retrying: no network in tests
    with serving(app) as base:
        yield base, today


def test_billing_shows_each_budget_against_its_spend_and_the_alerts_sent(browser, budget_server) -> None:
    base, today = budget_server
    sign_in(browser, base, "admin", "/telemetry/billing")
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#billing-budget-chart-2 .main-svg") and settled(b))
    rows = [" ".join(r.text.split()) for r in browser.find_elements(By.CSS_SELECTOR, "#billing-budget-table tbody tr")]
    names = [row.split(" $")[0] for row in rows]
    assert names[0].startswith("Organization") and {n.split(" 1 ")[0] for n in names[1:]} >= {"Team Engineering"}
    spent_this_month = sum(1 for back in range(1, 8) if (today - dt.timedelta(days=back)).month == today.month)
    assert any(row.startswith("Team Sales") and f"${0.5 * spent_this_month:.2f}" in row for row in rows), rows
    alerts = browser.find_element(By.ID, "billing-alerts-sent").text
    assert "https://hooks.example.com/…" in alerts
    ARTIFACTS.mkdir(exist_ok=True)
    section = browser.find_element(By.ID, "billing-budgets")
    browser.execute_script("arguments[0].scrollIntoView({behavior: 'instant'})", section)
    found = {}
    for scheme in ("light", "dark"):
        dark(browser, scheme == "dark")
        section.screenshot(str(ARTIFACTS / f"billing-budgets-{scheme}.png"))
        found[scheme] = axe_violations(browser)
    dark(browser, False)
    assert found == {"light": {}, "dark": {}}


def test_a_manager_sees_their_teams_budgets_only(browser, budget_server) -> None:
    base, _today = budget_server
    sign_in(browser, base, "manager", "/telemetry/billing")
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#billing-budget-table tbody tr") and settled(b))
    table = browser.find_element(By.ID, "billing-budget-table").text
    assert "Team Engineering" in table and "Team Sales" in table and "Organization" not in table


def test_an_admin_sets_a_budget_in_the_form_and_sees_it_at_once(browser, budget_server) -> None:
    base, _today = budget_server
    sign_in(browser, base, "admin", "/telemetry/billing")
    wait(browser).until(lambda b: b.find_elements(By.ID, "billing-budget-usd") and settled(b))
    Select(browser.find_element(By.ID, "billing-budget-scope")).select_by_visible_text("Team Legal")
    browser.find_element(By.ID, "billing-budget-usd").send_keys("12.34")
    button = browser.find_element(By.ID, "billing-budget-set")
    wait(browser).until(settled)
    click(browser, button)  # scrolled there at once: Bootstrap scrolls smoothly, and a click mid-way misses
    wait(browser).until(lambda b: "set to $12.34" in b.find_element(By.ID, "billing-budget-feedback").text)
    table = browser.find_element(By.ID, "billing-budget-table").text
    assert "Team Legal" in table and "$12.34" in table
