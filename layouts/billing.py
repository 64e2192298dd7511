"""Billing tab: what a billing period cost, where the current one is heading, and who spent it."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts._components import (
    chart_section,
    in_view,
    loading_graph,
    loading_placeholder,
    loading_table,
    plain_table,
    section,
)

PICK_PERIOD = "Pick a billing period"  # shown only when the URL's period cannot be read
CHART_HEIGHT = 340
BREAKDOWN_HEIGHT = 420  # teams and agents: up to 15 bars, and their tables


def columns(key_header: str) -> list[dict]:
    """A breakdown table's columns (`plain_table`), the most expensive first."""
    return [
        {"field": "label", "header": key_header, "detail": "label"},  # a long name in full on hover
        {"field": "cost", "header": "Cost (USD)", "sort": "desc"},
        {"field": "share", "header": "Share of total", "title": "This row's part of the total cost of the period"},
        {"field": "interactions", "header": "Interactions"},
    ]


def table(table_id: str, key_header: str, rows: list[dict], total: dict | None, empty: str) -> html.Div:
    """A sortable table of cost per team or agent with its total row under it; put in its place once in view. A
    table drawn by the browser (assets/tables.js), not an AG Grid: a few dozen rows, and a grid's start was a
    large part of the tab's work once in view."""
    return plain_table(table_id, f"Cost per {key_header.lower()}", columns(key_header), rows,
                       height=BREAKDOWN_HEIGHT, empty=empty, total=total)  # fmt: skip


def _table(place_id: str) -> dcc.Loading:
    """Where the table (`table`, with the rows the callback answers) goes once in view."""
    return loading_table(html.Div(in_view(place_id, loading_placeholder(BREAKDOWN_HEIGHT), BREAKDOWN_HEIGHT)))


def _selector() -> dbc.Row:
    dropdown = dcc.Dropdown(
        id=ids.BILLING_PERIOD,
        clearable=False,
        searchable=False,
        placeholder=PICK_PERIOD,
    )
    return dbc.Row(
        [
            dbc.Col(
                [dbc.Label("Period", html_for=ids.BILLING_PERIOD, className="small text-muted mb-1"), dropdown],
                md=5,
                xl=4,
            ),
            dbc.Col(html.Div(id=ids.BILLING_PERIOD_NOTE, className="small text-muted pb-2"), md=7, xl=8),
        ],
        className="g-3 align-items-end mb-3",
    )


def _field(label: str, control, width: int) -> dbc.Col:
    return dbc.Col([dbc.Label(label, html_for=control.id, className="small mb-1"), control], md=width)


def _budget_forms() -> dbc.Card:
    """Set a budget (Admins: the row is shown to them only) and add an email recipient (Admins; Managers for
    their teams). The scope lists are filled per viewer by the tab's callback; the server checks every change."""
    cadences = [{"label": "Billing period", "value": "billing"}, {"label": "Calendar month", "value": "month"}]
    budget = dbc.Row(
        [
            _field("Budget for", dbc.Select(id=ids.BILLING_BUDGET_SCOPE, options=[], value="org"), 4),
            _field("Amount (USD)", dbc.Input(id=ids.BILLING_BUDGET_USD, type="text", inputMode="decimal"), 3),
            _field("Per", dbc.Select(id=ids.BILLING_BUDGET_CADENCE, value="billing", options=cadences), 3),
            dbc.Col(dbc.Button("Set budget", id=ids.BILLING_BUDGET_SET, color="primary"), md=2),
        ],
        id=ids.BILLING_BUDGET_FORM,
        className="g-2 align-items-end mb-3",
        style={"display": "none"},
    )
    recipient = dbc.Row(
        [
            _field("Send alerts to (email)", dbc.Input(id=ids.BILLING_RECIPIENT_EMAIL, type="email"), 4),
            _field("Alerts of", dbc.Select(id=ids.BILLING_RECIPIENT_SCOPE, options=[]), 4),
            dbc.Col(dbc.Button("Add recipient", id=ids.BILLING_RECIPIENT_ADD, color="secondary"), md=2),
        ],
        className="g-2 align-items-end",
    )
    feedback = html.Div(id=ids.BILLING_BUDGET_FEEDBACK, role="status", className="small mt-2")
    header = dbc.CardHeader(html.Div("Budgets and recipients", className="fw-semibold"), className="bg-body")
    return dbc.Card([header, dbc.CardBody([budget, recipient, feedback])], className="mt-3")


def layout(**query: str) -> html.Div:
    return html.Div(
        [
            html.H1("Billing", className="visually-hidden"),  # the tab pills name it for the eye
            dcc.Store(id=ids.BILLING_QUERY, data=query),
            dcc.Store(id=ids.BILLING_PERIOD_SHOWN),
            dcc.Store(id=ids.BILLING_PERIOD_CHOSEN),
            dcc.Store(id=ids.BILLING_NEW_SEARCH),
            _selector(),
            html.Div(id=ids.BILLING_MESSAGE),
            dcc.Loading(html.Div(id=ids.BILLING_KPIS, className="mb-3"), type="dot"),
            dbc.Row(
                [
                    dbc.Col(
                        section("Cost per day", loading_graph(ids.BILLING_DAILY, CHART_HEIGHT),
                                "Local days in the organization's time zone", chart=ids.BILLING_DAILY),
                        lg=8,
                    ),
                    dbc.Col(chart_section("Cost per model", ids.BILLING_MODEL_CHART, CHART_HEIGHT), lg=4),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(chart_section("Cost per team", ids.BILLING_TEAM_CHART, BREAKDOWN_HEIGHT, below_fold=True),
                            lg=5),
                    dbc.Col(section("Teams", _table(ids.BILLING_TEAM_TABLE),
                                    "Cents allocated so the rows add up to the total exactly"), lg=7),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(chart_section("Cost per agent", ids.BILLING_AGENT_CHART, BREAKDOWN_HEIGHT, below_fold=True),
                            lg=5),
                    dbc.Col(section("Agents", _table(ids.BILLING_AGENT_TABLE),
                                    "Cents allocated so the rows add up to the total exactly"), lg=7),
                ],
                className="g-3",
            ),
            dcc.Loading(html.Div(id=ids.BILLING_BUDGETS, className="mt-3"), type="dot"),
            _budget_forms(),
        ],
        id="billing-page",
    )  # fmt: skip
