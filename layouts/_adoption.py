"""The Adoption tab's section (docs/metrics.md): funnel, active people and stickiness, cohorts, the team
league table and the seats to reclaim. Components only; callbacks/adoption.py fills them."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts._components import (
    graph_in_view,
    grid_overlays,
    in_view,
    info_tip,
    loading_graph,
    loading_placeholder,
    loading_table,
    plain_table,
    section,
)
from queries.adoption import DEFINITIONS, RECLAIM_DAYS

# The league's and the models' tables: a few dozen rows at most, drawn by the browser (`plain_table`), not AG Grids,
# whose start was a large part of a switch to this tab (the league is in view)
LEAGUE_COLUMNS = [
    {"field": "label", "header": "Team"},
    {"field": "active_share", "header": "Active share", "title": DEFINITIONS["active"], "sort": "desc"},
    {"field": "habitual", "header": "Habitual", "title": DEFINITIONS["habitual"]},
    {"field": "stickiness", "header": "Stickiness", "title": DEFINITIONS["stickiness"]},
    {"field": "cost_per_active", "header": "Cost per active person", "title": DEFINITIONS["cost_per_active_usd"]},
]
MODEL_COLUMNS = [
    {"field": "label", "header": "Model"},
    {"field": "interactions", "header": "Interactions"},
    {"field": "cost", "header": "Cost", "sort": "desc"},
    {"field": "cost_per_interaction", "header": "Cost per interaction",
     "title": DEFINITIONS["model_cost_per_interaction_usd"], "tone": "cost_per_interaction_tone"},
    {"field": "cost_per_active", "header": "Cost per active person", "title": DEFINITIONS["model_cost_per_active_usd"],
     "tone": "cost_per_active_tone"},
]  # fmt: skip
RECLAIM_COLUMNS = [
    {"field": "name", "headerName": "Name", "pinned": "left", "minWidth": 150},
    {"field": "email", "headerName": "Email", "minWidth": 190},
    {"field": "team", "headerName": "Team"},
    {"field": "managers", "headerName": "Manager", "minWidth": 140},
    {"field": "last_active", "headerName": "Last active",
     # no data while the row's block is on its way
     "valueFormatter": {"function": "params.data ? params.data.last_active_text : ''"}},
    {"field": "idle_days", "headerName": "Days idle", "type": "rightAligned", "filter": "agNumberColumnFilter",
     "minWidth": 120},
]  # fmt: skip


GRID_HEIGHT = 260
RECLAIM_HEIGHT = 420


def reclaim_grid() -> dag.AgGrid:
    """The idle seats, a block at a time from the server (AG Grid's infinite row model, as on the Users tab), sorted
    and filtered there (callbacks/adoption.py `update_reclaim_rows`): thousands of idle seats sent whole made the
    tab's answer megabytes."""
    return dag.AgGrid(
        id=ids.ADOPTION_RECLAIM,
        columnDefs=RECLAIM_COLUMNS,
        rowModelType="infinite",
        getRowId="params.data.user_id",
        # headers wrap between words rather than cut short (a phone): measuring each header's height
        # (autoHeaderHeight) at each width change forced a style pass per header cell
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 110,
                       "wrapHeaderText": True},  # fmt: skip
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 20,  # one of the page sizes AG Grid offers (20, 50, 100)
            "animateRows": False,
            "cacheBlockSize": 100,
            "maxBlocksInCache": 20,
            # dash-ag-grid answers the newest request only: a second one in flight would never be answered
            "maxConcurrentDatasourceRequests": 1,
            **grid_overlays("No idle seats in your scope."),
        },
        columnSize="responsiveSizeToFit",
        style={"height": f"{RECLAIM_HEIGHT}px"},
        className="ag-theme-quartz",
    )


def league_table(rows: list[dict]) -> html.Div:
    """The team league table (callbacks/adoption.py `update_league`)."""
    return plain_table(ids.ADOPTION_LEAGUE, "Team league table", LEAGUE_COLUMNS, rows, height=GRID_HEIGHT,
                       empty="No team in your scope.")  # fmt: skip


def models_table(rows: list[dict]) -> html.Div:
    """The cost per model, put in its place once in view (callbacks/adoption.py `update_models`)."""
    return plain_table(ids.ADOPTION_MODELS, "Cost per model", MODEL_COLUMNS, rows, height=GRID_HEIGHT,
                       empty="No model answered in your scope in this period.")  # fmt: skip


def _in_view(place_id: str, height: int, part=None) -> dcc.Loading:
    return loading_table(html.Div(in_view(place_id, loading_placeholder(height), height, part)))


NAMES = {"cost_per_active_usd": "Cost per active person"}  # the others read well as their key


def _name(key: str) -> str:
    return NAMES.get(key, key.replace("_", " ").capitalize())


def _definitions(names: tuple[str, ...]) -> html.Ul:
    return html.Ul([html.Li([html.Strong(_name(name)), f": {DEFINITIONS[name]}"]) for name in names],
                   className="small text-muted mb-0 ps-3")  # fmt: skip


def _about(subtitle: str, tip_id: str, name: str, *keys: str) -> list:
    """A card's subtitle and an "i" with the definitions of what it shows (DEFINITIONS), reachable by keyboard."""
    return [subtitle, info_tip(tip_id, name, " ".join(DEFINITIONS[key] for key in keys))]


def _agent_picker(query: dict) -> dbc.Row:
    """The agent whose uptake and first users the tab shows: in the URL (`uptake=`), else the newest (the
    callback fills the choices, the agents of the scope, and says which is the newest in the placeholder)."""
    asked = query.get("uptake") if isinstance(query, dict) else None
    picker = dcc.Dropdown(id=ids.ADOPTION_UPTAKE_AGENT, options=[], value=asked if isinstance(asked, str) else None,
                          clearable=False, placeholder="The newest agent")  # fmt: skip
    return dbc.Row(
        [
            dbc.Col(dbc.Label("Agent", html_for=ids.ADOPTION_UPTAKE_AGENT, className="small mb-0"), width="auto"),
            dbc.Col(picker, xs=9, md=4),
            dbc.Col(html.Div(id=ids.ADOPTION_UPTAKE_SINCE, className="small text-muted", role="status"), md=True),
        ],
        className="g-2 align-items-center mt-3",
    )


def reclaim_days(query: dict) -> int:
    """The idle days the URL asks for (`reclaim=60`), else the first choice: in the URL, so a link keeps it."""
    text = query.get("reclaim") if isinstance(query, dict) else None
    return next((n for n in RECLAIM_DAYS if text == str(n)), RECLAIM_DAYS[0])


def adoption_section(query: dict) -> html.Section:
    """The section, the Adoption tab's page (layouts/adoption.py)."""
    days = dbc.RadioItems(
        id=ids.ADOPTION_RECLAIM_DAYS,
        options=[{"label": f"{n} days", "value": n} for n in RECLAIM_DAYS],
        value=reclaim_days(query),
        inline=True,
        className="btn-group",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-primary btn-sm",
        labelCheckedClassName="active",
    )
    reclaim_tools = dbc.Row(
        [
            dbc.Col(html.Span("Idle for", id="adoption-reclaim-days-label", className="small"), width="auto"),
            dbc.Col(days, width="auto"),
            dbc.Col(html.Div(id=ids.ADOPTION_RECLAIM_SUMMARY, className="small", role="status"), width="auto"),
            dbc.Col(
                [
                    dbc.Button(
                        "Export CSV", id=ids.ADOPTION_RECLAIM_EXPORT, color="secondary", outline=True, size="sm"
                    ),
                    dcc.Download(id=ids.ADOPTION_RECLAIM_DOWNLOAD),
                ],
                className="ms-auto",
                width="auto",
            ),  # fmt: skip
        ],
        className="g-2 align-items-center mb-2",
    )
    funnel_help = [info_tip("adoption-funnel-info", "the adoption funnel", " ".join(
        f"{_name(name)}: {DEFINITIONS[name]}" for name in
        ("with_access", "tried", "active", "habitual", "power")))]  # fmt: skip
    return html.Section(
        [
            html.H2(["Adoption", *funnel_help], id=ids.ADOPTION_TITLE, className="h5 mb-2"),
            dbc.Row(
                [
                    dbc.Col(section("Adoption funnel", loading_graph(ids.ADOPTION_FUNNEL),
                                    "People with access, who tried, were active, habitual and power users",
                                    chart=ids.ADOPTION_FUNNEL), lg=6),
                    dbc.Col(section("Daily, weekly and monthly active people",
                                    [html.Div(id=ids.ADOPTION_STICKINESS, className="small mb-1"),
                                     loading_graph(ids.ADOPTION_ACTIVE)],
                                    _about("Rolling 1, 7 and 28 local days, up to today", "adoption-active-info",
                                           "active people and stickiness", "dau", "wau", "mau", "stickiness"),
                                    chart=ids.ADOPTION_ACTIVE), lg=6),
                ],
                className="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col(section("Cohorts: share still active", loading_graph(ids.ADOPTION_COHORTS),
                                    _about("People by the month of their first interaction, active each month since",
                                           "adoption-cohorts-info", "cohorts", "cohorts"),
                                    chart=ids.ADOPTION_COHORTS), lg=6),
                    dbc.Col(section("Team league table",
                                    [loading_table(html.Div(loading_placeholder(GRID_HEIGHT),
                                                            id=ids.ADOPTION_LEAGUE_PLACE, className="mb-2")),
                                     _definitions(("stickiness", "cost_per_active_usd"))],
                                    _about("Teams ranked by adoption, stickiness and cost per active person",
                                           "adoption-league-info", "the team league table", "active", "habitual",
                                           "stickiness", "cost_per_active_usd")), lg=6),
                ],
                className="g-3 mt-1",
            ),
            dbc.Row(
                [
                    dbc.Col(section("Agent adoption", graph_in_view(ids.ADOPTION_AGENTS),
                                    _about("Share of the active people who used each agent in the period",
                                           "adoption-agents-info", "agent adoption", "share_of_active"),
                                    chart=ids.ADOPTION_AGENTS), lg=5),
                    dbc.Col(section("Cost per model",
                                    _in_view(ids.ADOPTION_MODELS_TABLE, GRID_HEIGHT),
                                    _about("Each with its change against the previous period", "adoption-models-info",
                                           "cost per model", "model_cost_per_interaction_usd",
                                           "model_cost_per_active_usd")), lg=7),
                ],
                className="g-3 mt-1",
            ),
            _agent_picker(query),
            dbc.Row(
                [
                    dbc.Col(section("Agent uptake", graph_in_view(ids.ADOPTION_UPTAKE),
                                    _about("People who have used the agent, by day since its first interaction",
                                           "adoption-uptake-info", "agent uptake", "uptake"),
                                    chart=ids.ADOPTION_UPTAKE), lg=6),
                    dbc.Col(section("Cohorts of the agent's first users", graph_in_view(ids.ADOPTION_AGENT_COHORTS),
                                    _about("By the month of their first interaction with it, active with it since",
                                           "adoption-agent-cohorts-info", "the agent's cohorts", "agent_cohorts"),
                                    chart=ids.ADOPTION_AGENT_COHORTS), lg=6),
                ],
                className="g-3 mt-1",
            ),
            dbc.Row(
                dbc.Col(section("Seats to reclaim",
                                [reclaim_tools,
                                 _in_view(ids.ADOPTION_RECLAIM_TABLE, RECLAIM_HEIGHT, reclaim_grid()),
                                 dcc.Store(id=ids.ADOPTION_RECLAIM_REFRESHED)],
                                _about("People with access and no interaction in the last days, as of today",
                                       "adoption-reclaim-info", "seats to reclaim", "reclaim"))),
                className="g-3 mt-1",
            ),
        ],
        **{"aria-labelledby": ids.ADOPTION_TITLE},
    )  # fmt: skip
