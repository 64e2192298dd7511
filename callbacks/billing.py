"""Billing tab: the URL's filters and the billing cycle in; totals, projection, comparison and cost breakdowns out.

Without start/end in the URL this tab shows the current billing period (its default, instead of the
filter bar's "Last 30 days"; `callbacks/billing_period.py`, with the tab's period selector). Every
callback takes an optional `today` for tests.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, html

from callbacks._common import empty_period, in_view_chart, register_charts_in_view, register_in_view
from callbacks._figures import (
    AGENT_COLOUR,
    COST_COLOUR,
    MODEL_COLOUR,
    MUTED,
    OTHER_COLOUR,
    TEAM_COLOUR,
    UNFINISHED,
    Figure,
    figure,
    hatched,
    message_figure,
    money_axis,
    money_margin,
    unfinished_bucket,
    unfinished_note,
)
from callbacks._tab import register_tab
from callbacks.billing_period import (
    anchor_day,
    billing_filters,
    current_period,
    register_period_choice,
    today_or_local,
    update_period_control,
)
from callbacks.budgets import update_budgets
from layouts import ids
from layouts._components import (
    DAY_HOVER,
    DAY_TICK,
    format_change,
    format_count,
    format_day,
    format_usd,
    info_tip,
    message,
    no_data_before,
)
from layouts.billing import BREAKDOWN_HEIGHT, table
from queries import billing, usage
from queries.billing_periods import (
    is_billing_period,
    period_label,
    previous_billing_period,
)
from queries.money import to_cents
from queries.period import Period, PeriodError
from queries.scope import Scope

NO_COST = "No cost in this period"
MAX_BARS = 15  # bars per chart; past that, the smallest are summed into one "Other" bar
HEIGHT = 340  # chart heights, as in layouts/billing.py
BAR_RIGHT = 24  # a breakdown chart's right margin: half its widest short dollar label ("$1.5M"), measured
TICK_STANDOFF_ROOM = 10  # the daily chart's dollar labels stand 6 px off their axis: the room that takes (measured)
COLOURS = {"team": TEAM_COLOUR, "agent": AGENT_COLOUR, "model": MODEL_COLOUR}
PROJECTED_INFO = "billing-projected-info"


def total_label(scope: Scope) -> str:
    if scope.is_organization:
        return "Organization total"
    if scope.team_ids is None:
        return "Total for the selected agents"
    return "Total for selected teams" if scope.label == "Selected teams" else "Total for your teams"


# --- Money at the edge ---------------------------------------------------------------------------


def format_signed_usd(amount: Decimal) -> str:
    """`+$1,234.56`, `−$0.05` (a real minus sign), `$0.00`."""
    cents = to_cents(amount)
    if cents == 0:
        return "$0.00"
    return f"{'+' if cents > 0 else '−'}{format_usd(abs(cents))}"


def cost_change(current: Decimal, previous: Decimal) -> tuple[str, str]:
    """Percent change of the displayed (cent) amounts; for costs, up is red and down is green."""
    return format_change(to_cents(current), to_cents(previous), up_is_good=False)


def format_share(share: float | None) -> str:
    if not share:
        return "0.0%"
    return "<0.1%" if share < 0.0005 else f"{share * 100:.1f}%"


# --- Cards: total, projection (or daily average), previous period, change ------------------------


def _card(title, value: str, lines: list, card_id: str) -> dbc.Card:
    body = [
        html.Div(title, className="text-muted small text-uppercase"),
        html.Div(value, className="fs-3 fw-semibold", id=f"{card_id}-value"),
        *[html.Div(line, className="small") for line in lines],
    ]
    return dbc.Card(dbc.CardBody(body), id=card_id, className="h-100")


def _defined(title: str, value: str, lines: list, card_id: str, definition: str) -> list:
    """A card whose title has its definition behind an "i" (hover or keyboard focus)."""
    return [_card(html.Span([title, info_tip(f"{card_id}-info", title, definition)]), value, lines, card_id)]


def _projection_card(projection: billing.Projection) -> list:
    rate = projection.rate_period
    method = (
        f"Projected = cost to date ({format_usd(projection.to_date)}, {projection.elapsed_days} days including "
        f"today so far) + the mean daily cost of the last {rate.days} complete days "
        f"({period_label(rate)}: {format_usd(projection.rate_total)} ÷ {rate.days} = "
        f"{format_usd(projection.run_rate)}/day) for the rest of today (a full day at that rate, less what "
        f"today has cost so far) and the {projection.remaining_days} days left after today. "
        "Days without use count as $0. An estimate, not an invoice."
    )
    title = html.Span(["Projected ", info_tip(PROJECTED_INFO, "the projection", method, "How the projection is made")])
    card = _card(
        title,
        format_usd(projection.projected),
        [
            f"by {format_day(projection.period.end)}",
            html.Span(f"at {format_usd(projection.run_rate)}/day, the last {rate.days} days' average",
                      className="text-muted"),
        ],
        "billing-kpi-projected",
    )  # fmt: skip
    return [card]


def _amount(text: str, element_id: str | None = None, colour: str = "") -> html.Span:
    """An amount or percent that never breaks over two lines."""
    extra = {"id": element_id} if element_id else {}
    return html.Span(text, className=f"text-nowrap {colour}".strip(), **extra)


def _change_line(current: Decimal, previous: Decimal, card_id: str, no_data: str | None = None) -> list:
    text, colour = cost_change(current, previous) if no_data is None else (no_data, "text-muted")
    delta = format_signed_usd(to_cents(current) - to_cents(previous))
    return [_amount(delta, f"{card_id}-delta"), " ", _amount(text, f"{card_id}-percent", colour)]


def update_summary(query: dict | None, today: dt.date | None = None) -> tuple:
    """The period's total, the projection (current period) or daily average, and the previous period."""
    today = today_or_local(today)
    try:
        filters = billing_filters(query, today)
    except PeriodError as error:
        return message(str(error), "danger"), None
    period, anchor, scope = filters.period, anchor_day(), filters.scope
    is_current = period == current_period(today)
    if is_billing_period(period, anchor):
        previous, previous_title = previous_billing_period(period, anchor), "Previous billing period"
    else:
        previous, previous_title = period.previous(), f"Previous: {period.comparison_shift().text}"
    total = billing.total_cost(filters)
    previous_total = billing.total_cost(filters.for_period(previous))
    first_day = usage.data_bounds(scope, period.tz)["first_day"][0]
    # a previous period that starts before the first data would show a large rise from nothing
    no_data = no_data_before(previous.start, first_day)

    if is_current:
        projection = billing.projection(filters, today)
        total_lines = [
            period_label(period),
            html.Span(f"Month to date: day {projection.elapsed_days} of {period.days}", className="text-muted"),
        ]
        second = _projection_card(projection)
        compared, compared_label = projection.projected, "Projected vs previous"
        same_days = Period(previous.start, min(previous.end, previous.start + (today - period.start)), period.tz)
        so_far = html.Span([
            html.Span("So far: ", className="text-muted"),
            *_change_line(total, billing.total_cost(filters.for_period(same_days)), "billing-kpi-so-far", no_data),
            html.Span(f" vs the first {same_days.days} days of the previous period", className="text-muted"),
        ])  # fmt: skip
    else:
        status = "Closed billing period" if is_billing_period(period, anchor) else "Custom dates"
        if period.start > today:
            status = "Not started yet"
        elif period.end >= today:
            status = "Includes today: still growing"
        total_lines = [period_label(period), html.Span(status, className="text-muted")]
        average = "The period's total divided by its days, days without use included."
        second = _defined("Average per day", format_usd(total / period.days), [f"over {period.days} days"],
                          "billing-kpi-average", average)  # fmt: skip
        compared, compared_label, so_far = total, "Change vs previous", None
    text, colour = cost_change(compared, previous_total) if no_data is None else (no_data, "text-muted")
    change_lines = [html.Span([
        _amount(text, "billing-kpi-change-percent", colour),
        html.Span(" · ", className="text-muted"),
        _amount(format_usd(compared), colour="text-muted"), html.Span(" vs ", className="text-muted"),
        _amount(format_usd(previous_total), colour="text-muted"),
    ])]  # fmt: skip
    if so_far is not None:
        change_lines.append(so_far)
    if is_billing_period(period, anchor):
        previous_definition = "What the whole billing period before this one cost."
    else:  # the one rule of every comparison (docs/architecture.md, "Comparisons")
        previous_definition = f"What the same days earlier cost: the {period.comparison_shift().text}."
    change_definition = (
        "The projection minus the previous billing period's cost, and as a share of it. “So far” compares the "
        "cost to date with the same first days of the previous period."
        if is_current else "This period's cost minus the previous period's, and as a share of it."
    )  # fmt: skip
    cards = [
        _defined(total_label(scope), format_usd(total), total_lines, "billing-kpi-total",
                 "What the period's interactions in the scope cost, in US dollars; the teams, agents, models and "
                 "days below add up to it to the cent."),
        second,
        _defined(previous_title, format_usd(previous_total), [period_label(previous)], "billing-kpi-previous",
                 previous_definition),
        _defined(compared_label, format_signed_usd(to_cents(compared) - to_cents(previous_total)), change_lines,
                 "billing-kpi-change", change_definition),
    ]  # fmt: skip
    row = dbc.Row([dbc.Col(card, md=6, xl=3) for card in cards], className="g-3")
    note = None if total else message(empty_period(filters, f"{NO_COST} ({period_label(period)})."), "info")
    return note, row


# --- Cost per day --------------------------------------------------------------------------------


def daily_figure(frame: pl.DataFrame, projection: billing.Projection | None, unfinished: int | None = None) -> Figure:
    """Cost per day, the projection's days to come dashed, and today's bar (position `unfinished`:
    still filling) hatched and labelled."""
    cents = frame["cost_cents"].to_list()
    hover = f"%{{x|{DAY_HOVER}}}: %{{customdata}}<extra></extra>"
    so_far = None if unfinished is None else hover.replace("<extra>", f" ({UNFINISHED['day']})<extra>")
    traces = [hatched({
        "type": "bar",
        "x": frame["key"].to_list(),
        "y": [float(c) for c in cents],
        "customdata": [format_usd(c) for c in cents],
        "hovertemplate": [so_far if i == unfinished else hover for i in range(len(cents))] if so_far else hover,
        "marker": {"color": COST_COLOUR},
        "name": "Cost",
    }, unfinished)]  # fmt: skip
    top = max(float(max(cents)), 0.0)
    projected = projection is not None and projection.remaining_days > 0
    if projected:
        days = [projection.today + dt.timedelta(days=i) for i in range(1, projection.remaining_days + 1)]
        rate = float(to_cents(projection.run_rate))
        traces.append({
            "type": "scatter", "x": days, "y": [rate] * len(days), "mode": "lines",
            "line": {"dash": "dash", "color": MUTED, "width": 2},
            "name": f"Projected at {format_usd(projection.run_rate)}/day",
            "hovertemplate": f"%{{x|{DAY_HOVER}}}: projected {format_usd(projection.run_rate)}<extra></extra>",
        })  # fmt: skip
        top = max(top, rate)
    start, end = frame["key"][0], frame["key"][-1]
    notes = [] if unfinished is None else [unfinished_note(traces[0]["x"][unfinished], float(cents[unfinished]), "day")]
    return figure(
        traces,
        HEIGHT,
        yaxis={**money_axis(top), "ticklabelstandoff": 6},
        xaxis={"range": [start - dt.timedelta(hours=12), end + dt.timedelta(hours=12)], "tickformat": DAY_TICK},
        hovermode="closest",
        showlegend=projected,
        legend={"orientation": "h", "y": 1.02, "x": 0, "xanchor": "left", "yanchor": "bottom"},
        margin={"t": 40, "l": money_margin(top) + TICK_STANDOFF_ROOM},  # that fits: drawn once (_figures.py)
        bargap=0.15,
        **({"annotations": notes} if notes else {}),
    )


def update_daily(query: dict | None, today: dt.date | None = None) -> Figure:
    today = today_or_local(today)
    try:
        filters = billing_filters(query, today)
    except PeriodError as error:
        return message_figure(str(error), HEIGHT)
    frame = billing.cost_by_day(filters)
    if frame["interactions"].sum() == 0:
        return message_figure(NO_COST, HEIGHT)
    projection = billing.projection(filters, today) if filters.period == current_period(today) else None
    return daily_figure(frame, projection, unfinished_bucket(frame["key"].to_list(), "day", filters.period, today))


# --- Cost per team, agent and model: bar charts and tables ---------------------------------------


def grid_rows(frame: pl.DataFrame) -> list[dict]:
    """Rows for a table: numbers to sort on and the server's text (allocated cents) to show."""
    return [
        {
            "key": row["key"],
            "label": row["label"],
            "cost": float(row["cost_cents"]),
            "cost_text": format_usd(row["cost_cents"]),
            "share": row["share"] or 0.0,
            "share_text": format_share(row["share"]),
            "interactions": row["interactions"],
            "interactions_text": format_count(row["interactions"]),
        }
        for row in frame.iter_rows(named=True)
    ]


def total_row(frame: pl.DataFrame) -> dict:
    """The table's total row: the sum of the rows' cents, which is the rounded total."""
    cents = sum(frame["cost_cents"].to_list(), Decimal(0))
    interactions = int(frame["interactions"].sum())
    return {
        "key": "__total__", "label": "Total", "cost": float(cents), "cost_text": format_usd(cents),
        "share": 1.0, "share_text": "100.0%", "interactions": interactions,
        "interactions_text": format_count(interactions),
    }  # fmt: skip


def bars_shown(frame: pl.DataFrame, top: int = MAX_BARS) -> tuple[list[str], list[Decimal], list[float]]:
    """Labels, cents and shares of the bars: past `top` keys, the rest as one "Other (n)" bar (the CSV's rows too)."""
    labels, cents = frame["label"].to_list(), frame["cost_cents"].to_list()
    shares = [s or 0.0 for s in frame["share"].to_list()]
    if len(labels) > top:
        rest = len(labels) - (top - 1)
        labels = labels[: top - 1] + [f"Other ({rest})"]
        cents = cents[: top - 1] + [sum(cents[top - 1 :], Decimal(0))]
        shares = shares[: top - 1] + [sum(shares[top - 1 :])]
    return labels, cents, shares


def bar_axis(largest: float) -> dict:
    """The dollar axis under a breakdown's bars, in a third- or five-twelfths-wide card: a few short labels ("$1.2M",
    not "$1,234,567"; each bar says its exact amount) that need no turning. Turned labels grew the bottom margin,
    and Plotly drew the chart a second time to make room (callbacks/_figures.py, "Margins that already fit")."""
    axis = {**money_axis(largest), "nticks": 4}
    return {**axis, "tickformat": "$~s"} if largest >= 1000 else axis


def bar_figure(frame: pl.DataFrame, colour: str, height: int = HEIGHT, top: int = MAX_BARS) -> Figure:
    """Cost per key, most expensive on top; past `top` keys, the rest as one "Other" bar."""
    labels, cents, shares = bars_shown(frame, top)
    colours = [colour] * len(labels) if frame.height <= top else [colour] * (top - 1) + [OTHER_COLOUR]
    text = [f"{format_usd(c)} · {format_share(s)}" for c, s in zip(cents, shares, strict=True)]
    bars = {
        "type": "bar",
        "x": [float(c) for c in cents][::-1],
        "y": labels[::-1],
        "orientation": "h",
        "text": text[::-1],
        "textposition": "auto",
        "insidetextanchor": "end",
        "cliponaxis": False,
        "hovertemplate": "%{y}: %{text}<extra></extra>",
        "marker": {"color": colours[::-1]},
    }
    longest = max(len(label) for label in labels)
    return figure(
        [bars],
        height,
        hovermode="closest",
        showlegend=False,
        # on the right, half the last tick label, which may stand at the axis' end
        margin={"l": min(220, 24 + 7 * longest), "r": BAR_RIGHT, "t": 32, "b": 40},
        xaxis=bar_axis(float(max(cents))),
        yaxis={"automargin": True},
        uniformtext={"minsize": 10, "mode": "hide"},
        bargap=max(0.2, 1 - len(labels) / 8),  # a few bars stay slim instead of filling the chart
    )


def _breakdown(by: str, query: dict | None, today: dt.date | None) -> tuple[Figure, list[dict], dict | None]:
    """The chart, the table's rows and its total row (None without rows)."""
    height = HEIGHT if by == "model" else BREAKDOWN_HEIGHT
    today = today_or_local(today)
    try:
        filters = billing_filters(query, today)
    except PeriodError as error:
        return message_figure(str(error), height), [], None
    frame = billing.cost_by_key(filters, by)
    if frame.is_empty():
        return message_figure(NO_COST, height), [], None
    return bar_figure(frame, COLOURS[by], height), grid_rows(frame), total_row(frame)


def update_teams(query: dict | None, today: dt.date | None = None) -> tuple[Figure, html.Div]:
    figure, rows, total = _breakdown("team", query, today)
    return figure, table(ids.BILLING_TEAM_GRID, "Team", rows, total, f"{NO_COST}.")


def update_agents(query: dict | None, today: dt.date | None = None) -> tuple[Figure, html.Div]:
    figure, rows, total = _breakdown("agent", query, today)
    return figure, table(ids.BILLING_AGENT_GRID, "Agent", rows, total, f"{NO_COST}.")


def update_models(query: dict | None, today: dt.date | None = None) -> Figure:
    return _breakdown("model", query, today)[0]


def register_callbacks(app: dash.Dash) -> None:
    register_tab(app, Input(ids.BILLING_QUERY, "data"), [
        ((Output(ids.BILLING_PERIOD, "options"), Output(ids.BILLING_PERIOD, "value"),
          Output(ids.BILLING_PERIOD_NOTE, "children"), Output(ids.BILLING_PERIOD_SHOWN, "data")),
         update_period_control),
        ((Output(ids.BILLING_MESSAGE, "children"), Output(ids.BILLING_KPIS, "children")), update_summary),
        ((Output(ids.BILLING_DAILY, "figure"),), update_daily),
        ((Output(ids.BILLING_MODEL_CHART, "figure"),), update_models),
        ((Output(ids.in_view_store(ids.chart_place(ids.BILLING_TEAM_CHART)), "data"),
          Output(ids.in_view_store(ids.BILLING_TEAM_TABLE), "data")),
         in_view_chart(update_teams, ids.BILLING_TEAM_CHART, BREAKDOWN_HEIGHT, at=0)),
        ((Output(ids.in_view_store(ids.chart_place(ids.BILLING_AGENT_CHART)), "data"),
          Output(ids.in_view_store(ids.BILLING_AGENT_TABLE), "data")),
         in_view_chart(update_agents, ids.BILLING_AGENT_CHART, BREAKDOWN_HEIGHT, at=0)),
        ((Output(ids.BILLING_BUDGETS, "children"), Output(ids.BILLING_BUDGET_FORM, "style"),
          Output(ids.BILLING_BUDGET_SCOPE, "options"), Output(ids.BILLING_RECIPIENT_SCOPE, "options"),
          Output(ids.BILLING_RECIPIENT_SCOPE, "value")), update_budgets),
    ])  # fmt: skip
    register_period_choice(app)
    for place_id in (ids.BILLING_TEAM_TABLE, ids.BILLING_AGENT_TABLE):
        register_in_view(app, place_id)
    register_charts_in_view(app, ids.BILLING_TEAM_CHART, ids.BILLING_AGENT_CHART)
