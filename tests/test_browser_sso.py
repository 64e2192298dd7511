"""Signing in through the organization's provider in headless Chromium: the provider's own sign-in page (a real
OpenID provider on loopback, tests/oidc_provider.py), then the tabs as the directory's role and teams allow."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests.conftest import ACCOUNTS
from tests.test_browser_access import WEEK, csp_violations, sees_only_the_managers_teams, text_of, wait

pytestmark = pytest.mark.browser


def sign_in_with_the_provider(browser, base: str, provider, who: str) -> None:
    """Open a tab, press "Sign in with Acme ID", and approve as `who` on the provider's page."""
    email = ACCOUNTS[who][0]
    provider.set_user(email, email_verified=True, groups=["telemetry-admins"])  # groups: mapped by nobody here
    browser.get(base + "/telemetry" + WEEK)
    button = wait(browser).until(EC.element_to_be_clickable((By.ID, "sso-submit")))
    assert button.text == "Sign in with Acme ID"
    button.click()
    subject = wait(browser).until(EC.presence_of_element_located((By.NAME, "sub")))
    assert browser.current_url.startswith(provider.url + "/oauth2/authorize?")
    subject.send_keys(email)
    browser.find_element(By.XPATH, "//button[normalize-space()='Authorize']").click()


def test_an_admin_signs_in_through_the_provider_and_out_of_both(browser, sso_live_server, provider):
    sign_in_with_the_provider(browser, sso_live_server, provider, "admin")
    assert text_of(browser, "dashboard-kpi-interactions-value") == "6"
    assert text_of(browser, "dashboard-kpi-active-users-value") == "4"
    assert browser.current_url == sso_live_server + "/telemetry" + WEEK
    assert "admin@test.example" in text_of(browser, "shell-user")
    browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    # The provider's own sign-out page (RP-initiated logout), which sends the browser back to our login page.
    end = wait(browser).until(EC.element_to_be_clickable((By.XPATH, "//button[normalize-space()='End session']")))
    assert browser.current_url.startswith(provider.url + "/oauth2/end_session?")
    end.click()
    wait(browser).until(EC.presence_of_element_located((By.ID, "sso-submit")))
    assert browser.current_url.startswith(sso_live_server + "/login")
    browser.get(sso_live_server + "/telemetry")
    wait(browser).until(EC.presence_of_element_located((By.ID, "sso-submit")))
    assert "/login?next=/telemetry" in browser.current_url
    assert csp_violations(browser) == []


def test_a_manager_signs_in_through_the_provider_and_sees_only_their_teams(browser, sso_live_server, provider):
    sign_in_with_the_provider(browser, sso_live_server, provider, "manager")
    sees_only_the_managers_teams(browser)
    assert csp_violations(browser) == []


def test_an_unknown_person_is_told_why_in_the_browser(browser, sso_live_server, provider):
    provider.set_user("stranger@test.example", email_verified=True)
    browser.get(sso_live_server + "/login")
    wait(browser).until(EC.element_to_be_clickable((By.ID, "sso-submit"))).click()
    wait(browser).until(EC.presence_of_element_located((By.NAME, "sub"))).send_keys("stranger@test.example")
    browser.find_element(By.XPATH, "//button[normalize-space()='Authorize']").click()
    assert "is not in the organization's directory" in text_of(browser, "login-error")
    assert browser.find_elements(By.NAME, "password")  # password sign-in is still offered
