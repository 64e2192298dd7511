"""Scheduled reports in headless Chromium: a Manager schedules the dialog's report, finds it on the Schedules
page, sends it now (it arrives at a real SMTP server on loopback, `inbox`), pauses it and deletes it."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.conftest import _serve
from tests.test_browser_a11y import axe_violations, settled
from tests.test_browser_access import WEEK, sign_in, text_of, wait
from tests.test_browser_analytics import click
from tests.test_schedules import attachment

pytestmark = pytest.mark.browser
SCREENSHOT = Path(__file__).parent / "artifacts" / "schedules-page.png"


@pytest.fixture
def mail_server(tmp_path_factory, password_hash, inbox):
    """The tiny org served as live_server is, sending mail to `inbox`."""
    _handler, port = inbox
    yield from _serve(tmp_path_factory, password_hash, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False,
                      SMTP_FROM="telemetry@acme.example")  # fmt: skip


def row_text(browser) -> str:
    rows = browser.find_elements(By.ID, "schedules-row-1")
    return " ".join(rows[0].text.split()) if rows else ""


def button(browser, label: str):
    return browser.find_element(By.CSS_SELECTOR, f'button[aria-label="{label}, schedule 1"]')


def test_schedule_from_the_dialog_then_send_pause_and_delete_it_on_the_schedules_page(browser, mail_server, inbox):
    messages, _port = inbox
    sign_in(browser, mail_server, "manager", "/telemetry" + WEEK + "&teams=t_eng")
    wait(browser).until(lambda b: b.find_elements(By.ID, "report-open"))
    browser.find_element(By.ID, "report-open").click()
    wait(browser).until(lambda b: "Teams: Engineering" in b.find_element(By.ID, "report-period").text)
    click(browser, browser.find_element(By.ID, "report-schedule-open"))
    to = wait(browser).until(lambda b: b.find_element(By.ID, "report-schedule-to").is_displayed() and
                             b.find_element(By.ID, "report-schedule-to"))  # fmt: skip
    assert "for teams Engineering (the view on screen)" in text_of(browser, "report-schedule-scope")
    Select(browser.find_element(By.ID, "report-schedule-period")).select_by_value("last_7_days")
    Select(browser.find_element(By.ID, "report-schedule-cadence")).select_by_value("weekly:fri")
    to.send_keys("board@")
    click(browser, browser.find_element(By.ID, "report-schedule-save"))
    assert "'board@' is not an email address" in text_of(browser, "report-schedule-feedback")
    to.send_keys("acme.example")  # the rest of what was typed is still there
    click(browser, browser.find_element(By.ID, "report-schedule-save"))
    wait(browser).until(lambda b: "Saved schedule 1" in b.find_element(By.ID, "report-schedule-feedback").text)

    click(browser, browser.find_element(By.ID, "report-schedule-link"))
    wait(browser).until(lambda b: "Not run yet" in row_text(b))
    row = row_text(browser)
    assert "Every Friday at 08:00" in row and "board@acme.example" in row and "Last 7 days" in row
    assert "Excel · teams Engineering" in row and "Active" in row
    assert not browser.find_element(By.ID, "filter-bar").is_displayed()  # no filters on this page

    click(browser, button(browser, "Send now"))
    assert text_of(browser, "schedules-feedback").startswith("Sent schedule 1 to board@acme.example.")
    messages.wait_for(1)
    name, content = attachment(messages.messages[0])
    assert messages.messages[0]["To"] == "board@acme.example" and name.endswith(".xlsx")
    wait(browser).until(lambda b: "Sent" in row_text(b).split("Active", 1)[1])
    wait(browser).until(settled)
    assert axe_violations(browser) == {}
    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser.save_screenshot(SCREENSHOT)  # the page after a delivery, for people reviewing a change

    click(browser, button(browser, "Pause"))
    wait(browser).until(
        lambda b: "Paused" in row_text(b) and b.find_elements(By.CSS_SELECTOR, '[aria-label^="Resume"]')
    )

    click(browser, button(browser, "Delete"))
    wait(browser).until(lambda b: b.find_element(By.ID, "schedules-confirm-delete").is_displayed())
    assert "Schedule 1 (Every Friday at 08:00 to board@acme.example)" in text_of(browser, "schedules-confirm-text")
    click(browser, browser.find_element(By.ID, "schedules-confirm-delete"))
    wait(browser).until(lambda b: b.find_elements(By.ID, "schedules-empty"))
    assert "Deleted schedule 1." in text_of(browser, "schedules-feedback")
    teams = {row[0].value for row in openpyxl.load_workbook(io.BytesIO(content))["Usage by team"].iter_rows(min_row=2)}
    assert teams == {"Engineering"}  # the view's team, as saved from the dialog
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
