"""Users tab: who uses the agents, how often, and who has not adopted yet."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from callbacks.grid_rows import MAX_FILTER_CONDITIONS, MAX_SEARCH_CHARS
from layouts import ids
from layouts._components import graph_in_view, grid_overlays, loading_table, section
from queries.users import FREQUENCY_CLASSES


def frequency_help() -> html.Span:
    """The class definitions, from the one place they are defined, behind a help mark."""
    items = [html.Div([html.Strong(name.capitalize()), f": {text}"]) for name, text in FREQUENCY_CLASSES.items()]
    return html.Span(
        [
            # A button, so the keyboard reaches it and the tooltip opens on focus as on hover.
            html.Button([html.Span("?", className="badge rounded-pill text-bg-secondary me-1"), "Frequency classes"],
                        id=ids.USERS_FREQUENCY_HELP, type="button", className="btn btn-link btn-sm p-0 small",
                        style={"cursor": "help"}, **{"aria-describedby": ids.USERS_FREQUENCY_TIP}),
            dbc.Tooltip(items, id=ids.USERS_FREQUENCY_TIP, target=ids.USERS_FREQUENCY_HELP, placement="bottom",
                        style={"textAlign": "left"}),
        ]
    )  # fmt: skip


def grid() -> dag.AgGrid:
    """People a block at a time from the server (infinite row model): searched, filtered and sorted there."""
    return dag.AgGrid(
        id=ids.USERS_GRID,
        rowModelType="infinite",
        getRowId="params.data.user_id",
        columnDefs=[],
        # the columns share the width (flex) rather than being sized to fit on every width change
        # (responsiveSizeToFit), which measured the grid's viewport and scrollbars again each time
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 110, "flex": 1,
                       "filterParams": {"buttons": ["reset"], "maxNumConditions": MAX_FILTER_CONDITIONS}},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 20,
            "cacheBlockSize": 100,
            "maxBlocksInCache": 20,
            # dash-ag-grid answers the newest request only: a second one in flight would never be answered
            "maxConcurrentDatasourceRequests": 1,
            "animateRows": False,
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
            **grid_overlays("Nobody here matches the search or the table's filters."),
        },
        eventListeners={"cellKeyDown": ["selectRowOnEnter(params)"]},  # Space selects already (assets/a11y.js)
        style={"height": "560px"},
        className="ag-theme-quartz",
    )


def layout(**query: str) -> html.Div:
    asked = query.get("view")  # a list when the key is repeated: then the default, as for any unknown value
    view = asked if isinstance(asked, str) and asked in ids.USERS_VIEWS else "all"
    toolbar = dbc.Row(
        [
            dbc.Col(
                dbc.RadioItems(
                    id=ids.USERS_VIEW,
                    options=[{"label": label, "value": value} for value, label in ids.USERS_VIEWS.items()],
                    value=view,
                    inline=True,
                    className="btn-group",
                    inputClassName="btn-check",
                    labelClassName="btn btn-outline-primary btn-sm",
                    labelCheckedClassName="active",
                ),
                width="auto",
            ),
            dbc.Col(dcc.Input(id=ids.USERS_SEARCH, type="search", placeholder="Search name, email, team…",
                              className="form-control form-control-sm", debounce=0.3,
                              maxLength=MAX_SEARCH_CHARS), md=3),  # fmt: skip
            dbc.Col(frequency_help(), width="auto"),
            dbc.Col(
                [
                    dbc.Button("Export CSV", id=ids.USERS_EXPORT, color="secondary", outline=True, size="sm"),
                    dcc.Download(id=ids.USERS_DOWNLOAD),
                ],
                className="ms-auto",
                width="auto",
            ),
        ],
        className="g-2 align-items-center mb-2",
    )
    charts = dbc.Row(  # below the fold: drawn once in view
        [
            dbc.Col(
                section(
                    "Interactions per user",
                    [html.Div(id=ids.USERS_CONCENTRATION, className="small text-muted mb-1"),
                     graph_in_view(ids.USERS_DISTRIBUTION)],
                    "How concentrated usage is: active users by how many interactions they made",
                    chart=ids.USERS_DISTRIBUTION,
                ),
                lg=6,
            ),
            dbc.Col(
                section("Adoption over time", graph_in_view(ids.USERS_ADOPTION),
                        "People who have used an agent at least once, against people with access",
                        chart=ids.USERS_ADOPTION),
                lg=6,
            ),
        ],
        className="g-3 mt-1",
    )  # fmt: skip
    detail = dbc.Offcanvas(
        # Focusable, so a keyboard scrolls a long panel (the charts and tables in it take no focus).
        dcc.Loading(html.Div(id=ids.USERS_DETAIL_BODY, tabIndex="0", **{"aria-label": "Activity"}), type="dot"),
        id=ids.USERS_DETAIL,
        labelledby=ids.USERS_DETAIL_TITLE,
        title="User",
        placement="end",
        is_open=False,
        style={"width": "min(560px, 100vw)"},
    )
    return html.Div(
        [
            html.H1("Users", className="visually-hidden"),  # the tab pills name it for the eye
            dcc.Store(id=ids.USERS_QUERY, data=query),
            dcc.Store(id=ids.USERS_NEW_SEARCH),
            dcc.Store(id=ids.USERS_GRID_REFRESHED),
            html.Div(id=ids.USERS_MESSAGE),
            dcc.Loading(html.Div(id=ids.USERS_CARDS, className="mb-3"), type="dot"),
            toolbar,
            html.Div(id=ids.USERS_SEARCH_NOTE, className="small text-danger mb-1", role="status"),
            loading_table(grid()),
            charts,
            detail,
        ]
    )
