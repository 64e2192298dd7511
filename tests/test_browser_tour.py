"""Every tab on a small demo organization at four widths, light and dark: it draws, it fits, it follows the
system's colour scheme, and a reviewer gets pictures.

Screenshots land in tests/artifacts/ (git-ignored: each run makes them again).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
from pathlib import Path

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By

from data.demo import write_demo
from data.demo.cast import DEMO_ADMIN_EMAIL, DEMO_MANAGER_EMAIL
from tests.conftest import make_app, serving
from tests.page_ready import scroll_to_every_place
from tests.test_browser_access import navigate, sign_in, wait

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
END = dt.date(2026, 3, 20)
PERIOD = "?start=2026-02-19&end=2026-03-20"
TABS = {
    "dashboard": ("/telemetry", "#dashboard-trend .scatterlayer .trace"),
    "analytics": ("/telemetry/analytics", "#analytics-agent-chart .barlayer .point"),
    "users": ("/telemetry/users", "#users-grid .ag-row"),
    "billing": ("/telemetry/billing", "#billing-daily .barlayer .point"),
    "adoption": ("/telemetry/adoption", "#adoption-league tbody th"),
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
    with serving(app) as base:
        yield base


def sign_in_as(browser, base: str, email: str, path: str = "/telemetry") -> None:
    """Signed in (tests/test_browser_access.py, sign_in) and on `path`."""
    sign_in(browser, base, email, path)
    wait(browser).until(lambda b: b.current_url.startswith(base + path))


WIDTHS = (390, 640, 1280, 1920)  # a phone, 200 % zoom on a 1280 screen, a laptop, a desktop
# What each colour scheme looks like: the page's background, and every chart's paper and text (assets/theme.js).
LOOKS = {
    "light": {"page": "rgb(255, 255, 255)", "paper": "white", "font": "#2a3f5f"},
    "dark": {"page": "rgb(33, 37, 41)", "paper": "#212529", "font": "#dee2e6"},
}
LOOK = """
const charts = [...document.querySelectorAll('.js-plotly-plot')].filter(g => g._fullLayout);
return {fit: charts.every(g => Math.abs(g._fullLayout.width - g.parentElement.clientWidth) <= 1),
        page: getComputedStyle(document.body).backgroundColor,
        paper: [...new Set(charts.map(g => g._fullLayout.paper_bgcolor))],
        font: [...new Set(charts.map(g => g._fullLayout.font.color))]};
"""


def emulate(browser, width: int, scheme: str, height: int = 900) -> None:
    """The viewport's width (a real one: a headless window is never narrower than 500 px) and the system's
    colour scheme, as Chromium's DevTools set them; the page reacts as it would to a resize or a switch."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
    )


def sideways(browser) -> int:
    """How far the page scrolls sideways, in CSS pixels (0: it fits)."""
    return browser.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")


def in_look(browser, scheme: str) -> bool:
    """The page and every chart in the scheme's colours, each chart redrawn to its card's width."""
    seen, want = browser.execute_script(LOOK), LOOKS[scheme]
    return seen["fit"] and all(seen[part] == (want[part] if part == "page" else [want[part]]) for part in want)


GRIDS_DRAWN = """return [...document.querySelectorAll('.ag-root-wrapper')].every(
    g => g.querySelector('.ag-row, .ag-overlay-no-rows-wrapper, .ag-overlay-no-rows-center'))
    && !document.querySelector('.telemetry-in-view:not([data-in-view=shown])')
    && [...document.querySelectorAll('.dash-graph')].every(g => g.querySelector('.main-svg'))"""  # all in view: every
# grid and chart in


def screenshot(browser, path: Path, width: int, scheme: str) -> None:
    """The whole page, at half size from 1280 px on, so the 40 pictures stay small. The viewport is made as
    tall as the page first: AG Grid draws no rows in a grid outside it."""
    height = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
    emulate(browser, width, scheme, height=int(height))
    wait(browser, 30).until(lambda b: b.execute_script(GRIDS_DRAWN))
    clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 0.5 if width >= 1280 else 1}
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": clip})
    path.write_bytes(base64.b64decode(shot["data"]))  # left this tall: the next look or tab sets the viewport anew


# Each tab in `make test`: every width once and both schemes, the scheme switched live at each step. Every width
# in both schemes, and the manager's tour (the admin's has every card the manager's has): `make test-long`.
EACH_WIDTH_ONCE = (("light", 390), ("dark", 640), ("light", 1280), ("dark", 1920))
EVERY_WIDTH_IN_BOTH = tuple((scheme, width) for scheme in LOOKS for width in WIDTHS)


@pytest.mark.parametrize(
    ("email", "looks"),
    [
        pytest.param(DEMO_ADMIN_EMAIL, EACH_WIDTH_ONCE, id="admin"),
        pytest.param(DEMO_ADMIN_EMAIL, EVERY_WIDTH_IN_BOTH, marks=pytest.mark.long, id="admin-every-look"),
        pytest.param(DEMO_MANAGER_EMAIL, EVERY_WIDTH_IN_BOTH, marks=pytest.mark.long, id="manager-every-look"),
    ],
)
def test_every_tab_fits_every_width_in_light_and_dark(browser, demo_server, email, looks):
    """No sideways scroll at 390, 640, 1280 and 1920 px; the system's dark mode followed, charts included.
    The admin's pictures of every look land in tests/artifacts/<tab>-<width>-<scheme>.png, the manager's at 1280
    px (both in `make test-long`: a whole-page picture costs more than the look it shows)."""
    ARTIFACTS.mkdir(exist_ok=True)
    role = "admin" if email == DEMO_ADMIN_EMAIL else "manager"
    emulate(browser, 1280, "light")
    sign_in_as(browser, demo_server, email, TABS["dashboard"][0] + PERIOD)  # the first tab: not loaded twice
    for slug, (path, drawn) in TABS.items():
        emulate(browser, 1280, "light")
        if browser.current_url != demo_server + path + PERIOD:
            navigate(browser, path + PERIOD)  # as the tab's link goes
        wait(browser).until(lambda b, drawn=drawn: b.find_elements(By.CSS_SELECTOR, drawn))
        scroll_to_every_place(browser)  # the grids and charts below the fold put in: every chart's look is checked
        for scheme, width in looks:
            emulate(browser, width, scheme)
            # Charts redraw to a new width or scheme a moment after it changes: wait for that, then say
            # what is wrong if it never comes.
            with contextlib.suppress(TimeoutException):
                wait(browser, 30).until(lambda b, s=scheme: sideways(b) <= 0 and in_look(b, s))
            overflow = sideways(browser)
            assert overflow <= 0, f"{slug} scrolls sideways by {overflow}px at {width}px ({role}, {scheme})"
            assert in_look(browser, scheme), f"{slug} at {width}px is not {scheme}: {browser.execute_script(LOOK)}"
            if role == "admin" and looks == EVERY_WIDTH_IN_BOTH:
                screenshot(browser, ARTIFACTS / f"{slug}-{width}-{scheme}.png", width, scheme)
            elif role == "manager" and width == 1280 and scheme == "light":
                screenshot(browser, ARTIFACTS / f"{slug}-{width}-{scheme}-manager.png", width, scheme)
