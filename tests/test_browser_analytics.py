"""The Analytics tab in headless Chromium: tables and charts, the grain switch, cross-filtering and its chip."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from layouts import ids
from tests.page_ready import scroll_to
from tests.test_browser_access import WEEK, csp_violations, sign_in, text_of, wait

pytestmark = pytest.mark.browser

PAGE = "/telemetry/analytics" + WEEK
SCREENSHOT = "/tmp/telemetry-analytics.png"


def shows(browser, element_id: str, *texts: str) -> None:
    wait(browser).until(
        lambda b: all(text in b.find_element(By.ID, element_id).text for text in texts),
        f"{element_id} never showed {texts}",
    )


def buckets(browser, graph_id: str) -> list[int]:
    """The number of x values of each trace of a drawn Plotly chart."""
    script = "const g = document.querySelector(arguments[0]); return g && g.data.map(t => t.x.length)"
    return browser.execute_script(script, f"#{graph_id} .js-plotly-plot")


def click(browser, element, exact: bool = False) -> None:
    """Scroll the element to the middle of the window at once (Bootstrap scrolls smoothly), then click it."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    if exact:
        ActionChains(browser, duration=0).move_to_element(element).click().perform()
    else:
        element.click()


def ticks(browser, graph_id: str) -> list[str]:
    return [t.text.strip() for t in browser.find_elements(By.CSS_SELECTOR, f"#{graph_id} .ytick text")]


def bar(browser, graph_id: str, label: str):
    """The bar drawn for `label` in a horizontal bar chart (bars and y ticks share their order)."""

    def drawn(b):
        names = ticks(b, graph_id)
        bars = b.find_elements(By.CSS_SELECTOR, f"#{graph_id} .barlayer .point")
        return label in names and len(bars) == len(names) and bars[names.index(label)]

    return wait(browser).until(drawn, f"no bar for {label} in {graph_id}")


def test_admin_reads_filters_and_clears(browser, live_server):
    """Then, after a visit of the Dashboard, the tab's two tables are back, with no AG Grid started (One page for
    both: each test's first load is most of its cost.)"""
    sign_in(browser, live_server, "admin", PAGE)
    shows(browser, "analytics-agent-grid", "Code Helper", "25.0%", "4,800", "$1.39", "Drafting", "$2.33")
    shows(browser, "analytics-team-grid", "Engineering", "50.0%", "66.7%", "$0.72", "Sales", "100.0%")
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#analytics-agent-chart .barlayer .point"))
    for graph in (ids.ANALYTICS_OVER_TIME, ids.ANALYTICS_HEATMAP):  # below the fold: drawn once in view
        scroll_to(browser, ids.chart_place(graph))
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#analytics-heatmap .hm"))
    wait(browser).until(lambda b: buckets(b, "analytics-over-time") == [7, 7])  # Code Helper and Drafting, by day
    browser.save_screenshot(SCREENSHOT)

    click(browser, browser.find_element(By.XPATH, "//*[@id='analytics-grain']//label[text()='Weekly']"))
    wait(browser).until(lambda b: "grain=week" in b.current_url)
    wait(browser).until(lambda b: buckets(b, "analytics-over-time") == [1, 1], "the chart never went weekly")

    click(browser, bar(browser, "analytics-agent-chart", "Code Helper"), exact=True)
    wait(browser).until(lambda b: "agents=a_code" in b.current_url, "clicking the bar never filtered")
    assert "grain=week" in browser.current_url
    shows(browser, "analytics-chips", "Agent: Code Helper")
    shows(browser, "analytics-team-grid", "75.0%")  # Engineering has 3 of Code Helper's 4 interactions
    wait(browser).until(lambda b: "Drafting" not in b.find_element(By.ID, "analytics-agent-grid").text)
    assert "Code Helper" in text_of(browser, "filter-agents")  # the shared filter bar follows the URL

    click(browser, browser.find_element(By.CSS_SELECTOR, "#analytics-chips button"))
    wait(browser).until(lambda b: "agents=" not in b.current_url, "the chip never cleared the filter")
    shows(browser, "analytics-agent-grid", "Drafting")
    shows(browser, "analytics-chips", "click an agent")
    assert csp_violations(browser) == []

    rows = "#analytics-team-grid tbody tr"
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, rows))
    for link, shown in (("shell-nav-dashboard", "#dashboard-trend .scatterlayer"), ("shell-nav-analytics", rows)):
        browser.find_element(By.ID, link).click()
        wait(browser).until(lambda b, shown=shown: b.find_elements(By.CSS_SELECTOR, shown))
    assert browser.find_elements(By.CSS_SELECTOR, "#_pages_content .ag-root-wrapper") == []  # no AG Grid to start


def test_clicking_a_team_filters_the_tab(browser, live_server):
    sign_in(browser, live_server, "manager", PAGE)
    wait(browser).until(lambda b: sorted(ticks(b, "analytics-team-chart")) == ["Engineering", "Sales"])
    click(browser, bar(browser, "analytics-team-chart", "Sales"), exact=True)
    wait(browser).until(lambda b: "teams=t_sales" in b.current_url, "clicking the bar never filtered")
    shows(browser, "analytics-chips", "Team: Sales")
    shows(browser, "analytics-agent-grid", "Code Helper", "$1.00")  # e3 only
    assert "Legal" not in browser.find_element(By.ID, "analytics-page").text


def test_a_backwards_period_is_explained_in_every_card(browser, live_server):
    sign_in(browser, live_server, "admin", "/telemetry/analytics?start=2026-03-08&end=2026-03-01")
    shows(browser, "analytics-agent-table", "before it starts")
    scroll_to(browser, "analytics-team-table")  # put in once in view (assets/in_view.js)
    shows(browser, "analytics-team-table", "before it starts")
    for graph in ("analytics-agent-chart", "analytics-over-time", "analytics-heatmap"):
        if graph != "analytics-agent-chart":  # below the fold: drawn once in view
            scroll_to(browser, ids.chart_place(graph))
        wait(browser).until(
            lambda b, graph=graph: "before it" in b.find_element(By.CSS_SELECTOR, f"#{graph} .annotation").text
        )
