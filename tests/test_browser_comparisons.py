"""Comparisons that mean what they say, in headless Chromium (issue 20): weekdays lined up, rates in
points, definitions on keyboard focus, no change where there is no data, the bucket still filling marked."""

from __future__ import annotations

import datetime as dt

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from layouts import ids
from queries.period import today_local
from tests.page_ready import scroll_to
from tests.test_browser_access import navigate, sign_in, text_of, wait

pytestmark = pytest.mark.browser

MAX_TABS = 80  # tab stops tried before a test gives up on reaching an element by keyboard


def traces(browser, graph_id: str) -> list[dict]:
    """A drawn Plotly chart's traces as the browser holds them: name, x and customdata."""
    script = """const g = document.querySelector(arguments[0]);
        return g && g.data && g.data.map(t => ({name: t.name, x: t.x, customdata: t.customdata || null}))"""
    return browser.execute_script(script, f"#{graph_id} .js-plotly-plot") or []


def chart_notes(browser, graph_id: str) -> list[str]:
    return [a.text for a in browser.find_elements(By.CSS_SELECTOR, f"#{graph_id} .annotation-text")]


def weekday(text: str) -> int:
    """The weekday of an ISO date (the chart's x) or of a date as the app writes it ("17 Feb 2026")."""
    try:
        return dt.date.fromisoformat(text[:10]).weekday()
    except ValueError:
        return dt.datetime.strptime(text, "%d %b %Y").weekday()


def tab_to(browser, element_id: str) -> None:
    """Press Tab from the top of the page until `element_id` has the focus, as a keyboard user would."""
    wait(browser).until(lambda b: b.find_elements(By.ID, element_id))
    browser.execute_script(
        "document.activeElement && document.activeElement.blur();"
        "window.scrollTo({top: 0, left: 0, behavior: 'instant'})"
    )
    for _ in range(MAX_TABS):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.switch_to.active_element.get_attribute("id") == element_id:
            return
    raise AssertionError(f"{element_id} is not reachable with the Tab key")


def tooltip_shows(browser, *parts: str) -> str:
    """The shown tooltip that holds every one of `parts` (the one of an element just left may still be fading),
    drawn just under the focused "i" and inside the window (not at the page's foot)."""
    under_focus = (
        "const t = arguments[0].getBoundingClientRect(), i = document.activeElement.getBoundingClientRect();"
        "return t.top >= i.bottom - 2 && t.top <= i.bottom + 24 && t.left >= 0 && t.right <= innerWidth"
        " && t.width <= 360;"
    )
    return wait(browser).until(
        lambda b: next(
            (t.text for t in b.find_elements(By.CSS_SELECTOR, ".tooltip")
             if t.is_displayed() and all(part in t.text for part in parts) and b.execute_script(under_focus, t)),
            None,
        ),
        f"no tooltip showed {parts} under the focused element",
    )  # fmt: skip


def test_the_trend_lines_up_weekdays_and_says_what_it_compares(browser, live_server):
    # 8 days, Tuesday 3 to Tuesday 10 March: the line behind is two weeks earlier, not eight days
    sign_in(browser, live_server, "admin", "/telemetry?start=2026-03-03&end=2026-03-10")
    drawn = wait(browser).until(lambda b: len(traces(b, "dashboard-trend")) >= 4 and traces(b, "dashboard-trend"))
    shown = next(t for t in drawn if t["name"] == "Interactions")
    behind = next(t for t in drawn if t["name"].startswith("Interactions ("))
    assert [weekday(d) for d in behind["customdata"]] == [weekday(x) for x in shown["x"]]
    assert behind["customdata"][0] == "17 Feb 2026"  # the one date style
    legend = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#dashboard-trend .legendtext")]
    assert any("same weekdays 2 weeks earlier" in text.lower() for text in legend), legend


def test_a_rate_changes_in_points_no_change_before_the_first_data_and_each_definition_opens_by_keyboard(
    browser, live_server
):
    """Each KPI's definition opens from the keyboard between the two periods (one page for both: each test's first
    load is most of its cost)."""
    sign_in(browser, live_server, "admin")  # 2-8 March, against 23 Feb - 1 Mar: the data start on 25 Feb
    wait(browser).until(lambda b: text_of(b, "dashboard-kpi-interactions-value") == "6")
    assert text_of(browser, "dashboard-kpi-interactions-change") == "no data before 25 Feb 2026"
    assert text_of(browser, "dashboard-kpi-cost-compared") == "to compare with 23 Feb – 1 Mar 2026"
    assert "▲" not in text_of(browser, "dashboard-kpis")

    tab_to(browser, "dashboard-kpi-adoption-info")
    text = tooltip_shows(browser, "Not the Users tab's “Adopted”")
    assert text.startswith("Active users out of the people with access")
    assert "ACTIVE SHARE" in text_of(browser, "dashboard-kpi-adoption").upper()
    tab_to(browser, "dashboard-kpi-stickiness-info")
    text = tooltip_shows(browser, "Average daily active people divided by average monthly active people")
    assert "percentage points" in text
    browser.find_element(By.ID, "shell-nav-users").click()
    tab_to(browser, "users-card-adopted-info")
    tooltip_shows(browser, "at least once, up to the period's end, whether or not in the period")
    assert "have ever used an agent" in text_of(browser, "users-card-adopted")

    browser.get(f"{live_server}/telemetry?start=2026-03-09&end=2026-03-15")
    wait(browser).until(lambda b: text_of(b, "dashboard-kpi-adoption-value") == "14.3%")
    assert text_of(browser, "dashboard-kpi-adoption-change") == "▼ 42.9 pp"  # 1 of 7 against 4 of 7
    assert text_of(browser, "dashboard-kpi-interactions-change") == "▼ 66.7%"  # 2 against 6: counts stay relative
    assert text_of(browser, "dashboard-kpi-stickiness-value") == "3.6%"  # 1 / 28
    assert text_of(browser, "dashboard-kpi-stickiness-change") == "▼ 17.3 pp"  # against 5 / 24
    assert text_of(browser, "dashboard-kpi-adoption-compared") == "vs 2 Mar – 8 Mar 2026"


def test_the_bucket_still_filling_is_marked_on_every_chart_over_time(browser, live_server):
    today = today_local("UTC").isoformat()
    sign_in(browser, live_server, "admin", f"/telemetry?start=2026-02-25&end={today}")  # weekly
    wait(browser).until(lambda b: chart_notes(b, "dashboard-trend") == ["this week so far"])
    wait(browser).until(lambda b: chart_notes(b, "dashboard-cost-daily") == ["this week so far"])
    navigate(browser, f"/telemetry/analytics?start=2026-02-25&end={today}")  # as the tab's link goes
    scroll_to(browser, ids.chart_place(ids.ANALYTICS_OVER_TIME))  # below the fold: drawn once in view
    wait(browser).until(lambda b: chart_notes(b, "analytics-over-time") == ["this week so far"])
    browser.get(f"{live_server}/telemetry/billing?start=2026-03-01&end={today}")
    wait(browser).until(lambda b: chart_notes(b, "billing-daily") == ["today so far"])
    hatched = "#billing-daily .barlayer .point path[style*='url(']"  # a pattern fill
    assert len(browser.find_elements(By.CSS_SELECTOR, hatched)) == 1
    # its previous period (the same days 10 months earlier) is before the data: no percentage from nothing
    assert text_of(browser, "billing-kpi-change-percent") == "no data before 25 Feb 2026"


def test_the_cards_of_a_period_that_reaches_today_compare_complete_days(browser, live_server):
    """Like for like: with today still filling, every card's change compares the days up to yesterday, and says so."""
    today = today_local("UTC")
    sign_in(browser, live_server, "admin", f"/telemetry?start={today - dt.timedelta(days=6)}&end={today}")
    cards = ("interactions", "active-users", "stickiness", "cost", "adoption")
    said = {card: text_of(browser, f"dashboard-kpi-{card}-compared") for card in cards}
    assert all(text.startswith("up to yesterday vs ") for text in said.values()), said
    assert all(text.endswith("(today is partial)") for text in said.values()), said
    tab_to(browser, "dashboard-kpi-interactions-info")
    tooltip_shows(browser, "The change compares the period's days up to yesterday (today is still filling)")
