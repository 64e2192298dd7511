"""The Generate Report dialog's callbacks as plain functions."""

from __future__ import annotations

import base64
import io

import openpyxl

from callbacks import report
from reports.request import read_ticket

SEARCH = "?start=2026-03-02&end=2026-03-08&teams=t_eng"


def test_choices_become_a_ticket_with_the_on_screen_filters(app, signed_in):
    with signed_in("manager"):
        ticket, disabled, reason = report.prepare_ticket(["summary", "by_team"], "shown", "auto", "xlsx", SEARCH)
    assert (disabled, reason) == (False, "")
    ask, email, sid = read_ticket(app.config["SECRET_KEY"], ticket)
    assert (str(ask.start), str(ask.end), ask.teams, ask.grain, email) == (
        "2026-03-02", "2026-03-08", ("t_eng",), "day", "manager@test.example",
    )  # fmt: skip
    assert sid


def test_generate_stays_off_with_a_reason(signed_in):
    with signed_in("admin"):
        nothing = report.prepare_ticket([], "shown", "auto", "xlsx", SEARCH)
        assert nothing[1:] == (True, "Choose at least one data point.")
        backwards = report.prepare_ticket(["summary"], "shown", "auto", "xlsx", "?start=2026-03-08&end=2026-03-01")
        assert backwards[1] is True and "before it starts" in backwards[2]
        assert report.prepare_ticket(["summary"], None, "auto", "xlsx", SEARCH)[1:] == (True, "Choose a period.")


def test_period_choices(signed_in):
    with signed_in("admin"):
        options, value = report.update_period_options(True, SEARCH)
    assert value == "shown" and options[0]["label"] == "As shown: 2 Mar – 8 Mar 2026 · Teams: Engineering"
    labels = [o["label"] for o in options]
    assert "Last 30 days" in labels and any(label.startswith("Billing period") for label in labels)
    assert "Custom range" not in labels


def test_generate_builds_the_file_in_the_askers_scope(app, signed_in):
    steps = []
    with signed_in("manager"):
        ticket = report.prepare_ticket(["by_team"], "shown", "auto", "xlsx", "?start=2026-03-02&end=2026-03-08")[0]
        download, status = report.generate_report(steps.append, 1, ticket)
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"])))
    assert {row[0].value for row in book["Usage by team"].iter_rows(min_row=2)} == {"Engineering", "Sales"}
    assert download["filename"] == "telemetry-report-2026-03-02-to-2026-03-08.xlsx"
    assert status.startswith("Done: telemetry-report-2026-03-02-to-2026-03-08.xlsx")
    assert steps[0] == (0, "Usage by team…") and steps[-1] == (100, "Writing the file…")


def test_a_ticket_dies_with_its_session(app, signed_in, client, auth):
    with signed_in("manager"):
        ticket = report.prepare_ticket(["by_team"], "shown", "auto", "csv", SEARCH)[0]
    store = app.extensions["telemetry_store"]
    manager = store.account_by_email("manager@test.example")
    store.set_password_hash(manager.id, manager.password_hash)  # ends every session of the account
    with app.app_context():
        download, status = report.generate_report(lambda _p: None, 1, ticket)
    assert download is report.no_update
    assert status == "Your session has ended; sign in again to generate reports."
    with app.app_context():
        assert report.generate_report(lambda _p: None, 1, "forged")[1].startswith("This report request has expired")


def test_as_shown_on_the_billing_tab_is_the_billing_period_it_shows(app, signed_in):
    from queries.billing_periods import billing_period_containing, period_label
    from queries.filters import default_period
    from queries.period import today_local

    tz = app.config["ORG_TIMEZONE"]
    with signed_in("admin"):
        shown = billing_period_containing(today_local(tz), app.config["BILLING_ANCHOR_DAY"], tz)
        options, _value = report.update_period_options(True, "", "/telemetry/billing")
        elsewhere, _value = report.update_period_options(True, "", "/telemetry/dashboard")
        ticket, _off, _reason = report.prepare_ticket(["summary"], "shown", "auto", "csv", "", "/telemetry/billing")
    last_30 = default_period(tz)  # what the other tabs open on
    assert options[0]["label"] == f"As shown: {period_label(shown)}"
    assert elsewhere[0]["label"] == f"As shown: {period_label(last_30)}"
    ask, _email, _sid = read_ticket(app.config["SECRET_KEY"], ticket)
    assert (ask.start, ask.end) == (shown.start, shown.end)


def test_as_shown_names_every_filter_in_effect(signed_in):
    """Dates, teams and agents: "As shown: dates" while an agent filter applies was wrong."""
    with signed_in("admin"):
        agent_only = report.update_period_options(True, "?start=2026-03-02&end=2026-03-08&agents=a_code")[0]
        both = report.update_period_options(True, "?start=2026-03-02&end=2026-03-08&teams=t_sales,t_eng&agents=a_code")
        plain = report.update_period_options(True, "?start=2026-03-02&end=2026-03-08")[0]
    assert agent_only[0]["label"] == "As shown: 2 Mar – 8 Mar 2026 · Agents: Code Helper"
    assert both[0][0]["label"] == "As shown: 2 Mar – 8 Mar 2026 · Teams: Sales, Engineering · Agents: Code Helper"
    assert plain[0]["label"] == "As shown: 2 Mar – 8 Mar 2026"
