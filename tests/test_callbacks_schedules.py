"""The Schedules page and Generate Report's "Schedule…": listing, each action, who may see and change what
(called as functions, and over HTTP as dash-renderer sends them), and `schedule-edit`, which shares the page's
code. The org is tests/org.py's; mail goes to a real SMTP server on loopback (the `inbox` fixture)."""

from __future__ import annotations

import json
from pathlib import Path

import plotly
import pytest

from callbacks import report_schedule as dialog
from callbacks import schedules as page
from layouts import ids
from tests import dash_payloads as dp
from tests.conftest import ACCOUNTS, ORIGIN, AuthActions, make_app
from tests.test_access import NOTICE, dependencies
from tests.test_alerts_delivery import _free_port as free_port
from tests.test_schedules import add, audit, cli

ADMIN, MANAGER, LEGAL = ACCOUNTS["admin"][0], ACCOUNTS["manager"][0], ACCOUNTS["legal_manager"][0]
WEEK_SEARCH = "?start=2026-03-02&end=2026-03-08&teams=t_eng"


@pytest.fixture
def app(data_dir: Path, password_hash: str, inbox):
    _handler, port = inbox
    return make_app(data_dir, password_hash, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False,
                    SMTP_FROM="telemetry@acme.example")  # fmt: skip


def text(component) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def two_schedules(app) -> None:
    """1: Max's (a Manager), weekly; 2: Lee's (the Legal manager), monthly."""
    add(app, "--points", "by_team", "--format", "csv", "--period", "last_week", "--cadence", "weekly:mon")
    add(app, "--points", "summary", "--format", "pdf", "--period", "last_month", "--cadence", "monthly:1", who=LEGAL)


def store(app):
    return app.extensions["telemetry_schedules"]


def test_a_manager_lists_their_own_schedules_and_an_admin_everyones_with_the_owner(app, signed_in) -> None:
    two_schedules(app)
    with signed_in("manager"):
        mine = text(page.update_schedules({}))
    assert "schedules-row-1" in mine and "schedules-row-2" not in mine
    assert "Usage by team · CSV" in mine and "Every Monday at 08:00" in mine and "Last week" in mine
    assert "board@acme.example" in mine and "cfo@acme.example" in mine and "Not run yet" in mine
    assert "Owner" not in mine and LEGAL not in mine
    with signed_in("admin"):
        everyone = text(page.update_schedules({}))
    assert "schedules-row-1" in everyone and "schedules-row-2" in everyone
    assert '"Owner"' in everyone and MANAGER in everyone and LEGAL in everyone
    assert "Monthly on the 1st at 08:00" in everyone
    with signed_in("idle_manager"):
        assert "No scheduled reports yet." in text(page.update_schedules({}))


def test_send_now_from_the_page_delivers_in_the_owners_scope_and_is_audited(app, signed_in, inbox) -> None:
    messages, _port = inbox
    two_schedules(app)
    with signed_in("manager"):
        table, said = page.send_clicked(1)
    assert "Sent schedule 1 to board@acme.example, cfo@acme.example." in text(said)
    (message,) = messages.messages
    assert message["Subject"].startswith("Telemetry report: ")
    assert "Sent" in text(table)  # the last result
    assert audit(app, "schedule_send") == [{"schedule": 1, "owner": MANAGER}]
    assert audit(app, "schedule_delivery")[0]["schedule"] == 1


def test_send_now_that_fails_says_why_and_is_listed_as_failed_not_retrying(app, signed_in) -> None:
    add(app, "--points", "summary", "--format", "csv", "--period", "last_week", "--cadence", "weekly:mon")
    app.config["SMTP_PORT"] = free_port()  # nothing listens there
    with signed_in("manager"):
        table, said = page.send_clicked(1)
    assert "Schedule 1 was not sent: SMTP 127.0.0.1:" in text(said)  # nothing listens on that port
    assert '"Failed: SMTP 127.0.0.1:' in text(table)
    assert cli(app, "run-schedules", "--now", "2026-03-02T07:00").output.startswith("0 sent")  # nothing left over


def test_pause_and_resume_from_the_page_change_the_status_and_are_audited(app, signed_in) -> None:
    two_schedules(app)
    with signed_in("manager"):
        table, said = page.pause_clicked(1)
        assert "Schedule 1 is paused." in text(said) and '"Resume"' in text(table)
        assert store(app).schedule(1).status == "paused"
        table, said = page.pause_clicked(1)
    assert "Schedule 1 is active." in text(said) and '"Pause"' in text(table)
    assert audit(app, "schedule_pause") == [{"schedule": 1, "owner": MANAGER, "was": "active"}]
    assert audit(app, "schedule_resume") == [{"schedule": 1, "owner": MANAGER, "was": "paused"}]
    with signed_in("admin"):  # an Admin may act on anyone's: audited in the Admin's name
        assert "Schedule 2 is paused." in text(page.pause_clicked(2)[1])
    (entry,) = [e for e in app.extensions["telemetry_store"].audit_entries(50) if e["detail"].get("schedule") == 2
                and e["action"] == "schedule_pause"]  # fmt: skip
    assert entry["actor"] == ADMIN and entry["detail"]["owner"] == LEGAL


def test_edit_opens_with_the_schedule_and_saves_what_changed_audited(app, signed_in) -> None:
    two_schedules(app)
    with signed_in("manager"):
        opened = page.editor_values(1)
        assert opened[:3] == (True, 1, "Edit schedule 1")
        assert opened[4:10] == (["by_team"], "csv", "last_week", "weekly:mon", "08:00",
                                "board@acme.example, cfo@acme.example")  # fmt: skip
        table, said, is_open, problem = page.save_edit(1, 1, ["by_team", "summary"], "pdf", "last_7_days", "daily",
                                                       "07:30", "cfo@acme.example")  # fmt: skip
    assert (is_open, problem) == (False, "")
    assert "Schedule 1: changed points, format, period, cadence, at, to." in text(said)
    changed = store(app).schedule(1)
    assert (changed.points, changed.format, changed.period, changed.cadence, changed.at, changed.recipients) == (
        ("by_team", "summary"), "pdf", "last_7_days", "daily", "07:30", ("cfo@acme.example",))  # fmt: skip
    assert "Every day at 07:30" in text(table)
    (entry,) = audit(app, "schedule_edit")
    assert entry == {"schedule": 1, "owner": MANAGER, "points": "by_team,summary", "format": "pdf",
                     "period": "last_7_days", "cadence": "daily", "at": "07:30", "to": "cfo@acme.example"}  # fmt: skip


@pytest.mark.parametrize(
    ("points", "at", "to", "problem"),
    [
        ([], "08:00", "a@acme.example", "Choose at least one data point."),
        (["summary"], "08:00", "", "Give at least one address to send the report to."),
        (["summary"], "08:00", "a@acme.example, board@", "'board@' is not an email address"),
        (["summary"], "8 am", "a@acme.example", "The time '8 am' is not HH:MM"),
    ],
)
def test_a_bad_edit_keeps_the_editor_open_says_why_and_changes_nothing(app, signed_in, points, at, to, problem):
    two_schedules(app)
    with signed_in("manager"):
        table, said, is_open, told = page.save_edit(1, 1, points, "pdf", "last_week", "weekly:mon", at, to)
    assert is_open is True and told.startswith(problem)
    assert store(app).schedule(1).points == ("by_team",)
    assert audit(app, "schedule_edit") == []


def test_delete_asks_first_naming_the_schedule_then_deletes_it_audited(app, signed_in) -> None:
    two_schedules(app)
    with signed_in("manager"):
        table, said, is_open = page.confirm_delete(1, 1)
    assert is_open is False and "Deleted schedule 1." in text(said)
    assert store(app).schedule(1) is None and "schedules-row-1" not in text(table)
    assert audit(app, "schedule_remove") == [{"schedule": 1, "owner": MANAGER}]


def test_a_manager_cannot_act_on_another_persons_schedule_by_its_id(app, signed_in, inbox) -> None:
    messages, _port = inbox
    two_schedules(app)
    with signed_in("manager"):
        for act in (page.send_clicked, page.pause_clicked):
            table, said = act(2)
            assert "No schedule 2 of yours." in text(said) and "schedules-row-2" not in text(table)
        assert page.editor_values(2)[0] is False
        _table, _said, is_open, told = page.save_edit(1, 2, ["summary"], "csv", "last_week", "daily", "08:00",
                                                      "x@acme.example")  # fmt: skip
        assert "No schedule 2 of yours." in told
        assert page.confirm_delete(1, 2)[2] is False
        for forged in ("2", True, None, {"id": 2}):
            assert "of yours" in text(page.send_clicked(forged)[1])
    other = store(app).schedule(2)
    assert (other.status, other.points, other.recipients) == ("active", ("summary",), ("board@acme.example",
                                                                                       "cfo@acme.example"))  # fmt: skip
    assert messages.messages == []
    for action in ("schedule_send", "schedule_pause", "schedule_edit", "schedule_remove"):
        assert audit(app, action) == []


def test_schedule_from_the_dialog_saves_its_choices_in_the_signed_in_persons_name(app, signed_in) -> None:
    with signed_in("manager"):
        note = dialog.update_schedule_scope(True, "shown", WEEK_SEARCH, "/telemetry")
        said, saved = dialog.save_schedule(1, ["summary", "by_agent"], "pdf", "shown", "last_month", "monthly:1",
                                           "06:30", "board@acme.example\ncfo@acme.example; ceo@acme.example",
                                           WEEK_SEARCH, "/telemetry")  # fmt: skip
    assert "for teams Engineering (the view on screen)" in note and "Times are local to UTC." in note
    assert saved == 1
    assert "Saved schedule 1: Monthly on the 1st at 06:30 to board@acme.example, cfo@acme.example, " in text(said)
    s = store(app).schedule(1)
    assert (s.owner, s.points, s.format, s.teams, s.agents, s.period, s.cadence, s.at) == (
        MANAGER, ("summary", "by_agent"), "pdf", ("t_eng",), (), "last_month", "monthly:1", "06:30")  # fmt: skip
    assert s.recipients == ("board@acme.example", "cfo@acme.example", "ceo@acme.example")
    (entry,) = audit(app, "schedule_add")
    assert entry["schedule"] == 1 and entry["teams"] == "t_eng" and entry["cadence"] == "monthly:1"
    # a period other than "As shown" has no filters: the whole of the owner's scope
    with signed_in("manager"):
        assert dialog.save_schedule(1, ["summary"], "csv", "last_30_days", "last_week", "daily", "08:00",
                                    "a@acme.example", WEEK_SEARCH)[1] == 2  # fmt: skip
    assert store(app).schedule(2).teams == ()


@pytest.mark.parametrize(
    ("points", "to", "search", "problem"),
    [
        ([], "a@acme.example", "", "Choose at least one data point."),
        (["summary"], "  ", "", "Give at least one address to send the report to."),
        (["summary"], "a@acme.example, nope", "", "'nope' is not an email address; use one like finance@example.com."),
        (["summary"], "a@acme.example", "?teams=t_legal", "Unknown team 't_legal': not in the teams you can see."),
    ],
)
def test_the_dialog_says_what_to_fix_and_saves_nothing(app, signed_in, points, to, search, problem) -> None:
    with signed_in("manager"):
        said, saved = dialog.save_schedule(1, points, "pdf", "shown", "last_week", "weekly:mon", "08:00", to, search)
    assert problem in text(said) and "text-danger" in text(said)
    assert saved is dialog.no_update
    assert store(app).schedules() == [] and audit(app, "schedule_add") == []


def test_schedule_edit_changes_only_what_is_given_for_the_owner_or_an_admin(app) -> None:
    two_schedules(app)
    refused = cli(app, "schedule-edit", "2", "--as", MANAGER, "--to", "me@acme.example")
    assert refused.exit_code != 0 and "No schedule 2 of yours." in refused.output
    bad = cli(app, "schedule-edit", "1", "--as", MANAGER, "--teams", "t_legal")
    assert bad.output == "Error: --teams: Unknown team 't_legal': not in the teams you can see.\n"
    done = cli(app, "schedule-edit", "1", "--as", ADMIN, "--cadence", "weekly:fri", "--at", "17:00", "--now",
               "2026-03-02T00:00")  # fmt: skip
    assert done.output == ("Changed cadence, at. Schedule 1: last_week as csv, weekly:fri at 17:00, to "
                           "board@acme.example, cfo@acme.example; first run 2026-03-06 17:00 UTC.\n")  # fmt: skip
    same = cli(app, "schedule-edit", "1", "--as", MANAGER, "--period", "last_week")
    assert same.output == "Schedule 1: nothing to change.\n"
    assert audit(app, "schedule_edit") == [{"schedule": 1, "owner": MANAGER, "cadence": "weekly:fri", "at": "17:00"}]


def test_a_new_time_never_sends_a_run_due_before_the_edit(app, inbox) -> None:
    messages, _port = inbox
    add(app, "--points", "summary", "--format", "csv", "--period", "last_7_days", "--cadence", "weekly:mon")
    cli(app, "schedule-edit", "1", "--as", MANAGER, "--cadence", "daily", "--at", "06:00", "--now", "2026-03-09T07:00")
    assert cli(app, "run-schedules", "--now", "2026-03-09T07:05").output.startswith("0 sent")  # 06:00 was before
    assert cli(app, "run-schedules", "--now", "2026-03-10T06:00").output.startswith("1 sent")
    assert len(messages.messages) == 1


# Over HTTP, as dash-renderer sends them: the gate, the wiring, and forged ids.


def _row_click(deps: list[dict], kind: str, schedule_id: object) -> dict:
    """The body of a click on the row button `kind` of `schedule_id` (the one button of its kind in the page)."""
    dependency = dp.find(deps, f"^..{ids.SCHEDULES_TABLE}.children@.*{ids.SCHEDULES_FEEDBACK}.children@[^.]*..$")
    button = {"id": {"type": kind, "schedule": schedule_id}, "property": "n_clicks", "value": 1}
    body = dp.payload(dependency)
    body["inputs"] = [[button] if kind == ids.SCHEDULES_SEND else [], [button] if kind == ids.SCHEDULES_PAUSE else []]
    body["changedPropIds"] = [json.dumps(button["id"], separators=(",", ":"), sort_keys=True) + ".n_clicks"]
    return body


def test_over_http_the_page_lists_and_acts_for_its_viewer_only(app, client, inbox) -> None:
    messages, _port = inbox
    two_schedules(app)
    deps = dependencies(app)
    listing = dp.payload(dp.find(deps, f"^{ids.SCHEDULES_TABLE}.children$"), {f"{ids.SCHEDULES_QUERY}.data": {}})
    AuthActions(client).login("manager")
    assert client.get("/telemetry/schedules").status_code == 200
    shown = dp.post(client, listing).get_data(as_text=True)
    assert "schedules-row-1" in shown and "schedules-row-2" not in shown and LEGAL not in shown
    paused = dp.post(client, _row_click(deps, ids.SCHEDULES_PAUSE, 1)).get_data(as_text=True)
    assert "Schedule 1 is paused." in paused
    for forged in (2, "2"):  # Lee's schedule, named in a forged click
        for kind in (ids.SCHEDULES_SEND, ids.SCHEDULES_PAUSE):
            answer = dp.post(client, _row_click(deps, kind, forged)).get_data(as_text=True)
            assert "of yours" in answer and "schedules-row-2" not in answer
    confirm = dp.find(deps, f"^..{ids.SCHEDULES_TABLE}.children@.*{ids.SCHEDULES_CONFIRM}.is_open")
    delete = dp.payload(confirm, {f"{ids.SCHEDULES_CONFIRM_DELETE}.n_clicks": 1, f"{ids.SCHEDULES_PENDING}.data": 2})
    assert "No schedule 2 of yours." in dp.post(client, delete).get_data(as_text=True)
    assert store(app).schedule(2).status == "active" and messages.messages == []
    assert [e["actor"] for e in app.extensions["telemetry_store"].audit_entries(50)
            if e["action"] == "schedule_pause"] == [MANAGER]  # fmt: skip


def test_over_http_a_member_gets_the_access_notice_and_no_schedule(app, client) -> None:
    two_schedules(app)
    deps = dependencies(app)
    AuthActions(client).login("member")
    response = client.get("/telemetry/schedules")
    assert response.status_code == 403 and NOTICE in response.get_data(as_text=True)
    for dependency in deps:
        if ids.SCHEDULES_TABLE in dependency["output"] or ids.REPORT_SCHEDULE_FEEDBACK in dependency["output"]:
            refused = dp.post(client, dp.payload(dependency, {f"{ids.SCHEDULES_QUERY}.data": {}}))
            assert refused.status_code == 403 and refused.get_json() == {"error": "forbidden"}
    saved = dp.payload(dp.find(deps, ids.REPORT_SCHEDULE_FEEDBACK), {f"{ids.REPORT_SCHEDULE_SAVE}.n_clicks": 1})
    assert client.post(dp.CALLBACK_URL, json=saved, headers={"Origin": ORIGIN}).status_code == 403
    assert len(store(app).schedules()) == 2
