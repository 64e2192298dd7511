"""HTML: one self-contained file (styles, data and plotly.js inside) that opens from an email.

The charts are drawn by plotly.js's "basic" bundle (bar, line, pie: all a report draws), 1.2 MB against
the full bundle's 4.8 MB, in the app's colours and without Plotly's mode bar. The bundle is kept gzipped
in reports/vendor/ (MIT licence beside it), at the plotly.js version of the installed plotly package (a
test checks both). To refresh it after a plotly upgrade: `npm pack plotly.js-basic-dist-min@<version>`,
then `gzip -9n -c package/plotly-basic.min.js > reports/vendor/plotly-basic-<version>.min.js.gz`, and
BASIC_BUNDLE_SHA256 below.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from html import escape
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from reports.chart_style import (
    AGENT_COLOUR,
    COST_COLOUR,
    FONT,
    MODEL_COLOUR,
    PALETTE,
    PLOTLY_CONFIG,
    TEAM_COLOUR,
    USERS_COLOUR,
    count_ticks,
)
from reports.formats import format_day
from reports.meta import ReportMeta
from reports.safe import chart_text
from reports.tables import DATE, DATETIME, FLOAT, INT, PERCENT, USD, Table

BASIC_BUNDLE_VERSION = "4.1.1"
BASIC_BUNDLE = Path(__file__).parent / "vendor" / f"plotly-basic-{BASIC_BUNDLE_VERSION}.min.js.gz"
BASIC_BUNDLE_SHA256 = "99784e3abfb07b142a15e521a439e6d9addceadb3f79553fd24c72774f0649ba"  # of the unzipped file
# What each column is drawn in, as on the tabs: interactions and agents blue, active users orange, ...
SERIES_COLOURS = {"interactions": AGENT_COLOUR, "active_users": USERS_COLOUR, "cost_usd": COST_COLOUR}
BAR_COLOURS = {"agent": AGENT_COLOUR, "team": TEAM_COLOUR, "model": MODEL_COLOUR}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1e293b; margin: 2rem auto;
       max-width: 1180px; padding: 0 1.5rem; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; } h2 { font-size: 1.2rem; margin-top: 2.5rem; }
.meta { color: #64748b; font-size: .9rem; } .meta span { margin-right: 1.5rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 1rem; margin: 1.5rem 0; }
.card { border: 1px solid #e2e8f0; border-radius: .5rem; padding: 1rem; }
.card .label { color: #64748b; font-size: .75rem; text-transform: uppercase; letter-spacing: .03em; }
.card .value { font-size: 1.6rem; font-weight: 600; } .card .change { font-size: .85rem; color: #64748b; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th { text-align: left; background: #f1f5f9; border-bottom: 2px solid #cbd5e1; padding: .4rem .6rem; }
td { border-bottom: 1px solid #e2e8f0; padding: .35rem .6rem; } td.num { text-align: right; white-space: nowrap; }
.scroll { max-height: 520px; overflow: auto; border: 1px solid #e2e8f0; border-radius: .5rem; }
"""


def display(value, kind: str) -> str:
    """A cell as text: thousands separated, money in dollars and cents, shares in percent."""
    if value is None:
        return "—"
    if kind == USD:
        return f"${Decimal(str(value)).quantize(Decimal('0.01')):,}"
    if kind == PERCENT:
        return f"{float(value) * 100:.1f}%"
    if kind == INT:
        return f"{int(value):,}"
    if kind == FLOAT:
        return f"{float(value):,.2f}"
    if kind == DATETIME and isinstance(value, dt.datetime):
        return f"{format_day(value)} {value:%H:%M}"  # as the tabs write a day (reports/formats.py)
    if kind == DATE and isinstance(value, dt.date):
        return format_day(value)
    return str(value)


def _cards(summary: Table) -> str:
    cards = []
    for row in summary.frame.iter_rows(named=True):
        unit = row["unit"]
        cards.append(
            f'<div class="card"><div class="label">{escape(row["metric"])}</div>'
            f'<div class="value">{escape(display(row["value"], unit))}</div>'
            f'<div class="change">{escape(row["change"])} · previous period: '
            f"{escape(display(row['previous_period'], unit))}</div></div>"
        )
    compares = summary.frame["compared"][0] if summary.frame.height else ""
    return f'<div class="cards">{"".join(cards)}</div><p class="meta">Change compares {escape(compares)}</p>'


@cache
def plotly_basic_js() -> str:
    """The vendored plotly.js basic bundle, checked against the hash it was vendored with."""
    script = gzip.decompress(BASIC_BUNDLE.read_bytes())
    if hashlib.sha256(script).hexdigest() != BASIC_BUNDLE_SHA256:
        raise RuntimeError(f"{BASIC_BUNDLE} is not the plotly.js bundle it should be.")
    return script.decode()


@cache
def _template() -> go.layout.Template:
    """plotly_white in the app's font and colours (callbacks/_figures.py makes the tabs' the same way)."""
    template = go.layout.Template(pio.templates["plotly_white"])
    template.layout.update(font=FONT, colorway=PALETTE)
    return template


def _value_axis(table: Table, column: str, largest: float) -> dict:
    """An axis from zero: whole numbers for counts (no 2.5 interactions), dollars for money."""
    if table.kinds.get(column) == USD:
        return {"rangemode": "tozero", "tickformat": "$,.2f" if largest < 10 else "$,.0f"}
    return {"rangemode": "tozero", **(count_ticks(largest) if table.kinds.get(column) == INT else {})}


def _figure(table: Table) -> str:
    chart = table.chart
    frame = table.frame.head(len(table.frame) if chart.kind == "line" else 15)
    # Plotly draws category names (teams, agents, models) as markup: escaped, a name is text, never a link.
    x = chart_text(frame[chart.category].to_list())
    fig = go.Figure(layout={"template": _template()})
    axes = {}
    for number, value in enumerate(chart.values):
        y = [float(v) if v is not None else None for v in frame[value].to_list()]
        largest = max((v for v in y if v is not None), default=0.0)
        if chart.kind == "line":
            # The second series (active users) is far smaller than interactions: its own axis.
            colour = SERIES_COLOURS.get(value)
            fig.add_scatter(x=x, y=y, name=table.header(value), mode="lines+markers", yaxis="y2" if number else "y",
                            line={"color": colour}, marker={"color": colour})  # fmt: skip
            axes["yaxis2" if number else "yaxis"] = _value_axis(table, value, largest)
        else:
            fig.add_bar(x=y[::-1], y=x[::-1], name=table.header(value), orientation="h",
                        marker={"color": BAR_COLOURS.get(chart.category, PALETTE[0])})  # fmt: skip
            axes["xaxis"] = _value_axis(table, value, largest)
    fig.update_layout(height=380, margin={"l": 40, "r": 20, "t": 30, "b": 40}, legend={"orientation": "h"},
                      yaxis={"automargin": True, "rangemode": "tozero"},
                      yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
                              "title": table.header(chart.values[-1]) if len(chart.values) > 1 else None})  # fmt: skip
    fig.update_layout(axes)
    return fig.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG)


def _table(table: Table) -> str:
    columns = table.columns
    head = "".join(f"<th>{escape(table.header(c))}</th>" for c in columns)
    body = []
    for row in table.frame.iter_rows(named=True):
        cells = []
        for column in columns:
            kind = table.kind(column, row)
            css = ' class="num"' if kind in (INT, FLOAT, USD, PERCENT) else ""
            cells.append(f"<td{css}>{escape(display(row[column], kind))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def write_html(out, meta: ReportMeta, summary: Table, tables: Iterable[Table]) -> None:
    """Write the page to a binary stream, section by section."""

    def put(text: str) -> None:
        out.write(text.encode())

    put(f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Telemetry report · '
        f"{escape(meta.period_label)}</title><style>{STYLE}</style>")  # fmt: skip
    put(f'<script type="text/javascript">{plotly_basic_js()}</script></head><body>')
    facts = "".join(f"<span>{escape(k)}: {escape(v)}</span>" for k, v in meta.lines())
    put(f"<h1>Telemetry report</h1><div class='meta'>{facts}</div>")
    put(_cards(summary))
    for table in tables:
        if table.key == "summary":
            continue
        put(f"<h2>{escape(table.title)}</h2>")
        if table.chart and table.frame.height:
            put(_figure(table))
        put(_table(table) if table.frame.height else "<p class='meta'>Nothing in this period.</p>")
    put("</body></html>")
