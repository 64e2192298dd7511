"""Every tab on a small demo organization at 1280 pixels: it draws, it fits, and a reviewer gets pictures.

Screenshots land in tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from werkzeug.serving import make_server

from data.demo import write_demo
from data.demo.cast import DEMO_ADMIN_EMAIL, DEMO_MANAGER_EMAIL
from tests import org
from tests.conftest import make_app
from tests.test_browser_access import wait

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
END = dt.date(2026, 3, 20)
TABS = {
    "dashboard": ("/telemetry", "#dashboard-trend .scatterlayer .trace"),
    "analytics": ("/telemetry/analytics", "#analytics-heatmap .heatmaplayer"),
    "users": ("/telemetry/users", "#users-grid .ag-row"),
    "billing": ("/telemetry/billing", "#billing-daily .barlayer .point"),
}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory, password_hash):
    folder = tmp_path_factory.mktemp("demo") / "data"
    write_demo(folder, users=150, days=75, seed=11, end=END)
    app = make_app(folder, password_hash)
    store = app.extensions["telemetry_store"]
    with app.app_context():
        from queries import directory

        for email, role in ((DEMO_ADMIN_EMAIL, "admin"), (DEMO_MANAGER_EMAIL, "manager")):
            store.create_account(email, directory.user_by_email(email)["user_id"], role, password_hash)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def sign_in_as(browser, base: str, email: str) -> None:
    browser.get(base + "/login")
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(org.PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait(browser).until(lambda b: "/telemetry" in b.current_url)


@pytest.mark.parametrize("email", [DEMO_ADMIN_EMAIL, DEMO_MANAGER_EMAIL])
def test_every_tab_draws_and_fits_1280_pixels(browser, demo_server, email):
    ARTIFACTS.mkdir(exist_ok=True)
    browser.set_window_size(1280, 1000)
    sign_in_as(browser, demo_server, email)
    role = "admin" if email == DEMO_ADMIN_EMAIL else "manager"
    for slug, (path, drawn) in TABS.items():
        browser.get(f"{demo_server}{path}?start=2026-02-19&end=2026-03-20")
        wait(browser).until(lambda b, drawn=drawn: b.find_elements(By.CSS_SELECTOR, drawn))
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{slug} scrolls sideways by {overflow}px at 1280px"
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(1280, max(1000, height + 40))
        browser.save_screenshot(str(ARTIFACTS / f"{slug}-{role}.png"))
        browser.set_window_size(1280, 1000)
