"""The Adoption tab: the URL's filters in, one question of queries/adoption.py per part out."""

from __future__ import annotations

import dash
import polars as pl
from dash import Input, Output, State, dcc, no_update
from flask import current_app

from auth.session import audit
from callbacks._common import org_timezone, page_filters
from callbacks._figures import (
    AGENT_COLOUR,
    BLUES,
    GREEN,
    MUTED,
    USERS_COLOUR,
    Figure,
    count_axis,
    date_axis,
    figure,
    message_figure,
    title,
)
from callbacks._tab import register_tab
from callbacks._url import keep_in_url
from layouts import ids
from layouts._adoption import reclaim_days
from layouts._components import DAY, format_count, format_percent, format_usd
from queries import adoption
from queries.filters import search_with
from queries.period import PeriodError, today_local
from reports.safe import spreadsheet_safe

STAGES = {"with_access": "With access", "tried": "Tried", "active": "Active", "habitual": "Habitual", "power": "Power"}
HEIGHT = 260
NOBODY = "Nobody in your scope had access in this period"


def funnel_figure(row: dict) -> Figure:
    counts = [row[stage] for stage in STAGES]
    whole = counts[0] or 1
    bars = {
        "type": "bar", "orientation": "h", "y": list(STAGES.values()), "x": counts,
        "text": [f"{format_count(n)} ({format_percent(n / whole)})" for n in counts], "textposition": "auto",
        "marker": {"color": [MUTED, AGENT_COLOUR, USERS_COLOUR, GREEN, GREEN]},
        "hovertemplate": "%{y}: %{x:,} people<extra></extra>",
    }  # fmt: skip
    return figure([bars], HEIGHT, hovermode="closest", showlegend=False, xaxis=count_axis(counts[0], "People"),
                  yaxis={"autorange": "reversed", "type": "category"})  # fmt: skip


def update_funnel(query: dict | None) -> Figure:
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return message_figure(str(error), HEIGHT)
    rows = adoption.funnel(filters)
    if rows.is_empty() or not rows["with_access"][0]:
        return message_figure(NOBODY, HEIGHT)
    return funnel_figure(rows.row(0, named=True))


def active_figure(curves: pl.DataFrame) -> Figure:
    days = curves["day"].to_list()
    lines = [
        {"type": "scatter", "mode": "lines", "x": days, "y": curves[name].to_list(), "name": label,
         "line": {"color": colour, "width": width, **({"dash": "dot"} if name == "mau" else {})}}
        for name, label, colour, width in (("mau", "Monthly (28 days)", MUTED, 2), ("wau", "Weekly (7 days)",
                                           AGENT_COLOUR, 2), ("dau", "Daily", USERS_COLOUR, 3))
    ]  # fmt: skip
    return figure(lines, HEIGHT, xaxis=date_axis(), yaxis=count_axis(curves["mau"].max(), "Active people"))


def update_active(query: dict | None) -> tuple:
    """The stickiness line and the daily, weekly and monthly active people of the scope."""
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return None, message_figure(str(error), HEIGHT)
    curves = adoption.active_days(filters)
    if curves.is_empty() or not curves["mau"].max():
        return None, message_figure("Nobody was active in the 28 days up to this period's days", HEIGHT)
    sticky = adoption.stickiness(curves).row(0, named=True)
    text = (f"Stickiness {format_percent(sticky['stickiness'])} (average daily / monthly active people: "
            f"{sticky['dau']:,.1f} / {sticky['mau']:,.1f})")  # fmt: skip
    return text, active_figure(curves)


def cohort_figure(frame: pl.DataFrame) -> Figure:
    months = frame["cohort_month"].unique().sort()
    offsets = list(range(int(frame["month_offset"].max()) + 1))
    shares = {(r["cohort_month"], r["month_offset"]): r for r in frame.iter_rows(named=True)}
    labels = [f"{m:%b %Y} ({format_count(shares[(m, 0)]['size'])})" for m in months]
    z = [[shares[(m, k)]["active_share"] if (m, k) in shares else None for k in offsets] for m in months]
    text = [[format_percent(v) if v is not None else "" for v in row] for row in z]
    heat = {
        "type": "heatmap", "x": [f"+{k}" for k in offsets], "y": labels, "z": z, "text": text,
        "texttemplate": "%{text}", "colorscale": BLUES, "zmin": 0, "zmax": 1, "xgap": 2, "ygap": 2,
        "colorbar": {"tickformat": ".0%", "title": {"text": "Active"}},
        "hovertemplate": "%{y}, month %{x}: %{text} active<extra></extra>",
    }  # fmt: skip
    return figure([heat], HEIGHT, hovermode="closest", xaxis={"title": title("Months since the first"),
                  "type": "category"}, yaxis={"autorange": "reversed", "type": "category"})  # fmt: skip


def update_cohorts(query: dict | None) -> Figure:
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return message_figure(str(error), HEIGHT)
    frame = adoption.cohorts(filters)
    if frame.is_empty():
        return message_figure("Nobody in your scope first used an agent in this period", HEIGHT)
    return cohort_figure(frame)


def league_rows(frame: pl.DataFrame) -> list[dict]:
    """The teams' rows as the grid shows them: values to sort, and their texts beside them."""
    rows = []
    for row in frame.iter_rows(named=True):
        share = row["active"] / row["with_access"] if row["with_access"] else 0.0
        cost = row["cost_per_active_usd"]
        rows.append({
            "key": row["key"], "label": row["label"], "active_share": share, "active_share_text": format_percent(share),
            "habitual": row["habitual"], "stickiness": row["stickiness"],
            "stickiness_text": "—" if row["stickiness"] is None else format_percent(row["stickiness"]),
            "cost_per_active": None if cost is None else float(cost),
            "cost_per_active_text": "—" if cost is None else format_usd(cost),
        })  # fmt: skip
    return sorted(rows, key=lambda r: (-r["active_share"], -(r["stickiness"] or 0), r["label"]))


def update_league(query: dict | None) -> list[dict]:
    try:
        filters = page_filters(query)
    except PeriodError:
        return []
    return league_rows(adoption.adoption(filters, "team"))


def reclaim_rows(frame: pl.DataFrame) -> list[dict]:
    texts = frame.with_columns(pl.col("last_active").dt.strftime(DAY).fill_null("never").alias("last_active_text"))
    return texts.with_columns(pl.col("last_active").cast(pl.String)).to_dicts()


def seats_text(count: int) -> str:
    cost = adoption.seats_cost(count, current_app.config.get("SEAT_COST_USD"))
    seats = f"{format_count(count)} seat{'' if count == 1 else 's'} to reclaim"
    return seats if cost is None else f"{seats}: {format_usd(cost)} a month"


def update_reclaim(query: dict | None) -> tuple:
    """The scope's idle seats for the URL's idle days (the URL's teams and agents too; no period: as of today)
    and their count."""
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return [], str(error)
    frame = adoption.reclaim(filters.scope, org_timezone(), reclaim_days(query))
    return reclaim_rows(frame), seats_text(frame.height)


def update_reclaim_search(days: object, search: str | None) -> str:
    """A choice of idle days goes into the URL (as the Users tab's view does), which redraws the grid."""
    if days not in adoption.RECLAIM_DAYS:
        return no_update
    try:
        return search_with(search, reclaim=None if days == adoption.RECLAIM_DAYS[0] else str(days))
    except PeriodError:  # a malformed URL from the browser
        return no_update


def export_reclaim(n_clicks: int | None, query: dict | None):
    """The idle seats as CSV: audited, formula-looking cells made plain text."""
    if not n_clicks:
        return no_update
    try:
        filters = page_filters(query)
    except PeriodError:
        return no_update
    tz, idle = org_timezone(), reclaim_days(query)
    rows = adoption.reclaim(filters.scope, tz, idle)
    audit("export", {"what": f"reclaim:{idle}", "format": "csv", "rows": rows.height})
    name = f"telemetry-seats-idle-{idle}-days-{today_local(tz)}.csv"
    return dcc.send_string(spreadsheet_safe(rows).write_csv(), name)


def tab_parts() -> list:
    """The tab's parts, answered in its one callback (callbacks/_tab.py)."""
    return [
        ((Output(ids.ADOPTION_FUNNEL, "figure"),), update_funnel),
        ((Output(ids.ADOPTION_STICKINESS, "children"), Output(ids.ADOPTION_ACTIVE, "figure")), update_active),
        ((Output(ids.ADOPTION_COHORTS, "figure"),), update_cohorts),
        ((Output(ids.ADOPTION_LEAGUE, "rowData"),), update_league),
        ((Output(ids.ADOPTION_RECLAIM, "rowData"), Output(ids.ADOPTION_RECLAIM_SUMMARY, "children")), update_reclaim),
    ]


def register_callbacks(app: dash.Dash) -> None:
    """The tab's one data callback, the choice of idle days (into the URL) and the export."""
    register_tab(app, Input(ids.ADOPTION_QUERY, "data"), tab_parts())
    keep_in_url(app, ids.ADOPTION_NEW_SEARCH, [(update_reclaim_search, Input(ids.ADOPTION_RECLAIM_DAYS, "value"))])
    app.callback(
        Output(ids.ADOPTION_RECLAIM_DOWNLOAD, "data"),
        Input(ids.ADOPTION_RECLAIM_EXPORT, "n_clicks"),
        State(ids.ADOPTION_QUERY, "data"),
        prevent_initial_call=True,
    )(export_reclaim)
