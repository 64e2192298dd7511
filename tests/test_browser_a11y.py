"""Accessibility in headless Chromium: axe-core finds nothing on any tab, dialog or panel, for either role,
and what a mouse does the keyboard does too, with a focus ring to see where it is.

axe-core comes from the npm registry, pinned in tests/axe/package-lock.json; `make test` installs it
(`npm ci`) into tests/axe/node_modules.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from layouts import ids
from tests.page_ready import scroll_to, scroll_to_every_place
from tests.test_browser_access import WEEK, navigate, sign_in, text_of, wait

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TABS = {
    "dashboard": ("/telemetry", "#dashboard-trend .scatterlayer .trace"),
    "analytics": ("/telemetry/analytics", "#analytics-agent-chart .barlayer .point"),
    "users": ("/telemetry/users", "#users-grid .ag-row"),
    "billing": ("/telemetry/billing", "#billing-daily .barlayer .point"),
    "adoption": ("/telemetry/adoption", "#adoption-league tbody th"),
}


# Every chart of the page drawn (one just put in once in view is drawn a moment later).
CHARTS_DRAWN = "return [...document.querySelectorAll('.dash-graph')].every((g) => g.querySelector('.main-svg'))"


def axe_violations(browser) -> dict[str, list[str]]:
    """axe-core's default rules (WCAG 2.0-2.2 A and AA, and best practices) on the page as it is: rule -> nodes."""
    assert AXE.exists(), f"{AXE} is missing: `make test` installs it (npm ci --prefix tests/axe)"
    if not browser.execute_script("return !!window.axe"):
        browser.execute_script(AXE.read_text())  # through DevTools, so the page's CSP does not apply
    browser.set_script_timeout(120)
    found = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => [v.id + ' (' + v.impact + ')', v.nodes.map(n => n.target.join(' '))])))"
        ".catch(e => done([['axe failed: ' + e, []]]));"
    )
    return dict(found)


def settled(browser) -> bool:
    """No Dash callback under way, and no transition (a dialog fading in has colours half-way)."""
    return browser.execute_script(
        "return !document.querySelector('[data-dash-is-loading=true]')"
        " && !document.getAnimations().some(a => a instanceof CSSTransition && a.playState === 'running')"
    )


def open_tab(browser, base: str, slug: str) -> None:
    """The tab's page for WEEK, drawn: gone to as its link goes, unless shown already (where signing in landed)."""
    path, drawn = TABS[slug]
    if browser.current_url != f"{base}{path}{WEEK}":
        navigate(browser, path + WEEK)
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, drawn) and settled(b))
    scroll_to_every_place(browser)  # the grids and charts below the fold too, for axe
    wait(browser).until(lambda b: settled(b) and b.execute_script(CHARTS_DRAWN))


def dark(browser, on: bool) -> None:
    """The system's colour scheme, as Chromium's DevTools emulate it; assets/theme.js follows it."""
    scheme = "dark" if on else "light"
    media = {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", media)
    wait(browser).until(lambda b: b.execute_script("return document.documentElement.dataset.bsTheme") == scheme)
    wait(browser).until(settled)


def grid_cell(browser, grid: str, column: str, text: str):
    cells = f"#{grid} .ag-row [col-id={column}]"
    return wait(browser).until(
        lambda b: next((c for c in b.find_elements(By.CSS_SELECTOR, cells) if c.text == text), None)
    )


def report(who: str, found: dict[str, dict[str, list[str]]]) -> None:
    """The counts per place and rule, in the test's output (-s): the figures of the closing note."""
    for where, rules in found.items():
        counts = {rule: len(nodes) for rule, nodes in rules.items()}
        print(f"axe {who} {where}: {sum(counts.values())}", counts)


# `make test`: each tab once, in light and dark mode in turn (as the tour takes each width once). `make test-long` (CI
# runs it too): each tab in both modes, for the Admin and a Manager (the same pages with fewer teams).
@pytest.mark.parametrize(
    ("who", "both_schemes"),
    [("admin", False), *(pytest.param(who, True, marks=pytest.mark.long) for who in ("admin", "manager"))],
)
def test_axe_finds_nothing_on_any_tab_dialog_or_panel(browser, live_server, who, both_schemes):
    sign_in(browser, live_server, who)  # lands on the Dashboard for WEEK: its tab is not loaded again
    wait(browser).until(lambda b: b.find_elements(By.ID, "report-open"))
    found = {}
    for n, slug in enumerate(TABS):
        open_tab(browser, live_server, slug)
        if both_schemes or n % 2 == 0:
            found[slug] = axe_violations(browser)
        if both_schemes or n % 2 == 1:
            dark(browser, True)  # the same page in the system's dark mode: its colours are checked too
            found[f"{slug} dark"] = axe_violations(browser)
            dark(browser, False)
        if slug == "users":
            grid_cell(browser, "users-grid", "name", "Sam Sales").click()
            wait(browser).until(lambda b: b.find_elements(By.ID, "users-detail-agents") and settled(b))
            found["users person panel"] = axe_violations(browser)
    browser.find_element(By.ID, "report-open").click()
    wait(browser).until(lambda b: "As shown" in b.find_element(By.ID, "report-period").text)
    # The Cancel button shows only while a report is being made; shown here, its colours are checked too.
    browser.execute_script("document.getElementById('report-cancel').style.display = 'inline-block'")
    wait(browser).until(settled)
    found["report dialog"] = axe_violations(browser)
    report(who, found)
    assert {where: rules for where, rules in found.items() if rules} == {}


def test_axe_finds_nothing_on_the_access_notice(browser, live_server):
    sign_in(browser, live_server, "member", "/telemetry/billing")
    text_of(browser, "access-notice")
    found = {"access notice": axe_violations(browser)}
    report("member", found)
    assert found == {"access notice": {}}


def focus_ring(browser) -> str:
    """The ring that shows where the focus is: an outline or box shadow on the focused element or on the
    control around it (a date range rings both its fields); '' for none."""
    return browser.execute_script(
        "for (let e = document.activeElement, i = 0; e && i < 3; e = e.parentElement, i++) {"
        "  if (i && !e.matches(':focus-within')) continue;"
        "  const s = getComputedStyle(e);"
        "  if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) return 'outline ' + s.outlineColor;"
        "  if (s.boxShadow !== 'none') return 'shadow ' + s.boxShadow;"
        "}"
        "return '';"
    )


# Every element the Tab key reaches, looked at as it has the focus and again once the focus has left it (and the
# control around it): its place on screen, and whether an outline, box shadow or border appeared that a person can
# see, 2 px or more at 3:1 or more against what is next to it (WCAG 2.4.7, 1.4.11). One call per Tab press.
FOCUS_STEP = (Path(__file__).parent / "focus_step.js").read_text()


def focus_walk(browser, limit: int = 400) -> list[dict]:
    """Press Tab from the top of the page until the focus comes back to where it first went: what each element
    reached showed (`FOCUS_STEP`)."""
    browser.execute_script("window.__walk = null; window.scrollTo(0, 0); document.activeElement.blur()")
    first = None
    for _ in range(limit):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        key = browser.execute_script(FOCUS_STEP)
        if key is not None and key == first:
            break
        first = first or key
    else:
        raise AssertionError(f"the focus never came back to the top in {limit} presses of Tab")
    browser.execute_script("document.activeElement.blur()")  # the last ones compared too
    browser.execute_script(FOCUS_STEP)
    return browser.execute_script("return window.__walk.done")


def test_tab_reaches_every_control_of_every_tab_in_view_with_a_focus_ring(browser, live_server):
    """On each tab, Tab from the top round to the top again: every element that gets the focus is on screen
    (scrolled to) and shows a focus indicator it does not show without the focus, 2 px or more at 3:1 or more
    against what is next to it; then a dropdown opens from the keyboard, and a choice made there filters."""
    sign_in(browser, live_server, "admin")
    failures, reached = [], {}
    for slug in TABS:
        open_tab(browser, live_server, slug)
        walked = focus_walk(browser)
        reached[slug] = [e["name"] for e in walked]
        failures += [f"{slug}: {e['name']}: {e['where'] or 'no focus ring'}: {e['looks']}" for e in walked
                     if e["where"] or not e["ring"]]  # fmt: skip
    print("tab stops", {slug: len(names) for slug, names in reached.items()})
    for control in ("report-open", "Log out", "shell-nav-analytics", "filter-preset", "filter-range", "filter-teams",
                    "filter-agents", "users-search", "users-frequency-help"):  # fmt: skip
        assert any(control in names for names in reached.values()), f"{control} is never reached by Tab: {reached}"
    assert not failures, "\n".join(failures)
    tab_to(browser, "#filter-agents")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option[role=option]"))
    ActionChains(browser).send_keys("Code").perform()
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser).until(lambda b: "agents=" in b.current_url)


def test_the_frequency_classes_open_and_enter_opens_a_person_in_the_users_grid(browser, live_server):
    """Both by keyboard on one load of the Users tab: the "Frequency classes" help from the search box, then Enter
    on a focused cell of the grid opens that person."""
    sign_in(browser, live_server, "admin", "/telemetry/users" + WEEK)
    search = wait(browser).until(lambda b: b.find_element(By.ID, "users-search"))
    search.click()
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element.get_attribute("id") == "users-frequency-help"
    assert focus_ring(browser)
    tip = wait(browser).until(lambda b: b.find_elements(By.ID, "users-frequency-tip"))
    wait(browser).until(lambda b: "Daily" in tip[0].text)
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#users-grid .ag-row")) >= 7)
    browser.execute_script("dash_ag_grid.getApi('users-grid').setFocusedCell(0, 'name')")
    focused = wait(browser).until(lambda b: b.switch_to.active_element.get_attribute("col-id") == "name")
    assert focused
    assert focus_ring(browser), "the focused cell shows no focus ring"
    name = browser.switch_to.active_element.text
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser).until(lambda b: b.find_elements(By.ID, "users-detail-title"))
    assert text_of(browser, "users-detail-title") == name


def test_an_analytics_table_sorts_by_its_headers_and_enter_on_a_name_filters(browser, live_server):
    """The tables are plain HTML (assets/tables.js): a header sorts (from the largest, then the smallest, then the
    table's own order), the headers and the names are one tab stop each, and Enter on a name filters to it."""
    sign_in(browser, live_server, "admin", "/telemetry/analytics" + WEEK)
    names = "#analytics-agent-grid tbody th"

    def shown(b) -> list[str]:
        return [c.text for c in b.find_elements(By.CSS_SELECTOR, names)]

    wait(browser).until(lambda b: shown(b) == ["Code Helper", "Drafting"])
    cost = browser.find_element(By.XPATH, "//*[@id='analytics-agent-grid']//thead//button[text()='Cost']")
    header = cost.find_element(By.XPATH, "./..")
    assert header.get_attribute("aria-sort") == "none"
    cost.click()  # Drafting cost more ($2.33 against $1.39)
    assert header.get_attribute("aria-sort") == "descending"
    assert shown(browser) == ["Drafting", "Code Helper"]
    cost.send_keys(Keys.ENTER)
    assert header.get_attribute("aria-sort") == "ascending"
    assert shown(browser) == ["Code Helper", "Drafting"]
    keys = browser.find_elements(By.CSS_SELECTOR, "#analytics-agent-grid .telemetry-table-key")
    assert [k.get_attribute("tabindex") for k in keys] == ["0", "-1"]  # one tab stop, the arrows move down
    keys[0].send_keys(Keys.ARROW_DOWN)
    assert browser.switch_to.active_element.text == "Drafting"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait(browser).until(lambda b: "agents=a_draft" in b.current_url, "Enter on a name never filtered")
    wait(browser).until(lambda b: "Drafting" in text_of(b, "analytics-chips"))


def tab_to(browser, selector: str, limit: int = 120) -> str:
    """Press Tab until the focus is on an element matching `selector`; its accessible name."""
    for _ in range(limit):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.execute_script(f"return document.activeElement.matches({selector!r})"):
            return browser.switch_to.active_element.get_attribute("aria-label")
    raise AssertionError(f"Tab never reached {selector}")


def focused_label(browser) -> str:
    return browser.switch_to.active_element.get_attribute("aria-label")


@pytest.mark.parametrize(
    ("path", "chart", "key", "expected"),
    [
        # 2-8 March: Code Helper 4 interactions on top, then Drafting 2: Down reaches Drafting
        ("/telemetry", "dashboard-top-agents", Keys.ARROW_DOWN, ("Filter to Drafting (2)", "agents=a_draft")),
        ("/telemetry/analytics", "analytics-agent-chart", Keys.END, ("Filter to Drafting (2)", "agents=a_draft")),
    ],
)
def test_the_keyboard_filters_to_a_bar_as_a_click_does(browser, live_server, path, chart, key, expected):
    """A chart's bar labels are one tab stop (a toolbar of buttons), with a focus ring; the arrow keys move
    between the bars and Enter filters to one: no mouse, no grid."""
    sign_in(browser, live_server, "admin", path + WEEK)
    if path == "/telemetry":  # the Dashboard's top charts are below the fold, drawn once in view
        scroll_to(browser, ids.chart_place(chart))
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, f"#{chart} .telemetry-bar-key") and settled(b))
    first = tab_to(browser, f"#{chart} .telemetry-bar-key")
    assert first == "Filter to Code Helper (4)"
    assert focus_ring(browser), "the focused bar shows no focus ring"
    ActionChains(browser).send_keys(Keys.TAB).perform()  # one tab stop per chart: Tab leaves it
    assert not browser.execute_script(f"return document.activeElement.closest('#{chart}')")
    ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    assert focused_label(browser) == first
    ActionChains(browser).send_keys(key).perform()
    label, search = expected
    assert focused_label(browser) == label
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser).until(lambda b: search in b.current_url)


def test_the_keyboard_filters_to_a_series_of_usage_over_time(browser, live_server):
    """The stacked chart's legend entries are one tab stop too: Right moves to the next series, Enter filters
    to it as a click on its bars or on its legend entry does."""
    sign_in(browser, live_server, "admin", "/telemetry/analytics" + WEEK)
    chart = "analytics-over-time"
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#analytics-agent-chart .telemetry-bar-key"))
    # below the fold: its card's menu, the tab stop before the legend, brings it into view, and it is drawn
    tab_to(browser, f"[id*='{chart}'][id*='chart-menu'] > button")
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, f"#{chart} .telemetry-bar-key") and settled(b))
    first = tab_to(browser, f"#{chart} .telemetry-bar-key")
    assert first == "Filter to Code Helper"  # the busiest agent's series first, as the legend lists them
    assert focus_ring(browser), "the focused series shows no focus ring"
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
    assert focused_label(browser) == "Filter to Drafting"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser).until(lambda b: "agents=a_draft" in b.current_url)


# Plotly's resolved legend of each chart drawn that has one: [chart, itemclick, itemdoubleclick].
LEGENDS = (
    "return [...document.querySelectorAll('.js-plotly-plot')].filter((gd) => gd.querySelector('.legend .traces'))"
    ".map((gd) => [gd.parentElement.id, gd._fullLayout.legend.itemclick, gd._fullLayout.legend.itemdoubleclick])"
)


def test_no_legend_hides_a_line_on_a_click_and_a_series_entry_filters_as_enter_does(browser, live_server):
    """A Plotly legend's click hides a line, which no key can do: off on every chart (the Dashboard's trend and
    Analytics' stacked chart here). The stacked chart's entries are buttons: a click filters to the series."""
    sign_in(browser, live_server, "admin")
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#dashboard-trend .legend .traces"))
    assert browser.execute_script(LEGENDS) == [["dashboard-trend", False, False]]
    navigate(browser, "/telemetry/analytics" + WEEK)
    chart = "analytics-over-time"
    scroll_to(browser, ids.chart_place(chart))
    keys = f"#{chart} .telemetry-bar-key"
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, keys)) == 2 and settled(b))
    assert browser.execute_script(LEGENDS) == [[chart, False, False]]
    entry = browser.find_elements(By.CSS_SELECTOR, keys)[1]
    assert entry.get_attribute("aria-label") == "Filter to Drafting"
    ActionChains(browser, duration=0).move_to_element(entry).click().perform()  # where the legend's entry is drawn
    wait(browser).until(lambda b: "agents=a_draft" in b.current_url)
