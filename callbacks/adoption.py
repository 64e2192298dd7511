"""The Adoption tab: the URL's filters in, one question of queries/adoption.py per part out."""

from __future__ import annotations

import dash
import polars as pl
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update
from flask import current_app

from auth.session import audit
from callbacks import grid_rows
from callbacks._common import in_view_chart, org_timezone, page_filters, register_charts_in_view, register_in_view
from callbacks._figures import (
    AGENT_COLOUR,
    BLUES,
    GREEN,
    LEGEND_BELOW,
    MUTED,
    USERS_COLOUR,
    X_TITLED,
    Figure,
    count_axis,
    count_margin,
    date_axis,
    figure,
    label_margin,
    message_figure,
    title,
)
from callbacks._memo import memoised
from callbacks._tab import register_tab
from callbacks._url import keep_in_url
from layouts import ids
from layouts._adoption import league_table, models_table, reclaim_days
from layouts._components import DAY, format_change, format_count, format_day, format_percent, format_usd
from queries import adoption
from queries.filters import search_with
from queries.period import PeriodError, today_local
from reports.safe import spreadsheet_safe

STAGES = {"with_access": "With access", "tried": "Tried", "active": "Active", "habitual": "Habitual", "power": "Power"}
HEIGHT = 260
COLOUR_BAR = 112  # right margin for a colour bar of shares with its title, at a half-width card
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
                  yaxis={"autorange": "reversed", "type": "category"},
                  margin={"l": label_margin(list(STAGES.values())), "b": X_TITLED})  # fmt: skip


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
    largest = curves["mau"].max()
    return figure(lines, HEIGHT, xaxis=date_axis(), yaxis=count_axis(largest, "Active people"),
                  margin={"l": count_margin(largest), "b": LEGEND_BELOW})  # fmt: skip


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
                  "type": "category"}, yaxis={"autorange": "reversed", "type": "category"},
                  margin={"l": label_margin(labels), "r": COLOUR_BAR, "b": X_TITLED})  # fmt: skip


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
    """The teams' rows as the table shows them: values to sort, and their texts beside them."""
    rows = []
    for row in frame.iter_rows(named=True):
        share = row["active"] / row["with_access"] if row["with_access"] else 0.0
        cost = row["cost_per_active_usd"]
        rows.append({
            "key": row["key"], "label": row["label"], "active_share": share, "active_share_text": format_percent(share),
            "habitual": row["habitual"], "habitual_text": format_count(row["habitual"]),
            "stickiness": row["stickiness"],
            "stickiness_text": "—" if row["stickiness"] is None else format_percent(row["stickiness"]),
            "cost_per_active": None if cost is None else float(cost),
            "cost_per_active_text": "—" if cost is None else format_usd(cost),
        })  # fmt: skip
    return sorted(rows, key=lambda r: (-r["active_share"], -(r["stickiness"] or 0), r["label"]))


TOP_AGENTS = 10  # the agent adoption chart's bars (the report and the API have every agent)


def agents_shown(frame: pl.DataFrame) -> pl.DataFrame:
    """The agents the adoption chart draws (and its CSV holds): the most adopted ones."""
    return frame.head(TOP_AGENTS)


def agents_figure(frame: pl.DataFrame) -> Figure:
    top = agents_shown(frame).reverse()  # the most adopted on top
    bars = {
        "type": "bar", "orientation": "h", "y": top["label"].to_list(), "x": top["share_of_active"].to_list(),
        "text": [f"{format_percent(s)} ({format_count(n)})" for s, n in zip(top["share_of_active"],
                                                                            top["active_users"], strict=True)],
        "textposition": "auto", "marker": {"color": AGENT_COLOUR},
        "hovertemplate": "%{y}: %{text} of the active people<extra></extra>",
    }  # fmt: skip
    slots = {"range": [top.height - 0.5 - max(top.height, 5), top.height - 0.5], "type": "category"}
    xaxis = {"title": title("Share of active people"), "tickformat": ".0%", "range": [0, 1]}
    return figure([bars], HEIGHT, hovermode="closest", showlegend=False, margin={"l": 160, "t": 8, "b": X_TITLED},
                  xaxis=xaxis, yaxis=slots)  # fmt: skip


def update_agents(query: dict | None) -> Figure:
    """The share of the scope's active people who used each agent (the most adopted ten)."""
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return message_figure(str(error), HEIGHT)
    frame = adoption.agent_adoption(filters)
    if frame.is_empty():
        return message_figure("Nobody in your scope used an agent in this period", HEIGHT)
    return agents_figure(frame)


def _change(current, previous) -> tuple[str, str | None]:
    """A cost's change as text, and its colour when it rose or fell (red or green: a cost up is bad)."""
    if current is None or previous is None:
        return "—", None
    text, colour = format_change(float(current), float(previous), up_is_good=False)
    return text, colour if colour in ("text-danger", "text-success") else None


def model_rows(frame: pl.DataFrame) -> list[dict]:
    """The models' rows as the table shows them: values to sort, their texts, changes and colours beside them."""
    rows = []
    for row in frame.iter_rows(named=True):
        line = {"key": row["key"], "label": row["label"], "interactions": row["interactions"],
                "interactions_text": format_count(row["interactions"]), "cost": float(row["cost_usd"]),
                "cost_text": format_usd(row["cost_usd"])}  # fmt: skip
        for name in ("cost_per_interaction", "cost_per_active"):
            value, before = row[f"{name}_usd"], row[f"previous_{name}_usd"]
            change, tone = _change(value, before)
            text = "—" if value is None else format_usd(value) if change == "—" else f"{format_usd(value)} ({change})"
            line |= {name: None if value is None else float(value), f"{name}_text": text, f"{name}_change": change,
                     f"{name}_tone": tone}  # fmt: skip
        rows.append(line)
    return rows


def update_models(query: dict | None) -> html.Div:
    try:
        filters = page_filters(query)
    except PeriodError:
        return models_table([])
    return models_table(model_rows(adoption.model_costs(filters)))


def uptake_figure(curve: pl.DataFrame) -> Figure:
    line = {
        "type": "scatter", "mode": "lines", "x": curve["day"].to_list(), "y": curve["users"].to_list(),
        "line": {"color": AGENT_COLOUR, "width": 3, "shape": "hv"}, "name": "People who have used it",
        "customdata": curve["day_number"].to_list(),
        "hovertemplate": "%{x}, day %{customdata}: %{y:,} people<extra></extra>",
    }  # fmt: skip
    largest = curve["users"].max()
    yaxis = count_axis(largest, "People who have used it")
    return figure([line], HEIGHT, showlegend=False, xaxis=date_axis(), yaxis=yaxis, margin={"l": count_margin(largest)})


def picked(query: dict | None) -> tuple:
    """The filters, the scope's agents' uptake and the agent the view shows (the URL's `uptake`, else the newest)."""
    filters = page_filters(query)
    curves = adoption.uptake(filters)
    return filters, curves, adoption.pick_agent(curves, (query or {}).get("uptake"))


def update_uptake(query: dict | None) -> tuple:
    """The picker's agents (the newest named as the default), which one is shown and since when, and its curve."""
    try:
        _filters, curves, agent = picked(query)
    except PeriodError as error:
        return [], "The newest agent", None, message_figure(str(error), HEIGHT)
    agents = adoption.uptake_agents(curves)
    options = [{"label": f"{row['label']} (since {format_day(row['first_day'])})", "value": row["agent_id"]}
               for row in agents.iter_rows(named=True)]  # fmt: skip
    if agent is None:
        return options, "The newest agent", None, message_figure("Nobody in your scope has used an agent yet", HEIGHT)
    newest = agents.row(0, named=True)
    curve = curves.filter(pl.col("agent_id") == agent)
    first = curve.row(0, named=True)
    since = (
        f"{first['label']}: first used in your scope on {format_day(first['first_day'])}; "
        f"{format_count(curve['users'][-1])} people have used it since, up to {format_day(curve['day'][-1])}."
    )
    return options, f"{newest['label']} (the newest)", since, uptake_figure(curve)


def update_agent_cohorts(query: dict | None) -> Figure:
    """The cohorts of the shown agent's first users (its months in the period)."""
    try:
        filters, _curves, agent = picked(query)
    except PeriodError as error:
        return message_figure(str(error), HEIGHT)
    frame = adoption.agent_cohorts(filters, agent) if agent else None
    if frame is None or frame.is_empty():
        return message_figure("Nobody in your scope first used this agent in this period", HEIGHT)
    return cohort_figure(frame)


def update_uptake_search(agent: object, search: str | None) -> str:
    """A choice of agent goes into the URL, which redraws its uptake and cohorts."""
    if not isinstance(agent, str) or not agent:
        return no_update
    try:
        return search_with(search, uptake=agent)
    except PeriodError:  # a malformed URL from the browser
        return no_update


def update_league(query: dict | None) -> html.Div:
    try:
        filters = page_filters(query)
    except PeriodError:
        return league_table([])
    return league_table(league_rows(adoption.adoption(filters, "team", compare=False)))  # the table shows no change


RECLAIM_KINDS = {"name": grid_rows.TEXT, "email": grid_rows.TEXT, "team": grid_rows.TEXT,
                 "managers": grid_rows.TEXT, "last_active": grid_rows.TEXT, "idle_days": grid_rows.NUMBER}  # fmt: skip


def reclaim_rows(frame: pl.DataFrame) -> list[dict]:
    texts = frame.with_columns(pl.col("last_active").dt.strftime(DAY).fill_null("never").alias("last_active_text"))
    return texts.with_columns(pl.col("last_active").cast(pl.String)).to_dicts()


def seats_text(count: int) -> str:
    cost = adoption.seats_cost(count, current_app.config.get("SEAT_COST_USD"))
    seats = f"{format_count(count)} seat{'' if count == 1 else 's'} to reclaim"
    return seats if cost is None else f"{seats}: {format_usd(cost)} a month"


def idle_seats(query: dict | None) -> pl.DataFrame:
    """The scope's idle seats for the URL's idle days (the URL's teams and agents too; no period: as of today)."""
    return adoption.reclaim(page_filters(query).scope, org_timezone(), reclaim_days(query))


def update_reclaim(query: dict | None) -> str:
    """How many seats are idle, and what they cost; the grid asks for its rows itself (`update_reclaim_rows`)."""
    try:
        return seats_text(idle_seats(query).height)
    except PeriodError as error:
        return str(error)


def update_reclaim_rows(request: dict | None, query: dict | None) -> dict:
    """One block of the idle seats as the grid asks for it (AG Grid's infinite row model): a few thousand
    rows sent whole made the tab's answer 2 MB, most of a warm answer's time."""
    if not isinstance(request, dict):
        return no_update
    try:
        frame = idle_seats(query)
        page, count = grid_rows.block(frame, request, RECLAIM_KINDS)
    except (PeriodError, grid_rows.TooMuchAsked):
        return {"rowData": [], "rowCount": 0}
    return {"rowData": reclaim_rows(page), "rowCount": count}


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
        ((Output(ids.ADOPTION_LEAGUE_PLACE, "children"),), update_league),
        ((Output(ids.ADOPTION_RECLAIM_SUMMARY, "children"),), update_reclaim),
        ((Output(ids.in_view_store(ids.chart_place(ids.ADOPTION_AGENTS)), "data"),),
         in_view_chart(update_agents, ids.ADOPTION_AGENTS, HEIGHT)),
        ((Output(ids.in_view_store(ids.ADOPTION_MODELS_TABLE), "data"),), update_models),
        (
            (
                Output(ids.ADOPTION_UPTAKE_AGENT, "options"),
                Output(ids.ADOPTION_UPTAKE_AGENT, "placeholder"),
                Output(ids.ADOPTION_UPTAKE_SINCE, "children"),
                Output(ids.in_view_store(ids.chart_place(ids.ADOPTION_UPTAKE)), "data"),
            ),
            in_view_chart(update_uptake, ids.ADOPTION_UPTAKE, HEIGHT, at=3),
        ),
        ((Output(ids.in_view_store(ids.chart_place(ids.ADOPTION_AGENT_COHORTS)), "data"),),
         in_view_chart(update_agent_cohorts, ids.ADOPTION_AGENT_COHORTS, HEIGHT)),
    ]  # fmt: skip


def register_callbacks(app: dash.Dash) -> None:
    """The tab's one data callback, the idle seats' blocks, the choice of idle days (into the URL) and the export."""
    query = Input(ids.ADOPTION_QUERY, "data")
    register_tab(app, query, tab_parts())
    for place_id in (ids.ADOPTION_MODELS_TABLE, ids.ADOPTION_RECLAIM_TABLE):
        register_in_view(app, place_id)
    register_charts_in_view(app, ids.ADOPTION_AGENTS, ids.ADOPTION_UPTAKE, ids.ADOPTION_AGENT_COHORTS)
    app.callback(
        Output(ids.ADOPTION_RECLAIM, "getRowsResponse"),
        Input(ids.ADOPTION_RECLAIM, "getRowsRequest"),
        State(ids.ADOPTION_QUERY, "data"),
        prevent_initial_call=True,
    )(memoised(update_reclaim_rows))
    # A new period, scope or idle days: the grid forgets its blocks and asks again (assets/users_grid.js).
    app.clientside_callback(
        ClientsideFunction("telemetry", "refreshReclaimGrid"),
        Output(ids.ADOPTION_RECLAIM_REFRESHED, "data"),
        query,
        prevent_initial_call=True,
    )
    keep_in_url(
        app,
        ids.ADOPTION_NEW_SEARCH,
        [
            (update_reclaim_search, Input(ids.ADOPTION_RECLAIM_DAYS, "value")),
            (update_uptake_search, Input(ids.ADOPTION_UPTAKE_AGENT, "value")),
        ],
    )
    app.callback(
        Output(ids.ADOPTION_RECLAIM_DOWNLOAD, "data"),
        Input(ids.ADOPTION_RECLAIM_EXPORT, "n_clicks"),
        State(ids.ADOPTION_QUERY, "data"),
        prevent_initial_call=True,
    )(export_reclaim)
