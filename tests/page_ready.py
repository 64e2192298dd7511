"""When a tab is ready in the browser, and what it asked the server meanwhile: for browser tests and
benchmarks/browser.py.

Ready means: the URL's path is the tab's; Dash's store has no callback requested, waiting or running;
no element has `data-dash-is-loading="true"` and no dcc.Loading spinner shows; every chart of the page
(`.dash-graph`) has its Plotly figure drawn (`.main-svg`, with traces or a message); every AG Grid of
the page shows rows or its empty message, and no loading row or overlay. The page checks it every few
milliseconds and it has to hold for STABLE_MS to count (the time is when it first held), so a moment
between two callbacks is never taken for the end. Callback requests are counted from the Performance
API's resource entries (POST /_dash-update-component); their outputs are noted too, to say which.
"""

from __future__ import annotations

STABLE_MS = 150
CALLBACK_PATH = "/_dash-update-component"

# Installed in every page before its own scripts (Chrome DevTools Protocol): a fresh load starts
# watching at once (`__ready.result`), a tab switch when `__ready.click` is called.
WATCHER = r"""
(() => {
  const PENDING = ["requested", "prioritized", "blocked", "executing", "watched", "executed"];
  const calls = [];
  function graphDrawn(graph) {
    const gd = graph.querySelector(".js-plotly-plot");
    if (!gd || !gd._fullLayout || !gd.querySelector(".main-svg")) return false;
    const notes = (gd.layout && gd.layout.annotations) || [];
    return (gd.data && gd.data.length > 0) || notes.length > 0;
  }
  function gridDrawn(grid) {
    // AG Grid may keep a hidden loading overlay in the page once rows are shown: only a visible one counts
    const loading = grid.querySelectorAll(".ag-overlay-loading-wrapper, .ag-loading, .ag-skeleton-container");
    if ([...loading].some((element) => element.offsetParent !== null)) return false;
    return !!grid.querySelector(".ag-row, .ag-overlay-no-rows-wrapper, .ag-overlay-no-rows-center");
  }
  function ready(path) {
    if (location.pathname !== path || !window.store) return false;
    const callbacks = window.store.getState().callbacks || {};
    if (PENDING.some((key) => (callbacks[key] || []).length > 0)) return false;
    if (document.querySelector('[data-dash-is-loading="true"], .dash-spinner')) return false;
    const page = document.getElementById("_pages_content");
    if (!page || !page.firstElementChild) return false;
    if (![...page.querySelectorAll(".dash-graph")].every(graphDrawn)) return false;
    return [...page.querySelectorAll(".ag-root-wrapper")].every(gridDrawn);
  }
  function requests(since) {
    return performance.getEntriesByType("resource")
      .filter((e) => e.startTime >= since && new URL(e.name).pathname.endsWith("CALLBACK_PATH")).length;
  }
  function watch(path, since, done) {
    let first = null;
    const tick = () => {
      const now = performance.now();
      if (ready(path)) {
        if (first === null) first = now;
        if (now - first >= STABLE_MS) {
          const outputs = calls.filter((c) => c.at >= since).map((c) => c.output);
          return done({ms: first - since, requests: requests(since), outputs});
        }
      } else {
        first = null;
      }
      setTimeout(tick, 4);
    };
    tick();
  }
  const fetch = window.fetch;
  window.fetch = function (resource, init) {  // notes which callback each request answers
    if (String(resource).includes("CALLBACK_PATH") && init && typeof init.body === "string") {
      try { calls.push({at: performance.now(), output: JSON.parse(init.body).output}); } catch (e) {}
    }
    return fetch.apply(this, arguments);
  };
  performance.setResourceTimingBufferSize(100000);
  window.__ready = {ready, requests, watch, result: null};
  document.addEventListener("DOMContentLoaded", () => {
    watch(location.pathname, 0, (result) => { window.__ready.result = result; });
  });
  window.__ready.click = (linkId, path, done) => {
    const since = performance.now();
    document.getElementById(linkId).click();
    watch(path, since, done);
  };
})();
""".replace("CALLBACK_PATH", CALLBACK_PATH).replace("STABLE_MS", str(STABLE_MS))


def install(driver) -> None:
    """Watch every page this browser opens from now on."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCHER})


def fresh_load(driver, url: str, timeout: float = 120) -> dict:
    """Open `url` and wait until its tab is ready: {ms from navigation, requests, outputs}."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: d.execute_script("return window.__ready && window.__ready.result")
    )


def switch_tab(driver, link_id: str, path: str, timeout: float = 120) -> dict:
    """Click a tab's link and wait until the tab is ready: {ms from the click, requests, outputs}."""
    driver.set_script_timeout(timeout)
    script = "const done = arguments[arguments.length - 1]; window.__ready.click(arguments[0], arguments[1], done);"
    return driver.execute_async_script(script, link_id, path)
