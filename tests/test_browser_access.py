"""Each role signs in through the real login page in headless Chromium and sees what it should."""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests import org
from tests.conftest import ACCOUNTS, LIVE_APPS, AuthActions

pytestmark = pytest.mark.browser

WEEK = "?start=2026-03-02&end=2026-03-08"
# How long a wait may take before a test fails. Every wait ends as soon as its condition holds, so this
# costs nothing when the machine is idle and keeps a busy one (CI beside other work) from failing a test.
PATIENCE = 120
# How often a wait looks again. WebDriverWait's default, half a second, is idle time added to most waits (0.25 s
# on average; the suite waits some thousand times); each look is one WebDriver round trip of a few milliseconds.
POLL = 0.05
# Between two looks, `wait` waits in the page for its next change (a MutationObserver), or LOOK_AGAIN_MS at the
# longest (for what is not in the page: a download, the address): looking every 50 ms, whether or not anything had
# changed, cost Chromium, ChromeDriver and pytest 0.15 CPU-s a second of waiting, against 0.06 s.
LOOK_AGAIN_MS = 250
NEXT_CHANGE = """
const done = arguments[arguments.length - 1];
const observer = new MutationObserver(() => { observer.disconnect(); clearTimeout(timer); done(); });
observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
const timer = setTimeout(() => { observer.disconnect(); done(); }, arguments[0]);
"""


def sign_in_by_the_form(browser, base: str, who: str, path: str = "/telemetry" + WEEK) -> None:
    """Open `path`, and sign in as `who` on the login page it sends to."""
    browser.get(base + path)
    WebDriverWait(browser, PATIENCE, POLL).until(EC.presence_of_element_located((By.NAME, "email")))
    browser.find_element(By.NAME, "email").send_keys(ACCOUNTS[who][0])
    browser.find_element(By.NAME, "password").send_keys(org.PASSWORD)
    browser.find_element(By.ID, "login-submit").click()


def sign_in(browser, base: str, who: str, path: str = "/telemetry" + WEEK) -> None:
    """Signed in as `who` (a key of ACCOUNTS, or an email), then `path` opened: the login form's own answer, asked
    of the served app with this browser's User-Agent (a session is pinned to it), its cookie set in the browser.
    For tests of what comes after; the form itself is tested above and in tests/test_auth_*.py. (The form in the
    browser was a page more to draw for each test.)"""
    app = LIVE_APPS[base]
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = browser.execute_script("return navigator.userAgent")
    answer = AuthActions(client).login(who)
    assert answer.status_code == 302, f"{who} could not sign in: {answer.status_code}"
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    browser.execute_cdp_cmd("Network.setCookie", {
        "name": cookie.key, "value": cookie.value, "url": base, "path": cookie.path or "/",
        "httpOnly": cookie.http_only, "secure": cookie.secure, "sameSite": cookie.same_site or "Lax",
    })  # fmt: skip
    browser.get(base + path)


# Another tab's page in the same document, as the tab links go there (dcc.Location's own event, then to the top):
# a fresh load (browser.get) ran every script of the app again, about twice the CPU of this in Chromium.
NAVIGATE = """
const heading = document.querySelector('#_pages_content h1');
window.history.pushState({}, '', arguments[0]);
window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));
window.scrollTo({top: 0, left: 0, behavior: 'instant'});
return heading && heading.textContent;
"""
PAGE_HEADING = "const heading = document.querySelector('#_pages_content h1'); return heading && heading.textContent;"


def navigate(browser, path: str) -> None:
    """Go to another tab (`path`, with its query) within the page, as its link in the shell does, and wait until its
    page has replaced the one shown. For tests of what a tab shows; a link's fresh load is tested in
    tests/test_browser_links.py and tests/test_browser_requests.py."""
    assert urlsplit(path).path != urlsplit(browser.current_url).path, f"{path}: the page shown (load it instead)"
    left = browser.execute_script(NAVIGATE, path)
    wait(browser).until(lambda b: b.execute_script(PAGE_HEADING) not in (None, left), f"{path} never replaced {left}")


class UntilChanged(WebDriverWait):
    """WebDriverWait that, when a look finds nothing, waits for the page to change before it looks again."""

    def until(self, method, message: str = ""):
        def look(driver):
            found = method(driver)
            if not found:
                with contextlib.suppress(WebDriverException):  # the page went (a navigation): look again at once
                    driver.execute_async_script(NEXT_CHANGE, LOOK_AGAIN_MS)
            return found

        return super().until(look, message)


def wait(browser, timeout: float = PATIENCE) -> WebDriverWait:
    """Dash re-renders often: an element found a moment ago may be gone, so look again."""
    return UntilChanged(browser, timeout, POLL / 5, ignored_exceptions=(StaleElementReferenceException,))


def text_of(browser, element_id: str, timeout: float = PATIENCE) -> str:
    return wait(browser, timeout).until(
        lambda b: b.find_elements(By.ID, element_id) and b.find_element(By.ID, element_id).text.strip()
    )


def csp_violations(browser) -> list[str]:
    logs = browser.get_log("browser")
    return [entry["message"] for entry in logs if "Content Security Policy" in entry["message"]]


def test_admin_signs_in_and_sees_the_organization(browser, live_server):
    sign_in_by_the_form(browser, live_server, "admin")
    assert text_of(browser, "dashboard-kpi-interactions-value") == "6"
    assert text_of(browser, "dashboard-kpi-active-users-value") == "4"
    assert text_of(browser, "dashboard-kpi-stickiness-value") == "20.8%"  # 5 / 24 (tests/test_callbacks_dashboard.py)
    assert text_of(browser, "dashboard-kpi-cost-value") == "$3.72"
    assert browser.current_url.endswith("/telemetry" + WEEK)
    assert "admin@test.example" in text_of(browser, "shell-user")
    nav = browser.find_element(By.ID, "shell-nav-billing").get_attribute("href")
    assert nav.endswith("/telemetry/billing" + WEEK)
    assert csp_violations(browser) == []


def sees_only_the_managers_teams(browser) -> None:
    """Max manages Engineering and Sales: his numbers (e1-e4, e6) and only those teams to filter by."""
    assert text_of(browser, "dashboard-kpi-interactions-value") == "5"
    assert text_of(browser, "dashboard-kpi-cost-value") == "$1.72"
    assert text_of(browser, "dashboard-kpi-stickiness-value") == "21.1%"  # 4 / 19: Lee's 4 March is not his
    browser.find_element(By.CSS_SELECTOR, "#filter-teams").click()
    options = WebDriverWait(browser, PATIENCE, POLL).until(
        lambda b: [o.text for o in b.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option[role=option]")] or None
    )
    assert sorted(options) == ["Engineering", "Sales"]


def test_manager_sees_only_their_teams(browser, live_server):
    sign_in_by_the_form(browser, live_server, "manager")
    sees_only_the_managers_teams(browser)


def test_member_gets_the_access_notice(browser, live_server):
    sign_in_by_the_form(browser, live_server, "member", "/telemetry/billing")
    notice = text_of(browser, "access-notice")
    assert "available only to Admin and Manager roles" in notice
    assert "contact your organization administrator" in notice
    assert "$" not in browser.page_source


def test_wrong_password_shows_the_generic_message(browser, live_server):
    browser.get(live_server + "/login")
    browser.find_element(By.NAME, "email").send_keys("nobody@test.example")
    browser.find_element(By.NAME, "password").send_keys("not the password")
    browser.find_element(By.ID, "login-submit").click()
    assert text_of(browser, "login-error") == "Invalid email or password."
