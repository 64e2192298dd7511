"""What the browser waits for: how many callback requests a tab switch and a fresh load make.

Counts, not timings: each request is a round trip and a render the person waits for, and a callback
that fires with nothing clicked (a control writing the URL, the shell's labels one by one) is one more.
"""

from __future__ import annotations

import pytest

from layouts import ids
from layouts.shell import TABS
from tests import page_ready
from tests.test_browser_access import WEEK, sign_in, wait

pytestmark = pytest.mark.browser

# Per tab switch: the shell with its filter bar (who is in, the notice, the filter choices and values) and the page;
# and the Users grid's first block, with its search note, and the Schedules page's list (the Adoption tab's
# idle seats ask for their first block once scrolled to: assets/in_view.js). A fresh load asks for neither the shell
# nor the page: both come with the layout, filled as the address says (callbacks/shell.py `first_layout`). A tab
# seen before comes with its data in the page; a tab seen first goes out without and asks for them once drawn (one
# request more). Billing's period selector, set to what the URL shows, asks nothing (the browser tells it from a
# period chosen there). The report dialog and the tab links ask nothing until used.
SEEN = {"dashboard": 2, "analytics": 2, "users": 3, "adoption": 2, "billing": 2, "schedules": 3}
FRESH = {slug: count - 2 for slug, count in SEEN.items()}
FIRST = {slug: count + (slug != "schedules") for slug, count in FRESH.items()}


@pytest.mark.parametrize(
    ("who", "every_kind"),
    [("admin", False), *(pytest.param(who, True, marks=pytest.mark.long) for who in ("admin", "manager"))],
)
def test_tabs_ask_only_what_they_show(browser, live_server, who, every_kind, results):
    """Each tab seen first by a fresh load, then by a tab switch once seen, and (`every_kind`, `make test-long`) by a
    fresh load once seen. `results`: a fresh result cache, so that each tab's first load is a first one whatever
    ran before."""
    page_ready.install(browser)
    # Signed in on Schedules, which keeps no tab's outputs: landing on the Dashboard could keep its outputs
    # before the first fresh load below (whether it did depended on how fast the page was drawn).
    sign_in(browser, live_server, who, "/telemetry/schedules")
    wait(browser).until(lambda b: "/telemetry/schedules" in b.current_url)
    for slug, _label, path in TABS:
        shown = page_ready.fresh_load(browser, f"{live_server}{path}{WEEK}")
        assert shown["requests"] == FIRST[slug], ("first fresh load", slug, shown["outputs"])
    for slug, _label, path in TABS:  # from the last tab loaded, Schedules, to each in turn
        shown = page_ready.switch_tab(browser, ids.NAV_LINKS[slug], path)
        assert shown["requests"] == SEEN[slug], ("tab switch", slug, shown["outputs"])
        assert browser.current_url.endswith(path + WEEK)  # the link kept the period
    for slug, _label, path in TABS if every_kind else ():
        shown = page_ready.fresh_load(browser, f"{live_server}{path}{WEEK}")
        assert shown["requests"] == FRESH[slug], ("fresh load", slug, shown["outputs"])


def test_preloaded_scripts_are_the_ones_used(browser, live_server):
    """Each script app.py preloads is the one the page's own loaders use, on a tab that draws charts, dropdowns, a
    date range and a grid: fetched once, and no other file of the same name (another URL would be a second fetch)."""
    from app import PRELOADED

    page_ready.install(browser)
    sign_in(browser, live_server, "admin", "/telemetry/analytics")
    page_ready.fresh_load(browser, f"{live_server}/telemetry/analytics{WEEK}")
    page_ready.scroll_to(browser, "analytics-team-table")  # its grid starts once in view (assets/in_view.js)
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname);"
    )
    for url in PRELOADED:
        stem = url.rsplit("/", 1)[-1].split(".")[0]
        assert [path for path in fetched if path.rsplit("/", 1)[-1].startswith(stem)] == [url]
