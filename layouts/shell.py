"""The frame around every tab: breadcrumb, tab navigation, the shared filter bar, the page."""

from __future__ import annotations

import copy

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts._components import DAY_PICKER
from layouts._report import report_button, report_dialog
from queries.period import PRESETS

TABS = (
    ("dashboard", "Dashboard", "/telemetry"),
    ("analytics", "Analytics", "/telemetry/analytics"),
    ("users", "Users", "/telemetry/users"),
    ("adoption", "Adoption", "/telemetry/adoption"),
    ("billing", "Billing", "/telemetry/billing"),
    ("schedules", "Schedules", "/telemetry/schedules"),
)


def _nav() -> dbc.Nav:
    links = [
        dbc.NavItem(dbc.NavLink(label, href=path, id=ids.NAV_LINKS[slug], active="exact"))
        for slug, label, path in TABS
    ]
    return dbc.Nav(links, pills=True, id=ids.SHELL_NAV)


def _labelled(label: str, control, width: int | bool, control_id: str, **col) -> dbc.Col:
    return dbc.Col([dbc.Label(label, html_for=control_id, className="small text-muted mb-1"), control], md=width, **col)


def copy_link() -> html.Button:
    """Copies the page's address, filters included (assets/copy_link.js); its text says when it has."""
    return html.Button(
        "Copy link", id=ids.FILTER_COPY_LINK, type="button", className="btn btn-outline-secondary",
        title="Copy the address of this view, with its filters", **{"aria-live": "polite"},
    )  # fmt: skip


def filter_bar() -> dbc.Row:
    """Period preset, date range, teams and agents; the callbacks keep it and the URL in step."""
    preset = dcc.Dropdown(
        id=ids.FILTER_PRESET,
        options=[{"label": label, "value": value} for value, label in PRESETS.items()],
        clearable=False,
        searchable=False,
    )
    # Shown as every tab writes a day; its values (start_date, end_date) and the URL stay ISO dates.
    dates = dcc.DatePickerRange(
        id=ids.FILTER_RANGE, display_format=DAY_PICKER, first_day_of_week=1, minimum_nights=0
    )
    teams = dcc.Dropdown(id=ids.FILTER_TEAMS, multi=True, placeholder="All teams in your scope")
    agents = dcc.Dropdown(id=ids.FILTER_AGENTS, multi=True, placeholder="All agents")
    return dbc.Row(
        [
            _labelled("Period", preset, 2, ids.FILTER_PRESET, id=ids.FILTER_PERIOD),
            _labelled("Dates", dates, 3, ids.FILTER_RANGE),
            _labelled("Teams", teams, 3, ids.FILTER_TEAMS),
            _labelled("Agents", agents, True, ids.FILTER_AGENTS),  # the rest of the row, beside "Copy link"
            dbc.Col(copy_link(), md="auto"),
        ],
        className="g-3 align-items-end",
    )


def page_container() -> html.Div:
    """Dash's page container, a copy of its own: a frame may be sent with its page in place (callbacks/shell.py
    `first_layout`), and Dash's one object is shared by every request."""
    return copy.deepcopy(dash.page_container)


def shell() -> html.Div:
    """Built per request (Dash calls it), so nothing user-specific is baked in at start-up."""
    header = html.Header(
        [
            html.Div(
                [html.Span("Settings", className="text-muted"), html.Span(" › "), html.Strong("Telemetry")],
                className="fs-5",
            ),
            html.Div(
                [
                    report_button(),
                    html.Span(id=ids.SHELL_SCOPE, className="badge text-bg-light border me-2"),
                    html.Span(id=ids.SHELL_USER, className="me-3 text-muted small text-break"),
                    html.Form(  # a POST from this page (Origin-checked), so no link elsewhere signs anyone out
                        html.Button("Log out", type="submit", className="btn btn-outline-secondary btn-sm"),
                        method="post",
                        action="/logout",
                        className="m-0",
                    ),
                ],
                className="d-flex flex-wrap align-items-center row-gap-2",
            ),
        ],
        # Wraps rather than scrolls sideways: at 390 px the account and Log out go below the title.
        className="d-flex flex-wrap justify-content-between align-items-center row-gap-2 py-3 border-bottom mb-3",
    )
    return dbc.Container(
        [
            dcc.Location(id=ids.SHELL_LOCATION, refresh="callback-nav"),
            # a chart card's "Download data (CSV)" (assets/charts.js, callbacks/charts.py): one for every card
            dcc.Store(id=ids.CHART_CSV),
            dcc.Download(id=ids.CHART_DOWNLOAD),
            header,
            html.Nav(_nav(), className="mb-3", **{"aria-label": "Telemetry tabs"}),
            # Every tab's content is in the one main landmark; each page names itself in an h1.
            html.Main(
                [
                    html.Div(filter_bar(), id=ids.FILTER_BAR, className="bg-body-tertiary border rounded p-3 mb-2"),
                    html.Div(id=ids.FILTER_MESSAGE),
                    html.Div(id=ids.SHELL_ERROR, role="alert"),
                    html.Div(id=ids.SHELL_NOTICE, role="status"),
                    html.Div(page_container(), className="mt-3"),
                ]
            ),
            report_dialog(),
        ],
        fluid=True,
        className="px-4 pb-5",
    )
