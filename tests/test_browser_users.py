"""The Users tab in headless Chromium: cards, the not-adopted view, one person's detail."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.test_browser_access import WEEK, csp_violations, sign_in, text_of, wait

pytestmark = pytest.mark.browser


def grid_names(browser) -> list[str]:
    cells = browser.find_elements(By.CSS_SELECTOR, "#users-grid .ag-center-cols-container .ag-row [col-id=name]")
    cells += browser.find_elements(By.CSS_SELECTOR, "#users-grid .ag-pinned-left-cols-container .ag-row [col-id=name]")
    return sorted(c.text for c in cells if c.text)


def csv_files(browser) -> list:
    return [f for f in browser.download_dir.glob("*.csv") if f.stat().st_size]


def test_a_manager_lists_only_their_people(browser, live_server):
    sign_in(browser, live_server, "manager", "/telemetry/users" + WEEK)
    assert text_of(browser, "users-card-total-value") == "5"
    wait(browser).until(lambda b: len(grid_names(b)) == 5)
    assert "Lee Legal" not in grid_names(browser) and "Noa Never" not in grid_names(browser)


def test_the_users_tab_its_views_the_grid_searched_and_sorted_by_the_server_and_a_persons_detail(
    browser, live_server
):
    """One load of the tab for all (a test's first load is most of its cost): the cards and the not-adopted
    view; the grid searched, exported and sorted by the server, a search over the limits explained; then one
    person's detail."""
    sign_in(browser, live_server, "admin", "/telemetry/users" + WEEK)
    assert text_of(browser, "users-card-total-value") == "7"
    assert text_of(browser, "users-card-not-adopted-value") == "3"
    wait(browser).until(lambda b: len(grid_names(b)) == 7)
    browser.find_element(By.XPATH, "//label[normalize-space()='Not adopted yet']").click()
    wait(browser).until(lambda b: grid_names(b) == ["Ada Admin", "Ivy Idle", "Noa Never"])
    assert "view=not_adopted" in browser.current_url
    browser.find_element(By.XPATH, "//label[normalize-space()='All users']").click()
    wait(browser).until(lambda b: len(grid_names(b)) == 7)
    browser.find_element(By.ID, "users-search").send_keys("LEGAL")
    wait(browser).until(lambda b: grid_names(b) == ["Lee Legal", "Noa Never"])
    browser.find_element(By.ID, "users-export").click()  # the export is what the grid shows
    files = wait(browser).until(csv_files)
    assert sorted(line.split(",")[0] for line in files[0].read_text().splitlines()[1:]) == ["Lee Legal", "Noa Never"]
    browser.find_element(By.ID, "users-search").send_keys(Keys.BACKSPACE * 5)  # .clear() sends no input event
    wait(browser).until(lambda b: len(grid_names(b)) == 7)
    sales = {"team": {"filterType": "text", "type": "equals", "filter": "sales"}}
    browser.execute_script("dash_ag_grid.getApi('users-grid').setFilterModel(arguments[0])", sales)
    wait(browser).until(lambda b: grid_names(b) == ["Sam Sales"])  # filtered by the server
    browser.find_element(By.ID, "users-export").click()
    both = wait(browser).until(lambda b: len(csv_files(b)) == 2 and csv_files(b))
    newest = max(both, key=lambda f: f.stat().st_mtime_ns)
    assert [line.split(",")[0] for line in newest.read_text().splitlines()] == ["name", "Sam Sales"]
    browser.execute_script("dash_ag_grid.getApi('users-grid').setFilterModel(null)")
    wait(browser).until(lambda b: len(grid_names(b)) == 7)
    header = browser.find_element(By.CSS_SELECTOR, "#users-grid .ag-header-cell[col-id=name] .ag-header-cell-label")
    header.click()  # ascending by name, sorted on the server
    first = "#users-grid .ag-pinned-left-cols-container .ag-row[row-index='0'] [col-id=name]"
    wait(browser).until(lambda b: b.find_element(By.CSS_SELECTOR, first).text == "Ada Admin")
    header.click()
    wait(browser).until(lambda b: b.find_element(By.CSS_SELECTOR, first).text == "Sam Sales")
    # A search over the limits is explained (on the same load, the grid back to everyone)
    wait(browser).until(lambda b: len(grid_names(b)) == 7)
    search = browser.find_element(By.ID, "users-search")
    assert search.get_attribute("maxlength") == "200"
    search.send_keys(" ".join(["a"] * 11))
    note = wait(browser).until(lambda b: b.find_element(By.ID, "users-search-note").text)
    assert note.startswith("Search is limited to 200 characters and 10 words")
    wait(browser).until(lambda b: grid_names(b) == [])
    search.send_keys(Keys.BACKSPACE * 2)  # ten words: searched again, the note gone
    wait(browser).until(lambda b: len(grid_names(b)) == 7 and not b.find_element(By.ID, "users-search-note").text)
    row = wait(browser).until(
        lambda b: next(
            (c for c in b.find_elements(By.CSS_SELECTOR, "#users-grid [col-id=name]") if c.text == "Mia Member"), None
        )
    )
    row.click()
    wait(browser).until(lambda b: b.find_elements(By.ID, "users-detail-agents"))
    assert "Code Helper" in text_of(browser, "users-detail-agents")
    browser.save_screenshot("/tmp/telemetry-users-detail.png")
    assert csp_violations(browser) == []
