"""The Billing tab's budgets: each budget's cumulative spend against its amount in its current period, % used,
projected spend at period end and the day it is projected to run out; and the alerts sent, in the viewer's
scope (an Admin: every budget; a Manager: their teams' budgets and alerts). Decided on the server."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update
from flask import current_app

from alerts import rules
from alerts.cli import known_scope
from alerts.rules import shown_url
from alerts.status import BudgetStatus, statuses
from alerts.store import AlertStore, Budget
from auth.scope import current_scope
from auth.session import audit, current_account
from callbacks._common import org_timezone, page_filters
from callbacks._figures import COST_COLOUR, MUTED, Figure, figure, money_axis
from layouts import ids
from layouts._components import DAY_HOVER, DAY_TICK, GRAPH_CONFIG, format_day, format_usd
from queries import directory
from queries.billing_periods import period_label
from queries.money import to_cents
from queries.period import PeriodError, today_local
from queries.scope import Scope

CHARTS = 6  # budgets drawn as charts, the most used first; every budget is in the table
CHART_HEIGHT = 220
ALERTS_SHOWN = 20
BUDGET_COLOUR = "#b91c1c"


def _store() -> AlertStore:
    return current_app.extensions["telemetry_alerts"]


def visible(budget_scope: tuple[str, str], scope: Scope) -> bool:
    """Whether the filters' scope (the viewer's, narrowed) covers a budget's or an alert's scope."""
    kind, ident = budget_scope
    if kind == "org":
        return scope.is_organization
    if kind == "team":
        return (scope.team_ids is None or ident in scope.team_ids) and scope.agent_ids is None
    return scope.team_ids is None and (scope.agent_ids is None or ident in scope.agent_ids)


def budget_names() -> dict[tuple[str, str], str]:
    teams = directory.teams_in_scope(Scope.organization())
    agents = directory.agents()
    names = {("org", ""): "Organization"}
    names |= {("team", t): f"Team {n}" for t, n in zip(teams["team_id"], teams["name"], strict=True)}
    return names | {("agent", a): f"Agent {n}" for a, n in zip(agents["agent_id"], agents["name"], strict=True)}


def budget_figure(status: BudgetStatus, name: str) -> Figure:
    """Cumulative spend to today, the projection dashed to the period's end, and the budget drawn across."""
    frame = status.daily
    daily = frame.filter(frame["day"] <= status.today)
    days, spent = daily["day"].to_list(), [float(to_cents(v)) for v in daily["cumulative_usd"]]
    hover = f"%{{x|{DAY_HOVER}}}: %{{customdata}} spent<extra></extra>"
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": days,
            "y": spent,
            "name": "Spent",
            "hovertemplate": hover,
            "customdata": [format_usd(v) for v in daily["cumulative_usd"]],
            "line": {"color": COST_COLOUR},
        }
    ]
    top = max([*spent, float(status.budget.amount_usd)])
    if status.projection is not None and status.projection.remaining_days > 0:
        end = float(to_cents(status.projection.projected))
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [status.today, status.period.end],
                "y": [spent[-1] if spent else 0.0, end],
                "name": "Projected",
                "line": {"dash": "dash", "color": MUTED},
                "hovertemplate": f"%{{x|{DAY_HOVER}}}: projected {format_usd(end)}<extra></extra>",
            }
        )
        top = max(top, end)
    amount = float(status.budget.amount_usd)
    traces.append(
        {
            "type": "scatter",
            "mode": "lines",
            "x": [status.period.start, status.period.end],
            "y": [amount, amount],
            "name": f"Budget {format_usd(status.budget.amount_usd)}",
            "line": {"color": BUDGET_COLOUR, "width": 1.5},
            "hovertemplate": f"Budget {format_usd(status.budget.amount_usd)}<extra></extra>",
        }
    )
    half_day = dt.timedelta(hours=12)
    return figure(
        traces,
        CHART_HEIGHT,
        yaxis=money_axis(top),
        xaxis={"range": [status.period.start - half_day, status.period.end + half_day], "tickformat": DAY_TICK},
        legend={"orientation": "h", "y": 1.02, "x": 0, "xanchor": "left", "yanchor": "bottom"},
        margin={"t": 36, "b": 28},
        hovermode="closest",
        meta={"budget": name},
    )


def percent(value: Decimal) -> str:
    return f"{value * 100:.0f}%"


def _run_out(status: BudgetStatus) -> str:
    day = status.run_out
    if day is None:
        return "lasts the period"
    return f"ran out {format_day(day)}" if status.spent >= status.budget.amount_usd else f"runs out {format_day(day)}"


def _card(status: BudgetStatus, name: str, index: int) -> dbc.Col:
    projected = status.projection.projected if status.projection else status.spent
    over = status.spent >= status.budget.amount_usd
    lines = [
        html.Div(
            [
                html.Span(percent(status.used), className="fs-4 fw-semibold" + (" text-danger" if over else "")),
                html.Span(f" of {format_usd(status.budget.amount_usd)} used", className="text-muted"),
            ]
        ),
        html.Div(
            f"{format_usd(status.spent)} spent · projected {format_usd(projected)} · {_run_out(status)}",
            className="small",
        ),
    ]
    graph = dcc.Graph(
        id=f"billing-budget-chart-{index}",
        figure=budget_figure(status, name),
        config=GRAPH_CONFIG,
        style={"height": f"{CHART_HEIGHT}px"},
    )
    header = [
        html.Div(name, className="fw-semibold"),
        html.Div(period_label(status.period), className="small text-muted"),
    ]
    body = dbc.CardBody([*lines, html.Div(graph, role="img", **{"aria-label": f"{name}: spend against budget"})])
    return dbc.Col(dbc.Card([dbc.CardHeader(header, className="bg-body"), body], className="h-100"), md=6, xl=4)


def _table(found: list[BudgetStatus], names: dict) -> dbc.Table:
    head = html.Thead(
        html.Tr(
            [html.Th(h, scope="col") for h in ("Budget", "Period", "Amount", "Spent", "Used", "Projected", "Runs out")]
        )
    )
    rows = []
    for s in found:
        projected = s.projection.projected if s.projection else s.spent
        cells = [
            period_label(s.period),
            format_usd(s.budget.amount_usd),
            format_usd(s.spent),
            percent(s.used),
            format_usd(projected),
            _run_out(s),
        ]
        name = names.get((s.budget.scope_kind, s.budget.scope_id), s.budget.scope)
        rows.append(html.Tr([html.Th(name, scope="row"), *[html.Td(c) for c in cells]]))
    return dbc.Table(
        [head, html.Tbody(rows)], size="sm", hover=True, responsive=True, className="mb-0", id="billing-budget-table"
    )


def _alerts_sent(scope: Scope) -> html.Div:
    shown = [d for d in _store().deliveries(500) if visible((d["scope_kind"], d["scope_id"]), scope)][:ALERTS_SHOWN]
    if not shown:
        return html.P("No alerts sent yet.", className="text-muted small mb-0", id="billing-alerts-sent")
    head = html.Thead(html.Tr([html.Th(h, scope="col") for h in ("When", "Alert", "To", "Channel", "Result")]))
    rows = []
    for d in shown:
        to = (shown_url(d["target"]) if d["channel_kind"] == "webhook" else d["target"]) or "(removed)"
        when = d["sent_at"] or d["raised_at"]
        result = {
            "sent": "sent",
            "failed": f"failed: {d['error']}",
            "pending": f"retrying: {d['error'] or ''}",
            "sending": "sending",
        }[d["status"]]
        colour = "text-danger" if d["status"] == "failed" else ""
        rows.append(
            html.Tr(
                [
                    html.Td(f"{when[:10]} {when[11:16]} UTC"),
                    html.Td(d["detail"].get("subject", "")),
                    html.Td(to),
                    html.Td(d["channel_kind"] or "-"),
                    html.Td(result, className=colour),
                ]
            )
        )
    return dbc.Table([head, html.Tbody(rows)], size="sm", responsive=True, className="mb-0", id="billing-alerts-sent")


def update_budgets(query: dict | None, today: dt.date | None = None) -> tuple:
    """The budgets section (charts of the most used budgets, a table of all, the alerts sent), whether the
    budget form shows (Admins), and what the forms' scope lists offer."""
    account = current_account()
    if account.role not in ("admin", "manager"):
        return [], HIDDEN, [], [], None
    options = _scope_options(current_scope())
    budget_form = {} if account.role == "admin" else HIDDEN
    return section(query, today), budget_form, options, options, options[0]["value"] if options else None


HIDDEN = {"display": "none"}


def section(query: dict | None, today: dt.date | None = None) -> list:
    try:
        scope = page_filters(query).scope
    except PeriodError:
        return []
    if current_account().role not in ("admin", "manager"):
        return []
    budgets: list[Budget] = [b for b in _store().budgets() if visible((b.scope_kind, b.scope_id), scope)]
    title = html.H2("Budgets", className="h5 mt-2")
    if not budgets:
        return [title, html.P("No budgets in this view.", className="small text-muted")]
    tz = org_timezone()
    today = today or today_local(tz)
    found, _spend = statuses(budgets, today, int(current_app.config["BILLING_ANCHOR_DAY"]), tz)
    found.sort(key=lambda s: (s.budget.scope_kind != "org", -s.used))
    names = budget_names()
    charts = [
        _card(s, names.get((s.budget.scope_kind, s.budget.scope_id), s.budget.scope), i)
        for i, s in enumerate(found[:CHARTS])
    ]
    note = html.P(
        "Each budget in its current period; projected at the run rate shown above.", className="small text-muted"
    )
    alerts = dbc.Card(
        [
            dbc.CardHeader(html.Div("Alerts sent", className="fw-semibold"), className="bg-body"),
            dbc.CardBody(_alerts_sent(scope)),
        ],
        className="mt-3",
    )
    table = dbc.Card(dbc.CardBody(_table(found, names)), className="mt-3")
    return [title, note, dbc.Row(charts, className="g-3"), table, alerts]


def _scope_options(viewer: Scope) -> list[dict]:
    """What the viewer may name: an Admin the organization, every team and agent; a Manager their teams."""
    names = budget_names()
    options = [{"label": "Organization", "value": "org"}] if viewer.is_organization else []
    teams = directory.teams_in_scope(viewer)
    options += [{"label": names.get(("team", t), t), "value": f"team:{t}"} for t in teams["team_id"]]
    if viewer.is_organization:
        options += [{"label": n, "value": f"{k}:{i}"} for (k, i), n in names.items() if k == "agent"]
    return options


def set_budget(clicks: int | None, scope_text: str | None, usd: str | None, cadence: str | None, query: dict | None):
    """An Admin sets a budget from the form; checked and audited as `budget-set` is."""
    if not clicks:
        return no_update, no_update
    if current_account().role != "admin":
        return _told(query, "Only an admin can set budgets.", "text-danger")
    try:
        amount = rules.parse_amount(_typed(usd))
        kind, ident = known_scope(_typed(scope_text), current_scope())
        if cadence not in ("billing", "month"):
            raise ValueError("Choose billing period or calendar month.")
    except ValueError as error:
        return _told(query, str(error), "text-danger")
    budget, before = _store().set_budget(kind, ident, cadence, amount)
    audit("budget_set", {"scope": budget.scope, "cadence": cadence, "usd": str(amount), "before": before})
    return _told(query, f"Budget for {budget.scope} set to {format_usd(amount)}.", "text-success")


def add_recipient(clicks: int | None, email: str | None, scope_text: str | None, query: dict | None):
    """An Admin, or a Manager for their own teams, adds an email recipient of alerts; audited."""
    if not clicks:
        return no_update, no_update
    try:
        kind, ident = known_scope(_typed(scope_text), current_scope())
        address = rules.check_email(_typed(email))
    except ValueError as error:
        return _told(query, str(error), "text-danger")
    scope = "org" if kind == "org" else f"{kind}:{ident}"
    added = _store().add_channel("email", address, "", "", kind, ident, current_account().email)
    if added is None:
        return _told(query, f"{address} receives the alerts of {scope} already.", "text-muted")
    audit("alert_channel_add", {"channel": added, "kind": "email", "to": address, "scope": scope})
    return _told(query, f"{address} will receive the alerts of {scope}.", "text-success")


def _typed(value: object) -> str:
    """What the browser sent, if it is text (anything else is as good as nothing)."""
    return value if isinstance(value, str) else ""


def _told(query: dict | None, text: str, colour: str) -> tuple:
    """The section drawn again (a change shows at once) and what the form says."""
    return section(query), html.Span(text, className=colour)


def register_callbacks(app: dash.Dash) -> None:
    """The forms' buttons (the section itself is a part of the Billing tab's one callback)."""
    app.callback(
        Output(ids.BILLING_BUDGETS, "children", allow_duplicate=True),
        Output(ids.BILLING_BUDGET_FEEDBACK, "children"),
        Input(ids.BILLING_BUDGET_SET, "n_clicks"),
        State(ids.BILLING_BUDGET_SCOPE, "value"),
        State(ids.BILLING_BUDGET_USD, "value"),
        State(ids.BILLING_BUDGET_CADENCE, "value"),
        State(ids.BILLING_QUERY, "data"),
        prevent_initial_call=True,
    )(set_budget)
    app.callback(
        Output(ids.BILLING_BUDGETS, "children", allow_duplicate=True),
        Output(ids.BILLING_BUDGET_FEEDBACK, "children", allow_duplicate=True),
        Input(ids.BILLING_RECIPIENT_ADD, "n_clicks"),
        State(ids.BILLING_RECIPIENT_EMAIL, "value"),
        State(ids.BILLING_RECIPIENT_SCOPE, "value"),
        State(ids.BILLING_QUERY, "data"),
        prevent_initial_call=True,
    )(add_recipient)


def org_budget_line(scope: Scope, today: dt.date) -> str | None:
    """The Dashboard cost card's line, for a viewer of the whole organization with an organization budget."""
    if not scope.is_organization:
        return None
    budgets = [b for b in _store().budgets() if b.scope_kind == "org"]
    if not budgets:
        return None
    tz = org_timezone()
    found, _spend = statuses(budgets[:1], today, int(current_app.config["BILLING_ANCHOR_DAY"]), tz)
    status = found[0]
    return (
        f"Budget: {percent(status.used)} of {format_usd(status.budget.amount_usd)} used ({period_label(status.period)})"
    )


def store_version() -> int:
    """What kept outputs (callbacks/_memo.py) showing budgets follow besides the data version."""
    return _store().version()


update_budgets.also_depends_on = store_version
