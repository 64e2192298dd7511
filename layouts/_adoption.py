"""The Adoption tab's section (docs/metrics.md): funnel, active people and stickiness, cohorts, the team
league table and the seats to reclaim. Components only; callbacks/adoption.py fills them."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts._components import grid_overlays, info_tip, loading_graph, loading_table, section
from queries.adoption import DEFINITIONS, RECLAIM_DAYS

LEAGUE_COLUMNS = [
    {"field": "label", "headerName": "Team", "pinned": "left", "minWidth": 140},
    {"field": "active_share", "headerName": "Active share", "type": "rightAligned", "sort": "desc",
     "valueFormatter": {"function": "params.data.active_share_text"}, "headerTooltip": DEFINITIONS["active"]},
    {"field": "habitual", "headerName": "Habitual", "type": "rightAligned", "headerTooltip": DEFINITIONS["habitual"]},
    {"field": "stickiness", "headerName": "Stickiness", "type": "rightAligned",
     "valueFormatter": {"function": "params.data.stickiness_text"}, "headerTooltip": DEFINITIONS["stickiness"]},
    {"field": "cost_per_active", "headerName": "Cost per active person", "type": "rightAligned", "minWidth": 150,
     "valueFormatter": {"function": "params.data.cost_per_active_text"},
     "headerTooltip": DEFINITIONS["cost_per_active_usd"]},
]  # fmt: skip
RECLAIM_COLUMNS = [
    {"field": "name", "headerName": "Name", "pinned": "left", "minWidth": 150},
    {"field": "email", "headerName": "Email", "minWidth": 190},
    {"field": "team", "headerName": "Team"},
    {"field": "managers", "headerName": "Manager", "minWidth": 140},
    {"field": "last_active", "headerName": "Last active",
     "valueFormatter": {"function": "params.data.last_active_text"}},
    {"field": "idle_days", "headerName": "Days idle", "type": "rightAligned", "filter": "agNumberColumnFilter",
     "minWidth": 120},
]  # fmt: skip


def _grid(grid_id: str, columns: list[dict], empty: str, height: int) -> dag.AgGrid:
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=[],
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 100},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 20,  # one of the page sizes AG Grid offers (20, 50, 100)
            "animateRows": False,
            **grid_overlays(empty),
        },  # fmt: skip
        columnSize="responsiveSizeToFit",
        style={"height": f"{height}px"},
        className="ag-theme-quartz",
    )


NAMES = {"cost_per_active_usd": "Cost per active person"}  # the others read well as their key


def _name(key: str) -> str:
    return NAMES.get(key, key.replace("_", " ").capitalize())


def _definitions(names: tuple[str, ...]) -> html.Ul:
    return html.Ul([html.Li([html.Strong(_name(name)), f": {DEFINITIONS[name]}"]) for name in names],
                   className="small text-muted mb-0 ps-3")  # fmt: skip


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
    funnel_help = [*info_tip("adoption-funnel-info", "the adoption funnel", " ".join(
        f"{_name(name)}: {DEFINITIONS[name]}" for name in
        ("with_access", "tried", "active", "habitual", "power")))]  # fmt: skip
    return html.Section(
        [
            html.H2(["Adoption", *funnel_help], id=ids.ADOPTION_TITLE, className="h5 mb-2"),
            dbc.Row(
                [
                    dbc.Col(section("Adoption funnel", loading_graph(ids.ADOPTION_FUNNEL),
                                    "People with access, who tried, were active, habitual and power users"), lg=6),
                    dbc.Col(section("Daily, weekly and monthly active people",
                                    [html.Div(id=ids.ADOPTION_STICKINESS, className="small mb-1"),
                                     loading_graph(ids.ADOPTION_ACTIVE)],
                                    "Rolling 1, 7 and 28 local days, up to today"), lg=6),
                ],
                className="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col(section("Cohorts: share still active", loading_graph(ids.ADOPTION_COHORTS),
                                    "People by the month of their first interaction, active each month since"), lg=6),
                    dbc.Col(section("Team league table",
                                    [loading_table(_grid(ids.ADOPTION_LEAGUE, LEAGUE_COLUMNS, "No team in your scope.",
                                                         260)),
                                     _definitions(("stickiness", "cost_per_active_usd"))],
                                    "Teams ranked by adoption, stickiness and cost per active person"), lg=6),
                ],
                className="g-3 mt-1",
            ),
            dbc.Row(
                dbc.Col(section("Seats to reclaim",
                                [reclaim_tools,
                                 loading_table(_grid(ids.ADOPTION_RECLAIM, RECLAIM_COLUMNS,
                                                     "No idle seats in your scope.", 420))],
                                "People with access and no interaction in the last days, as of today")),
                className="g-3 mt-1",
            ),
        ],
        **{"aria-labelledby": ids.ADOPTION_TITLE},
    )  # fmt: skip
