"""Plotly figures shared by the tabs: one look, and an honest empty state.

A figure is built as the plain JSON dict Dash sends to the browser (`Figure`), not as a `go.Figure`:
a `go.Figure` validates every property on the server on each request (a bar chart: 3.6 ms against
0.03 ms as a dict, a tab draws four to six). The tests validate every figure a callback returns
instead (`tests/figures.py`: Plotly must read it back unchanged), so a misspelt property still fails.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from functools import cache

import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import make_colorscale, sequential

from layouts._components import DAY_HOVER, DAY_TICK, MONTH, MONTH_HOVER, WEEK_HOVER
from queries.period import Period
from reports.chart_style import (  # noqa: F401 - the tabs take the colours from here
    AGENT_COLOUR,
    COST_COLOUR,
    FONT,
    GREEN,
    MODEL_COLOUR,
    MUTED,
    OTHER_COLOUR,
    PALETTE,
    TEAM_COLOUR,
    USERS_COLOUR,
    count_ticks,
)
from reports.safe import chart_text

Figure = dict  # {"data": [trace, ...], "layout": {...}}, each in Plotly's JSON form

BLUES = make_colorscale(sequential.Blues)  # the heat map's scale, as Plotly's Python names it

TEMPLATE = "telemetry"  # plotly_white with the house layout below
HOUSE_LAYOUT = {
    "margin": {"l": 48, "r": 16, "t": 24, "b": 40},
    # A legend is a key, not a control: Plotly's click and double click on an entry (hide or isolate a series)
    # are the mouse's alone, its entries cannot be focused (issue 20: nothing mouse-only).
    "legend": {"orientation": "h", "y": -0.18, "itemclick": False, "itemdoubleclick": False},
    "hovermode": "x unified",
    "font": FONT,
    "colorway": PALETTE,
}


def use_house_template() -> None:
    """Make the house template Plotly's default, once at start-up. Assigning a template to each figure
    deep-copies it (measured: 9.3 ms a figure against 1.0 ms with the default), and the house layout set
    on each figure is validated property by property (6 ms a figure): in the template, it is neither."""
    house = go.layout.Template(pio.templates["plotly_white"])
    house.layout.update(HOUSE_LAYOUT)
    pio.templates[TEMPLATE] = house
    pio.templates.default = TEMPLATE


@cache
def house_template() -> dict:
    """The house template as JSON, made once and shared by every figure (never changed after)."""
    if TEMPLATE not in pio.templates:
        use_house_template()
    return pio.templates[TEMPLATE].to_plotly_json()


# Trace properties whose strings Plotly draws as its HTML-like markup (<a href>, <b>, <br>, <span>):
# categories on an axis, a legend entry, bar and hover text. Names of teams, agents, models and people
# reach charts only through these. `customdata` is left as it is: it holds the ids a click maps back to,
# and hover templates show from it only numbers and text the code wrote.
DRAWN_TEXT = ("x", "y", "name", "text", "hovertext", "labels")


def as_text(trace: dict) -> dict:
    """The trace with the text Plotly draws escaped, so a name shows as typed and never becomes a link."""
    return {key: chart_text(value) if key in DRAWN_TEXT else value for key, value in trace.items()}


def figure(traces: list[dict], height: int = 320, **layout: object) -> Figure:
    """A figure of the house look at this height. Traces and layout are Plotly JSON: nested dicts
    (`marker={"color": c}`, not `marker_color`), and a title is `{"text": ...}`. Every figure is made
    here, so this is where names become text: layout text (titles, annotations) is the code's own."""
    return {"data": [as_text(trace) for trace in traces],
            "layout": {"template": house_template(), "height": height, **layout}}  # fmt: skip


def title(text: str) -> dict:
    """An axis title."""
    return {"text": text}


def message_figure(text: str, height: int = 320, wrap: int = 80) -> Figure:
    """A chart area that says why there is nothing to draw, instead of empty axes."""
    # Plotly reads annotation text as markup; what users typed (a bad date) must not become tags.
    lines = "<br>".join(chart_text(line) for line in textwrap.wrap(text, wrap))
    note = {"text": lines, "showarrow": False, "font": {"size": 15, "color": "#64748b"},
            "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper"}  # fmt: skip
    return figure([], height, annotations=[note], xaxis={"visible": False}, yaxis={"visible": False},
                  margin={"l": 16, "r": 16, "t": 16, "b": 16})  # fmt: skip


NO_INTERACTIONS = "No interactions in this period"


def count_axis(largest: float, text: str | None = None) -> dict:
    """An axis for counts, from zero."""
    axis = {"rangemode": "tozero", **count_ticks(largest)}
    return axis if text is None else {"title": title(text), **axis}


def money_axis(max_value: float) -> dict:
    """A y axis in dollars: cents shown only where the amounts are small."""
    return {"rangemode": "tozero", "tickformat": "$,.2f" if max_value < 10 else "$,.0f"}


def date_axis(grain: str = "day") -> dict:
    """An x axis of days, weeks or months in the one date style (layouts/_components.py)."""
    tick = MONTH if grain == "month" else DAY_TICK
    hover = {"day": DAY_HOVER, "week": WEEK_HOVER, "month": MONTH_HOVER}[grain]
    return {"tickformat": tick, "hoverformat": hover}


# --- The bucket that holds today: still filling, drawn as such (dotted, hatched, labelled) ------------

UNFINISHED = {"day": "today so far", "week": "this week so far", "month": "this month so far"}
HATCH = "/"


def bucket_end(key: dt.date, grain: str) -> dt.date:
    """The first day after the day, week or month that starts on `key`."""
    if grain == "day":
        return key + dt.timedelta(days=1)
    if grain == "week":
        return key + dt.timedelta(days=7)
    return (key.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def unfinished_bucket(keys: list[dt.date], grain: str, period: Period, today: dt.date) -> int | None:
    """The position of the bucket that holds today when the period reaches today, else None: its
    number is only so far, and would read as a drop."""
    if not period.start <= today <= period.end:
        return None
    return next((i for i, key in enumerate(keys) if key <= today < bucket_end(key, grain)), None)


def hatched(trace: dict, index: int | None) -> dict:
    """A bar trace whose bar at `index` (the unfinished bucket) is hatched."""
    if index is None:
        return trace
    shapes = [HATCH if i == index else "" for i in range(len(trace["x"]))]
    return {**trace, "marker": {**trace.get("marker", {}), "pattern": {"shape": shapes, "solidity": 0.35}}}


def unfinished_note(x: object, y: float, grain: str, yref: str = "y") -> dict:
    """The label above the unfinished bucket: "today so far", "this week so far"."""
    return {"text": UNFINISHED[grain], "x": x, "y": y, "xref": "x", "yref": yref, "showarrow": False,
            "yanchor": "bottom", "yshift": 4, "font": {"size": 11, "color": MUTED}}  # fmt: skip


# --- Margins that already fit: no second drawing -------------------------------------------------------
# The house template (plotly_white) has automargin on for both axes: when a tick label, an axis title, a legend
# or a colour bar needs more room than the figure's margins give, Plotly grows the margins and draws the whole
# chart a second time (measured: about 40 % of a small chart's drawing). Margins that already fit leave it
# nothing to grow. Automargin stays on, so a label wider than these estimates still fits (then drawn twice).
# Widths are those of the house font at 12 px where it is widest of the common system fonts (DejaVu Sans):
# other fonts leave a few pixels to spare.

LABEL_PAD = 14  # between a y axis and the right end of its tick labels, as Plotly draws them
X_TITLED = 53  # bottom margin for an x axis with tick labels and a title
Y_TITLED = 38  # left margin for a y axis with a title, besides its tick labels' width
Y_UNTITLED = 9  # left margin for a y axis without a title, besides its tick labels' width
X_COUNTS_TITLED = 49  # bottom margin for a titled x axis of short counts (0, 500k, 1M) at 260 px
LEGEND_BELOW = 71  # bottom margin for the house legend (one row) under a chart 260 px high
_CHAR_WIDTHS = ((3.4, "ijl'IJ"), (3.9, " ,.:;/\\|"), (4.8, "ft()[]-!r"), (6.5, "sz?c*_`L\""), (7.1, "kFvxy"),
                (7.4, "aeoTYP"), (7.7, "0123456789$bdghnpquSE{}"), (8.4, "KAVXZBRC"), (9.5, "UNHDG&OQw"),
                (10.4, "#+<=>^~M"), (12.0, "%mW@"))  # fmt: skip
_WIDTH = {char: width for width, chars in _CHAR_WIDTHS for char in chars}


def text_width(text: str) -> float:
    """About how wide `text` is drawn in the house font (12 px); a character not in the table counts as wide."""
    return sum(_WIDTH.get(char, 12.0) for char in text)


LABEL_MARGIN_MAX = 160  # Plotly never narrows a margin it was given: a longer name must not squeeze the bars away


def label_margin(labels: list[str]) -> int:
    """A left margin that fits a category axis's labels, at most LABEL_MARGIN_MAX (automargin grows it for a
    longer label, within what leaves the bars room)."""
    widest = max((text_width(label) for label in labels), default=0)
    return min(round(widest + LABEL_PAD), LABEL_MARGIN_MAX)


def count_margin(largest: float) -> int:
    """A left margin that fits a titled count axis (`count_ticks`) up to `largest`: its widest tick label is
    about the largest value written short (20k, 1.5M) or whole (1,500)."""
    if count_ticks(largest)["tickformat"] == "~s":
        exponent = min(max(int(math.log10(largest)) // 3, 1), 4)
        whole, unit = int(largest / 1000**exponent), "kMGT"[exponent - 1]
        # 1.5M's axis may have 800k on it: the widest is either
        widest = max(text_width(f"{whole}.9{unit}" if whole < 10 else f"{whole}{unit}"),
                     text_width(f"999{'kMGT'[exponent - 2]}") if exponent > 1 else 0)  # fmt: skip
    else:
        widest = text_width(f"{round(largest):,}")
    return max(round(widest) + Y_TITLED, HOUSE_LAYOUT["margin"]["l"])


def money_margin(max_value: float) -> int:
    """A left margin that fits an untitled dollar axis (`money_axis`) up to `max_value`: its widest tick label is
    about the top of the axis, which Plotly draws a few per cent above the largest value."""
    top = max_value * 1.05
    widest = text_width(f"${top:,.2f}" if max_value < 10 else f"${round(top):,}")
    return max(round(widest) + Y_UNTITLED, HOUSE_LAYOUT["margin"]["l"])
