"""Alerts delivered through real channels on loopback: an SMTP server (aiosmtpd) and an HTTP receiver
(http.server), once each, even with two checkers at once and a checker that stopped mid-send."""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import hmac
import json
import socket
import threading
import time
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from alerts.check import check_alerts
from alerts.schedule import Checker
from auth.store import utcnow
from tests.conftest import make_app
from tests.test_alerts_budgets import TODAY, check, cli, store
from tests.test_ingest import event, jsonl, with_prices
from tests.test_otlp import TOKEN, otlp_json, otlp_json_span

SALES_ALERTS = {  # team:t_sales at $2 on 9 March (tests/test_alerts_budgets.py)
    "Sales (team) has used 50% of its budget",
    "Sales (team) has used 80% of its budget",
    "Sales (team) has used 100% of its budget",
}


class Inbox:
    """aiosmtpd's handler: every message the server accepted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.changed:
            self.messages.append(message)
            self.changed.notify_all()
        return "250 Message accepted for delivery"

    def subjects(self) -> list[str]:
        return sorted(m["Subject"] for m in self.messages)

    def wait_for(self, count: int, timeout: float = 60) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.messages) >= count, timeout), self.subjects()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver(ThreadingHTTPServer):
    """Answers each POST with the next of `answers` (a status, or "hang": no answer until the test ends), then 200."""

    daemon_threads = True

    def __init__(self, answers: list) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers, self.received, self.release = list(answers), [], threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook/secret-path"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server: Receiver = self.server
        server.received.append((dict(self.headers), body))
        answer = server.answers.pop(0) if server.answers else 200
        if answer == "hang":
            server.release.wait()
            return
        self.send_response(answer)
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def receiver():
    servers = []

    def start(*answers) -> Receiver:
        server = Receiver(list(answers))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def app(data_dir: Path, password_hash: str, inbox):
    _handler, port = inbox
    return make_app(
        data_dir, password_hash, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False,
        SMTP_FROM="telemetry@acme.example", PUBLIC_URL="https://telemetry.example", WEBHOOK_ALLOW_LOCAL=True,
        ALERTS_RETRY_SECONDS=0, WEBHOOK_TIMEOUT=0.5,
    )  # fmt: skip


def _budgets(app) -> None:
    assert cli(app, "budget-set", "--scope", "team:t_sales", "--usd", "2").exit_code == 0
    assert cli(app, "alert-channel-add", "--email", "finance@acme.example").exit_code == 0


def test_an_alert_email_has_text_html_a_link_and_a_stable_message_id(app, inbox) -> None:
    messages, _port = inbox
    _budgets(app)
    assert "3 new alert(s); 3 sent, 0 failed" in check(app)
    assert messages.subjects() == sorted(SALES_ALERTS)
    message = next(m for m in messages.messages if "100%" in m["Subject"])
    assert message["To"] == "finance@acme.example" and message["From"] == "telemetry@acme.example"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = "https://telemetry.example/telemetry/billing?start=2026-03-01&end=2026-03-31&teams=t_sales"
    assert "$2.20 of $2.00 spent in 1 Mar – 31 Mar 2026." in text and link in text
    assert f'<a href="{link.replace("&", "&amp;")}">' in html
    assert message["Message-ID"].endswith("@acme.example>")
    assert "0 new alert(s); 0 sent" in check(app)  # nothing twice
    assert len(messages.messages) == 3


def test_two_checkers_at_once_deliver_each_alert_once(app, inbox) -> None:
    messages, _port = inbox
    _budgets(app)
    assert cli(app, "alert-channel-add", "--email", "sales-lead@acme.example", "--scope", "team:t_sales").exit_code == 0
    barrier = threading.Barrier(2)
    errors = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait()
                check_alerts(TODAY)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    sent = sorted((m["To"], m["Subject"]) for m in messages.messages)
    assert sent == sorted((to, s) for to in ("finance@acme.example", "sales-lead@acme.example") for s in SALES_ALERTS)
    assert len({m["Message-ID"] for m in messages.messages}) == 6


def test_a_checker_stopped_between_claim_and_send_is_relieved_and_nothing_is_lost(app, inbox) -> None:
    messages, _port = inbox
    _budgets(app)
    with app.app_context():
        s = store(app)
        from alerts.check import evaluate

        _statuses, found = evaluate(s, TODAY)
        for alert in found:
            s.raise_alert(alert, s.channels(), utcnow())
        # A process claims one delivery and dies before sending it (its lease: 0 s, long over at the next check).
        dead = s.claim("dead-worker", utcnow(), dt.timedelta(0))
        assert dead is not None
    assert "0 new alert(s); 3 sent" in check(app)
    assert messages.subjects() == sorted(SALES_ALERTS)
    # The dead process's late mark changes nothing: the delivery is another worker's now.
    s.mark_failed(dead.id, "dead-worker", "killed", None)
    assert {d["status"] for d in s.deliveries()} == {"sent"}


def test_a_copy_sent_again_after_a_crash_past_the_send_has_the_same_message_id(app, inbox) -> None:
    """What remains at-least-once: a process that dies after the server took the message but before it marked
    the delivery sent. The copy carries the same Message-ID, so mail clients show one message."""
    messages, _port = inbox
    _budgets(app)
    check(app)
    s = store(app)
    with s._tx() as db:  # as if the mark had never been written
        db.execute("update alert_deliveries set status = 'sending', lease_until = ? where id = 1", ("2000-01-01",))
    assert "3 sent" not in check(app) and len(messages.messages) == 4
    ids = [m["Message-ID"] for m in messages.messages]
    assert ids.count(ids[-1]) == 2


def _webhook(app, url: str) -> str:
    added = cli(app, "alert-channel-add", "--webhook", url)
    assert added.exit_code == 0, added.output
    return added.output.rsplit(": ", 1)[1].strip()  # the signing secret, printed once


def test_a_webhook_is_signed_generic_json_and_retried_after_failing_twice(app, receiver) -> None:
    hook = receiver(500, 503)
    assert cli(app, "budget-set", "--scope", "org", "--usd", "8", "--cadence", "month").exit_code == 0
    secret = _webhook(app, hook.url)
    # org at $8: 50 % and projected to exceed. Each failed twice, retried (back-off 0 s in the test), sent.
    assert "2 new alert(s); 2 sent, 0 failed" in check(app)
    assert len(hook.received) == 4
    bodies = [json.loads(body) for _headers, body in hook.received]
    assert bodies[0] == bodies[1] and bodies[0]["id"] == hook.received[2][0]["Idempotency-Key"]
    headers, body = hook.received[-1]
    expected = hmac.new(secret.encode(), headers["X-Telemetry-Timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["X-Telemetry-Signature"] == "sha256=" + expected.hexdigest()
    payload = json.loads(body)
    assert payload["alert"]["subject"] == "The organization is projected to exceed its budget"
    assert payload["alert"]["budget_usd"] == "8" and "text" in payload
    listed = cli(app, "alert-list").output
    assert "secret-path" not in listed and "http://127.0.0.1/…" in listed


def test_a_webhook_that_times_out_is_given_up_after_the_last_try_and_listed_as_failed(app, receiver) -> None:
    hook = receiver(*["hang"] * 5)  # then 200
    assert cli(app, "budget-set", "--scope", "team:t_legal", "--usd", "3").exit_code == 0  # 66.7 %, projected 8.57
    _webhook(app, hook.url)
    # The 50 % alert times out five times and is given up; the projection is sent at its first try.
    assert "2 new alert(s); 1 sent, 1 failed, 0 to retry" in check(app)
    assert len(hook.received) == 6
    listed = {line.split()[1]: line for line in cli(app, "alert-list").output.splitlines()}
    assert "Legal (team) has used 50% of its budget" in listed["failed"] and "timed out" in listed["failed"]
    assert "Legal (team) is projected to exceed its budget" in listed["sent"]


def test_slack_and_teams_bodies() -> None:
    from alerts.webhook import body

    detail = {"subject": "S", "text": "T", "link": "https://x.example/telemetry/billing", "html": "<p>T</p>"}
    assert body("slack", detail, "k") == {"text": "S\nT\nhttps://x.example/telemetry/billing"}
    teams = body("teams", detail, "k")
    card = teams["attachments"][0]
    assert teams["type"] == "message" and card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["actions"][0]["url"] == "https://x.example/telemetry/billing"


def test_an_otlp_span_crossing_a_threshold_is_emailed_by_the_serving_process(data_dir, password_hash, inbox) -> None:
    """The whole way: an exporter's span, its write, the checker woken, the email in the SMTP server's hands.
    The delay is printed (-s) for the closing note; the test waits for the email, however long it takes."""
    messages, port = inbox
    with_prices(data_dir)
    app = make_app(data_dir, password_hash, INGEST_TOKEN=TOKEN, SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                   SMTP_STARTTLS=False, ALERTS_EVERY_SECONDS=3600)  # fmt: skip
    cli(app, "budget-set", "--scope", "team:t_eng", "--usd", "15", "--cadence", "month")
    cli(app, "alert-channel-add", "--email", "eng@acme.example", "--scope", "team:t_eng")
    checker = Checker(app, every=3600)
    checker.start()
    try:
        span = otlp_json_span("eee19b7ec3c1b176", "u4")
        span["attributes"][3]["value"]["intValue"] = "4000000"  # 4M × 2.5 + 80 × 12.5 per million: $10.001
        at = utcnow() - dt.timedelta(minutes=1)
        span["startTimeUnixNano"] = str(int(at.timestamp() * 1e9))
        span["endTimeUnixNano"] = str(int(at.timestamp() * 1e9) + 250_000_000)
        started = time.perf_counter()
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        answer = app.test_client().post("/v1/traces", data=json.dumps(otlp_json(span)), headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        messages.wait_for(1)  # $10.001 of $15: 66.7 %
        delay = time.perf_counter() - started
    finally:
        checker.stop()
    print(f"OTLP span to email: {delay:.2f} s")
    assert [m["Subject"] for m in messages.messages] == ["Engineering (team) has used 50% of its budget"]


def test_a_write_wakes_the_checker_of_the_serving_process(app, inbox, tmp_path: Path) -> None:
    messages, _port = inbox
    assert cli(app, "budget-set", "--scope", "team:t_legal", "--usd", "100", "--cadence", "month").exit_code == 0
    assert cli(app, "alert-channel-add", "--email", "finance@acme.example").exit_code == 0
    checker = Checker(app, every=3600)  # the schedule would wait an hour: only the write can wake it
    checker.start()
    try:
        # Today (the real one) gets $60 for Legal: 60 % of its month.
        now = utcnow()
        record = event("now1", now.strftime("%Y-%m-%dT%H:%M:%SZ"), user_id="u3", agent_id="a_draft", cost_usd="60")
        result = cli(app, "ingest", str(jsonl(tmp_path / "now.jsonl", record)))
        assert result.exit_code == 0, result.output
        messages.wait_for(1)
    finally:
        checker.stop()
    assert messages.messages[0]["Subject"] == "Legal (team) has used 50% of its budget"
