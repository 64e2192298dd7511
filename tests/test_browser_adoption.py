"""The Adoption tab in headless Chromium: its charts and grids drawn, the idle seats exported, its look."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from layouts import ids
from tests.test_browser_access import WEEK, csp_violations, sign_in, text_of, wait
from tests.test_browser_users import csv_files

pytestmark = pytest.mark.browser

DRAWN = (
    "#adoption-funnel .barlayer .point",
    "#adoption-active .scatterlayer .trace",
    "#adoption-cohorts .heatmaplayer",
    "#adoption-league .ag-row",
    "#adoption-reclaim .ag-row",
)


def reclaim_names(browser) -> list[str]:
    cells = browser.find_elements(By.CSS_SELECTOR, "#adoption-reclaim .ag-row [col-id=name]")
    return sorted({c.text for c in cells if c.text})


def test_the_adoption_tab(browser, live_server):
    """Reached from the Users tab with its filters; funnel, active people and stickiness, cohorts, league table and
    idle seats drawn, exported, and shown at 1280 and 390 px (tests/artifacts/adoption-<width>.png) with no axe
    violation; a manager's own only."""
    from tests.test_browser_a11y import axe_violations, settled
    from tests.test_browser_tour import ARTIFACTS, LOOK, emulate, screenshot

    sign_in(browser, live_server, "admin", "/telemetry/users" + WEEK)
    assert not browser.find_elements(By.ID, "adoption-funnel")  # no longer on the Users tab
    link = wait(browser).until(lambda b: b.find_element(By.ID, ids.NAV_LINKS["adoption"]))
    wait(browser).until(lambda b: link.get_attribute("href").endswith("/telemetry/adoption" + WEEK))
    link.click()
    wait(browser).until(lambda b: b.current_url.endswith("/telemetry/adoption" + WEEK))  # the link kept the period
    wait(browser).until(lambda b: all(b.find_elements(By.CSS_SELECTOR, css) for css in DRAWN) and settled(b))
    assert text_of(browser, "adoption-stickiness").startswith("Stickiness 20.8%")
    wait(browser).until(lambda b: len(reclaim_names(b)) == 7)  # 7 people, none active since March
    idle = browser.find_elements(By.CSS_SELECTOR, "#adoption-reclaim .ag-row [col-id=idle_days]")
    assert all(cell.text.isdigit() for cell in idle) and len(idle) == 7
    assert text_of(browser, "adoption-reclaim-summary") == "7 seats to reclaim"
    export = browser.find_element(By.ID, "adoption-reclaim-export")
    browser.execute_script("arguments[0].click()", export)  # far down the page: no scrolling to it
    exported = wait(browser).until(lambda b: [f for f in csv_files(b) if "seats-idle-30" in f.name])
    assert len(exported[0].read_text().splitlines()) == 1 + 7
    days = browser.find_element(By.XPATH, "//label[normalize-space()='90 days']")
    browser.execute_script("arguments[0].click()", days)
    wait(browser).until(lambda b: "reclaim=90" in b.current_url and settled(b))  # a link keeps the choice
    wait(browser).until(lambda b: len(reclaim_names(b)) == 7)  # still all: none active since March
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 390):
        emulate(browser, width, "light")
        wait(browser).until(lambda b: settled(b) and b.execute_script(LOOK)["fit"])  # charts redrawn to the width
        screenshot(browser, ARTIFACTS / f"adoption-{width}.png", width, "light")
        assert axe_violations(browser) == {}
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert csp_violations(browser) == []
    browser.delete_all_cookies()  # signed out
    sign_in(browser, live_server, "manager", "/telemetry/adoption" + WEEK)
    wait(browser).until(lambda b: len(reclaim_names(b)) == 5)
    assert "Lee Legal" not in reclaim_names(browser) and "Noa Never" not in reclaim_names(browser)
