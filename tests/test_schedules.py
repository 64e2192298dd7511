"""Scheduled reports on the hand-made org (tests/org.py), delivered to a real SMTP server on loopback (aiosmtpd)
as the clock is moved with `run-schedules --now`. The zone is UTC.

Cost per UTC day: 25 Feb 0.05 (Engineering); 2 Mar 0.35 (Engineering); 3 Mar 1.333334 (Sales 1.000001,
Engineering 0.333333); 4 Mar 2.00 (Legal); 8 Mar 0.04 (Engineering); 9 Mar 1.20 (Sales).
So the week 2-8 March holds 6 interactions and $3.72 (Max's teams, without Legal: 5 and $1.72); February
1 interaction and $0.05; March 8 and $4.92.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from data import schema
from reports import schedule_links
from reports.schedule_run import run_schedules
from reports.schedule_thread import Scheduler
from tests.conftest import ACCOUNTS, make_app
from tests.test_reports_pdf import pages_text

MANAGER = ACCOUNTS["manager"][0]  # Max: Engineering and Sales


@pytest.fixture
def app(data_dir: Path, password_hash: str, inbox):
    _handler, port = inbox
    return make_app(data_dir, password_hash, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False,
                    SMTP_FROM="telemetry@acme.example")  # fmt: skip


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def add(app, *extra: str, who: str = MANAGER, made: str = "2026-02-15T00:00") -> str:
    result = cli(app, "schedule-add", "--as", who, "--to", "board@acme.example,cfo@acme.example", "--now", made,
                 *extra)  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


def run(app, now: str) -> str:
    result = cli(app, "run-schedules", "--now", now)
    assert result.exit_code == 0, result.output
    return result.output.strip()


def attachment(message) -> tuple[str, bytes]:
    part = next(message.iter_attachments())
    return part.get_filename(), part.get_payload(decode=True)  # bytes, whatever the type


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def text(message) -> str:
    return message.get_body(("plain",)).get_content()


def audit(app, action: str) -> list[dict]:
    return [e["detail"] for e in app.extensions["telemetry_store"].audit_entries(500) if e["action"] == action]


def test_a_weekly_schedule_is_sent_at_its_time_each_week_and_once(app, inbox) -> None:
    messages, _port = inbox
    out = add(app, "--points", "by_team", "--format", "csv", "--period", "last_week", "--cadence", "weekly:mon",
              "--at", "08:00", made="2026-02-27T10:00")  # fmt: skip
    assert "first run 2026-03-02 08:00 UTC" in out
    assert run(app, "2026-03-02T07:59") == "0 sent (0 late), 0 stopped, 0 failed."
    assert run(app, "2026-03-02T08:00") == "1 sent (0 late), 0 stopped, 0 failed."
    assert run(app, "2026-03-02T08:05") == "0 sent (0 late), 0 stopped, 0 failed."  # the same due time
    assert run(app, "2026-03-09T08:01") == "1 sent (0 late), 0 stopped, 0 failed."
    assert [m["Subject"] for m in messages.messages] == [
        "Telemetry report: 2026-02-23 to 2026-03-01",
        "Telemetry report: 2026-03-02 to 2026-03-08",
    ]
    week = messages.messages[1]
    assert week["To"] == "board@acme.example, cfo@acme.example"
    # Max's teams only: the week's 6 interactions and $3.72 less Legal's one of $2.00 on 4 March
    assert "Total interactions: 5 (" in text(week) and "Cost (USD): $1.72 (" in text(week)
    assert "<td>Cost (USD)</td><td>$1.72</td>" in week.get_body(("html",)).get_content()
    name, content = attachment(week)
    assert name == "telemetry-by-team-2026-03-02-to-2026-03-08.csv"
    teams = {row[0] for row in csv_rows(content)[1:]}
    assert teams == {"Engineering", "Sales"}
    deliveries = audit(app, "schedule_delivery")
    assert [(d["due"], d["late"]) for d in reversed(deliveries)] == [
        ("2026-03-02T08:00:00+00:00", False),
        ("2026-03-09T08:00:00+00:00", False),
    ]


def test_a_monthly_schedule_sends_the_month_just_ended(app, inbox) -> None:
    messages, _port = inbox
    add(app, "--points", "summary", "--format", "csv", "--period", "last_month", "--cadence", "monthly:1", "--at",
        "06:30", who=ACCOUNTS["admin"][0])  # fmt: skip
    assert run(app, "2026-03-01T06:29") == "0 sent (0 late), 0 stopped, 0 failed."
    assert run(app, "2026-03-01T06:30") == "1 sent (0 late), 0 stopped, 0 failed."
    assert run(app, "2026-03-31T23:59") == "0 sent (0 late), 0 stopped, 0 failed."
    assert run(app, "2026-04-01T06:30") == "1 sent (0 late), 0 stopped, 0 failed."
    february, march = messages.messages
    assert february["Subject"] == "Telemetry report: 2026-02-01 to 2026-02-28"
    assert "Total interactions: 1 (" in text(february) and "Cost (USD): $0.05 (" in text(february)
    assert march["Subject"] == "Telemetry report: 2026-03-01 to 2026-03-31"
    assert "Total interactions: 8 (" in text(march) and "Cost (USD): $4.92 (" in text(march)
    rows = {row[0]: row[1] for row in csv_rows(attachment(march)[1])[1:]}
    assert rows["Total interactions"] == "8"


def test_two_runners_at_once_send_a_due_report_once(app, inbox) -> None:
    messages, _port = inbox
    add(app, "--points", "by_team", "--format", "csv", "--period", "last_7_days", "--cadence", "daily")
    start, results = threading.Barrier(2), []

    def runner() -> None:
        with app.app_context():
            start.wait()
            results.append(run_schedules(dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)).sent)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    assert [m["Subject"] for m in messages.messages] == ["Telemetry report: 2026-03-02 to 2026-03-08"]
    assert run(app, "2026-03-09T09:00") == "0 sent (0 late), 0 stopped, 0 failed."  # a restart: nothing again


def test_a_missed_run_is_sent_once_when_the_runner_comes_back_marked_late(app, inbox) -> None:
    messages, _port = inbox
    add(app, "--points", "by_team", "--format", "csv", "--period", "last_week", "--cadence", "weekly:mon")
    # nothing ran on 2 or 9 March: on Tuesday the 10th the latest (9 March) is sent, once, and said late
    assert run(app, "2026-03-10T12:00") == "1 sent (1 late), 0 stopped, 0 failed."
    assert run(app, "2026-03-10T12:05") == "0 sent (0 late), 0 stopped, 0 failed."
    (message,) = messages.messages
    assert message["Subject"] == "Telemetry report: 2026-03-02 to 2026-03-08 (late)"
    assert "Late: this report was due at 2026-03-09 08:00 UTC" in text(message)
    listed = cli(app, "schedule-list").output
    assert "last: 2026-03-09 08:00 sent late" in listed


def test_a_disabled_owners_schedule_stops_and_the_owner_is_told(app, inbox) -> None:
    messages, _port = inbox
    add(app, "--points", "by_team", "--format", "csv", "--period", "last_week", "--cadence", "weekly:mon")
    accounts = app.extensions["telemetry_store"]
    accounts.set_disabled(accounts.account_by_email(MANAGER).id)
    assert run(app, "2026-03-02T08:00") == "0 sent (0 late), 1 stopped, 0 failed."
    assert run(app, "2026-03-09T08:00") == "0 sent (0 late), 0 stopped, 0 failed."
    (notice,) = messages.messages  # to the owner only: the recipients get nothing
    assert notice["To"] == MANAGER and notice["Subject"] == "Your scheduled report 1 has stopped"
    assert not list(notice.iter_attachments())
    assert "1    stopped" in cli(app, "schedule-list").output
    assert audit(app, "schedule_stopped") == [
        {"schedule": 1, "reason": "the owner's account may no longer export reports"}
    ]


def test_a_managers_pdf_holds_only_their_teams_and_narrows_when_they_lose_one(app, inbox) -> None:
    messages, _port = inbox
    add(app, "--points", "by_team", "--format", "pdf", "--period", "last_week", "--cadence", "weekly:mon")
    assert run(app, "2026-03-09T08:00") == "1 sent (0 late), 0 stopped, 0 failed."
    name, content = attachment(messages.messages[0])
    page = "\n".join(pages_text(content))
    assert name == "telemetry-report-2026-03-02-to-2026-03-08.pdf"
    assert "Engineering" in page and "Sales" in page and "Legal" not in page
    # Max no longer manages Sales: the next report holds Engineering only, and he is told
    path = schema.directory_dir(Path(app.config["DATA_DIR"])) / "team_managers.parquet"
    managers = pl.read_parquet(path)
    managers.filter(~((pl.col("user_id") == "u2") & (pl.col("team_id") == "t_sales"))).write_parquet(path)
    assert run(app, "2026-03-16T08:00") == "1 sent (0 late), 0 stopped, 0 failed."
    page = "\n".join(pages_text(attachment(messages.messages[1])[1]))
    assert "Engineering" in page and "Sales" not in page and "Legal" not in page


def test_a_schedule_for_some_teams_narrows_when_the_owner_loses_one_and_tells_them(app, inbox) -> None:
    messages, _port = inbox
    add(app, "--points", "by_team", "--format", "csv", "--period", "last_week", "--cadence", "weekly:mon",
        "--teams", "t_eng,t_sales")  # fmt: skip
    path = schema.directory_dir(Path(app.config["DATA_DIR"])) / "team_managers.parquet"
    managers = pl.read_parquet(path)
    managers.filter(~((pl.col("user_id") == "u2") & (pl.col("team_id") == "t_sales"))).write_parquet(path)
    assert run(app, "2026-03-09T08:00") == "1 sent (0 late), 0 stopped, 0 failed."
    report, notice = messages.messages
    assert {row[0] for row in csv_rows(attachment(report)[1])[1:]} == {"Engineering"}
    assert "Narrowed: team(s) t_sales are no longer in the owner's scope." in text(report)
    assert notice["To"] == MANAGER and notice["Subject"] == "Your scheduled report 1 was narrowed"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--as", "nobody@acme.example"), "Error: No account with email 'nobody@acme.example'."),
        (("--as", ACCOUNTS["member"][0]), "Error: member@test.example: This account may not export reports."),
        (("--to", "board@"), "Error: 'board@' is not an email address; use one like finance@example.com."),
        (("--points", "by_team,nope"), "Error: Unknown data point 'nope'; use some of"),
        (("--period", "last_year"), "Error: Unknown period 'last_year'; use one of last_7_days, last_week,"),
        (("--cadence", "weekly:funday"), "Error: Unknown cadence 'weekly:funday'; use daily, weekly:DAY"),
        (("--cadence", "monthly:32"), "Error: Unknown cadence 'monthly:32'"),
        (("--at", "25:00"), "Error: The time '25:00' is not HH:MM"),
        (("--teams", "t_legal"), "Error: --teams: Unknown team"),  # not one of Max's
    ],
)
def test_bad_input_gets_one_line_and_changes_nothing(app, args, error) -> None:
    base = {"--as": MANAGER, "--points": "by_team", "--period": "last_week", "--cadence": "weekly:mon",
            "--to": "board@acme.example", "--at": "08:00"}  # fmt: skip
    options = base | dict(zip(args[::2], args[1::2], strict=True))
    before = len(app.extensions["telemetry_store"].audit_entries(500))
    result = cli(app, "schedule-add", *[item for pair in options.items() for item in pair])
    assert result.exit_code != 0
    assert result.output.startswith(error) and result.output.count("\n") == 1, result.output
    assert cli(app, "schedule-list").output == ""
    assert len(app.extensions["telemetry_store"].audit_entries(500)) == before


def test_schedules_are_listed_per_owner_and_removed_by_owner_or_admin_audited(app) -> None:
    add(app, "--points", "by_team", "--period", "last_week", "--cadence", "weekly:mon")
    add(app, "--points", "by_team", "--period", "last_month", "--cadence", "monthly:1", who=ACCOUNTS["admin"][0])
    assert len(cli(app, "schedule-list", "--as", MANAGER).output.splitlines()) == 1
    assert len(cli(app, "schedule-list", "--as", ACCOUNTS["admin"][0]).output.splitlines()) == 2
    other = cli(app, "schedule-remove", "--id", "2", "--as", MANAGER)
    assert other.exit_code != 0 and "No schedule 2 of yours." in other.output
    assert cli(app, "schedule-remove", "--id", "1", "--as", ACCOUNTS["admin"][0]).exit_code == 0
    assert [s["schedule"] for s in audit(app, "schedule_add")] == [2, 1]
    assert audit(app, "schedule_remove") == [{"schedule": 1, "owner": MANAGER}]
    assert cli(app, "schedule-list").output.startswith("2    active  admin@test.example")


def test_the_servers_scheduler_thread_sends_what_is_due(app, inbox) -> None:
    """The thread runs on the real clock: a daily schedule made yesterday is due at today's 00:00 UTC."""
    messages, _port = inbox
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    add(app, "--points", "summary", "--format", "csv", "--period", "last_7_days", "--cadence", "daily", "--at",
        "00:00", made=yesterday)  # fmt: skip
    scheduler = Scheduler(app, 0.05)
    scheduler.start()
    try:
        messages.wait_for(1)
    finally:
        scheduler.stop()
    assert messages.subjects()[0].startswith("Telemetry report: ")
    assert len(audit(app, "schedule_delivery")) == 1  # its later rounds found it sent


@pytest.fixture
def small_mail_app(data_dir: Path, password_hash: str, inbox):
    """Reports over 100 bytes go as a signed link instead of an attachment."""
    _handler, port = inbox
    return make_app(data_dir, password_hash, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False,
                    PUBLIC_URL="https://telemetry.example", SCHEDULES_ATTACH_MAX_BYTES=100)  # fmt: skip


def test_a_report_too_large_to_attach_is_a_signed_link_that_expires(small_mail_app, inbox) -> None:
    app, (messages, _port) = small_mail_app, inbox
    add(app, "--points", "by_team", "--format", "csv", "--period", "last_week", "--cadence", "weekly:mon")
    assert run(app, "2026-03-09T08:00") == "1 sent (0 late), 0 stopped, 0 failed."
    (message,) = messages.messages
    assert not list(message.iter_attachments())
    body = text(message)
    assert "The full report is too large to attach; download it until 2026-" in body  # 7 days from the real now
    link = re.search(r"https://telemetry\.example(/scheduled-reports/\S+)", body)[1]
    client = app.test_client()  # no session: the signature is the access, to this one file
    response = client.get(link)
    assert response.status_code == 200
    assert "telemetry-by-team-2026-03-02-to-2026-03-08.csv" in response.headers["Content-Disposition"]
    assert {row[0] for row in csv_rows(response.data)[1:]} == {"Engineering", "Sales"}
    assert audit(app, "schedule_download")[0]["file"].endswith("telemetry-by-team-2026-03-02-to-2026-03-08.csv")
    assert client.get(link[:-3] + "abc").status_code == 404  # not signed here

    class EightDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 8 * 86400

    with app.app_context():
        signed = schedule_links._serializer().loads(link.rsplit("/", 1)[1])
    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="telemetry-scheduled-report", signer=EightDaysAgo)
    token = old.dumps(signed)  # the same file's link, signed eight days ago: expired after seven
    assert client.get(f"/scheduled-reports/{token}").status_code == 410


def test_a_paused_schedule_sends_nothing_and_resumes_from_its_next_due_time(app, inbox) -> None:
    messages, _port = inbox
    add(app, "--points", "by_team", "--format", "csv", "--period", "last_week", "--cadence", "weekly:mon")
    other = cli(app, "schedule-pause", "--id", "1", "--as", ACCOUNTS["legal_manager"][0])
    assert other.exit_code != 0 and "No schedule 1 of yours." in other.output
    assert cli(app, "schedule-pause", "--id", "1", "--as", MANAGER).output == "Schedule 1 is paused.\n"
    assert run(app, "2026-03-09T08:00") == "0 sent (0 late), 0 stopped, 0 failed."
    resumed = cli(app, "schedule-pause", "--id", "1", "--as", MANAGER, "--resume", "--now", "2026-03-10T09:00")
    assert resumed.output == "Schedule 1 is active.\n"
    assert run(app, "2026-03-10T09:05") == "0 sent (0 late), 0 stopped, 0 failed."  # 9 March was paused
    assert run(app, "2026-03-16T08:00") == "1 sent (0 late), 0 stopped, 0 failed."
    assert [m["Subject"] for m in messages.messages] == ["Telemetry report: 2026-03-09 to 2026-03-15"]
    assert [d["schedule"] for d in audit(app, "schedule_pause") + audit(app, "schedule_resume")] == [1, 1]


def test_send_now_sends_the_period_as_of_now_even_when_paused(app, inbox) -> None:
    messages, _port = inbox
    add(app, "--points", "by_team", "--format", "csv", "--period", "last_7_days", "--cadence", "monthly:1")
    assert cli(app, "schedule-pause", "--id", "1", "--as", MANAGER).exit_code == 0
    sent = cli(app, "schedule-send", "--id", "1", "--as", ACCOUNTS["admin"][0], "--now", "2026-03-09T15:00")
    assert sent.output == "Sent schedule 1 to board@acme.example, cfo@acme.example.\n", sent.output
    assert [m["Subject"] for m in messages.messages] == ["Telemetry report: 2026-03-02 to 2026-03-08"]
    # the admin pressed it; the report is still Max's: his teams only
    assert {row[0] for row in csv_rows(attachment(messages.messages[0])[1])[1:]} == {"Engineering", "Sales"}
    assert audit(app, "schedule_send") == [{"schedule": 1, "owner": MANAGER}]


def test_run_schedules_refuses_a_now_that_is_not_a_time(app) -> None:
    result = cli(app, "run-schedules", "--now", "next monday")
    assert result.exit_code != 0
    assert result.output == "Error: The --now 'next monday' is not a date and time; use YYYY-MM-DDTHH:MM.\n"
