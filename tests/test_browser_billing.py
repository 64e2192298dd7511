"""The Billing tab in headless Chromium on the tiny org (anchor day 1): the period selector, the URL, the numbers."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from queries.billing_periods import billing_period_containing, period_label
from queries.period import today_local
from tests.page_ready import scroll_to
from tests.test_browser_access import PATIENCE, sign_in, text_of, wait
from tests.test_browser_dashboard import choose
from tests.test_browser_tour import emulate

pytestmark = pytest.mark.browser

MARCH = "1 Mar – 31 Mar 2026"
FEBRUARY = "1 Feb – 28 Feb 2026"


def shows(browser, element_id: str, expected: str, timeout: float = PATIENCE) -> None:
    wait(browser, timeout).until(
        lambda b: b.find_elements(By.ID, element_id) and b.find_element(By.ID, element_id).text == expected,
        f"{element_id} never showed {expected!r}",
    )


def selected_period(browser) -> str:
    return text_of(browser, "billing-period")


def grid_rows(browser, grid_id: str) -> list[str]:
    """The table's body rows as shown, e.g. 'Sales $2.20 44.7% 3' (the total row excluded)."""
    rows = browser.find_elements(By.CSS_SELECTOR, f"#{grid_id} tbody tr")
    return [" ".join(r.text.split()) for r in rows]


def total_row(browser, grid_id: str) -> list[str]:
    return browser.find_element(By.CSS_SELECTOR, f"#{grid_id} tfoot tr").text.split()


def filter_dates(browser) -> list[str]:
    """The shared filter bar's start and end dates as shown (Dash 4 puts the id on the start input)."""
    start = browser.find_element(By.ID, "filter-range").get_attribute("value")
    end = browser.find_element(By.CSS_SELECTOR, ".dash-datepicker-end-date").get_attribute("value")
    return [start, end]


def console_problems(browser) -> list[str]:
    """CSP violations and anything dash-ag-grid refused to evaluate."""
    logs = browser.get_log("browser")
    return [
        e["message"] for e in logs if "Content Security Policy" in e["message"] or "Blocked a string" in e["message"]
    ]


def test_admin_switches_billing_period(browser, live_server):
    current = billing_period_containing(today_local("UTC"), 1, "UTC")
    sign_in(browser, live_server, "admin", "/telemetry/billing")
    # No dates in the URL: the current billing period, which has no data in the tiny org.
    wait(browser).until(lambda b: selected_period(b) == f"{period_label(current)} (current)")
    shows(browser, "billing-kpi-total-value", "$0.00")
    assert "No cost in this period" in text_of(browser, "billing-message")
    assert "start=" not in browser.current_url
    ActionChains(browser, duration=0).move_to_element(browser.find_element(By.ID, "billing-projected-info")).perform()
    tooltip = wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".tooltip"))
    assert "Projected = cost to date ($0.00" in tooltip[0].text

    choose(browser, "billing-period", MARCH)
    wait(browser).until(lambda b: b.current_url.endswith("/telemetry/billing?start=2026-03-01&end=2026-03-31"))
    shows(browser, "billing-kpi-total-value", "$4.92")
    shows(browser, "billing-kpi-previous-value", "$0.05")
    shows(browser, "billing-kpi-change-value", "+$4.87")
    assert selected_period(browser) == MARCH
    wait(browser).until(lambda b: filter_dates(b) == ["1 Mar 2026", "31 Mar 2026"])  # the filter bar follows
    scroll_to(browser, "billing-team-table")  # below the fold: the table is put in once in view
    wait(browser).until(lambda b: len(grid_rows(b, "billing-team-grid")) == 3)
    assert grid_rows(browser, "billing-team-grid") == [
        "Sales $2.20 44.7% 3",
        "Legal $2.00 40.6% 1",
        "Engineering $0.72 14.7% 4",
    ]
    assert total_row(browser, "billing-team-grid") == ["Total", "$4.92", "100.0%", "8"]
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#billing-daily .barlayer .point"))
    browser.save_screenshot("/tmp/telemetry-billing-admin.png")
    browser.execute_script("window.scrollTo({top: 0, left: 0, behavior: 'instant'})")  # back up to the period selector

    choose(browser, "billing-period", FEBRUARY)
    wait(browser).until(lambda b: "start=2026-02-01&end=2026-02-28" in b.current_url)
    shows(browser, "billing-kpi-total-value", "$0.05")
    browser.back()
    wait(browser).until(lambda b: "start=2026-03-01&end=2026-03-31" in b.current_url)
    shows(browser, "billing-kpi-total-value", "$4.92")
    choose(browser, "billing-period", FEBRUARY)  # the same choice again, after Back: written again
    wait(browser).until(lambda b: "start=2026-02-01&end=2026-02-28" in b.current_url)
    shows(browser, "billing-kpi-total-value", "$0.05")
    browser.back()
    wait(browser).until(lambda b: "start=2026-03-01&end=2026-03-31" in b.current_url)
    shows(browser, "billing-kpi-total-value", "$4.92")
    browser.back()  # to the address with no dates: not sent forward again
    wait(browser).until(lambda b: b.current_url.endswith("/telemetry/billing"))
    shows(browser, "billing-kpi-total-value", "$0.00")
    assert browser.current_url.endswith("/telemetry/billing")
    assert console_problems(browser) == []


def test_manager_sees_only_their_teams(browser, live_server):
    sign_in(browser, live_server, "manager", "/telemetry/billing?start=2026-03-01&end=2026-03-31")
    shows(browser, "billing-kpi-total-value", "$2.92")
    assert text_of(browser, "billing-kpi-total").startswith("TOTAL FOR YOUR TEAMS")
    scroll_to(browser, "billing-team-table")
    wait(browser).until(lambda b: len(grid_rows(b, "billing-team-grid")) == 2)
    assert grid_rows(browser, "billing-team-grid") == ["Sales $2.20 75.3% 3", "Engineering $0.72 24.7% 4"]
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#billing-team-chart .ytick text"))
    labels = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#billing-team-chart .ytick text")]
    assert sorted(labels) == ["Engineering", "Sales"]
    assert "Legal" not in browser.page_source
    browser.save_screenshot("/tmp/telemetry-billing-manager.png")
    choose(browser, "billing-period", FEBRUARY)
    wait(browser).until(lambda b: "start=2026-02-01&end=2026-02-28" in b.current_url)
    shows(browser, "billing-kpi-total-value", "$0.05")
    assert console_problems(browser) == []


def test_custom_dates_are_named_in_the_selector(browser, live_server):
    sign_in(browser, live_server, "admin", "/telemetry/billing?start=2026-03-02&end=2026-03-08")
    shows(browser, "billing-kpi-total-value", "$3.72")
    assert selected_period(browser) == "2 Mar – 8 Mar 2026 (custom dates)"
    assert "Showing 2 Mar – 8 Mar 2026 (7 days)" in text_of(browser, "billing-period-note")


# Each breakdown chart's margins as sent and as Plotly drew them: where they differ, a label needed more room and
# Plotly drew the chart a second time to make it
MARGINS = """return arguments[0].map(id => {
    const g = document.getElementById(id).querySelector('.js-plotly-plot');
    const sent = g.layout.margin, drawn = g._fullLayout._size;
    return [id, [sent.l, sent.r, sent.t, sent.b], [drawn.l, drawn.r, drawn.t, drawn.b].map(Math.round)];
})"""
BREAKDOWN_CHARTS = ("billing-model-chart", "billing-team-chart", "billing-agent-chart")


def test_the_breakdowns_sort_keep_their_total_and_are_drawn_once_at_every_width(browser, live_server):
    """The teams' and agents' tables are plain tables (assets/tables.js, no AG Grid on the tab): a header sorts by
    click or keyboard, the total stays under the rows; the breakdown charts' dollar labels need no more room than
    their margins give, at 1280 and 390 px (turned labels grew the bottom margin: drawn twice)."""
    from tests.test_browser_a11y import settled
    from tests.test_browser_tour import LOOK

    sign_in(browser, live_server, "admin", "/telemetry/billing?start=2026-03-01&end=2026-03-31")
    scroll_to(browser, "billing-team-table")
    scroll_to(browser, "billing-agent-table")
    wait(browser).until(lambda b: len(grid_rows(b, "billing-agent-grid")) == 2)
    assert grid_rows(browser, "billing-agent-grid") == ["Code Helper $2.59 52.6% 6", "Drafting $2.33 47.4% 2"]
    cost = browser.find_element(By.XPATH, "//*[@id='billing-agent-grid']//thead//button[text()='Cost (USD)']")
    cost.send_keys(Keys.ENTER)  # sorted from the largest already: now from the smallest
    wait(browser).until(lambda b: grid_rows(b, "billing-agent-grid")[0].startswith("Drafting"))
    assert total_row(browser, "billing-agent-grid") == ["Total", "$4.92", "100.0%", "8"]
    assert not browser.find_elements(By.CSS_SELECTOR, ".ag-root-wrapper")
    for width in (1280, 390):
        emulate(browser, width, "light")
        wait(browser).until(lambda b: settled(b) and b.execute_script(LOOK)["fit"])  # drawn again to the width
        for chart, sent, drawn in browser.execute_script(MARGINS, BREAKDOWN_CHARTS):
            assert drawn == sent, (width, chart)
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
