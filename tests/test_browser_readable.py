"""Consistent and readable, in headless Chromium: one number and date style, loading and empty states,
the person panel, the report dialog's filters and status."""

from __future__ import annotations

import json
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from layouts import ids
from tests.page_ready import scroll_to
from tests.test_browser_access import WEEK, navigate, sign_in, text_of, wait
from tests.test_browser_analytics import bar, click

pytestmark = pytest.mark.browser

# Dash sends each callback with fetch(). Requests whose body names one of `markers` wait until the test
# lets them go (window.telemetryRelease()), so a test sees a tab while it loads without guessing a delay.
HOLD = """
(() => {
    const markers = %s, held = [], send = window.fetch.bind(window);
    window.telemetryRelease = () => held.splice(0).forEach((go) => go());
    window.telemetryHeld = () => held.length;
    window.fetch = (input, init) => {
        const body = init && typeof init.body === "string" ? init.body : "";
        if (!markers.some((marker) => body.includes(marker))) return send(input, init);
        return new Promise((resolve, reject) => held.push(() => send(input, init).then(resolve, reject)));
    };
})();
"""
DAY_TICK = re.compile(r"^[0-9]{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)$")


def hold_requests(browser, markers: list[str]) -> None:
    """From the next page on, hold every callback request that names one of `markers` (outputs' ids)."""
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOLD % json.dumps(markers)})


def release(browser) -> None:
    browser.execute_script("window.telemetryRelease()")


def held(browser) -> int:
    return browser.execute_script("return window.telemetryHeld ? window.telemetryHeld() : 0")


def cells(browser, grid_id: str, column: str) -> list[str]:
    found = browser.find_elements(By.CSS_SELECTOR, f"#{grid_id} .ag-row [col-id={column}]")
    return [cell.text for cell in found if cell.text]


def ticks(browser, graph_id: str) -> list[str]:
    return [t.text for t in browser.find_elements(By.CSS_SELECTOR, f"#{graph_id} .xtick text") if t.text]


def loading_text(browser, element_id: str) -> str:
    """What a person sees in the card of an element that is loading: the visible loading placeholders' text
    (the element itself is hidden meanwhile)."""
    area = f"//*[@id='{element_id}']/ancestor::div[contains(@class, 'card')][1]"
    return wait(browser).until(
        lambda b: " ".join(
            e.text for e in b.find_elements(By.XPATH, area + "//*[contains(@class, 'telemetry-loading')]")
            if e.is_displayed() and e.text
        )
    )  # fmt: skip


def overlay(browser, grid_id: str) -> str:
    found = browser.find_elements(By.CSS_SELECTOR, f"#{grid_id} .ag-overlay")
    return " ".join(o.text for o in found if o.text).strip()


def test_grids_separate_thousands_and_every_tab_writes_dates_alike(browser, live_server):
    # Long after the data: the people who never used an agent have had access for 1,092 days.
    sign_in(browser, live_server, "admin", "/telemetry/users?start=2028-10-01&end=2029-01-01&view=not_adopted")
    wait(browser).until(lambda b: cells(b, "users-grid", "days_with_access") == ["1,092"] * 3)
    assert cells(browser, "users-grid", "access_since") == ["5 Jan 2026"] * 3
    browser.get(live_server + "/telemetry/users" + WEEK)
    wait(browser).until(lambda b: "8 Mar 2026 06:30" in cells(b, "users-grid", "last_active"))
    assert cells(browser, "users-grid", "interactions")  # shown through the formatter, which was not refused:
    assert not [e for e in browser.get_log("browser") if "Blocked a string" in e["message"]]
    for path, graph in (("/telemetry", "dashboard-trend"), ("/telemetry/analytics", "analytics-over-time"),
                        ("/telemetry/billing", "billing-daily"), ("/telemetry", "dashboard-cost-daily")):  # fmt: skip
        navigate(browser, path + WEEK)  # from the tab before, as its link goes
        if graph == ids.ANALYTICS_OVER_TIME:  # below the fold: drawn once in view
            scroll_to(browser, ids.chart_place(graph))
        labels = wait(browser).until(lambda b, graph=graph: ticks(b, graph))
        assert all(DAY_TICK.match(label) for label in labels), (graph, labels)


def shown_dates(browser) -> list[str]:
    """The filter bar's date range as shown (Dash 4 puts the id on the start input)."""
    start = browser.find_element(By.ID, "filter-range").get_attribute("value")
    end = browser.find_element(By.CSS_SELECTOR, ".dash-datepicker-end-date").get_attribute("value")
    return [start, end]


def test_the_date_range_writes_days_as_the_tabs_do_and_the_url_stays_iso(browser, live_server):
    sign_in(browser, live_server, "admin", "/telemetry" + WEEK)
    wait(browser).until(lambda b: shown_dates(b) == ["2 Mar 2026", "8 Mar 2026"])
    assert browser.current_url.endswith("/telemetry" + WEEK)
    # A day typed the way it is shown is read back, and the URL gets it as an ISO date.
    end = browser.find_element(By.CSS_SELECTOR, ".dash-datepicker-end-date")
    end.send_keys(Keys.CONTROL, "a")
    end.send_keys("7 Mar 2026", Keys.ENTER)
    wait(browser).until(lambda b: b.current_url.endswith("/telemetry?start=2026-03-02&end=2026-03-07"))
    end.send_keys(Keys.ESCAPE)
    wait(browser).until(lambda b: shown_dates(b) == ["2 Mar 2026", "7 Mar 2026"])
    wait(browser).until(lambda b: text_of(b, "dashboard-kpi-interactions-value") == "5")  # e6 (8 March) left out


def test_a_loading_grid_says_so_and_an_empty_period_says_when_data_start(browser, live_server, results):
    # A fresh result cache (`results`): a tab seen before comes with its data in the page, nothing to load.
    hold_requests(browser, ["analytics-agent-table", "billing-team-table"])
    sign_in(browser, live_server, "admin", "/telemetry/analytics" + WEEK)
    wait(browser).until(held)
    assert loading_text(browser, "analytics-agent-table") == "Loading…"  # not an empty card with pale dots
    release(browser)
    names = "#analytics-agent-grid tbody th"  # a plain table (assets/tables.js)
    expected = ["Code Helper", "Drafting"]
    wait(browser).until(lambda b: [n.text for n in b.find_elements(By.CSS_SELECTOR, names)] == expected)
    browser.get(live_server + "/telemetry/billing" + WEEK)
    wait(browser).until(held)
    assert loading_text(browser, "billing-team-table") == "Loading…"
    release(browser)
    scroll_to(browser, "billing-team-table")  # below the fold: the table is put in once in view
    names = "#billing-team-grid th[scope=row]"  # a plain table (assets/tables.js), its total row last
    expected = ["Legal", "Sales", "Engineering", "Total"]
    wait(browser).until(lambda b: [n.text for n in b.find_elements(By.CSS_SELECTOR, names)] == expected)
    browser.get(live_server + "/telemetry/billing?start=2025-01-01&end=2025-01-31")  # before the first data
    said = "No cost in this period (1 Jan – 31 Jan 2025). Data start on 25 Feb 2026."
    wait(browser).until(lambda b: release(b) or b.find_element(By.ID, "billing-message").text == said)
    scroll_to(browser, "billing-team-table")
    empty = "#billing-team-grid tbody"  # the product's own empty state, in the table's body
    said = ["No cost in this period."]
    wait(browser).until(lambda b: [e.text for e in b.find_elements(By.CSS_SELECTOR, empty)] == said)
    browser.get(live_server + "/telemetry?start=2025-01-01&end=2025-01-31")
    assert text_of(browser, "dashboard-message") == "No interactions in this period. Data start on 25 Feb 2026."
    browser.get(live_server + "/telemetry/users" + WEEK)
    wait(browser).until(lambda b: len(cells(b, "users-grid", "name")) == 7)
    browser.find_element(By.ID, "users-search").send_keys("nobody-by-this-name")
    wait(browser).until(lambda b: overlay(b, "users-grid") == "Nobody here matches the search or the table's filters.")


def test_the_person_panel_shows_totals_and_fits_its_width(browser, live_server):
    sign_in(browser, live_server, "admin", "/telemetry/users" + WEEK)
    names = "#users-grid [col-id=name]"
    mia = wait(browser).until(
        lambda b: next((c for c in b.find_elements(By.CSS_SELECTOR, names) if c.text == "Mia Member"), None)
    )
    mia.click()
    assert text_of(browser, "users-detail-totals") == "3 interactions · 2 active days · $0.39"
    total = "Total 3 1 $0.39"  # e1, e2 (an error), e6
    # The row's cells are drawn one after another ("Total 3 1" was read once): wait for the whole row.
    wait(browser).until(
        lambda b: b.find_element(By.ID, "users-detail-total").text.strip() == total, f"the total row never read {total}"
    )
    for width in (1400, 390):
        browser.set_window_size(width, 900)
        wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#users-detail-body .main-svg"))
        body = "document.querySelector('#users-detail .offcanvas-body')"
        wait(browser).until(lambda b, body=body: b.execute_script(f"return {body}.scrollWidth <= {body}.clientWidth"))
        # The panel slides in: its right edge is read once it has come to rest within the page.
        fits = (
            "return document.getElementById('users-detail').getBoundingClientRect().right"
            " <= document.documentElement.clientWidth + 1"
        )
        wait(browser).until(lambda b, fits=fits: b.execute_script(fits), f"the person panel is wider than {width} px")


def report_status(browser) -> str:
    return browser.find_element(By.ID, "report-status").text


def test_the_report_dialog_names_every_filter_and_forgets_the_last_done(browser, live_server):
    hold_requests(browser, ["report-download"])  # the report job's requests
    sign_in(browser, live_server, "admin", "/telemetry/analytics" + WEEK)
    click(browser, bar(browser, "analytics-agent-chart", "Code Helper"), exact=True)
    wait(browser).until(lambda b: "agents=a_code" in b.current_url)
    click(browser, bar(browser, "analytics-team-chart", "Engineering"), exact=True)
    wait(browser).until(lambda b: "teams=t_eng" in b.current_url and "agents=a_code" in b.current_url)
    click(browser, browser.find_element(By.ID, "report-open"))
    shown = "As shown: 2 Mar – 8 Mar 2026 · Teams: Engineering · Agents: Code Helper"
    wait(browser).until(lambda b: shown in b.find_element(By.ID, "report-period").text)
    browser.find_element(By.XPATH, "//label[normalize-space()='CSV (zip when several)']").click()
    for _file in range(2):
        wait(browser).until(lambda b: b.find_element(By.ID, "report-generate").is_enabled())
        browser.find_element(By.ID, "report-generate").click()
        wait(browser).until(held)
        assert report_status(browser) == ""  # the last file's "Done" is gone while the new one is made
        wait(browser).until(lambda b: (release(b), report_status(b).startswith("Done: telemetry-report-"))[1])
