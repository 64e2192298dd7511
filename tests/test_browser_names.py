"""Names typed as markup, in headless Chromium: every chart draws them as text, never as a link.

The org of tests/test_callbacks_names.py: Engineering, Code Helper and Code Helper's model are named as
HTML (`<a href="https://evil.example/">Engineering</a>` ...). Plotly draws <a>, <b>, <br>, <span> found
in its text; escaped on the server, the same name shows character for character and no link is made.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from layouts import ids
from tests.conftest import make_app, serving
from tests.page_ready import scroll_to
from tests.test_browser_access import WEEK, csp_violations, sign_in, wait
from tests.test_browser_analytics import bar, click, ticks
from tests.test_callbacks_names import AGENT, MODEL, TEAM, write_hostile_org

pytestmark = pytest.mark.browser

# Any element inside a chart that links: an <a> (HTML or SVG), or an href or xlink:href that is not the
# data: URI of a drawn image (the heat map is one).
LINKS = """
const link = e => e.getAttribute('href') || e.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
return [...document.querySelectorAll('.js-plotly-plot *')]
  .filter(e => e.localName === 'a' || (link(e) && !link(e).startsWith('data:')))
  .map(e => e.outerHTML.slice(0, 200));
"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, password_hash):
    """The org with markup names, served like `live_server`."""
    folder = tmp_path_factory.mktemp("names") / "data"
    write_hostile_org(folder)
    app = make_app(folder, password_hash)
    with serving(app) as base:
        yield base, app


def links_in_charts(browser) -> list[str]:
    return browser.execute_script(LINKS)


def texts(browser, selector: str) -> list[str]:
    return [t.text.strip() for t in browser.find_elements(By.CSS_SELECTOR, selector)]


def drawn(browser, *graph_ids: str) -> None:
    """Wait until each chart has drawn its bars (its tick labels are drawn with them); one drawn once in view (the
    Dashboard's top charts) scrolled to first."""
    for graph in graph_ids:
        if graph.startswith("dashboard-top-"):
            scroll_to(browser, ids.chart_place(graph))
        wait(browser).until(lambda b, g=graph: b.find_elements(By.CSS_SELECTOR, f"#{g} .barlayer .point"), graph)


def hover(browser, element) -> str:
    """Hover a bar and return the hover label Plotly draws for it."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    ActionChains(browser, duration=0).move_to_element(element).perform()
    return wait(browser).until(lambda b: " ".join(texts(b, ".hoverlayer .hovertext text")), "no hover label")


def test_dashboard_draws_names_as_text(browser, hostile_server):
    base, _ = hostile_server
    sign_in(browser, base, "admin")
    drawn(browser, "dashboard-top-teams", "dashboard-top-agents")
    assert links_in_charts(browser) == []
    assert TEAM in ticks(browser, "dashboard-top-teams") and AGENT in ticks(browser, "dashboard-top-agents")
    label = hover(browser, bar(browser, "dashboard-top-teams", TEAM))
    assert label.startswith(TEAM + ":"), label
    assert links_in_charts(browser) == []
    browser.save_screenshot("/tmp/telemetry-names-dashboard.png")
    assert csp_violations(browser) == []


def test_analytics_draws_names_as_text_and_a_click_still_filters(browser, hostile_server):
    base, _ = hostile_server
    sign_in(browser, base, "admin", "/telemetry/analytics" + WEEK)
    scroll_to(browser, ids.chart_place(ids.ANALYTICS_OVER_TIME))  # below the fold: drawn once in view
    drawn(browser, "analytics-team-chart", "analytics-agent-chart", "analytics-over-time")
    assert links_in_charts(browser) == []
    assert TEAM in ticks(browser, "analytics-team-chart") and AGENT in ticks(browser, "analytics-agent-chart")
    assert AGENT in texts(browser, "#analytics-over-time .legendtext")
    browser.save_screenshot("/tmp/telemetry-names-analytics.png")
    click(browser, bar(browser, "analytics-team-chart", TEAM), exact=True)
    wait(browser).until(lambda b: "teams=t_eng" in b.current_url, "clicking the bar never filtered")
    wait(browser).until(lambda b: TEAM in b.find_element(By.ID, "analytics-chips").text)
    assert links_in_charts(browser) == []


def test_billing_draws_names_as_text(browser, hostile_server):
    base, _ = hostile_server
    sign_in(browser, base, "admin", "/telemetry/billing" + WEEK)
    for graph in (ids.BILLING_TEAM_CHART, ids.BILLING_AGENT_CHART):  # below the fold: drawn once in view
        scroll_to(browser, ids.chart_place(graph))
    drawn(browser, "billing-team-chart", "billing-agent-chart", "billing-model-chart")
    assert links_in_charts(browser) == []
    assert TEAM in ticks(browser, "billing-team-chart") and AGENT in ticks(browser, "billing-agent-chart")
    assert MODEL in ticks(browser, "billing-model-chart")
    browser.save_screenshot("/tmp/telemetry-names-billing.png")


def test_html_report_draws_names_as_text(browser, hostile_server, tmp_path):
    import datetime as dt

    from reports.build import report_for_organization
    from reports.request import ReportRequest

    _, app = hostile_server
    ask = ReportRequest(points=("by_team", "billing_by_model"), format="html", start=dt.date(2026, 3, 2),
                        end=dt.date(2026, 3, 8), grain="day")  # fmt: skip
    with app.app_context():
        page = tmp_path / "report.html"
        page.write_bytes(report_for_organization(ask, "command line").content)
    browser.get(page.as_uri())
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .barlayer .point")) == 5)
    assert links_in_charts(browser) == []
    assert {TEAM, MODEL} <= set(texts(browser, ".js-plotly-plot .ytick text"))
    assert browser.find_elements(By.CSS_SELECTOR, "a") == []  # not in the tables either
    assert TEAM in browser.find_element(By.TAG_NAME, "table").text
    browser.save_screenshot("/tmp/telemetry-names-report.png")
