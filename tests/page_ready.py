"""When a tab is ready in the browser, and what it asked the server meanwhile: for browser tests and
benchmarks/browser.py.

Ready means: the URL's path is the tab's; Dash's store has no callback requested, waiting or running;
no element has `data-dash-is-loading="true"` and no dcc.Loading spinner shows; every chart of the page
(`.dash-graph`) has its Plotly figure drawn (`.main-svg`, with traces or a message); every AG Grid of
Dash's layout is in the page and shows rows with cells or its empty message: no stub row of a block still
to get, no loading overlay. The page checks it every few milliseconds and it has to hold for STABLE_MS to
count (the time is when it first held), so a moment between two callbacks is never taken for the end.
Callback requests (POST /_dash-update-component) are counted as the page sends them (its `fetch`,
wrapped; the Performance API's resource entries come only once an answer is complete), with their
outputs, to say which.

The grids are looked for from the layout, and their rows through AG Grid's API, because the page alone
said "ready" too soon under load: a grid whose script (loaded on first use) had not come yet showed
nothing, and the Users grid then showed one empty stub row before it asked for its first block; the
request was then made after the count, one short.
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
  function gridDrawn(id) {
    // dash-ag-grid draws nothing (no element, no request) until its script, loaded on first use, has come;
    // then an infinite row model shows a stub row for the block it is about to ask for: rows, not stubs
    const grid = document.getElementById(id);
    if (!grid || !grid.querySelector(".ag-root-wrapper")) return false;
    let stubs = 0;
    try {
      dash_ag_grid.getApi(id).forEachNode((node) => { stubs += node.stub ? 1 : 0; });
    } catch (e) {
      return false;  // not started yet
    }
    // AG Grid may keep a hidden loading overlay in the page once rows are shown: only a visible one counts
    const loading = grid.querySelectorAll(".ag-overlay-loading-wrapper, .ag-loading, .ag-skeleton-container");
    if (stubs > 0 || [...loading].some((element) => element.offsetParent !== null)) return false;
    return !!grid.querySelector(".ag-row .ag-cell, .ag-overlay-no-rows-wrapper, .ag-overlay-no-rows-center");
  }
  let grids = {layout: null, paths: null, ids: []};
  function layoutGrids(state) {
    // the AG Grids of Dash's layout by id: those in the page alone could be none yet (above). Looked for
    // again only when the layout changes: walking every component's path at each check was most of the
    // check's own main-thread time, counted in what browser.py measures
    if (state.layout !== grids.layout || state.paths !== grids.paths) {
      const paths = (state.paths && state.paths.strs) || {};
      const ids = Object.entries(paths).filter(([, at]) => {
        const node = at.reduce((part, key) => part && part[key], state.layout);
        return node && node.namespace === "dash_ag_grid" && node.type === "AgGrid";
      }).map(([id]) => id);
      grids = {layout: state.layout, paths: state.paths, ids};
    }
    return grids.ids;
  }
  function ready(path) {
    if (location.pathname !== path || !window.store) return false;
    const state = window.store.getState();
    const callbacks = state.callbacks || {};
    if (PENDING.some((key) => (callbacks[key] || []).length > 0)) return false;
    if (document.querySelector('[data-dash-is-loading="true"], .dash-spinner')) return false;
    const page = document.getElementById("_pages_content");
    if (!page || !page.firstElementChild) return false;
    if (![...page.querySelectorAll(".dash-graph")].every(graphDrawn)) return false;
    // a place whose part is put in once in view (assets/in_view.js): not known yet whether it is in view
    if (page.querySelector(".telemetry-in-view:not([data-in-view])")) return false;
    return layoutGrids(state).every(gridDrawn);
  }
  function requests(since) {
    return calls.filter((c) => c.at >= since).length;
  }
  function watch(path, since, done) {
    let first = null;
    const tick = () => {
      const now = performance.now();
      if (ready(path)) {
        if (first === null) first = now;
        if (now - first >= STABLE_MS) {
          const outputs = calls.filter((c) => c.at >= since).map((c) => c.output);
          return done({ms: first - since, requests: outputs.length, outputs});
        }
      } else {
        first = null;
      }
      setTimeout(tick, 4);
    };
    tick();
  }
  const fetch = window.fetch;
  window.fetch = function (resource, init) {  // counts each callback request as it is sent, and its outputs
    const url = new URL(resource instanceof Request ? resource.url : String(resource), location.href);
    if (url.pathname.endsWith("CALLBACK_PATH")) {
      let output = null;
      try { output = JSON.parse(init.body).output; } catch (e) {}
      calls.push({at: performance.now(), output});
    }
    return fetch.apply(this, arguments);
  };
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


def scroll_to(driver, place_id: str, timeout: float = 60) -> None:
    """Scroll a place that is filled once in view (assets/in_view.js) into view, as a person would, and wait
    until its part is in (a grid below the fold starts only then)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: d.execute_script(
            "const place = document.getElementById(arguments[0]);"
            "if (!place) return false;"
            "place.scrollIntoView({block: 'center', behavior: 'instant'});"
            "return place.dataset.inView === 'shown';",
            place_id,
        )
    )


def scroll_to_every_place(driver) -> None:
    """Every place of the page filled once in view scrolled to and filled (for checks of the whole page, such as
    axe's), then back to the top."""
    places = driver.execute_script("return [...document.querySelectorAll('.telemetry-in-view')].map(e => e.id)")
    for place_id in places:
        scroll_to(driver, place_id)
    driver.execute_script("window.scrollTo({top: 0, left: 0, behavior: 'instant'})")
