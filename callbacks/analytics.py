"""Analytics tab: the URL's filters in; agents, teams, usage over time and the week's rhythm out.

Clicking an agent or a team in a chart filters the tab to it through the URL (`callbacks/crossfilter.py`).
"""

from __future__ import annotations

import datetime as dt

import dash
import polars as pl
from dash import Input, Output, html
from plotly.colors import sample_colorscale

from callbacks._common import empty_period, in_view_chart, page_filters, register_charts_in_view, register_in_view
from callbacks._figures import (
    AGENT_COLOUR,
    BLUES,
    NO_INTERACTIONS,
    OTHER_COLOUR,
    PALETTE,
    TEAM_COLOUR,
    UNFINISHED,
    X_TITLED,
    Figure,
    count_margin,
    count_ticks,
    date_axis,
    figure,
    hatched,
    label_margin,
    message_figure,
    title,
    unfinished_bucket,
    unfinished_note,
)
from callbacks._tab import register_tab
from callbacks.crossfilter import register_crossfilter, update_chips
from layouts import ids
from layouts._components import format_count, format_percent, format_usd, plain_table
from queries import analytics
from queries.period import Period, PeriodError, today_local

TOP_AGENTS = 10
TOP_TEAMS = 12
TOP_SERIES = 5
BAR_SLOTS = 6
NARROW = 38  # characters per line of a message in a third-width chart
CHART_HEIGHT = 340
HEATMAP_HEIGHT = 300
COLOUR_BAR = 100  # right margin for the heat map's colour bar of counts, at full width (callbacks/_figures.py says why)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DASH = "–"
# Above this luminance black text has at least 4.5:1 on a cell, below it white has (they meet at 0.179).
LABEL_SWITCH = 0.179
AGENT_COLUMNS = [
    {"field": "label", "header": "Agent"},
    {"field": "interactions", "header": "Interactions", "sort": "desc"},
    {"field": "active_users", "header": "Active users"},
    {"field": "per_user", "header": "Per active user", "title": "Interactions per active user"},
    {"field": "error_rate", "header": "Error rate"},
    {"field": "latency", "header": "Avg latency"},
    {"field": "tokens", "header": "Tokens", "title": "Input + output tokens", "detail": "tokens_detail"},
    {"field": "cost", "header": "Cost"},
]
TEAM_COLUMNS = [
    {"field": "label", "header": "Team"},
    {"field": "members", "header": "Members", "title": "Active in the team in the period, or in it with access"},
    {"field": "active_users", "header": "Active users"},
    {
        "field": "adoption",
        "header": "Active share",
        "title": "Active users / members (as the Dashboard's Active share)",
    },
    {"field": "interactions", "header": "Interactions", "sort": "desc"},
    {"field": "share", "header": "Share", "title": "Share of the interactions in scope"},
    {"field": "per_member", "header": "Per member", "title": "Interactions per member"},
    {"field": "cost", "header": "Cost"},
]


def table_of(table_id: str, caption: str, columns: list[dict], rows: list[dict], store: str) -> html.Div:
    """Every agent or team, sortable, a name's Enter or click filtering the tab to it: one component drawn by the
    browser (assets/tables.js), not an AG Grid, whose start was most of this tab's switch."""
    return plain_table(table_id, caption, columns, rows, height=CHART_HEIGHT, empty=f"{NO_INTERACTIONS}.", store=store)


def table_message(text: str) -> html.Div:
    """Where a grid would be, the reason there is none, in the charts' empty-state style."""
    return html.Div(
        text,
        className="d-flex align-items-center justify-content-center text-center text-secondary px-4",
        style={"height": f"{CHART_HEIGHT}px", "fontSize": "15px"},
    )


def _bar_slots(count: int) -> dict:
    """A category axis with room for at least BAR_SLOTS bars, so two agents are not two slabs."""
    return {"automargin": True, "ticksuffix": " ", "range": [count - 0.5 - max(count, BAR_SLOTS), count - 0.5]}


def _bar_chart(bars: dict, xaxis: dict, count: int) -> Figure:
    """One horizontal bar trace (`count` bars) in a chart of this tab: hover on the bar, no legend; margins that
    fit its labels (callbacks/_figures.py `label_margin`)."""
    margin = {"t": 28, "l": label_margin([f"{label} " for label in bars["y"]]), "b": X_TITLED}  # the ticksuffix
    return figure([bars], CHART_HEIGHT, hovermode="closest", showlegend=False, margin=margin, xaxis=xaxis,
                  yaxis=_bar_slots(count))  # fmt: skip


def _or_dash(value: float | None, text) -> str:
    return DASH if value is None else text(value)


# By agent


def format_tokens(value: int) -> str:
    """Token counts run to millions: 4,800, 182.2k, 1.02M (the exact count is in the cell's tooltip)."""
    if value < 10_000:
        return f"{value:,}"
    if value < 1_000_000:
        return f"{value / 1000:,.1f}k"
    if value < 1_000_000_000:
        return f"{value / 1_000_000:,.2f}M"
    return f"{value / 1_000_000_000:,.2f}B"


def agent_rows(frame: pl.DataFrame) -> list[dict]:
    """Grid rows: numbers to sort on, and next to each the text to show (`<field>_text`)."""
    rows = []
    for row in frame.iter_rows(named=True):
        tokens = int(row["input_tokens"] + row["output_tokens"])  # exact sums arrive as DECIMAL(38,0)
        rows.append(
            {
                "key": row["key"],
                "label": row["label"],
                "interactions": row["interactions"],
                "interactions_text": format_count(row["interactions"]),
                "active_users": row["active_users"],
                "active_users_text": format_count(row["active_users"]),
                "per_user": row["interactions_per_active_user"],
                "per_user_text": _or_dash(row["interactions_per_active_user"], lambda v: f"{v:,.1f}"),
                "error_rate": row["error_rate"],
                "error_rate_text": _or_dash(row["error_rate"], format_percent),
                "latency": row["avg_latency_ms"],
                "latency_text": _or_dash(row["avg_latency_ms"], lambda v: f"{v / 1000:,.1f} s"),
                "tokens": tokens,
                "tokens_text": format_tokens(tokens),
                "tokens_detail": f"{tokens:,}: {int(row['input_tokens']):,} in · {int(row['output_tokens']):,} out",
                "cost": float(row["cost_usd"]),
                "cost_text": format_usd(row["cost_usd"]),
            }
        )
    return rows


def agents_shown(frame: pl.DataFrame) -> pl.DataFrame:
    """The agents the chart draws (and its CSV holds): the most used, busiest first."""
    return frame.filter(pl.col("interactions") > 0).head(TOP_AGENTS)


def agent_figure(frame: pl.DataFrame) -> Figure:
    """The most used agents as horizontal bars, largest on top; customdata[0] is the agent id."""
    top = agents_shown(frame).reverse()
    bars = {
        "type": "bar",
        "x": top["interactions"].to_list(),
        "y": top["label"].to_list(),
        "orientation": "h",
        "text": [format_count(v) for v in top["interactions"]],
        "textposition": "auto",
        "customdata": [
            [row["key"], format_count(row["active_users"]), format_usd(row["cost_usd"]),
             _or_dash(row["error_rate"], format_percent)]
            for row in top.iter_rows(named=True)
        ],
        "hovertemplate": "<b>%{y}</b><br>%{x:,} interactions · %{customdata[1]} active users"
        "<br>%{customdata[2]} · %{customdata[3]} errors<extra></extra>",
        "marker": {"color": AGENT_COLOUR},
    }  # fmt: skip
    xaxis = {"title": title("Interactions"), "rangemode": "tozero", **count_ticks(top["interactions"].max())}
    return _bar_chart(bars, xaxis, top.height)


def update_agents(query: dict | None) -> tuple:
    """Top agents chart, and every agent in the grid."""
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return message_figure(str(error), CHART_HEIGHT, wrap=NARROW), table_message(str(error))
    frame = analytics.agent_stats(filters)
    if frame.is_empty():
        return message_figure(NO_INTERACTIONS, CHART_HEIGHT), table_message(empty_period(filters))
    rows = agent_rows(frame)
    table = table_of(ids.ANALYTICS_AGENT_GRID, "All agents", AGENT_COLUMNS, rows, ids.ANALYTICS_AGENT_ENTER)
    if frame["interactions"].sum() == 0:  # agents nobody used: still listed, with zeros
        return message_figure(empty_period(filters), CHART_HEIGHT, wrap=NARROW), table
    return agent_figure(frame), table


# By team


def team_rows(frame: pl.DataFrame) -> list[dict]:
    rows = []
    for row in frame.iter_rows(named=True):
        rows.append(
            {
                "key": row["key"],
                "label": row["label"],
                "members": row["members"],
                "members_text": format_count(row["members"]),
                "active_users": row["active_users"],
                "active_users_text": format_count(row["active_users"]),
                "adoption": row["adoption"],
                "adoption_text": _or_dash(row["adoption"], format_percent),
                "interactions": row["interactions"],
                "interactions_text": format_count(row["interactions"]),
                "share": row["share"],
                "share_text": _or_dash(row["share"], format_percent),
                "per_member": row["interactions_per_member"],
                "per_member_text": _or_dash(row["interactions_per_member"], lambda v: f"{v:,.1f}"),
                "cost": float(row["cost_usd"]),
                "cost_text": format_usd(row["cost_usd"]),
            }
        )
    return rows


def teams_shown(frame: pl.DataFrame) -> pl.DataFrame:
    """The teams the chart draws (and its CSV holds), largest share first."""
    return frame.head(TOP_TEAMS)


def team_figure(frame: pl.DataFrame) -> Figure:
    """Each team's share of the interactions, largest on top; customdata[0] is the team id."""
    top = teams_shown(frame).reverse()
    bars = {
        "type": "bar",
        "x": top["share"].to_list(),
        "y": top["label"].to_list(),
        "orientation": "h",
        "text": [format_percent(v or 0) for v in top["share"]],
        "textposition": "auto",
        "customdata": [
            [row["key"], format_count(row["interactions"]), format_count(row["active_users"]),
             format_count(row["members"]), _or_dash(row["adoption"], format_percent)]
            for row in top.iter_rows(named=True)
        ],
        "hovertemplate": "<b>%{y}</b><br>%{customdata[1]} interactions (%{x:.1%})"
        "<br>%{customdata[2]} of %{customdata[3]} members active (%{customdata[4]})<extra></extra>",
        "marker": {"color": TEAM_COLOUR},
    }  # fmt: skip
    xaxis = {"title": title("Share of interactions"), "tickformat": ".0%", "rangemode": "tozero"}
    return _bar_chart(bars, xaxis, top.height)


def update_teams(query: dict | None) -> tuple:
    """Share of interactions per team, and every team in scope (also unused ones) in the grid."""
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return message_figure(str(error), CHART_HEIGHT, wrap=NARROW), table_message(str(error))
    frame = analytics.team_stats(filters)
    if frame.is_empty():
        return message_figure(NO_INTERACTIONS, CHART_HEIGHT), table_message("No teams in your scope.")
    rows = team_rows(frame)
    table = table_of(ids.ANALYTICS_TEAM_GRID, "All teams", TEAM_COLUMNS, rows, ids.ANALYTICS_TEAM_ENTER)
    if frame["interactions"].sum() == 0:
        return message_figure(empty_period(filters), CHART_HEIGHT, wrap=NARROW), table
    return team_figure(frame), table


# Over time


def _tallest_bucket(frame: pl.DataFrame) -> int:
    return frame.group_by("bucket").agg(pl.col("interactions").sum())["interactions"].max()


def _partial(bucket: dt.date, grain: str, period: Period) -> bool:
    """A week or month that the period only partly covers (its bar is lower for that reason alone)."""
    if grain == "day":
        return False
    if grain == "week":
        last = bucket + dt.timedelta(days=6)
    else:
        last = (bucket.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return bucket < period.start or last > period.end


def over_time_figure(frame: pl.DataFrame, grain: str, period: Period, today: dt.date | None = None) -> Figure:
    """Stacked bars per bucket, one trace per series in rank order, Other in grey last; partial buckets faint,
    the one still filling (it holds `today`) hatched and labelled."""
    traces = []
    for (rank, key, label), part in frame.group_by("rank", "key", "label", maintain_order=True):
        colour = OTHER_COLOUR if key == analytics.OTHER_KEY and label == "Other" else PALETTE[(rank - 1) % len(PALETTE)]
        partial = [_partial(bucket, grain, period) for bucket in part["bucket"]]
        unfinished = None if today is None else unfinished_bucket(part["bucket"].to_list(), grain, period, today)
        traces.append(hatched({
            "type": "bar",
            "x": part["bucket"].to_list(),
            "y": part["interactions"].to_list(),
            "name": label,
            "marker": {"color": colour, "opacity": [0.45 if p else 1 for p in partial]},
            "customdata": [
                [key, format_usd(cost), (" (partly outside the period)" if p else "")
                 + (f" ({UNFINISHED[grain]})" if i == unfinished else "")]
                for i, (cost, p) in enumerate(zip(part["cost_usd"], partial, strict=True))
            ],
            "hovertemplate": "%{y:,} interactions · %{customdata[1]}%{customdata[2]}<extra>%{fullData.name}</extra>",
        }, unfinished))  # fmt: skip
    notes = []
    buckets = frame.group_by("bucket", maintain_order=True).agg(pl.col("interactions").sum())
    unfinished = None if today is None else unfinished_bucket(buckets["bucket"].to_list(), grain, period, today)
    if unfinished is not None:
        notes.append(unfinished_note(buckets["bucket"][unfinished], buckets["interactions"][unfinished], grain))
    xaxis = {"title": title({"day": "Day", "week": "Week starting", "month": "Month"}[grain]), **date_axis(grain)}
    if grain != "day":
        xaxis["tickvals"] = frame["bucket"].unique(maintain_order=True).to_list()
    return figure(
        traces,
        CHART_HEIGHT,
        barmode="stack",
        showlegend=True,  # also for a single series: the legend names it
        xaxis=xaxis,
        yaxis={"title": title("Interactions"), "rangemode": "tozero", **count_ticks(_tallest_bucket(frame))},
        # at the figure's foot, under the axis title (in the plot's own units it ran into "Day")
        legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "traceorder": "normal"},
        margin={"b": 84, "l": count_margin(_tallest_bucket(frame))},
        meta={"filter": "series"},  # its legend entries are the keyboard's way to filter (assets/charts.js)
        **({"annotations": notes} if notes else {}),
    )


def update_over_time(query: dict | None, today: dt.date | None = None) -> Figure:
    """Interactions per day, week or month, stacked by the top agents or teams and Other."""
    try:
        filters = page_filters(query, read_grain=True)  # the one part with a grain control
        by = (query or {}).get("stack") or ids.ANALYTICS_DEFAULT_STACK
        frame = analytics.interactions_over_time_by(filters, by, TOP_SERIES)
    except ValueError as error:  # PeriodError, or a grain or stack from a hand-edited URL
        return message_figure(str(error), CHART_HEIGHT)
    if frame["interactions"].sum() == 0:
        return message_figure(NO_INTERACTIONS, CHART_HEIGHT)
    return over_time_figure(frame, filters.grain, filters.period, today or today_local(filters.period.tz))


# Weekday x hour


def _compact(value: int) -> str:
    if value == 0:
        return ""
    return f"{value:,}" if value < 1000 else f"{value / 1000:,.1f}k"


def _cell_labels(counts: list[list[int]], hours: list[str]) -> dict:
    """The counts written over the heat map, each black or white, whichever contrasts with its cell.

    Plotly's own heat-map text picks #444 or white, and neither reaches 4.5:1 on the mid blues (3k
    on a scale to 6k: 3.1:1); a text trace takes one colour per label, and black or white always does.
    """
    top = max(max(row) for row in counts) or 1
    cells = [(hour, day, value) for day, row in zip(WEEKDAYS, counts, strict=True)
             for hour, value in zip(hours, row, strict=True) if value]  # fmt: skip
    shades = sample_colorscale(BLUES, [value / top for _hour, _day, value in cells]) if cells else []
    return {
        "type": "scatter",
        "mode": "text",
        "x": [hour for hour, _day, _value in cells],
        "y": [day for _hour, day, _value in cells],
        "text": [_compact(value) for _hour, _day, value in cells],
        "textfont": {"color": ["#000000" if _luminance(shade) > LABEL_SWITCH else "#ffffff" for shade in shades]},
        "hoverinfo": "skip",
        "showlegend": False,
    }


def _luminance(rgb: str) -> float:
    """WCAG relative luminance of Plotly's 'rgb(r, g, b)'."""
    channels = [float(part) / 255 for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def heatmap_figure(frame: pl.DataFrame, tz: str) -> Figure:
    """A 7 x 24 grid of interactions, Monday on top; counts written in the busy cells."""
    counts = [frame.filter(pl.col("weekday") == day)["interactions"].to_list() for day in range(1, 8)]
    hours = [f"{hour:02d}" for hour in range(24)]
    cells = {
        "type": "heatmap",
        "z": counts,
        "x": hours,
        "y": list(WEEKDAYS),
        "colorscale": BLUES,
        "zmin": 0,
        "xgap": 2,
        "ygap": 2,
        "colorbar": {"thickness": 12, **count_ticks(frame["interactions"].max())},
        "hovertemplate": "%{y} %{x}:00–%{x}:59<br>%{z:,} interactions<extra></extra>",
    }
    return figure(
        [cells, _cell_labels(counts, hours)],
        HEATMAP_HEIGHT,
        hovermode="closest",
        xaxis={"title": title(f"Hour of day ({tz})"), "showgrid": False, "type": "category"},
        yaxis={"autorange": "reversed", "showgrid": False, "type": "category"},
        margin={"t": 28, "l": 48, "b": X_TITLED, "r": COLOUR_BAR},
    )


def update_heatmap(query: dict | None) -> Figure:
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return message_figure(str(error), HEATMAP_HEIGHT)
    frame = analytics.activity_heatmap(filters)
    if frame["interactions"].sum() == 0:
        return message_figure(NO_INTERACTIONS, HEATMAP_HEIGHT)
    return heatmap_figure(frame, filters.period.tz)


def register_callbacks(app: dash.Dash) -> None:
    register_tab(app, Input(ids.ANALYTICS_QUERY, "data"), [
        ((Output(ids.ANALYTICS_AGENT_CHART, "figure"), Output(ids.in_view_store(ids.ANALYTICS_AGENT_TABLE), "data")),
         update_agents),
        ((Output(ids.ANALYTICS_TEAM_CHART, "figure"), Output(ids.in_view_store(ids.ANALYTICS_TEAM_TABLE), "data")),
         update_teams),
        ((Output(ids.in_view_store(ids.chart_place(ids.ANALYTICS_OVER_TIME)), "data"),),
         in_view_chart(update_over_time, ids.ANALYTICS_OVER_TIME, CHART_HEIGHT)),
        ((Output(ids.in_view_store(ids.chart_place(ids.ANALYTICS_HEATMAP)), "data"),),
         in_view_chart(update_heatmap, ids.ANALYTICS_HEATMAP, HEATMAP_HEIGHT)),
        ((Output(ids.ANALYTICS_CHIPS, "children"),), update_chips),
    ])  # fmt: skip
    register_crossfilter(app)
    for place_id in ids.ANALYTICS_TABLES:
        register_in_view(app, place_id)
    register_charts_in_view(app, ids.ANALYTICS_OVER_TIME, ids.ANALYTICS_HEATMAP)
