"""`check_alerts`: evaluate every budget and spend anomaly once, raise the alerts not raised before, and deliver
what is due from the outbox. Run by `flask --app app check-alerts`, by the schedule (alerts/schedule.py) and
after each write that changes the day's spend.

Thresholds: 50, 80 and 100 % of a budget in its current period (and, LATE_DAYS into a period, in the one
before: a late event may still cross one), and "projected to exceed" (the Billing tab's projection above the
budget while under it). An anomaly: a team's or agent's cost on a day (today or
yesterday) above ANOMALY_MULTIPLE times the median of its ANOMALY_DAYS days before (days without use count
as $0; a median of $0 raises nothing).

Each alert has a key (budget, period and threshold; or team/agent and day) that the store keeps
unique: however many checkers run, and however often, it is raised once, with one delivery per channel.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import socket
import statistics
import threading
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from flask import current_app

from alerts import mail, webhook
from alerts.status import ANOMALY_DAYS, BudgetStatus, Spend, statuses
from alerts.store import Alert, AlertStore, Delivery
from auth.store import utcnow
from layouts._components import format_usd
from queries import directory
from queries.billing_periods import period_label
from queries.period import Period, today_local
from queries.scope import Scope
from reports.formats import format_day

THRESHOLDS = (50, 80, 100)
ANOMALY_MULTIPLE = Decimal(3)
LATE_DAYS = 2  # a period's thresholds are still checked this many days into the next (late events)
MAX_ATTEMPTS = 5  # a delivery that failed this many times is given up, and listed as failed
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    raised: int
    sent: int
    failed: int
    retrying: int


def _names() -> dict[tuple[str, str], str]:
    teams = directory.teams_in_scope(Scope.organization())
    agents = directory.agents()
    found = {("org", ""): "The organization"}
    found |= {("team", t): f"{n} (team)" for t, n in zip(teams["team_id"], teams["name"], strict=True)}
    found |= {("agent", a): f"{n} (agent)" for a, n in zip(agents["agent_id"], agents["name"], strict=True)}
    return found


def _link(period: Period, scope_kind: str, scope_id: str) -> str:
    query = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    if scope_kind != "org":
        query[f"{scope_kind}s"] = scope_id
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/telemetry/billing?{urlencode(query)}"


def _detail(subject: str, lines: list[str], link: str, **figures: object) -> dict:
    text = "\n".join(lines)
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    page = f'{body}<p><a href="{html.escape(link)}">Open the Billing tab in Telemetry</a></p>'
    return {"subject": subject, "text": f"{text}\n\nOpen the Billing tab: {link}", "html": page, "link": link,
            **figures}  # fmt: skip


def budget_alerts(status: BudgetStatus, names: dict[tuple[str, str], str]) -> list[Alert]:
    """The thresholds this budget has reached in its period, and whether it is projected to exceed it."""
    b, period = status.budget, status.period
    who = names.get((b.scope_kind, b.scope_id), f"{b.scope_kind} {b.scope_id}")
    key = f"budget:{b.id}:{period.start.isoformat()}"
    link = _link(period, b.scope_kind, b.scope_id)
    spent, amount = status.spent, b.amount_usd
    projected = status.projection.projected if status.projection else None
    figures = {"budget_usd": str(amount), "spent_usd": str(spent), "period": period_label(period),
               "projected_usd": None if projected is None else str(projected)}  # fmt: skip
    head = f"{format_usd(spent)} of {format_usd(amount)} spent in {period_label(period)}."
    outlook = [] if projected is None else [f"Projected at period end: {format_usd(projected)}."]
    found = []
    for threshold in THRESHOLDS:
        if spent * 100 >= amount * threshold:
            subject = f"{who} has used {threshold}% of its budget"
            lines = [head, *outlook]
            found.append(Alert(f"{key}:{threshold}", "threshold", b.scope_kind, b.scope_id,
                               _detail(subject, lines, link, threshold=threshold, **figures)))  # fmt: skip
    if projected is not None and projected > amount > spent:
        run_out = status.run_out
        subject = f"{who} is projected to exceed its budget"
        lines = [head, *outlook] + ([f"Projected to run out on {format_day(run_out)}."] if run_out else [])
        found.append(Alert(f"{key}:projected", "projected", b.scope_kind, b.scope_id,
                           _detail(subject, lines, link, threshold="projected", **figures)))  # fmt: skip
    return found


def anomaly_alerts(spend: Spend, names: dict[tuple[str, str], str], tz: str) -> list[Alert]:
    """Teams and agents whose cost today or yesterday is above ANOMALY_MULTIPLE × their trailing median."""
    found = []
    for scope in spend.window:
        kind, ident = scope
        if kind == "org":
            continue
        costs = spend.window_costs(scope)
        for day in (spend.today - dt.timedelta(days=1), spend.today):
            before = [costs.get(day - dt.timedelta(days=i), Decimal(0)) for i in range(1, ANOMALY_DAYS + 1)]
            median, cost = statistics.median(before), costs.get(day, Decimal(0))
            if median <= 0 or cost <= ANOMALY_MULTIPLE * median:
                continue
            who = names.get(scope, f"{kind} {ident}")
            subject = f"Unusual spend: {who} on {format_day(day)}"
            lines = [f"{format_usd(cost)} on {format_day(day)}, more than {ANOMALY_MULTIPLE} times its median "
                     f"of {format_usd(median)} a day over the {ANOMALY_DAYS} days before."]  # fmt: skip
            link = _link(Period(day, day, tz), kind, ident)
            detail = _detail(subject, lines, link, day=day.isoformat(), cost_usd=str(cost), median_usd=str(median))
            found.append(Alert(f"anomaly:{kind}:{ident}:{day.isoformat()}", "anomaly", kind, ident, detail))
    return found


def evaluate(store: AlertStore, today: dt.date) -> tuple[list[BudgetStatus], list[Alert]]:
    """Every budget's status and every alert that holds now (raised before or not); in the first LATE_DAYS
    days of a period also the thresholds of the period before, which late events may still cross."""
    config = current_app.config
    anchor, tz = config["BILLING_ANCHOR_DAY"], config["ORG_TIMEZONE"]
    budgets = store.budgets()
    found, spend = statuses(budgets, today, anchor, tz)
    names = _names()
    alerts = [alert for status in found for alert in budget_alerts(status, names)]
    for period_start, late in _new_periods(found, today).items():
        before, _spend = statuses(late, period_start - dt.timedelta(days=1), anchor, tz)
        alerts += [a for s in before for a in budget_alerts(s, names) if a.kind == "threshold"]
    return found, alerts + anomaly_alerts(spend, names, tz)


def _new_periods(found: list[BudgetStatus], today: dt.date) -> dict[dt.date, list]:
    """The budgets whose period began less than LATE_DAYS ago, by the day it began."""
    late: dict[dt.date, list] = {}
    for status in found:
        if (today - status.period.start).days < LATE_DAYS:
            late.setdefault(status.period.start, []).append(status.budget)
    return late


def check_alerts(today: dt.date | None = None) -> CheckResult:
    """Raise the alerts that hold and were never raised, then deliver every delivery due (in the app context)."""
    store: AlertStore = current_app.extensions["telemetry_alerts"]
    today = today or today_local(current_app.config["ORG_TIMEZONE"])
    _statuses, alerts = evaluate(store, today)
    channels = store.channels()
    now = utcnow()
    raised = sum(store.raise_alert(alert, channels, now) for alert in alerts)
    sent, failed, retrying = deliver_due(store)
    return CheckResult(raised, sent, failed, retrying)


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def deliver_due(store: AlertStore) -> tuple[int, int, int]:
    """Send every delivery due, one claimed at a time: (sent, given up, to retry later)."""
    config = current_app.config
    lease = dt.timedelta(seconds=config["ALERTS_LEASE_SECONDS"])
    worker = _worker()
    outcomes: dict[int, str] = {}  # each delivery's last outcome: sent, failed (given up) or retry
    while (delivery := store.claim(worker, utcnow(), lease)) is not None:
        try:
            send(delivery)
        except (mail.MailError, webhook.WebhookError) as error:
            retry = None
            if delivery.attempts < MAX_ATTEMPTS and delivery.channel is not None:
                wait = config["ALERTS_RETRY_SECONDS"] * 2 ** (delivery.attempts - 1)
                retry = utcnow() + dt.timedelta(seconds=wait)
            store.mark_failed(delivery.id, worker, str(error), retry)
            outcomes[delivery.id] = "retry" if retry else "failed"
            logger.warning("Alert delivery %s failed (attempt %s): %s", delivery.id, delivery.attempts, error)
        else:
            store.mark_sent(delivery.id, worker, utcnow())
            outcomes[delivery.id] = "sent"
    counts = list(outcomes.values())
    return counts.count("sent"), counts.count("failed"), counts.count("retry")


def delivery_key(delivery: Delivery) -> str:
    """The same for every attempt: the email's Message-ID and the webhook's Idempotency-Key come from it."""
    return f"{delivery.alert.key}:channel:{delivery.channel.id if delivery.channel else 0}"


def send(delivery: Delivery) -> None:
    config, channel, detail = current_app.config, delivery.channel, delivery.alert.detail
    if channel is None:
        raise webhook.WebhookError("The channel was removed.")
    key = delivery_key(delivery)
    if channel.kind == "email":
        settings = mail.SmtpSettings.from_config(config)
        message = mail.build_message(settings, channel.target, detail["subject"], detail["text"], detail["html"], key)
        mail.send(settings, message)
    else:
        payload = webhook.body(channel.format, detail, key)
        webhook.post(channel.target, payload, channel.secret, key, config["WEBHOOK_ALLOW_LOCAL"],
                     config["WEBHOOK_TIMEOUT"])  # fmt: skip
