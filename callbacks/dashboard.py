"""Dashboard tab: the URL's filters in; KPI cards, usage trend, cost and top agents out."""

from __future__ import annotations

import datetime as dt

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output

from callbacks._common import empty_period, in_view_chart, page_filters, register_charts_in_view
from callbacks._figures import (
    AGENT_COLOUR,
    COST_COLOUR,
    MUTED,
    NO_INTERACTIONS,
    TEAM_COLOUR,
    UNFINISHED,
    USERS_COLOUR,
    X_COUNTS_TITLED,
    X_TITLED,
    Figure,
    bucket_end,
    count_axis,
    count_margin,
    count_ticks,
    date_axis,
    figure,
    hatched,
    message_figure,
    money_axis,
    money_margin,
    title,
    unfinished_bucket,
    unfinished_note,
)
from callbacks._tab import register_tab
from callbacks._url import keep_in_url
from callbacks.budgets import org_budget_line, store_version
from callbacks.crossfilter import update_search_from_agent_click, update_search_from_team_click
from layouts import ids
from layouts._components import (
    format_change,
    format_count,
    format_dates,
    format_day,
    format_percent,
    format_point_change,
    format_usd,
    kpi_card,
    message,
    no_data_before,
)
from layouts.dashboard import TOP_HEIGHT
from queries import adoption, usage
from queries.filters import Filters
from queries.period import Comparison, Period, PeriodError, comparison, today_local

TOP = 5
TREND_X_TICKS = 50  # the trend's bottom margin for its axis of days (no title; turned on a phone)
TREND_X_MONTHS = X_TITLED + 30  # for its titled axis of months: "Mar 2025" is turned on a phone too
# and for its legend's rows below it: one on a laptop, three on a phone (where the plot between the two axes is
# too narrow for two entries), each entry a few words; the legend hangs from the top of that band
TREND_LEGEND = 92
TREND_HEIGHT = 340
COMPARED = "compared"  # the legend group of the lines behind
# The KPI cards' columns: one a row on a phone; two from 768 px (the last across the row); from 992 px the three
# about use, then cost and active share; all five in a row from 1,400 px (narrower, a long cost would not fit).
USE, MONEY = {"md": 6, "lg": 4, "xxl": True}, {"md": 6, "lg": 6, "xxl": True}
CARD_WIDTHS = {"interactions": USE, "active-users": USE, "stickiness": USE, "cost": MONEY,
               "adoption": {**MONEY, "md": 12}}  # fmt: skip


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


# What each card counts; the Users tab's "Adopted" is another number and says so (docs/schema.md).
DEFINITIONS = {
    "interactions": "Requests to the agents in the period and your scope (the teams and agents filtered), errors "
    "included.",
    "active-users": "People with at least one interaction in the period and scope.",
    "stickiness": f"{adoption.DEFINITIONS['stickiness']} Daily: the people active on a day; monthly: those active in "
    "the 28 days ending on it; each averaged over the period's days up to today, in the scope (as on the Adoption "
    "tab). A dash when nobody was active in the period. Its change is in percentage points (pp).",
    "cost": "What the period's interactions in the scope cost, in US dollars.",
    "adoption": "Active users out of the people with access: anyone active in the scope in the period, and "
    "the directory's people of its teams who had access by the period's end and are still with the company. "
    "Not the Users tab's “Adopted”, which also counts people who used an agent before the period but not in "
    "it. Its change is in percentage points (pp).",
}


def compared_text(compared: Comparison, first_day: dt.date | None) -> tuple[str | None, str]:
    """What the cards' change lines say: why there is no change to show (None: there is one), then what
    is compared with what."""
    if compared.current is None:
        return "no complete day yet", "to compare (today is partial)" if compared.partial else ""
    previous = compared.previous
    no_data = no_data_before(previous.start, first_day)
    if no_data:
        return no_data, f"to compare with {format_dates(previous)}"
    if compared.partial:
        return None, f"up to yesterday vs {format_dates(previous)} (today is partial)"
    return None, f"vs {format_dates(previous)}"


def basis_text(compared: Comparison) -> str:
    """The sentence each definition ends with: what its change compares."""
    days = " up to yesterday (today is still filling)" if compared.partial else ""
    return f" The change compares the period's days{days} with the {compared.shift.text}."


def stickiness_change(current: dict | None, previous: dict | None) -> tuple[str, str]:
    """The change of stickiness in percentage points; words when either side had nobody active."""
    if current is None:
        return "nobody active", "text-muted"
    if previous is None:
        return "new", "text-muted"  # as a count's change from nothing (reports/formats.py)
    return format_point_change(current["stickiness"], previous["stickiness"])


def stickiness_card_text(sticky: dict | None) -> tuple[str, str]:
    """The card's value and the averages it divides, or a dash and why."""
    if sticky is None:
        return "—", "Nobody active in the period"
    averages = f"Daily {sticky['dau']:,.1f} / monthly {sticky['mau']:,.1f} active people, on average"
    return format_percent(sticky["stickiness"]), averages


def update_kpis(query: dict | None, today: dt.date | None = None) -> tuple:
    """Interactions, active users, stickiness, cost and active share, each against the same days earlier (like for
    like)."""
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return message(str(error), "danger"), None
    period = filters.period
    compared_day = today or today_local(period.tz)
    compared = comparison(period, compared_day)
    now = usage.summary(filters).row(0, named=True)
    adopted_now = usage.adoption(filters).row(0, named=True)
    share_now = _ratio(adopted_now["active_users"], adopted_now["users_with_access"])
    first_day = usage.data_bounds(filters.scope, period.tz)["first_day"][0]
    reason, against = compared_text(compared, first_day)
    # the Adoption tab's stickiness (docs/metrics.md) of the period, and of the days compared if there are any
    compared_periods = [compared.current, compared.previous] if reason is None else []
    sticky_now, *sticky_compared = adoption.stickiness_over(filters, [period, *compared_periods], compared_day)
    if reason is None:
        current, previous = filters.for_period(compared.current), filters.for_period(compared.previous)
        so_far, adopted_so_far = (now, adopted_now) if current == filters else (
            usage.summary(current).row(0, named=True), usage.adoption(current).row(0, named=True))  # fmt: skip
        before = usage.summary(previous).row(0, named=True)
        adopted_before = usage.adoption(previous).row(0, named=True)
        share_so_far = _ratio(adopted_so_far["active_users"], adopted_so_far["users_with_access"])
        share_before = _ratio(adopted_before["active_users"], adopted_before["users_with_access"])
        changes = {
            "interactions": format_change(so_far["interactions"], before["interactions"]),
            "active-users": format_change(so_far["active_users"], before["active_users"]),
            "stickiness": stickiness_change(*sticky_compared),
            "cost": format_change(so_far["cost_usd"], before["cost_usd"], up_is_good=False),
            "adoption": format_point_change(share_so_far, share_before),
        }
    else:
        changes = dict.fromkeys(DEFINITIONS, (reason, "text-muted"))
    basis = basis_text(compared)

    def card(key: str, title: str, value: str, note: str | None = None) -> dbc.Col:
        shown = kpi_card(title, value, changes[key], f"dashboard-kpi-{key}", note, against, DEFINITIONS[key] + basis)
        return dbc.Col(shown, **CARD_WIDTHS[key])

    cards = [
        card("interactions", "Total interactions", format_count(now["interactions"])),
        card("active-users", "Active users", format_count(now["active_users"])),
        card("stickiness", "Stickiness", *stickiness_card_text(sticky_now)),
        card("cost", "Cost (USD)", format_usd(now["cost_usd"]), org_budget_line(filters.scope, compared_day)),
        card("adoption", "Active share", format_percent(share_now),
             f"{adopted_now['active_users']:,} of {adopted_now['users_with_access']:,} people with access"),
    ]  # fmt: skip
    row = dbc.Row(cards, className="g-3")
    note = None if now["interactions"] else message(empty_period(filters), "info")
    return note, row


def _so_far_traces(x: list, y: list, index: int, name: str, axis: str, colour: str, grain: str) -> list[dict]:
    """The unfinished bucket's point: a dotted segment to it and an open marker that says "so far"."""
    segment = slice(max(index - 1, 0), index + 1)
    line = {"type": "scatter", "x": x[segment], "y": y[segment], "yaxis": axis, "mode": "lines", "name": name,
            "legendgroup": name, "showlegend": False, "hoverinfo": "skip",
            "line": {"width": 2.5, "dash": "dot", "color": colour}}  # fmt: skip
    point = {"type": "scatter", "x": [x[index]], "y": [y[index]], "yaxis": axis, "mode": "markers",
             "name": f"{name} ({UNFINISHED[grain]})", "legendgroup": name, "showlegend": False,
             "marker": {"size": 9, "symbol": "circle-open", "color": colour, "line": {"width": 2}},
             "hovertemplate": "%{y:,} " + UNFINISHED[grain] + "<extra>" + name + "</extra>"}  # fmt: skip
    return [line, point]


def _compared_entry(shift: str) -> dict:
    """The legend's one entry for both lines behind: what they are ("same weekdays a week earlier"), short enough
    that the legend keeps to its band on a phone; their dates are in their hover."""
    return {"type": "scatter", "x": [None], "y": [None], "mode": "lines", "name": shift[:1].upper() + shift[1:],
            "legendgroup": COMPARED, "hoverinfo": "skip",
            "line": {"width": 1.5, "dash": "dot", "color": MUTED}}  # fmt: skip


def comparison_gap(filters: Filters, before: Period) -> dt.date | None:
    """The first day of data when the comparison period starts before it: its buckets ending by then have nothing
    to compare (no line on the chart, no number in its CSV)."""
    first_day = usage.data_bounds(filters.scope, filters.period.tz)["first_day"][0]
    return first_day if first_day is not None and before.start < first_day else None


def before_data(key: dt.date | None, grain: str, gap: dt.date | None) -> bool:
    """Whether a comparison bucket ends before the data start (`gap`, from `comparison_gap`)."""
    return gap is not None and key is not None and bucket_end(key, grain) <= gap


def trend_figure(
    current: pl.DataFrame,
    previous: pl.DataFrame,
    grain: str,
    compared: str = "previous period",
    first_day: dt.date | None = None,
    unfinished: int | None = None,
    shift: str | None = None,
) -> Figure:
    """Interactions and active users per bucket, with the comparison period (`compared` says which, `shift`
    in the legend) faint behind them, bucket for bucket; when it starts before the first data (`first_day`),
    its buckets before that are left out, and the bucket still filling (`unfinished`) is drawn dotted and
    labelled."""
    traces = []
    x = current["key"].to_list()
    prev_keys = previous["key"].to_list()[: len(x)]
    prev_dates = [format_day(d) for d in prev_keys]
    missing = first_day is not None and bool(prev_keys)
    label = f"{compared}, no data before {format_day(first_day)}" if missing else compared
    for column, name, axis, colour in (("interactions", "Interactions", "y", AGENT_COLOUR),
                                       ("active_users", "Active users", "y2", USERS_COLOUR)):  # fmt: skip
        before = previous[column].to_list()[: len(x)]
        if missing:  # before the first data there is nothing to compare with: no line, not a line at zero
            before = [None if before_data(k, grain, first_day) else v for k, v in zip(prev_keys, before, strict=True)]
        traces.append({
            "type": "scatter", "x": x[: len(prev_dates)], "y": before,
            "name": f"{name} ({label})", "yaxis": axis, "mode": "lines", "legendgroup": COMPARED,
            "showlegend": False, "line": {"width": 1.5, "dash": "dot", "color": colour}, "opacity": 0.35,
            "customdata": prev_dates,
            "hovertemplate": "%{y:,} on %{customdata}<extra>" + name + " (" + label + ")</extra>",
        })  # fmt: skip
        y = current[column].to_list()
        shown = y if unfinished is None else [None if i == unfinished else v for i, v in enumerate(y)]
        traces.append({
            "type": "scatter", "x": x, "y": shown, "name": name, "yaxis": axis, "legendgroup": name,
            "mode": "lines+markers", "line": {"width": 2.5, "color": colour}, "marker": {"size": 4},
            "hovertemplate": "%{y:,}<extra>" + name + "</extra>",
        })  # fmt: skip
        if unfinished is not None:
            traces.extend(_so_far_traces(x, y, unfinished, name, axis, colour, grain))
    traces.append(_compared_entry(shift or compared))
    x_title = {"week": "Week starting", "month": "Month"}.get(grain)
    xaxis = date_axis(grain) if x_title is None else {"title": title(x_title), **date_axis(grain)}
    notes = [] if unfinished is None else [unfinished_note(x[unfinished], current["interactions"][unfinished], grain)]
    interactions = max(current["interactions"].max(), previous["interactions"].max())
    users = max(current["active_users"].max(), previous["active_users"].max())
    # Margins that fit the axes and a legend of up to three rows (it wraps by the card's width), the legend at the
    # figure's foot: Plotly then has nothing to grow and draws the chart once (callbacks/_figures.py says why).
    margin = {"l": count_margin(interactions), "r": count_margin(users),
              "b": {"day": TREND_X_TICKS, "week": X_TITLED}.get(grain, TREND_X_MONTHS) + TREND_LEGEND}  # fmt: skip
    return figure(
        traces,
        TREND_HEIGHT,
        xaxis=xaxis,
        yaxis=count_axis(interactions, "Interactions"),
        yaxis2={
            **count_axis(users, "Active users"),
            "overlaying": "y", "side": "right", "showgrid": False, "tickmode": "auto",
        },
        legend={"orientation": "h", "yref": "container", "y": TREND_LEGEND / TREND_HEIGHT, "yanchor": "top"},
        margin=margin,
        **({"annotations": notes} if notes else {}),
    )  # fmt: skip


def update_trend(query: dict | None, today: dt.date | None = None) -> Figure:
    try:
        filters = page_filters(query)  # the grain that fits the period: this tab has no grain control
    except PeriodError as error:
        return message_figure(str(error))
    current = usage.interactions_over_time(filters)
    if current["interactions"].sum() == 0:
        return message_figure(NO_INTERACTIONS)
    period, before = filters.period, filters.period.previous()
    previous = usage.interactions_over_time(filters.for_period(before))
    gap = comparison_gap(filters, before)
    unfinished = unfinished_bucket(current["key"].to_list(), filters.grain, period, today or today_local(period.tz))
    shift = period.comparison_shift().text
    return trend_figure(current, previous, filters.grain, f"{format_dates(before)}: {shift}", gap, unfinished, shift)


def cost_figure(frame: pl.DataFrame, grain: str, unfinished: int | None = None) -> Figure:
    bars = {
        "type": "bar",
        "x": frame["key"].to_list(),
        "y": [float(v) for v in frame["cost_usd"]],
        "customdata": [
            format_usd(v) + (f" ({UNFINISHED[grain]})" if i == unfinished else "")
            for i, v in enumerate(frame["cost_usd"])
        ],
        "hovertemplate": "%{x}: %{customdata}<extra></extra>",
        "marker": {"color": COST_COLOUR},
    }
    notes = [] if unfinished is None else [unfinished_note(bars["x"][unfinished], bars["y"][unfinished], grain)]
    largest = float(frame["cost_usd"].max())
    return figure([hatched(bars, unfinished)], 220, xaxis=date_axis(grain), yaxis=money_axis(largest),
                  showlegend=False, margin={"t": 8, "l": money_margin(largest)},
                  **({"annotations": notes} if notes else {}))  # fmt: skip


def update_cost(query: dict | None, today: dt.date | None = None) -> tuple:
    """Total cost of the period and a small bar chart of cost per day (or week/month)."""
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return "—", message_figure(str(error), 220)
    frame = usage.interactions_over_time(filters)
    total = frame["cost_usd"].sum()
    if frame["interactions"].sum() == 0:
        return format_usd(total), message_figure(NO_INTERACTIONS, 220)
    period = filters.period
    unfinished = unfinished_bucket(frame["key"].to_list(), filters.grain, period, today or today_local(period.tz))
    return format_usd(total), cost_figure(frame, filters.grain, unfinished)


def top_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The keys a top chart draws (and its CSV holds): the five with the most interactions."""
    return frame.head(TOP)


def top_title(things: str, count: int) -> str:
    """A top-5 card's title: "Top 5" only when there are more than five (a manager of two teams: "(2)")."""
    return f"Top {TOP} {things} by interactions" if count > TOP else f"{things.capitalize()} by interactions ({count})"


def top_figure(frame: pl.DataFrame, colour: str) -> Figure:
    """The five keys with the most interactions, largest on top; customdata[0] is the key a click filters to."""
    top = top_rows(frame).reverse()
    bars = {
        "type": "bar",
        "x": top["interactions"].to_list(),
        "y": top["label"].to_list(),
        "orientation": "h",
        "text": [format_count(v) for v in top["interactions"]],
        "textposition": "auto",
        "customdata": [[k, u, format_usd(c)] for k, u, c in zip(top["key"], top["active_users"], top["cost_usd"],
                                                                 strict=True)],
        "hovertemplate": "%{y}: %{x:,} interactions, %{customdata[1]:,} users, %{customdata[2]}<extra></extra>",
        "marker": {"color": colour},
    }  # fmt: skip
    # Room for five bars, so two are not two slabs (as on the Analytics tab).
    slots = {"range": [top.height - 0.5 - max(top.height, TOP), top.height - 0.5]}
    xaxis = {"title": title("Interactions"), **count_ticks(top["interactions"].max())}
    return figure([bars], TOP_HEIGHT, hovermode="closest", showlegend=False, xaxis=xaxis, yaxis=slots,
                  margin={"l": 160, "t": 8, "b": X_COUNTS_TITLED})  # fmt: skip


def _top(by: str, query: dict | None) -> tuple[Figure, str]:
    things = f"{by}s"
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return message_figure(str(error), TOP_HEIGHT), top_title(things, TOP + 1)
    frame = usage.interactions_by_key(filters, by)
    if frame.is_empty():
        return message_figure(NO_INTERACTIONS, TOP_HEIGHT), top_title(things, TOP + 1)
    return top_figure(frame, AGENT_COLOUR if by == "agent" else TEAM_COLOUR), top_title(things, frame.height)


def update_top_agents(query: dict | None) -> tuple[Figure, str]:
    return _top("agent", query)


def update_top_teams(query: dict | None) -> tuple[Figure, str]:
    return _top("team", query)


update_kpis.also_depends_on = store_version  # the cost card's organization budget line


def register_callbacks(app: dash.Dash) -> None:
    register_tab(app, Input(ids.DASHBOARD_QUERY, "data"), [
        ((Output(ids.DASHBOARD_MESSAGE, "children"), Output(ids.DASHBOARD_KPIS, "children")), update_kpis),
        ((Output(ids.DASHBOARD_TREND, "figure"),), update_trend),
        ((Output(ids.DASHBOARD_COST_TOTAL, "children"), Output(ids.DASHBOARD_COST_DAILY, "figure")), update_cost),
        ((Output(ids.in_view_store(ids.chart_place(ids.DASHBOARD_TOP_AGENTS)), "data"),
          Output(ids.DASHBOARD_TOP_AGENTS_TITLE, "children")),
         in_view_chart(update_top_agents, ids.DASHBOARD_TOP_AGENTS, TOP_HEIGHT, at=0)),
        ((Output(ids.in_view_store(ids.chart_place(ids.DASHBOARD_TOP_TEAMS)), "data"),
          Output(ids.DASHBOARD_TOP_TEAMS_TITLE, "children")),
         in_view_chart(update_top_teams, ids.DASHBOARD_TOP_TEAMS, TOP_HEIGHT, at=0)),
    ])  # fmt: skip
    register_charts_in_view(app, ids.DASHBOARD_TOP_AGENTS, ids.DASHBOARD_TOP_TEAMS)
    # A click on a bar (or its label or value: assets/charts.js) filters to it, as on the Analytics tab;
    # into a store of this page, as there, so that drawing the page sends no request for them.
    keep_in_url(app, ids.DASHBOARD_NEW_SEARCH, [
        (update_search_from_agent_click, Input(ids.DASHBOARD_TOP_AGENTS, "clickData")),
        (update_search_from_team_click, Input(ids.DASHBOARD_TOP_TEAMS, "clickData")),
    ])  # fmt: skip
