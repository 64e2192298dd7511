"""The Dashboard and the shared filter bar in headless Chromium: presets, the URL, the back button."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By

from tests.page_ready import scroll_to_every_place
from tests.test_browser_access import WEEK, csp_violations, sign_in, text_of, wait

pytestmark = pytest.mark.browser


def kpi(browser, name: str, expected: str) -> None:
    element_id = f"dashboard-kpi-{name}-value"
    wait(browser).until(
        lambda b: b.find_elements(By.ID, element_id) and b.find_element(By.ID, element_id).text == expected,
        f"{element_id} never showed {expected}",
    )


def choose(browser, dropdown_id: str, label: str) -> None:
    browser.find_element(By.CSS_SELECTOR, f"#{dropdown_id}").click()
    option = wait(browser).until(
        lambda b: next((o for o in b.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option") if o.text == label), None)
    )
    option.click()


def test_presets_the_url_the_back_button_and_the_team_filter(browser, live_server):
    """One page for both (each test's first load is most of its cost): a preset and back, then a team."""
    sign_in(browser, live_server, "admin")
    kpi(browser, "interactions", "6")
    assert "Custom range" in text_of(browser, "filter-preset")
    choose(browser, "filter-preset", "All time")
    kpi(browser, "interactions", "9")
    wait(browser).until(lambda b: "start=2026-02-25" in b.current_url)
    browser.back()
    kpi(browser, "interactions", "6")
    assert browser.current_url.endswith(WEEK)

    # the team filter narrows the numbers
    choose(browser, "filter-teams", "Legal")
    kpi(browser, "interactions", "1")
    kpi(browser, "cost", "$2.00")
    assert "teams=t_legal" in browser.current_url

    # the tab links keep the period and the filters
    browser.find_element(By.ID, "shell-nav-analytics").click()
    wait(browser).until(lambda b: "/telemetry/analytics" in b.current_url)
    address = urlsplit(browser.current_url)
    assert address.path == "/telemetry/analytics"
    assert parse_qs(address.query) == {"start": ["2026-03-02"], "end": ["2026-03-08"], "teams": ["t_legal"]}
    assert csp_violations(browser) == []


def test_a_backwards_range_in_a_link_is_explained(browser, live_server):
    sign_in(browser, live_server, "admin", "/telemetry?start=2026-03-08&end=2026-03-01")
    assert "ends (2026-03-01) before it starts (2026-03-08)" in text_of(browser, "dashboard-message")
    assert "before it starts" in text_of(browser, "filter-message")


TREND_MARGINS_KEPT = """
const gd = document.querySelector('#dashboard-trend .js-plotly-plot');
return ['l', 'r', 't', 'b'].every((side) => Math.round(gd._fullLayout._size[side]) === gd._fullLayout.margin[side]);
"""


def test_charts_draw(browser, live_server):
    sign_in(browser, live_server, "manager")
    kpi(browser, "interactions", "5")
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#dashboard-trend .scatterlayer .trace"))
    # margins that fit (its legend at the foot): Plotly grew none of them, so it drew the trend once
    assert browser.execute_script(TREND_MARGINS_KEPT)
    assert browser.find_elements(By.CSS_SELECTOR, "#dashboard-top-agents") == []  # below the fold: drawn once in view
    scroll_to_every_place(browser)
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#dashboard-top-agents .barlayer .point"))
    browser.save_screenshot("/tmp/telemetry-dashboard-manager.png")
    labels = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#dashboard-top-teams .ytick text")]
    assert sorted(labels) == ["Engineering", "Sales"]


TREND_FITS = """
const gd = document.querySelector('#dashboard-trend .js-plotly-plot');
if (!gd || !gd._fullLayout || Math.abs(gd._fullLayout.width - gd.parentElement.clientWidth) > 1) return null;
if (!gd.querySelector('.legend .traces')) return null;  // not drawn with its data yet
const rows = new Set([...gd.querySelectorAll('.legend .traces')].map((e) => e.getBoundingClientRect().top));
return {rows: rows.size, legend: [...gd.querySelectorAll('.legendtext')].map((t) => t.textContent),
        kept: ['l', 'r', 't', 'b'].every((s) => Math.round(gd._fullLayout._size[s]) === gd._fullLayout.margin[s])};
"""


def test_the_trend_legend_says_what_is_compared_and_fits_at_every_width(browser, live_server):
    """A long comparison (1 January to 8 March against the same days two months earlier, which start before the
    first data): its legend names what the dotted lines are in three rows at most, so Plotly keeps the margins sent
    and draws the trend once, from a phone to a desktop; the dates compared are in the lines' hover."""
    from tests.test_browser_tour import emulate

    sign_in(browser, live_server, "admin", "/telemetry?start=2026-01-01&end=2026-03-08")
    for width in (1920, 1280, 640, 390):
        emulate(browser, width, "light")
        seen = wait(browser).until(lambda b: b.execute_script(TREND_FITS))
        assert seen["rows"] <= 3 and seen["kept"], (width, seen)
        assert seen["legend"] == ["Interactions", "Active users", "Same days 3 months earlier"], (width, seen)
    behind = browser.execute_script(
        "return document.querySelector('#dashboard-trend .js-plotly-plot').data[0].hovertemplate"
    )
    assert "(1 Oct – 8 Dec 2025: same days 3 months earlier, no data before 25 Feb 2026)" in behind
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_a_trend_by_month_is_drawn_once_at_every_width(browser, live_server):
    """Two years by month (a titled axis of "Mar 2024"): on a phone Plotly turns those labels, and the margin sent
    keeps room for them, so the trend is still drawn once."""
    from tests.test_browser_tour import emulate

    sign_in(browser, live_server, "admin", "/telemetry?start=2024-03-03&end=2026-03-08")
    for width in (1920, 1280, 640, 390):
        emulate(browser, width, "light")
        seen = wait(browser).until(lambda b: b.execute_script(TREND_FITS))
        assert seen["rows"] <= 3 and seen["kept"], (width, seen)
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
