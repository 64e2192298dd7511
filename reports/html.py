"""HTML: one self-contained file (styles, data and plotly.js inside) that opens from an email."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from html import escape

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from reports.meta import ReportMeta
from reports.safe import chart_text
from reports.tables import DATE, DATETIME, FLOAT, INT, PERCENT, USD, Table

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
        return value.strftime("%Y-%m-%d %H:%M")
    if kind == DATE and isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _change(change: float | None, value: float) -> str:
    if change is None:
        return "new" if value else "no change"
    arrow = "▲" if change > 0 else "▼" if change < 0 else ""
    return f"{arrow} {abs(change) * 100:,.1f}%".strip()


def _cards(summary: Table) -> str:
    cards = []
    for row in summary.frame.iter_rows(named=True):
        unit = row["unit"]
        change = _change(row["change"], row["value"])
        cards.append(
            f'<div class="card"><div class="label">{escape(row["metric"])}</div>'
            f'<div class="value">{escape(display(row["value"], unit))}</div>'
            f'<div class="change">{escape(change)} vs previous period '
            f"({escape(display(row['previous_period'], unit))})</div></div>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _figure(table: Table) -> str:
    chart = table.chart
    frame = table.frame.head(len(table.frame) if chart.kind == "line" else 15)
    # Plotly draws category names (teams, agents, models) as markup: escaped, a name is text, never a link.
    x = chart_text(frame[chart.category].to_list())
    fig = go.Figure()
    for number, value in enumerate(chart.values):
        y = [float(v) if v is not None else None for v in frame[value].to_list()]
        if chart.kind == "line":
            # The second series (active users) is far smaller than interactions: its own axis.
            fig.add_scatter(x=x, y=y, name=table.header(value), mode="lines+markers", yaxis="y2" if number else "y")
        else:
            fig.add_bar(x=y[::-1], y=x[::-1], name=table.header(value), orientation="h")
    fig.update_layout(template="plotly_white", height=380, margin={"l": 40, "r": 20, "t": 30, "b": 40},
                      legend={"orientation": "h"}, yaxis={"automargin": True, "rangemode": "tozero"},
                      yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
                              "title": table.header(chart.values[-1]) if len(chart.values) > 1 else None})  # fmt: skip
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})


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
    put(f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>')
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
