"""Users tab: the URL's filters in; people, their frequency class, adoption and one person's detail out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update

from auth.session import audit
from callbacks import grid_rows
from callbacks._common import empty_period, in_view_chart, org_timezone, page_filters, register_charts_in_view
from callbacks._figures import (
    AGENT_COLOUR,
    GREEN,
    LEGEND_BELOW,
    MUTED,
    NO_INTERACTIONS,
    X_TITLED,
    Figure,
    count_axis,
    count_margin,
    date_axis,
    figure,
    message_figure,
    title,
)
from callbacks._memo import memoised
from callbacks._tab import register_tab
from callbacks._url import keep_in_url
from layouts import ids
from layouts._components import (
    DAY,
    DAY_HOVER,
    DAY_TIME,
    GRAPH_CONFIG,
    format_count,
    format_percent,
    format_usd,
    info_tip,
    message,
)
from queries import users
from queries.filters import Filters, search_with
from queries.period import PeriodError
from reports.safe import spreadsheet_safe


def shown_as_text(field: str) -> dict:
    """The grid shows the text the server wrote next to the value (`<field>_text`): 1,997 and 3 Mar 2026,
    while filters and sorting work on the value itself."""
    # no data while the block of an infinite grid's row is on its way
    return {"valueFormatter": {"function": f"params.data ? params.data.{field}_text : ''"}}


CHART_HEIGHT = 260  # the tab's two charts
ALL_COLUMNS = [
    {"field": "name", "headerName": "Name", "pinned": "left", "minWidth": 160, "width": 160},  # pinned: no flex
    {"field": "email", "headerName": "Email", "minWidth": 200},
    {"field": "team", "headerName": "Team"},
    {"field": "interactions", "headerName": "Interactions", "type": "rightAligned", "filter": "agNumberColumnFilter",
     **shown_as_text("interactions")},
    {"field": "active_days", "headerName": "Active days", "type": "rightAligned", "filter": "agNumberColumnFilter",
     **shown_as_text("active_days")},
    {"field": "last_active", "headerName": "Last active (local)", "minWidth": 150, **shown_as_text("last_active")},
    {"field": "most_used_agent", "headerName": "Most-used agent", "minWidth": 160},
    {"field": "frequency", "headerName": "Frequency", "headerTooltip": "See Frequency classes above the table"},
]  # fmt: skip
NOT_ADOPTED_COLUMNS = [
    {"field": "name", "headerName": "Name", "pinned": "left", "minWidth": 160, "width": 160},  # pinned: no flex
    {"field": "email", "headerName": "Email", "minWidth": 200},
    {"field": "team", "headerName": "Team"},
    {"field": "access_since", "headerName": "Has had access since", **shown_as_text("access_since")},
    {"field": "days_with_access", "headerName": "Days with access", "type": "rightAligned",
     "filter": "agNumberColumnFilter", **shown_as_text("days_with_access")},
]  # fmt: skip
COUNT_FIELDS = ("interactions", "active_days", "days_with_access")


SEARCH_FIELDS = ("name", "email", "team")


def filter_kinds(columns: list[dict]) -> dict[str, str]:
    """What each column of the table can be filtered and sorted as, for callbacks.grid_rows."""
    number = "agNumberColumnFilter"
    return {c["field"]: grid_rows.NUMBER if c.get("filter") == number else grid_rows.TEXT for c in columns}


def view_rows(activity: pl.DataFrame, view: str, tz: str, end: dt.date) -> pl.DataFrame:
    """The table's rows for a view, as a person reads them: local times, "never", days with access."""
    since = pl.col("created_at").dt.convert_time_zone(tz).dt.date()
    frame = activity.with_columns(
        pl.col("last_active").dt.strftime("%Y-%m-%d %H:%M").fill_null("never"),
        pl.col("last_active").dt.strftime(DAY_TIME).fill_null("never").alias("last_active_text"),
        since.dt.strftime("%Y-%m-%d").alias("access_since"),
        since.dt.strftime(DAY).alias("access_since_text"),
        (pl.lit(end) - since).dt.total_days().alias("days_with_access"),
    )
    if view != "not_adopted":
        frame = frame.with_columns(pl.col("most_used_agent").fill_null("—"))
        return frame.select(["user_id", *(c["field"] for c in ALL_COLUMNS), "last_active_text"])
    fields = ["user_id", *(c["field"] for c in NOT_ADOPTED_COLUMNS), "access_since_text"]
    return frame.filter(pl.col("frequency") == "not adopted").sort("access_since", "name").select(fields)


def with_texts(rows: list[dict]) -> list[dict]:
    """A block's rows with the text the grid shows beside each count (`shown_as_text`; the dates' texts
    come from `view_rows`)."""
    for row in rows:
        for field in COUNT_FIELDS:
            if row.get(field) is not None:
                row[f"{field}_text"] = format_count(row[field])
    return rows


# What each card counts (docs/schema.md, "Who is counted where"): "Adopted" is ever, up to the period's end,
# and so not the Dashboard's "Active share" (active in the period).
CARD_DEFINITIONS = {
    "users-card-total": "Everyone listed in your scope for the period: anyone with activity in it, and the "
    "directory's people of its teams who had access by the period's end and are still with the company.",
    "users-card-adopted": "People in scope who have used an agent in this scope at least once, up to the "
    "period's end, whether or not in the period. Not the Dashboard's “Active share”, which counts only use "
    "in the period.",
    "users-card-not-adopted": "People in scope who have never used an agent in this scope, up to the end of the "
    "period.",
    "users-card-inactive": "People in scope who used an agent in this scope before this period, but not during it.",
}


def summary_cards(activity: pl.DataFrame) -> dbc.Row:
    counts = activity["frequency"].value_counts()
    by_class = dict(zip(counts["frequency"], counts["count"], strict=True))
    total = activity.height
    adopted = total - by_class.get("not adopted", 0)
    share = format_percent(adopted / total if total else 0)
    cards = [
        ("Users in scope", format_count(total), "Active in your scope, or in its teams", "users-card-total"),
        ("Adopted", format_count(adopted), f"{share} have ever used an agent", "users-card-adopted"),
        ("Not adopted yet", format_count(by_class.get("not adopted", 0)), "Never used an agent",
         "users-card-not-adopted"),
        ("Inactive this period", format_count(by_class.get("inactive", 0)), "Used before, not in this period",
         "users-card-inactive"),
    ]  # fmt: skip
    return dbc.Row(
        [
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.Div(
                                [title, info_tip(f"{card_id}-info", title, CARD_DEFINITIONS[card_id])],
                                className="text-muted small text-uppercase",
                            ),
                            html.Div(value, className="fs-3 fw-semibold", id=f"{card_id}-value"),
                            html.Div(note, className="small text-muted"),
                        ]
                    ),
                    id=card_id,
                    className="h-100",
                ),
                md=6,
                xl=3,
            )
            for title, value, note, card_id in cards
        ],
        className="g-3",
    )


def _view(query: dict | None) -> str:
    view = query.get("view") if isinstance(query, dict) else None
    return view if isinstance(view, str) and view in ids.USERS_VIEWS else "all"


def _columns(view: str) -> list[dict]:
    return NOT_ADOPTED_COLUMNS if view == "not_adopted" else ALL_COLUMNS


def update_table(query: dict | None) -> tuple:
    """Summary cards and the table's columns, for the view in the URL; the rows come a block at a time
    (`update_rows`), so a 25,000-person organization does not send 25,000 rows for each period."""
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return message(str(error), "danger"), None, no_update
    activity = users.people_activity(filters)
    if activity.is_empty():
        return message("Nobody in your scope yet.", "info"), summary_cards(activity), ALL_COLUMNS
    note = None if activity["interactions"].sum() else message(empty_period(filters), "info")
    return note, summary_cards(activity), _columns(_view(query))


def _activity(filters: Filters, view: str) -> pl.DataFrame:
    """The people of a view: with everyone's most used agent for the list of all (searched, sorted or
    filtered on any column); the not adopted have none."""
    return users.user_activity(filters) if view == "all" else users.people_activity(filters)


def update_rows(request: dict | None, query: dict | None, search: str | None) -> dict:
    """One block of the table's rows as the grid asks for it (AG Grid's infinite row model): the view's
    people searched, filtered and sorted on the server, and how many there are."""
    if not isinstance(request, dict):
        return no_update
    try:
        filters = page_filters(query)
    except PeriodError:
        return {"rowData": [], "rowCount": 0}
    view = _view(query)
    if view == "all" and grid_rows.is_plain(request, search):
        # the rows in their own order: only the block is put as a person reads it (30,000 people: 6 ms), and
        # only its people's most used agents asked for
        page, count = grid_rows.block(users.people_activity(filters), request, {})
        page = users.with_most_used_agent(filters, page)
        rows = view_rows(page, view, org_timezone(), filters.period.end).to_dicts()
        return {"rowData": with_texts(rows), "rowCount": count}
    rows = view_rows(_activity(filters, view), view, org_timezone(), filters.period.end)
    try:
        page, count = grid_rows.block(rows, request, filter_kinds(_columns(view)), search, SEARCH_FIELDS)
    except grid_rows.TooMuchAsked:  # said next to the search box (update_search_note)
        return {"rowData": [], "rowCount": 0}
    return {"rowData": with_texts(page.to_dicts()), "rowCount": count}


def update_search_note(search: str | None, model: dict | None) -> str:
    """Why the table shows nobody when the search or the column filters ask too much; else nothing."""
    try:
        grid_rows.check(model, search)
    except grid_rows.TooMuchAsked as error:
        return str(error)
    return ""


def update_rows_and_note(request: dict | None, query: dict | None, search: str | None) -> tuple:
    """A block of rows (`update_rows`) and the note beside the search box (`update_search_note`) in one
    request: the grid asks for rows again whenever the search or its column filters change, so the note
    follows them without a request of its own (which the grid's first filter model cost on every visit)."""
    if not isinstance(request, dict):
        return no_update, no_update
    return update_rows(request, query, search), update_search_note(search, request.get("filterModel"))


def update_view(view: str, search: str | None) -> str:
    """One click for the not-adopted list: the view is part of the URL, so it can be shared."""
    if not isinstance(view, str) or view not in ids.USERS_VIEWS:
        return no_update
    try:
        return search_with(search, view=None if view == "all" else view)
    except PeriodError:  # a malformed URL from the browser
        return no_update


def export_csv(n_clicks: int | None, query: dict | None, search: str | None = None, filters: dict | None = None):
    """The current view as CSV: the rows the grid shows (its search and column filters), busiest first,
    audited; formula-looking cells made plain text."""
    if not n_clicks:
        return no_update
    try:
        period_filters = page_filters(query)
    except PeriodError:
        return no_update
    try:
        grid_rows.check(filters, search)  # before any work: the note by the search box says why
    except grid_rows.TooMuchAsked:
        return no_update
    view = _view(query)
    rows = view_rows(_activity(period_filters, view), view, org_timezone(), period_filters.period.end)
    rows = grid_rows.matching(rows, filters, filter_kinds(_columns(view)), search, SEARCH_FIELDS)
    rows = rows.select(c["field"] for c in _columns(view))  # the values, not the texts shown beside them
    period = period_filters.period
    narrowed = bool(isinstance(search, str) and search.strip()) or bool(filters)
    audit("export", {"what": f"users:{view}", "format": "csv", "start": str(period.start), "end": str(period.end),
                     "rows": rows.height, "narrowed": narrowed})  # fmt: skip
    name = f"telemetry-{'not-adopted' if view == 'not_adopted' else 'users'}-{period.start}-to-{period.end}.csv"
    return dcc.send_string(spreadsheet_safe(rows).write_csv(), name)


def distribution_figure(activity: pl.DataFrame) -> Figure:
    buckets = users.usage_buckets(activity)
    bars = {
        "type": "bar", "x": buckets["band"].to_list(), "y": buckets["users"].to_list(),
        "marker": {"color": AGENT_COLOUR}, "hovertemplate": "%{y:,} users made %{x} interactions<extra></extra>",
    }  # fmt: skip
    return figure(
        [bars], CHART_HEIGHT, hovermode="closest", showlegend=False,
        yaxis=count_axis(buckets["users"].max(), "Active users"),
        xaxis={"title": title("Interactions in the period"), "type": "category"},
        margin={"l": count_margin(buckets["users"].max()), "b": X_TITLED},  # that fit: drawn once (_figures.py)
    )  # fmt: skip


def update_distribution(query: dict | None) -> tuple:
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return None, message_figure(str(error), CHART_HEIGHT)
    activity = users.people_activity(filters)
    active = activity.filter(pl.col("interactions") > 0)
    if active.is_empty():
        return None, message_figure(NO_INTERACTIONS, CHART_HEIGHT)
    share = users.top_share(activity, 0.1)
    text = f"The most active 10% of active users made {format_percent(share)} of all interactions."
    return text, distribution_figure(activity)


def adoption_figure(curve: pl.DataFrame) -> Figure:
    days = curve["day"].to_list()
    access = {
        "type": "scatter", "x": days, "y": curve["users_with_access"].to_list(), "name": "People with access",
        "mode": "lines", "line": {"color": MUTED, "width": 2, "dash": "dot"},
    }  # fmt: skip
    adopted = {
        "type": "scatter", "x": days, "y": curve["adopted_users"].to_list(),
        "name": "Adopted (used an agent at least once)", "mode": "lines", "line": {"color": GREEN, "width": 3},
        "fill": "tozeroy", "fillcolor": "rgba(0,158,115,0.12)",
    }  # fmt: skip
    largest = curve["users_with_access"].max()
    return figure([access, adopted], CHART_HEIGHT, xaxis=date_axis(), yaxis=count_axis(largest, "People"),
                  margin={"l": count_margin(largest), "b": LEGEND_BELOW})  # fmt: skip


def update_adoption(query: dict | None) -> Figure:
    try:
        filters = page_filters(query)
    except PeriodError as error:
        return message_figure(str(error), CHART_HEIGHT)
    curve = users.adoption_curve(filters)
    if curve["users_with_access"].max() == 0:
        return message_figure("Nobody in your scope had access in this period", CHART_HEIGHT)
    return adoption_figure(curve)


def _agents_table(agents: pl.DataFrame) -> dbc.Table:
    """One row per agent the person used, and their totals in the last row."""
    right = {"className": "text-end text-nowrap"}
    head = html.Thead(html.Tr([html.Th("Agent"), html.Th("Interactions", **right), html.Th("Errors", **right),
                               html.Th("Cost", **right)]))  # fmt: skip
    body = html.Tbody([
        html.Tr([html.Td(r["agent"], className="text-break"), html.Td(format_count(r["interactions"]), **right),
                 html.Td(format_count(r["errors"]), **right), html.Td(format_usd(r["cost_usd"]), **right)])
        for r in agents.iter_rows(named=True)
    ])  # fmt: skip
    cost = sum(agents["cost_usd"].to_list(), Decimal(0))
    total = html.Tfoot(html.Tr([
        html.Th("Total"), html.Th(format_count(int(agents["interactions"].sum())), **right),
        html.Th(format_count(int(agents["errors"].sum())), **right), html.Th(format_usd(cost), **right),
    ]), id="users-detail-total")  # fmt: skip
    return dbc.Table([head, body, total], size="sm", hover=True, id="users-detail-agents", className="mb-0")


def _totals(daily: pl.DataFrame) -> html.Div:
    """The person's period at a glance, above the chart."""
    interactions = int(daily["interactions"].sum())
    active_days = int((daily["interactions"] > 0).sum())
    cost = sum(daily["cost_usd"].to_list(), Decimal(0))
    parts = [f"{format_count(interactions)} interactions", f"{format_count(active_days)} active days",
             format_usd(cost)]  # fmt: skip
    return html.Div(" · ".join(parts), className="fw-semibold mb-2", id="users-detail-totals")


def user_detail(user_id: str, query: dict | None) -> tuple[str, list]:
    """Title and body of the side panel: one person's totals, daily activity and agents, in scope only."""
    filters = page_filters(query)
    person = users.user_in_scope(filters, user_id)
    if person is None:
        return "User", [message("This person is not in your scope.", "warning")]
    daily = users.user_daily_activity(filters, user_id)
    agents = users.user_agents(filters, user_id)
    bars = {"type": "bar", "x": daily["day"].to_list(), "y": daily["interactions"].to_list(),
            "marker": {"color": AGENT_COLOUR},
            "hovertemplate": f"%{{x|{DAY_HOVER}}}: %{{y:,}} interactions<extra></extra>"}  # fmt: skip
    fig = figure([bars], 220, xaxis=date_axis(), yaxis=count_axis(daily["interactions"].max(), "Interactions"),
                 showlegend=False)  # fmt: skip
    body = [
        html.Div(person["email"], className="text-muted text-break"),
        html.Div(f"Team: {person['team'] or '—'}", className="mb-3"),
        _totals(daily),
        html.H3("Daily activity", className="h6"),  # under the panel's h2 title
        # responsive (GRAPH_CONFIG): drawn to the panel's width, not Plotly's default 700 px (wider than the panel)
        dcc.Graph(figure=fig, config=GRAPH_CONFIG, style={"width": "100%"}),
        html.H3("Agents used", className="h6 mt-3"),
        _agents_table(agents) if agents.height else html.P("No interactions in this period.", className="text-muted"),
    ]
    return person["name"] or user_id, body


def open_detail(selected: list[dict] | None, query: dict | None) -> tuple:
    """A click on a row selects it; the side panel shows that person (re-checked against the scope)."""
    row = selected[0] if isinstance(selected, list) and selected else None
    user_id = row.get("user_id") if isinstance(row, dict) else None
    if not isinstance(user_id, str) or not user_id:
        return no_update, no_update, no_update
    try:
        title, body = user_detail(user_id, query)
    except PeriodError as error:
        return True, _title("User"), [message(str(error), "danger")]
    return True, _title(title), body


def _title(text: str) -> html.H2:
    """The panel's title, a heading under the page's h1, which names the panel (its dialog is labelled by it)."""
    return html.H2(text, id=ids.USERS_DETAIL_TITLE, className="h5 m-0")


def register_callbacks(app: dash.Dash) -> None:
    query = Input(ids.USERS_QUERY, "data")
    register_tab(app, query, [
        ((Output(ids.USERS_MESSAGE, "children"), Output(ids.USERS_CARDS, "children"),
          Output(ids.USERS_GRID, "columnDefs")), update_table),
        ((Output(ids.USERS_CONCENTRATION, "children"),
          Output(ids.in_view_store(ids.chart_place(ids.USERS_DISTRIBUTION)), "data")),
         in_view_chart(update_distribution, ids.USERS_DISTRIBUTION, CHART_HEIGHT, at=1)),
        ((Output(ids.in_view_store(ids.chart_place(ids.USERS_ADOPTION)), "data"),),
         in_view_chart(update_adoption, ids.USERS_ADOPTION, CHART_HEIGHT)),
    ])  # fmt: skip
    register_charts_in_view(app, ids.USERS_DISTRIBUTION, ids.USERS_ADOPTION)
    app.callback(
        Output(ids.USERS_GRID, "getRowsResponse"),
        Output(ids.USERS_SEARCH_NOTE, "children"),
        Input(ids.USERS_GRID, "getRowsRequest"),
        State(ids.USERS_QUERY, "data"),
        State(ids.USERS_SEARCH, "value"),
        prevent_initial_call=True,
    )(memoised(update_rows_and_note))
    # A new period, view or search: the grid forgets its blocks and asks again (assets/users_grid.js).
    app.clientside_callback(
        ClientsideFunction("telemetry", "refreshUsersGrid"),
        Output(ids.USERS_GRID_REFRESHED, "data"),
        query,
        Input(ids.USERS_SEARCH, "value"),
        prevent_initial_call=True,
    )
    keep_in_url(app, ids.USERS_NEW_SEARCH, [(update_view, Input(ids.USERS_VIEW, "value"))])
    app.callback(
        Output(ids.USERS_DOWNLOAD, "data"),
        Input(ids.USERS_EXPORT, "n_clicks"),
        State(ids.USERS_QUERY, "data"),
        State(ids.USERS_SEARCH, "value"),
        State(ids.USERS_GRID, "filterModel"),
        prevent_initial_call=True,
    )(export_csv)
    app.callback(
        Output(ids.USERS_DETAIL, "is_open"),
        Output(ids.USERS_DETAIL, "title"),
        Output(ids.USERS_DETAIL_BODY, "children"),
        Input(ids.USERS_GRID, "selectedRows"),
        State(ids.USERS_QUERY, "data"),
        prevent_initial_call=True,
    )(open_detail)
