"""Generate Report in headless Chromium: the dialog, the background job, the downloaded file."""

from __future__ import annotations

import openpyxl
import pytest
from selenium.webdriver.common.by import By

from tests.test_browser_access import WEEK, csp_violations, sign_in, text_of, wait

pytestmark = pytest.mark.browser


def test_generate_downloads_an_excel_file(browser, live_server):
    sign_in(browser, live_server, "manager", "/telemetry/billing" + WEEK)
    wait(browser).until(lambda b: b.find_elements(By.ID, "report-open"))
    browser.find_element(By.ID, "report-open").click()
    wait(browser).until(lambda b: "As shown: 2 Mar – 8 Mar 2026" in b.find_element(By.ID, "report-period").text)
    browser.find_element(By.XPATH, "//label[normalize-space()='Billing by team']").click()
    wait(browser).until(lambda b: b.find_element(By.ID, "report-generate").is_enabled())
    browser.find_element(By.ID, "report-generate").click()
    status = text_of(browser, "report-status")
    assert status.startswith("Done: telemetry-report-2026-03-02-to-2026-03-08.xlsx")
    files = wait(browser).until(lambda b: list(b.download_dir.glob("*.xlsx")))
    book = openpyxl.load_workbook(files[0])
    assert "Cost by team" in book.sheetnames
    teams = {row[0].value for row in book["Cost by team"].iter_rows(min_row=2)}
    assert teams == {"Engineering", "Sales"}  # the manager's teams only
    assert csp_violations(browser) == []


def test_nothing_selected_disables_generate_with_a_reason(browser, live_server):
    sign_in(browser, live_server, "admin")
    wait(browser).until(lambda b: b.find_elements(By.ID, "report-open"))
    browser.find_element(By.ID, "report-open").click()
    for label in ("Summary KPIs", "Usage over time", "Usage by agent", "Usage by team"):
        wait(browser).until(lambda b, label=label: b.find_element(By.XPATH, f"//label[normalize-space()='{label}']"))
        browser.find_element(By.XPATH, f"//label[normalize-space()='{label}']").click()
    assert text_of(browser, "report-reason") == "Choose at least one data point."
    assert not browser.find_element(By.ID, "report-generate").is_enabled()
    formats = [label.text for label in browser.find_elements(By.CSS_SELECTOR, "#report-format label")]
    assert formats == ["Excel (.xlsx)", "CSV (zip when several)", "HTML (one self-contained file)",
                       "PDF (to read, print or forward)"]  # fmt: skip
