"""Delay from an OTLP span that crosses a budget threshold to the alert's email in an SMTP server's hands.

    python3 benchmarks/alert_delay.py --source /work/bench100m/100000000 --out /work/scratch/budgets/delay

In process: the app (no Dash) with the serving process's checker thread (alerts/schedule.py, woken by the
write), an aiosmtpd server on loopback, and one POST /v1/traces through Flask's test client. The folder is a
copy of the source that never writes into it: its events are hard links (`cp -al`: a write adds or swaps files
in the copy's own folders), its rollups and directory copies. "Today" is the data's last day (the source ends
before the real today), so the team's budget is in its period with the data's spend: the budget is set so that
the team is just under 80 % and the span's cost takes it over.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import alerts.check  # noqa: E402
from alerts.schedule import Checker  # noqa: E402
from alerts.status import statuses  # noqa: E402
from alerts.store import Budget  # noqa: E402
from app import create_app  # noqa: E402
from data import schema  # noqa: E402
from queries import usage  # noqa: E402
from queries.scope import Scope  # noqa: E402

TOKEN = "delay-benchmark-token-0123456789"
TEAM, USER, AGENT, MODEL = "t_sales", "u_00002", "a_code_review_assistant", "claude-opus-4.1"
SPAN_COST = Decimal(10_000_000 * 15 + 2_000_000 * 75) / 1_000_000  # opus: $150 in + $150 out


def make_copy(source: Path, out: Path) -> None:
    if out.exists():
        return
    out.mkdir(parents=True)
    subprocess.run(["cp", "-al", str(source / "events"), str(out / "events")], check=True)
    shutil.copytree(source / "directory", out / "directory")
    shutil.copytree(source / "rollups", out / "rollups")
    version = json.loads((source / ".version").read_text())
    version["events_folder"] = schema.folder_stat(out / "events")  # its own folder, as a write would note it
    (out / ".version").write_text(json.dumps(version))


class Inbox:
    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.at = 0.0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        self.at = time.perf_counter()
        self.arrived.set()
        return "250 OK"


def span(day: dt.date) -> dict:
    start = int(dt.datetime(day.year, day.month, day.day, 17, tzinfo=dt.UTC).timestamp() * 1e9)
    attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.id": AGENT, "gen_ai.request.model": MODEL,
                  "user.id": USER}  # fmt: skip
    values = [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()]
    values += [{"key": "gen_ai.usage.input_tokens", "value": {"intValue": "10000000"}},
               {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "2000000"}}]  # fmt: skip
    one = {"traceId": "5b8efff798038103d269b633813fc60d", "spanId": f"{time.time_ns() % 2**63:016x}",
           "name": "invoke_agent", "kind": 1, "startTimeUnixNano": str(start),
           "endTimeUnixNano": str(start + 250_000_000), "attributes": values, "status": {}}  # fmt: skip
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "bench"}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": {"name": "b"}, "spans": [one]}]}]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    make_copy(args.source.resolve(), args.out.resolve())
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    tz = "America/New_York"
    for old in args.out.glob("bench-accounts.sqlite*"):  # a new budget each run: its thresholds are new
        old.unlink()
    app = create_app({"DATA_DIR": str(args.out), "SECRET_KEY": "bench", "ORG_TIMEZONE": tz, "INGEST_TOKEN": TOKEN,
                      "ACCOUNTS_DB": str(args.out / "bench-accounts.sqlite"), "SMTP_HOST": "127.0.0.1",
                      "SMTP_PORT": port, "SMTP_STARTTLS": False}, with_dash=False)  # fmt: skip
    store = app.extensions["telemetry_alerts"]
    with app.app_context():
        today = usage.data_bounds(Scope.organization(), tz)["last_day"][0]
        alerts.check.today_local = lambda _tz: today  # the checker's "today": the data's last day
        (status,), _spend = statuses([Budget(0, "team", TEAM, "billing", Decimal(1))], today, 1, tz)
        amount = ((status.spent + SPAN_COST / 2) / Decimal("0.8")).quantize(Decimal("0.01"))
        store.set_budget("team", TEAM, "billing", amount)
        alerts.check.check_alerts(today)  # 50 % raised before any channel: nothing to send
        store.add_channel("email", "finance@acme.example", "", "", "org", "", "bench")
        used = f"{status.spent / amount:.2%}"
        print(f"today {today}; {TEAM} spent {status.spent:.2f} of {amount} ({used}); span ${SPAN_COST}")
    checker = Checker(app, every=3600)
    checker.start()
    try:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        started = time.perf_counter()
        answer = app.test_client().post("/v1/traces", data=json.dumps(span(today)), headers=headers)
        answered = time.perf_counter()
        assert answer.status_code == 200, answer.get_data(as_text=True)
        print(f"OTLP answered in {answered - started:.2f} s")
        assert inbox.arrived.wait(300), "no email within 300 s"
    finally:
        checker.stop()
        controller.stop()
    print(f"email in the SMTP server's hands {inbox.at - started:.2f} s after the request began")


if __name__ == "__main__":
    main()
