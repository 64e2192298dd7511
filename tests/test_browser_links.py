"""A shared link in headless Chromium: every fresh load restores its filters, "Copy link" copies them, and each
tab has one period control that names what it shows."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from queries.billing_periods import billing_period_containing, period_label
from queries.filters import DEFAULT_PRESET
from queries.period import preset_period, today_local
from reports.formats import format_day
from tests.test_browser_access import WEEK, sign_in, text_of, wait
from tests.test_browser_dashboard import choose

pytestmark = pytest.mark.browser

# Fresh loads of each link on each tab: a link with every filter lost some in 7 of 8 loads; one with a
# filter alone lost it on every load, so fewer loads of those find it too (and keep the suite short).
# In `make test`, one sign-in for all: the link with every filter once on each tab, and each filter alone once on
# one tab, a different tab each (the race lost a filter alone on every load); the 10 fresh loads of each
# link on each tab in `make test-long` (CI runs both).
LONG_LOADS = 10
TABS = ("/telemetry", "/telemetry/analytics", "/telemetry/users", "/telemetry/billing")
TEAMS = {"t_eng": "Engineering", "t_sales": "Sales", "t_legal": "Legal"}
WEEK_DATES = ("2 Mar 2026", "8 Mar 2026")  # as the date range shows them (the URL keeps ISO dates)
AGENTS = {"a_code": "Code Helper", "a_draft": "Drafting"}
LINKS = {  # query string -> (dates shown, or None for the tab's default; teams; agents)
    "full": (f"{WEEK}&teams=t_eng,t_sales&agents=a_code", WEEK_DATES, ["t_eng", "t_sales"], ["a_code"]),
    "teams alone": ("?teams=t_sales", None, ["t_sales"], []),
    "agents alone": ("?agents=a_draft", None, [], ["a_draft"]),
    "dates alone": (WEEK, WEEK_DATES, [], []),
}

# dash-renderer's callbacks still to answer (all but the stored and completed ones), and any loading state.
SETTLED = """
const state = window.store && window.store.getState();
if (!state || !state.callbacks || !document.getElementById('filter-teams')) return false;
const pending = Object.entries(state.callbacks).some(([k, v]) => !['stored', 'completed'].includes(k) && v.length);
return !pending && !document.querySelector('[data-dash-is-loading]');
"""


def settled(browser) -> None:
    """Wait until the page has answered every callback (a dropdown that drops a value asks for another)."""
    wait(browser).until(lambda b: b.execute_script(SETTLED), "the page never settled")


def chosen(browser, dropdown_id: str) -> list[str]:
    """The labels a multi-select dropdown shows as chosen."""
    items = browser.find_elements(By.CSS_SELECTOR, f"#{dropdown_id} .dash-dropdown-value-item")
    return [item.get_attribute("textContent") for item in items]  # those past the width are hidden


def filter_bar(browser) -> tuple[str, str, list[str], list[str]]:
    start = browser.find_element(By.ID, "filter-range").get_attribute("value")
    end = browser.find_element(By.CSS_SELECTOR, ".dash-datepicker-end-date").get_attribute("value")
    return start, end, chosen(browser, "filter-teams"), chosen(browser, "filter-agents")


def default_dates(path: str) -> tuple[str, str]:
    today = today_local("UTC")
    if path.endswith("/billing"):
        period = billing_period_containing(today, 1, "UTC")
    else:
        period = preset_period(DEFAULT_PRESET, today, "UTC")
    return format_day(period.start), format_day(period.end)


SHORT = [("full", TABS), ("teams alone", (TABS[3],)), ("agents alone", (TABS[1],)), ("dates alone", (TABS[2],))]


@pytest.mark.parametrize(
    ("links", "loads"),
    [pytest.param(SHORT, 1, id="every link-1")]
    + [pytest.param([(link, TABS)], LONG_LOADS, marks=pytest.mark.long, id=f"{link}-{LONG_LOADS}") for link in LINKS],
)
def test_a_link_keeps_its_filters_on_every_fresh_load(browser, live_server, links, loads):
    sign_in(browser, live_server, "admin", TABS[0] + LINKS[links[0][0]][0])
    for link, paths in links:
        search, dates, teams, agents = LINKS[link]
        for load in range(loads):
            for path in paths:
                browser.get(live_server + path + search)
                settled(browser)
                expected = (*(dates or default_dates(path)), [TEAMS[t] for t in teams], [AGENTS[a] for a in agents])
                where = f"{path}{search}, load {load + 1}"
                assert filter_bar(browser) == expected, where
                assert browser.current_url == live_server + path + search, where  # nothing rewritten or dropped
                assert not browser.find_element(By.ID, "filter-message").text, where


def test_a_filter_that_cannot_apply_is_kept_and_explained(browser, live_server):
    """A manager opens a link with a team they do not manage and an agent that does not exist."""
    search = f"{WEEK}&teams=t_legal,t_sales&agents=a_gone,a_code"
    sign_in(browser, live_server, "manager", "/telemetry" + search)
    settled(browser)
    assert browser.current_url == live_server + "/telemetry" + search
    assert filter_bar(browser)[2:] == (["t_legal (not available)", "Sales"], ["a_gone (not available)", "Code Helper"])
    note = text_of(browser, "filter-message")
    assert "team t_legal is not among the teams you can see" in note
    assert "agent a_gone is not in the directory" in note
    assert text_of(browser, "dashboard-kpi-interactions-value") == "1"  # Sales with Code Helper: e3 alone


def clipboard_text(browser) -> str:
    return browser.execute_async_script(
        "const done = arguments[0]; navigator.clipboard.readText().then(done, e => done('error: ' + e))"
    )


def test_copy_link_copies_the_address_with_its_filters(browser, live_server):
    link = f"/telemetry/analytics{WEEK}&agents=a_code"
    sign_in(browser, live_server, "admin", link)
    settled(browser)
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": live_server, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    copy = browser.find_element(By.ID, "filter-copy-link")
    assert copy.text == "Copy link"
    copy.click()
    wait(browser).until(lambda b: clipboard_text(b) == live_server + link, "the link was never copied")
    wait(browser).until(lambda b: b.find_element(By.ID, "filter-copy-link").text == "Link copied")

    choose(browser, "filter-teams", "Sales")  # a new filter: the link copied next carries it
    wait(browser).until(lambda b: "teams=t_sales" in b.current_url)
    settled(browser)
    wait(browser).until(lambda b: b.find_element(By.ID, "filter-copy-link").text == "Copy link")  # a new address
    browser.find_element(By.ID, "filter-copy-link").send_keys("\n")  # the keyboard too
    wait(browser).until(lambda b: b.find_element(By.ID, "filter-copy-link").text == "Link copied")
    assert browser.switch_to.active_element.get_attribute("id") == "filter-copy-link"  # the focus stays
    wait(browser).until(lambda b: clipboard_text(b) == b.current_url, "the new link was never copied")
    assert clipboard_text(browser).endswith(f"/telemetry/analytics{WEEK}&agents=a_code&teams=t_sales")


def visible_period_controls(browser) -> list[str]:
    controls = browser.find_elements(By.CSS_SELECTOR, "#filter-preset, #billing-period")
    return [control.get_attribute("id") for control in controls if control.is_displayed()]


def test_each_tab_has_one_period_control_that_names_the_period(browser, live_server):
    current = billing_period_containing(today_local("UTC"), 1, "UTC")
    sign_in(browser, live_server, "admin", "/telemetry/billing")
    settled(browser)
    assert visible_period_controls(browser) == ["billing-period"]
    assert text_of(browser, "billing-period") == f"{period_label(current)} (current)"

    browser.get(live_server + "/telemetry/billing" + WEEK)  # dates that are no billing period
    settled(browser)
    assert visible_period_controls(browser) == ["billing-period"]
    assert text_of(browser, "billing-period") == "2 Mar – 8 Mar 2026 (custom dates)"

    browser.find_element(By.ID, "shell-nav-dashboard").click()
    wait(browser).until(lambda b: b.find_elements(By.ID, "dashboard-kpis"))
    settled(browser)
    assert visible_period_controls(browser) == ["filter-preset"]
    assert text_of(browser, "filter-preset") == "Custom range"
    browser.get(live_server + "/telemetry")  # no dates: the tab's default, named
    settled(browser)
    assert text_of(browser, "filter-preset") == "Last 30 days"
