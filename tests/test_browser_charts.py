"""Chart cards in headless Chromium: no Plotly mode bar, a download menu used by keyboard, top-5 bars that filter."""

from __future__ import annotations

import csv
import json
import re

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from layouts import ids
from tests.page_ready import scroll_to, scroll_to_every_place
from tests.test_browser_a11y import dark
from tests.test_browser_access import WEEK, csp_violations, sign_in, text_of, wait
from tests.test_browser_links import settled

pytestmark = pytest.mark.browser

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_TAB_STOPS = 60  # far more than the Dashboard has without the mode bars


# The Dashboard's charts below the fold, drawn once scrolled to (layouts/dashboard.py)
BELOW_THE_FOLD = (ids.DASHBOARD_TOP_AGENTS, ids.DASHBOARD_TOP_TEAMS)


def drawn(browser, graph_id: str) -> None:
    if graph_id in BELOW_THE_FOLD:
        scroll_to(browser, ids.chart_place(graph_id))
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, f"#{graph_id} .barlayer .point"))


def menu_toggle(browser, graph_id: str):
    menu_id = json.dumps({"chart": graph_id, "type": "chart-menu"}, separators=(",", ":"))  # as Dash writes it
    return browser.execute_script("return document.getElementById(arguments[0]).querySelector('button')", menu_id)


def tab_to(browser, target) -> list[str]:
    """Press Tab from the top of the page until `target` has the focus; the classes of what got it on the way."""
    browser.find_element(By.TAG_NAME, "body").click()
    browser.execute_script("document.activeElement.blur(); window.scrollTo({top: 0, left: 0, behavior: 'instant'})")
    passed = []
    for _ in range(MAX_TAB_STOPS):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.switch_to.active_element
        if focused == target:
            return passed
        passed.append(browser.execute_script("return arguments[0].closest('.modebar') ? 'modebar' : ''", focused))
    raise AssertionError(f"the menu was not reached in {MAX_TAB_STOPS} tab stops")


def choose_by_keyboard(browser, graph_id: str, item: str) -> None:
    """Open the card's menu with Enter, go down to `item` with the arrow keys, and press Enter."""
    toggle = menu_toggle(browser, graph_id)
    passed = tab_to(browser, toggle)
    assert "modebar" not in passed
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    for _ in range(3):
        ActionChains(browser).send_keys(Keys.ARROW_DOWN).perform()
        if browser.switch_to.active_element.text == item:
            break
    assert browser.switch_to.active_element.text == item
    ActionChains(browser).send_keys(Keys.ENTER).perform()


def downloaded(browser, suffix: str):
    return wait(browser).until(
        lambda b: next((f for f in b.download_dir.glob(f"*{suffix}") if f.stat().st_size), None),
        f"no {suffix} file was downloaded",
    )


def every_chart_drawn(browser, tab: str, charts: int) -> None:
    """The tab's places below the fold scrolled to (charts there are drawn once in view), then its `charts`
    charts drawn."""
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, f".telemetry-in-view[id^='{tab}-']"))
    scroll_to_every_place(browser)  # each tab's places are named after it
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".card .js-plotly-plot")) == charts, tab)


def test_no_mode_bar_and_the_menu_works_by_keyboard(browser, live_server):
    sign_in(browser, live_server, "admin")
    drawn(browser, "dashboard-top-teams")
    drawn(browser, "dashboard-top-agents")
    assert browser.find_elements(By.CSS_SELECTOR, ".modebar, .modebar-btn") == []
    # Plotly's "Share chart…" (to its cloud) is nowhere (AG Grid's kept styles are named "…Shared…")
    assert not re.search(r"\bShare\b", browser.page_source)

    choose_by_keyboard(browser, "dashboard-top-teams", "Download data (CSV)")
    path = downloaded(browser, ".csv")
    assert path.name == "telemetry-dashboard-top-teams-2026-03-02-to-2026-03-08.csv"
    with path.open(newline="") as file:
        rows = list(csv.reader(file))
    assert rows == [
        ["Team", "Interactions", "Active users", "Cost (USD)"],
        ["Engineering", "4", "2", "0.723333"],
        ["Legal", "1", "1", "2.000000"],
        ["Sales", "1", "1", "1.000001"],
    ]

    choose_by_keyboard(browser, "dashboard-top-agents", "Download PNG")
    png = downloaded(browser, ".png")
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert png.name.startswith("telemetry-dashboard-top-agents-")
    assert csp_violations(browser) == []


def test_a_chart_below_the_fold_is_drawn_once_in_view_and_a_page_at_rest_animates_nothing(browser, live_server):
    """Analytics' heat map, below the fold at 1400 x 1000, is not drawn while nobody can see it: its place says
    "Loading…". A chart is drawn as soon as the top of its card scrolls into view; reached by keyboard, the heat
    map's card comes into view, the chart is drawn and its menu saves its PNG.

    Once Analytics has answered, nothing on the page animates: the heat map's place below the fold says
    "Loading…" beside a spinner that stands still until the place is in view (Chromium turned it on the page's
    main thread, a frame at a time, for as long as the page was open), and the tabs' pills change colour at once
    instead of fading (colours, too, are animated on the main thread) when a tab is clicked. (One page for both:
    each test's first load is most of its cost.)"""
    from tests.test_browser_a11y import tab_to

    sign_in(browser, live_server, "admin", "/telemetry/analytics" + WEEK)
    drawn(browser, ids.ANALYTICS_AGENT_CHART)
    place = ids.chart_place(ids.ANALYTICS_HEATMAP)
    wait(browser).until(lambda b: b.find_element(By.ID, place).get_attribute("data-in-view") == "away")
    assert not browser.find_elements(By.ID, ids.ANALYTICS_HEATMAP)
    assert "Loading…" in text_of(browser, place)

    # at rest: nothing animates, the spinner out of sight stands still
    settled(browser)
    assert "Loading…" in text_of(browser, place)
    assert browser.execute_script(RUNNING) == []
    spinner = browser.find_element(By.CSS_SELECTOR, f"#{place} .spinner-border")
    assert spinner.value_of_css_property("animation-name") == "none"
    # the same spinner anywhere else turns, as Bootstrap draws it
    assert browser.execute_script(COPY_TURNS, spinner) == "spinner-border"

    # scrolled until only the top of the usage-over-time card shows (its chart's place still below the window):
    # the card is in view, so its chart is drawn
    over_time = ids.chart_place(ids.ANALYTICS_OVER_TIME)
    browser.execute_script(
        "const card = document.getElementById(arguments[0]).closest('.card');"
        "window.scrollBy({top: card.getBoundingClientRect().top - window.innerHeight + 20, behavior: 'instant'})",
        over_time,
    )
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, f"#{ids.ANALYTICS_OVER_TIME} .barlayer .point"))
    assert browser.execute_script(
        "return document.getElementById(arguments[0]).getBoundingClientRect().top > window.innerHeight", over_time
    )
    assert browser.find_element(By.ID, place).get_attribute("data-in-view") == "away"  # the heat map still waits

    browser.execute_script("window.scrollTo({top: 0, left: 0, behavior: 'instant'})")
    tab_to(browser, f"[id*='{ids.ANALYTICS_HEATMAP}'][id*='chart-menu'] > button")  # the card's first tab stop
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    for _ in range(3):
        ActionChains(browser).send_keys(Keys.ARROW_DOWN).perform()
        if browser.switch_to.active_element.text == "Download PNG":
            break
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    png = downloaded(browser, ".png")
    assert png.name.startswith("telemetry-analytics-heatmap-") and png.read_bytes().startswith(PNG_MAGIC)
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#analytics-heatmap .heatmaplayer"))
    assert browser.find_element(By.ID, place).get_attribute("data-in-view") == "shown"
    assert "Loading…" not in text_of(browser, place)
    assert csp_violations(browser) == []

    # a tab clicked: its pill changes colour at once
    browser.find_element(By.ID, ids.NAV_LINKS["dashboard"]).click()
    assert not [t for t in browser.execute_script(RUNNING) if "nav-link" in t]
    nav = browser.find_element(By.ID, ids.NAV_LINKS["analytics"])
    assert nav.value_of_css_property("transition-duration") == "0s"


RUNNING = """
return document.getAnimations().filter((a) => a.playState === "running")
    .map((a) => { const t = a.effect && a.effect.target; return t ? (t.id || t.className) : "?"; });
"""
COPY_TURNS = """
const copy = document.body.appendChild(arguments[0].cloneNode(true));
const name = getComputedStyle(copy).animationName;
copy.remove();
return name;
"""


def test_a_manager_tours_the_tabs_without_a_mode_bar(browser, live_server):
    sign_in(browser, live_server, "manager")
    drawn(browser, "dashboard-top-teams")
    # two teams are not a "Top 5"
    wait(browser).until(lambda b: text_of(b, "dashboard-top-teams-title") == "Teams by interactions (2)")
    for tab, charts in (("analytics", 4), ("users", 2), ("billing", 4)):
        browser.find_element(By.ID, f"shell-nav-{tab}").click()
        every_chart_drawn(browser, tab, charts)
        assert browser.find_elements(By.CSS_SELECTOR, ".modebar, .modebar-btn") == []
        menus = browser.find_elements(By.CSS_SELECTOR, "[id*='chart-menu'] > button")
        assert len(menus) == charts, tab  # every chart card has its menu


# Every chart of the page drawn by a registered trace module (a type missing from the bundle would be hidden).
ALL_TRACES_DRAWN = """
return [...document.querySelectorAll('.js-plotly-plot')].every((gd) => gd._fullData && gd._fullData.length
    && gd.data.every((trace, i) => gd._fullData[i]._module && gd._fullData[i].type === (trace.type || 'scatter')));
"""


def test_a_chart_is_not_drawn_again_at_its_size_and_the_smaller_plotly_bundle_draws_every_tab(browser, live_server):
    """A resize at an unchanged size keeps the drawing (every tab's charts were drawn twice); a new width redraws.
    Then plotly.js's cartesian bundle (app.py, PLOTLY_URL) draws every chart of every tab; the full one is never
    fetched. (One page for both: each test's first load is most of its cost.)"""
    sign_in(browser, live_server, "admin")
    # the trend's own plot drawn (every() over no plot yet is true), then no callback left to draw it again
    wait(browser).until(lambda b: b.execute_script(TREND_DRAWN) and b.execute_script(ALL_TRACES_DRAWN))
    settled(browser)
    same, redrawn, width, box = browser.execute_async_script(RESIZE_TWICE)
    assert same, "drawn again at the same size"
    assert redrawn and abs(width - box) <= 1

    for tab, charts in (("dashboard", 4), ("analytics", 4), ("users", 2), ("billing", 4)):
        if tab != "dashboard":  # where signing in lands
            browser.find_element(By.ID, f"shell-nav-{tab}").click()
        every_chart_drawn(browser, tab, charts)
        wait(browser).until(lambda b: b.execute_script(ALL_TRACES_DRAWN), tab)
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert [url for url in fetched if "plotly-cartesian-" in url]
    assert not [url for url in fetched if "plotly.min.js" in url]
    assert csp_violations(browser) == []


# dcc.Graph's resize of a chart (it asks at every box the browser reports, the first one included), then again at
# another width: the chart's layout object, its width, and whether it was drawn anew each time.
TREND_DRAWN = """
const gd = document.querySelector('#dashboard-trend .js-plotly-plot');
return Boolean(gd && gd._fullLayout && gd._fullData && gd._fullData.length);
"""
RESIZE_TWICE = """
const done = arguments[arguments.length - 1];
const gd = document.querySelector('#dashboard-trend .js-plotly-plot');
const drawn = gd._fullLayout;
window.Plotly.Plots.resize(gd).then(() => {
  const same = gd._fullLayout === drawn;
  gd.style.width = (gd._fullLayout.width - 100) + 'px';
  return window.Plotly.Plots.resize(gd).then(() => done([same, gd._fullLayout !== drawn, gd._fullLayout.width,
                                                          parseFloat(getComputedStyle(gd).width)]));
});
"""


def test_a_click_on_a_bar_its_label_or_its_value_filters_the_dashboard(browser, live_server):
    """Each click once the page has answered every callback: a filter chosen before the filter bar has its
    choices may be dropped with them (tests/test_browser_links.py, settled)."""
    sign_in(browser, live_server, "admin")
    drawn(browser, "dashboard-top-teams")
    settled(browser)
    bars = browser.find_elements(By.CSS_SELECTOR, "#dashboard-top-teams .barlayer .point path")
    ActionChains(browser, duration=0).move_to_element(bars[-1]).click().perform()  # the longest, on top: Engineering
    wait(browser).until(lambda b: "teams=t_eng" in b.current_url, "a click on the bar never filtered")
    assert "Engineering" in text_of(browser, "filter-teams")

    browser.get(live_server + "/telemetry" + WEEK)
    drawn(browser, "dashboard-top-teams")
    settled(browser)
    label = next(t for t in browser.find_elements(By.CSS_SELECTOR, "#dashboard-top-teams .ytick text")
                 if t.text == "Legal")  # fmt: skip
    ActionChains(browser, duration=0).move_to_element(label).click().perform()
    wait(browser).until(lambda b: "teams=t_legal" in b.current_url, "a click on the label never filtered")
    wait(browser).until(lambda b: text_of(b, "dashboard-kpi-interactions-value") == "1")

    browser.get(live_server + "/telemetry" + WEEK)
    drawn(browser, "dashboard-top-agents")
    settled(browser)
    value = browser.find_element(By.CSS_SELECTOR, "#dashboard-top-agents .barlayer .point:first-child text")
    assert value.text == "2"  # Drafting, the shorter bar
    ActionChains(browser, duration=0).move_to_element(value).click().perform()
    wait(browser).until(lambda b: "agents=a_draft" in b.current_url, "a click on the value never filtered")
    wait(browser).until(lambda b: text_of(b, "dashboard-kpi-interactions-value") == "2")


def test_the_html_report_draws_in_the_apps_look_without_a_toolbar(app, browser, tmp_path):
    from reports.chart_style import AGENT_COLOUR, TEAM_COLOUR
    from tests.test_reports import make

    page = tmp_path / "report.html"
    page.write_bytes(make(app, "admin", "html", points=("usage_over_time", "by_agent", "by_team")).content)
    browser.get(page.as_uri())
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg")) >= 3)
    assert browser.find_elements(By.CSS_SELECTOR, ".modebar, .modebar-btn") == []
    fills = browser.execute_script(
        "return Array.from(document.querySelectorAll('.barlayer .point path')).map(p => p.style.fill)"
    )
    rgb = [f"rgb({int(c[1:3], 16)}, {int(c[3:5], 16)}, {int(c[5:7], 16)})" for c in (AGENT_COLOUR, TEAM_COLOUR)]
    assert set(fills) == set(rgb)  # agents and teams in the tabs' colours, not Plotly's default blue
    ticks = [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".xtick text") if t.text]
    counts = [t for t in ticks if not t.startswith(("Mar", "Feb"))]  # the agents' and teams' interactions
    assert counts and all(t.isdigit() for t in counts), counts  # 0, 1, 2, … never 0.5
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


# Each chart of the page: its paper as drawn, and the figure Dash keeps for it (its layout's own colours, and its
# template's paper), from dash-renderer's store.
KEPT_FIGURES = """
const state = window.store.getState();
return [...document.querySelectorAll('.dash-graph[id]')].map((graph) => {
  const node = (state.paths.strs[graph.id] || []).reduce((part, key) => part && part[key], state.layout);
  const layout = (node && node.props.figure && node.props.figure.layout) || {};
  const gd = graph.querySelector('.js-plotly-plot');
  return [graph.id, gd && gd._fullLayout ? gd._fullLayout.paper_bgcolor : null, layout.paper_bgcolor || null,
          layout.template ? layout.template.layout.paper_bgcolor : null];
});
"""


def test_in_dark_mode_charts_are_drawn_dark_at_once(browser, live_server):
    """The dark look goes into the figure on its way to Plotly (assets/theme.js): each chart was drawn light, then
    recoloured by a relayout (drawn again), which dcc.Graph wrote back into the figure Dash keeps."""
    media = {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", media)  # before the page: its first drawing is dark
    try:
        sign_in(browser, live_server, "admin")
        every_chart_drawn(browser, "dashboard", 4)
        wait(browser).until(lambda b: b.execute_script(TREND_DRAWN) and b.execute_script(ALL_TRACES_DRAWN))
        settled(browser)
        charts = browser.execute_script(KEPT_FIGURES)
        assert len(charts) == 4
        assert all(drawn == "#212529" for _, drawn, _, _ in charts), charts
        # as the server sent them: no colour of the layout's own, the light template
        assert all(own is None and template == "white" for _, _, own, template in charts), charts
    finally:
        dark(browser, False)
