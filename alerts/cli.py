"""Budget and alert commands: `flask --app app budget-set|budget-list|budget-remove|alert-channel-add|
alert-channel-list|alert-channel-remove|alert-list|check-alerts`. Same rules as the app: budgets are an
Admin's (the command line acts as one unless `--as` names an account), a Manager may add recipients for
their own teams only; every change is audited."""

from __future__ import annotations

import secrets

import click
from flask import current_app
from flask.cli import with_appcontext

from alerts import rules
from alerts.check import check_alerts
from alerts.store import CADENCES, AlertStore
from auth.cli import printable
from auth.scope import scope_for
from auth.session import store as accounts
from queries import directory
from queries.filters import parse_date
from queries.period import PeriodError
from queries.scope import Scope


def alert_store() -> AlertStore:
    return current_app.extensions["telemetry_alerts"]


def _fail(error: ValueError) -> click.ClickException:
    return click.ClickException(str(error))


def _actor(as_email: str | None) -> tuple[str, Scope, bool]:
    """Who acts (for the audit), what they may see, and whether they may change budgets."""
    if as_email is None:
        return "cli", Scope.organization(), True
    row = accounts().account_by_email(as_email)
    if row is None or row.disabled or row.role not in ("admin", "manager"):
        raise click.ClickException(f"No admin or manager account {as_email!r}.")
    return row.email, scope_for(row.role, row.user_id), row.role == "admin"


def known_scope(text: str, viewer: Scope) -> tuple[str, str]:
    """A scope that exists in the directory and that `viewer` may see (a manager: their teams only)."""
    kind, ident = rules.parse_scope(text)
    if kind == "org" and not viewer.is_organization:
        raise ValueError("Only an admin can act on the whole organization; use team:ID for one of your teams.")
    if kind == "team" and ident not in set(directory.teams_in_scope(viewer)["team_id"].to_list()):
        where = "your teams" if viewer.team_ids is not None else "the directory"
        raise ValueError(f"Unknown team {ident!r}: not in {where}.")
    if kind == "agent":
        if not viewer.is_organization:
            raise ValueError("A manager can add recipients for their teams only; use team:ID.")
        if ident not in set(directory.agents()["agent_id"].to_list()):
            raise ValueError(f"Unknown agent {ident!r}: not in the directory.")
    return kind, ident


@click.command("budget-set")
@click.option("--scope", "scope_text", required=True, help="org, team:ID or agent:ID")
@click.option("--usd", required=True, help="The budget per period in USD, exact (e.g. 1500 or 99.50).")
@click.option("--cadence", type=click.Choice(CADENCES), default="billing", show_default=True,
              help="billing: periods from BILLING_ANCHOR_DAY; month: calendar months.")  # fmt: skip
@click.option("--as", "as_email", default=None, help="Act as this account (only an admin may set budgets).")
@with_appcontext
def budget_set_command(scope_text: str, usd: str, cadence: str, as_email: str | None) -> None:
    """Set (or change) the budget of the organization, a team or an agent."""
    actor, viewer, is_admin = _actor(as_email)
    if not is_admin:
        raise click.ClickException("Only an admin can set budgets.")
    try:
        amount = rules.parse_amount(usd)
        kind, ident = known_scope(scope_text, viewer)
    except ValueError as error:
        raise _fail(error) from None
    budget, before = alert_store().set_budget(kind, ident, cadence, amount)
    accounts().audit(actor, "budget_set", {"scope": budget.scope, "cadence": cadence, "usd": str(amount),
                                           "before": before}, None)  # fmt: skip
    per = "billing period" if cadence == "billing" else "calendar month"
    click.echo(f"Budget for {budget.scope} per {per}: ${amount:,}" + (f" (was ${before})" if before else ""))


@click.command("budget-list")
@with_appcontext
def budget_list_command() -> None:
    """Every budget: scope, cadence and amount."""
    for budget in alert_store().budgets():
        click.echo(f"{printable(budget.scope):<28} {budget.cadence:<8} {budget.amount_usd}")


@click.command("budget-remove")
@click.option("--scope", "scope_text", required=True, help="org, team:ID or agent:ID")
@click.option("--cadence", type=click.Choice(CADENCES), default=None, help="Only this cadence's budget.")
@click.option("--as", "as_email", default=None, help="Act as this account (only an admin may remove budgets).")
@with_appcontext
def budget_remove_command(scope_text: str, cadence: str | None, as_email: str | None) -> None:
    """Remove a budget; its alerts already sent stay in the list."""
    actor, _viewer, is_admin = _actor(as_email)
    if not is_admin:
        raise click.ClickException("Only an admin can remove budgets.")
    try:
        kind, ident = rules.parse_scope(scope_text)
    except ValueError as error:
        raise _fail(error) from None
    removed = alert_store().remove_budget(kind, ident, cadence)
    if not removed:
        raise click.ClickException(f"No budget for {printable(scope_text)}.")
    accounts().audit(actor, "budget_remove", {"scope": scope_text, "cadence": cadence, "count": removed}, None)
    click.echo(f"Removed {removed} budget(s) of {printable(scope_text)}.")


@click.command("alert-channel-add")
@click.option("--email", default=None, help="Send alerts to this address.")
@click.option("--webhook", default=None, help="POST alerts to this http(s) URL (Slack, Teams or generic JSON).")
@click.option("--scope", "scope_text", default="org", show_default=True,
              help="Which alerts: org (all of them), team:ID or agent:ID.")  # fmt: skip
@click.option("--as", "as_email", default=None, help="Act as this account (a manager: their teams only).")
@with_appcontext
def alert_channel_add_command(email: str | None, webhook: str | None, scope_text: str, as_email: str | None) -> None:
    """Add a recipient of alerts: an email address or a webhook (its signing secret is printed once)."""
    if (email is None) == (webhook is None):
        raise click.ClickException("Give one of --email ADDRESS or --webhook URL.")
    actor, viewer, _is_admin = _actor(as_email)
    allow_local = current_app.config["WEBHOOK_ALLOW_LOCAL"]
    try:
        kind, ident = known_scope(scope_text, viewer)
        target = rules.check_email(email) if email else rules.check_webhook_url(webhook, allow_local)
    except ValueError as error:
        raise _fail(error) from None
    fmt = rules.webhook_format(target) if webhook else ""
    secret = secrets.token_hex(32) if webhook else ""
    channel_id = alert_store().add_channel("webhook" if webhook else "email", target, fmt, secret, kind, ident, actor)
    shown = rules.shown_url(target) if webhook else target
    scope = "org" if kind == "org" else f"{kind}:{ident}"
    if channel_id is None:
        raise click.ClickException(f"{printable(shown)} receives the alerts of {printable(scope)} already.")
    accounts().audit(actor, "alert_channel_add", {"channel": channel_id, "kind": "webhook" if webhook else "email",
                                                  "to": shown, "scope": scope}, None)  # fmt: skip
    click.echo(f"Channel {channel_id}: {printable(shown)} receives the alerts of {printable(scope)}.")
    if webhook:
        click.echo(f"Signing secret (X-Telemetry-Signature, shown once): {secret}")


@click.command("alert-channel-list")
@with_appcontext
def alert_channel_list_command() -> None:
    """Every channel: id, kind, where to (webhook URLs shortened) and the alerts it receives."""
    for c in alert_store().channels():
        shown = rules.shown_url(c.target) if c.kind == "webhook" else c.target
        click.echo(f"{c.id:<4} {c.kind:<8} {printable(shown):<40} {printable(c.scope)}")


@click.command("alert-channel-remove")
@click.option("--id", "channel_id", required=True, type=int)
@click.option("--as", "as_email", default=None, help="Act as this account (a manager: their teams only).")
@with_appcontext
def alert_channel_remove_command(channel_id: int, as_email: str | None) -> None:
    actor, viewer, _is_admin = _actor(as_email)
    channel = next((c for c in alert_store().channels() if c.id == channel_id), None)
    if channel is None:
        raise click.ClickException(f"No channel {channel_id}.")
    try:
        known_scope(channel.scope, viewer)
    except ValueError as error:
        raise _fail(error) from None
    alert_store().remove_channel(channel_id)
    accounts().audit(actor, "alert_channel_remove", {"channel": channel_id, "scope": channel.scope}, None)
    click.echo(f"Removed channel {channel_id}.")


@click.command("alert-list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@with_appcontext
def alert_list_command(limit: int) -> None:
    """The newest alert deliveries: when, what, to whom, by which channel, and whether it failed."""
    for d in alert_store().deliveries(limit):
        shown = rules.shown_url(d["target"]) if d["channel_kind"] == "webhook" else d["target"]
        subject = d["detail"].get("subject", "")
        error = f"  {d['error']}" if d["error"] else ""
        click.echo(f"{d['raised_at'][:19]}  {d['status']:<7} {d['channel_kind'] or '-':<7} "
                   f"{printable(shown or '(removed)'):<32} {printable(subject)}{printable(error)}")  # fmt: skip


@click.command("check-alerts")
@click.option("--today", default=None, hidden=True, help="Evaluate as of this local date (tests, backfills).")
@with_appcontext
def check_alerts_command(today: str | None) -> None:
    """Evaluate every budget and spend anomaly once and deliver what is due (as the schedule does; idempotent)."""
    try:
        day = parse_date(today, "today") if today else None  # the one date parser
    except PeriodError as error:
        raise click.BadParameter(str(error), param_hint="--today") from None
    result = check_alerts(day)
    click.echo(f"{result.raised} new alert(s); {result.sent} sent, {result.failed} failed, {result.retrying} to retry.")


COMMANDS = (
    budget_set_command,
    budget_list_command,
    budget_remove_command,
    alert_channel_add_command,
    alert_channel_list_command,
    alert_channel_remove_command,
    alert_list_command,
    check_alerts_command,
)
