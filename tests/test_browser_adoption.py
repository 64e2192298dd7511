"""The Adoption tab in headless Chromium: its charts and grids drawn, the idle seats exported, its look."""

from __future__ import annotations

import csv

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from layouts import ids
from tests.page_ready import scroll_to
from tests.test_browser_access import WEEK, csp_violations, sign_in, text_of, wait
from tests.test_browser_users import csv_files

pytestmark = pytest.mark.browser

DRAWN = (
    "#adoption-funnel .barlayer .point",
    "#adoption-active .scatterlayer .trace",
    "#adoption-cohorts .heatmaplayer",
    "#adoption-league tbody th",
    "#adoption-reclaim .ag-row",
    "#adoption-agents .barlayer .point",
    "#adoption-models tbody th",
    "#adoption-uptake .scatterlayer .trace",
    "#adoption-agent-cohorts .heatmaplayer",
)


BELOW_THE_FOLD = (ids.chart_place(ids.ADOPTION_AGENTS), ids.ADOPTION_MODELS_TABLE, ids.chart_place(ids.ADOPTION_UPTAKE),
                  ids.chart_place(ids.ADOPTION_AGENT_COHORTS), ids.ADOPTION_RECLAIM_TABLE)  # fmt: skip


def scrolled_to_the_grids(browser) -> None:
    """The grids and charts below the fold start once in view (assets/in_view.js): scrolled to, as a person
    would."""
    for place_id in BELOW_THE_FOLD:
        scroll_to(browser, place_id)


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
    scrolled_to_the_grids(browser)
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
    scrolled_to_the_grids(browser)
    wait(browser).until(lambda b: len(reclaim_names(b)) == 5)
    assert "Lee Legal" not in reclaim_names(browser) and "Noa Never" not in reclaim_names(browser)
    wait(browser).until(lambda b: all(b.find_elements(By.CSS_SELECTOR, css) for css in DRAWN) and settled(b))
    assert axe_violations(browser) == {}


def tab_until(browser, selector: str, limit: int = 12) -> None:
    """Press Tab until the focus is on an element matching `selector`, as a keyboard user goes on from here."""
    for _ in range(limit):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.execute_script("return document.activeElement.matches(arguments[0])", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def focus_picker(browser) -> None:
    """The focus on the agent picker, as a keyboard user who got there has it."""
    browser.execute_script("const picker = document.getElementById('adoption-uptake-agent');"
                           "picker.scrollIntoView({block: 'center', behavior: 'instant'}); picker.focus()")  # fmt: skip
    assert browser.switch_to.active_element.get_attribute("id") == "adoption-uptake-agent"


def test_one_agent_on_the_adoption_tab(browser, live_server):
    """Agent adoption and the cost per model drawn; the newest agent's uptake and its first users by default,
    another one picked (into the URL); a card's definition and its menu's CSV by keyboard, in a manager's scope."""
    from tests.test_browser_a11y import settled
    from tests.test_browser_comparisons import tooltip_shows

    sign_in(browser, live_server, "admin", "/telemetry/adoption" + WEEK)
    scrolled_to_the_grids(browser)
    wait(browser).until(lambda b: all(b.find_elements(By.CSS_SELECTOR, css) for css in DRAWN) and settled(b))
    bars = browser.find_elements(By.CSS_SELECTOR, "#adoption-agents .barlayer .point text")
    assert sorted(bar.text for bar in bars) == ["50.0% (2)", "50.0% (2)"]  # Mia, Sam; Max, Lee of 4 active
    model = browser.find_element(By.CSS_SELECTOR, "#adoption-models tbody td:nth-child(5)")
    assert model.text == "$0.93 (▲ 1,761.7%)"  # 3.723334 USD for 4 active people, against 0.05 USD
    assert "text-danger" in model.get_attribute("class")  # a cost up is bad
    assert text_of(browser, "adoption-uptake-since").startswith("Drafting: first used in your scope on 3 Mar 2026")
    # all by keyboard from the picker: another agent, then the uptake card's definition and its menu's CSV
    focus_picker(browser)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option[role=option]"))
    ActionChains(browser).send_keys("Code").perform()
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser).until(lambda b: "uptake=a_code" in b.current_url and settled(b))  # a link keeps the choice
    wait(browser).until(lambda b: text_of(b, "adoption-uptake-since").startswith("Code Helper: first used"))
    focus_picker(browser)  # the page was drawn again for the new URL
    tab_until(browser, "#adoption-uptake-info")
    tooltip_shows(browser, "counted up day by day from its first interaction")
    tab_until(browser, "[id*='adoption-uptake'][id*='chart-menu'] button", 2)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    for _ in range(3):
        ActionChains(browser).send_keys(Keys.ARROW_DOWN).perform()
        if browser.switch_to.active_element.text == "Download data (CSV)":
            break
    assert browser.switch_to.active_element.text == "Download data (CSV)"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    path = wait(browser).until(lambda b: next((f for f in csv_files(b) if "adoption-uptake" in f.name), None))
    with path.open(newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["Agent", "First used", "Day", "Days since the first", "First used that day",
                       "People who have used it"]  # fmt: skip
    assert (rows[1], rows[-1][2:]) == (["Code Helper", "2026-02-25", "2026-02-25", "0", "1", "1"],
                                       ["2026-03-08", "11", "0", "2"])  # fmt: skip
    browser.delete_all_cookies()  # signed out
    sign_in(browser, live_server, "legal_manager", "/telemetry/adoption" + WEEK + "&uptake=a_code")
    # Code Helper is not used in Lee's team: their newest (and only) agent instead
    wait(browser).until(
        lambda b: text_of(b, "adoption-uptake-since").startswith("Drafting: first used in your scope on 4 Mar 2026")
    )


def column(browser, table_id: str, index: int) -> list[str]:
    return [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr > :nth-child({index})")]


def test_the_league_and_the_models_are_tables_and_no_grid_starts_above_the_idle_seats(browser, live_server):
    """The league table (in view) and the cost per model are plain tables (assets/tables.js), sorted by a header's
    click or keyboard, with their definitions on the headers: no AG Grid starts on the tab until the idle seats,
    the one grid left, are scrolled to."""
    from tests.test_browser_a11y import settled

    sign_in(browser, live_server, "admin", "/telemetry/adoption" + WEEK)
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#adoption-league tbody th") and settled(b))
    assert not browser.find_elements(By.CSS_SELECTOR, ".ag-root-wrapper")
    assert column(browser, "adoption-league", 1) == ["Sales", "Engineering", "Legal"]  # by active share
    assert column(browser, "adoption-league", 2) == ["100.0%", "50.0%", "50.0%"]
    header = browser.find_element(By.XPATH, "//*[@id='adoption-league']//thead//button[text()='Active share']")
    assert header.get_attribute("title") == "People who used an agent in the period."
    header.send_keys(Keys.ENTER)  # from the largest to the smallest
    wait(browser).until(lambda b: column(b, "adoption-league", 2) == ["50.0%", "50.0%", "100.0%"])
    assert header.find_element(By.XPATH, "..").get_attribute("aria-sort") == "ascending"
    assert names_stay_in_view(browser, "adoption-league")
    scroll_to(browser, ids.ADOPTION_MODELS_TABLE)
    wait(browser).until(lambda b: column(b, "adoption-models", 1) == ["claude-sonnet-4.5"])
    assert not browser.find_elements(By.CSS_SELECTOR, ".ag-root-wrapper")
    scroll_to(browser, ids.ADOPTION_RECLAIM_TABLE)
    wait(browser).until(lambda b: len(reclaim_names(b)) == 7)


def names_stay_in_view(browser, table_id: str) -> bool:
    """In a card too narrow for its numbers (390 px), the table scrolled to its right end still shows each row's
    name and the name column's header at its left edge."""
    scrolled, offsets = browser.execute_script(
        """
        const scroll = document.querySelector(`#${arguments[0]} .telemetry-table-scroll`);
        scroll.style.width = "160px";
        scroll.scrollLeft = scroll.scrollWidth;
        const left = scroll.getBoundingClientRect().left;
        const firsts = [...scroll.querySelectorAll("tr > th:first-child")];
        const found = [scroll.scrollLeft, firsts.map((th) => th.getBoundingClientRect().left - left)];
        scroll.scrollLeft = 0;
        scroll.style.width = "";
        return found;
        """,
        table_id,
    )
    return scrolled > 0 and len(offsets) > 1 and all(abs(offset) < 1.5 for offset in offsets)
