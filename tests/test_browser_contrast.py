"""Text keeps WCAG AA's contrast against what is really drawn behind it, under the mouse too: axe-core checks a page
at rest only, and a table row's hover tint, AG Grid's hovered row or a focus ring on a tinted row is a state it never
sees. Light and dark, on the demo organization (changes up and down, totals, sticky names)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from data.demo.cast import DEMO_ADMIN_EMAIL
from tests.page_ready import scroll_to_every_place
from tests.test_browser_a11y import dark, settled
from tests.test_browser_access import navigate, wait
from tests.test_browser_tour import PERIOD, TABS, demo_server, emulate, sign_in_as  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

TEXT = 4.5  # WCAG 1.4.3, normal text (the tables' 13 px, bold or not, is not "large")
RING = 3.0  # WCAG 1.4.11, a focus ring against the colours next to it

# The colour drawn behind an element: its own background, the ::before/::after it paints (AG Grid's hovered row)
# and inset shadows over it (Bootstrap's table states: hover, stripes), then its ancestors', composited from the
# page down with their alpha; the text's own alpha (Bootstrap's muted greys) composited over that.
COLOURS = r"""
function rgba(text) {
  // rgb()/rgba(), or color(srgb r g b / a) with channels from 0 to 1 (AG Grid's hover tint is computed so); any
  // other notation stops the test rather than being left out of what is drawn behind the text
  const m = /(rgba?|color)\(([^)]*)\)/.exec(text || "");
  if (!m || (m[1] === "color" && !m[2].startsWith("srgb "))) throw new Error("a colour not composited: " + text);
  const p = m[2].replace(/^srgb /, "").split(/[\s,\/]+/).filter(Boolean).map(Number);
  const scale = m[1] === "color" ? 255 : 1;
  return [p[0] * scale, p[1] * scale, p[2] * scale, p.length > 3 ? p[3] : 1];
}
function over(top, under) {
  const a = top[3] + under[3] * (1 - top[3]);
  return [0, 1, 2].map((i) => (top[i] * top[3] + under[i] * under[3] * (1 - top[3])) / a).concat([a]);
}
function fills(element) {
  const style = getComputedStyle(element);
  const layers = style.boxShadow.split(/,(?![^(]*\))/).filter((s) => s.includes("inset")).map(rgba);
  for (const pseudo of ["::after", "::before"]) {
    const p = getComputedStyle(element, pseudo);
    if (p.content !== "none" && p.position === "absolute") layers.push(rgba(p.backgroundColor));
  }
  layers.push(rgba(style.backgroundColor));
  return layers.filter(Boolean);
}
function behind(element) {
  const layers = [];
  for (let e = element; e; e = e.parentElement) layers.push(...fills(e));
  return layers.reverse().reduce((under, layer) => over(layer, under), [255, 255, 255, 1]);
}
function luminance(c) {
  const linear = (v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const [r, g, b] = c.slice(0, 3).map((v) => linear(v / 255));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function ratio(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
function backdrop(element) {
  return behind(element).map((v) => Math.round(v * 100) / 100);
}
function contrasts(elements, ring) {
  return [...elements].map((element) => {
    const back = behind(ring ? element.parentElement : element);
    const style = getComputedStyle(element);
    const fore = ring ? rgba(style.outlineColor) : over(rgba(style.color), back);
    const name = element.className || element.tagName;
    const label = element.textContent.trim().slice(0, 30) + " (" + name + ")";
    return [label, Math.round(ratio(fore, back) * 100) / 100];
  });
}
"""
# The colour drawn behind an element: its own background, the ::before/::after it paints (AG Grid's hovered row)
# and inset shadows over it (Bootstrap's table states: hover, stripes), then its ancestors', composited from the
# page down with their alpha; the text's own alpha (Bootstrap's muted greys) composited over that. Each text's
# (or, with ring, its focus outline's) ratio to it.
CONTRAST = COLOURS + "return contrasts(arguments[0], arguments[1]);"
# The rows a person sees (not display: none, hidden or of no size), in the page's order, each with the first of
# its elements where the mouse goes.
ROWS = """
const [rows, target] = arguments;
return [...document.querySelectorAll(rows)].filter((row) => {
  const box = row.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && row.checkVisibility({opacityProperty: true, visibilityProperty: true});
}).map((row) => [row, row.querySelector(target)]);
"""
# Where the mouse goes next scrolled to the middle of its scroller, as a person's would be, and the colour behind
# it before the mouse is there.
AT_REST = (
    COLOURS
    + """
arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});
return backdrop(arguments[0]);
"""
)
# Under the mouse (null until the target is hovered, and its row too where a class says so): the colour behind
# the target, the ratios of the row's texts, then with keys the focus rings of the row's keys, the first focused
# as from the keyboard.
HOVERED = (
    COLOURS
    + """
const [row, target, texts, hoveredClass, keysCss] = arguments;
if (!target.matches(":hover") || (hoveredClass && !row.classList.contains(hoveredClass))) return null;
const keys = keysCss ? row.querySelectorAll(keysCss) : [];
const faint = contrasts(row.querySelectorAll(texts), false);
const found = {text: target.innerText.trim(), back: backdrop(target), faint};
if (keys.length) {
  keys[0].focus({focusVisible: true});
  found.rings = contrasts(keys, true);
}
return found;
"""
)

# Each count written over Analytics' heat map against the colour of the cell under it, read from the heat map's
# own picture (Plotly draws the cells as one image: axe reads neither it nor the SVG text over it).
HEAT_MAP_LABELS = r"""
const done = arguments[arguments.length - 1];
const gd = document.querySelector("#analytics-heatmap .js-plotly-plot");
const picture = gd && gd.querySelector(".heatmaplayer image");
if (!picture) { done(null); return; }
const image = new Image();
image.src = picture.getAttribute("href") || picture.getAttribute("xlink:href");
image.decode().then(() => {
  const canvas = document.createElement("canvas");
  [canvas.width, canvas.height] = [image.naturalWidth, image.naturalHeight];
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const box = picture.getBoundingClientRect();
  const linear = (v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const weights = [0.2126, 0.7152, 0.0722];
  const luminance = (c) => c.slice(0, 3).reduce((sum, v, i) => sum + linear(v / 255) * weights[i], 0);
  done([...gd.querySelectorAll(".scatterlayer .textpoint text")].map((text) => {
    const at = text.getBoundingClientRect();
    const x = Math.floor(((at.left + at.width / 2 - box.left) / box.width) * image.naturalWidth);
    const y = Math.floor(((at.top + at.height / 2 - box.top) / box.height) * image.naturalHeight);
    const cell = [...context.getImageData(x, y, 1, 1).data];
    const fill = getComputedStyle(text).fill.match(/\d+(\.\d+)?/g).map(Number);
    const [a, b] = [luminance(cell), luminance(fill)].sort((p, q) => q - p);
    return [text.textContent, Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100];
  }));
}, (error) => done(["image: " + error]));
"""

# What carries text in a plain table (assets/tables.js) and in an AG Grid.
TABLE_TEXT = ".telemetry-table-grid td, .telemetry-table-grid th:not(:has(button)), .telemetry-table-grid button"
GRID_TEXT = ".ag-cell, .ag-header-cell-text"


def too_faint(browser, elements, least: float = TEXT, ring: bool = False) -> list[tuple[str, float]]:
    """Each element's text (or, with ring, its focus outline) against its drawn background, those under `least`."""
    found = browser.execute_script(CONTRAST, elements, ring) if elements else []
    return [(text, ratio) for text, ratio in found if ratio < least]


def under_the_mouse(browser, row, target, texts: str, hovered_class: str = "", keys: str = "") -> dict:
    """The mouse moved onto `target` (in `row`) as a person's would be: the colour behind it at rest and under the
    mouse, the ratios of the row's `texts` under it, and with `keys` the focus rings of those keys, the first
    focused. One look at the page each (a round trip per element was most of the walk's time)."""
    at_rest = browser.execute_script(AT_REST, target)
    # duration 0: Selenium's default move glides for 250 ms, idle time for a test that reads where the mouse ends
    ActionChains(browser, duration=0).move_to_element(target).perform()
    found = wait(browser).until(lambda b: b.execute_script(HOVERED, row, target, texts, hovered_class, keys))
    return {**found, "at_rest": at_rest}


def rows_of(browser, css: str, target: str) -> list:
    """[row, its first `target`] for each row of `css` shown."""
    rows = browser.execute_script(ROWS, css, target)
    assert all(found for _, found in rows), f"a row of {css} without {target}"
    return rows


def faint_in_tables(browser) -> list[str]:
    """Every table's text at rest, then each body row's text under the mouse, with the focus ring of its name."""
    faint = [f"at rest: {f}" for f in too_faint(browser, browser.find_elements(By.CSS_SELECTOR, TABLE_TEXT))]
    for row, name in rows_of(browser, ".telemetry-table-grid tbody tr", "th"):
        found = under_the_mouse(browser, row, name, "td, th:not(:has(button)), button", keys="button")
        if found["back"] == found["at_rest"]:  # the tint under the mouse is what this test is for
            faint.append(f"hovered, no tint seen behind: {found['text']} {found['at_rest']}")
        faint += [f"hovered: {(t, r)}" for t, r in found["faint"] if r < TEXT]
        faint += [f"focus ring, hovered: {(t, r)}" for t, r in found.get("rings", []) if r < RING]
    return faint


def faint_in_grids(browser) -> list[str]:
    """Every AG Grid's text at rest, and its first rows' under the mouse."""
    faint = [f"at rest: {f}" for f in too_faint(browser, browser.find_elements(By.CSS_SELECTOR, GRID_TEXT))]
    for row, cell in rows_of(browser, ".ag-center-cols-container .ag-row", ".ag-cell")[:3]:
        found = under_the_mouse(browser, row, cell, ".ag-cell", hovered_class="ag-row-hover")
        if found["back"] == found["at_rest"]:
            faint.append(f"hovered, no tint seen behind: {found['text']} {found['at_rest']}")
        faint += [f"hovered: {(t, r)}" for t, r in found["faint"] if r < TEXT]
    return faint


# dark in `make test-long` (CI runs both), as the other browser tests' second scheme: each run walks four tabs
@pytest.mark.parametrize("scheme", ["light", pytest.param("dark", marks=pytest.mark.long)])
def test_table_and_grid_text_keeps_its_contrast_under_the_mouse(browser, demo_server, scheme):  # noqa: F811
    """Every text of the plain tables (Analytics, Billing with its sticky total, Adoption with its red and green
    changes) and of the AG Grids (Users, Adoption's idle seats) at 4.5:1 or more against the colour drawn behind
    it, at rest and with the mouse on its row; a name's focus ring at 3:1 on a hovered row; each count over
    Analytics' heat map at 4.5:1 on its cell."""
    emulate(browser, 1280, "light")
    sign_in_as(browser, demo_server, DEMO_ADMIN_EMAIL, "/telemetry/analytics" + PERIOD)
    dark(browser, scheme == "dark")
    faint, toned = {}, 0
    for slug in ("analytics", "billing", "adoption", "users"):
        path, drawn = TABS[slug]
        if not browser.current_url.endswith(path + PERIOD):
            navigate(browser, path + PERIOD)
        wait(browser).until(lambda b, drawn=drawn: b.find_elements(By.CSS_SELECTOR, drawn) and settled(b))
        scroll_to_every_place(browser)
        wait(browser).until(settled)
        toned += len(browser.find_elements(By.CSS_SELECTOR, ".telemetry-table-grid .text-success, "
                                                            ".telemetry-table-grid .text-danger"))  # fmt: skip
        faint[slug] = faint_in_tables(browser) + faint_in_grids(browser)
        if slug == "analytics":
            labels = browser.execute_async_script(HEAT_MAP_LABELS)
            assert labels, "the heat map has no count written over it"
            faint[slug] += [f"heat map: {label}" for label in labels if label[1] < TEXT]
    assert toned, "no change up or down in any table: the test checks no colour"
    assert {slug: found for slug, found in faint.items() if found} == {}
