"""Generate Report: the dialog's choices become a signed ticket; a background job turns it into a file."""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import dash
import diskcache
import multiprocess
from dash import ClientsideFunction, DiskcacheManager, Input, Output, State, ctx, no_update
from flask import Flask, current_app
from flask_login import user_logged_out

from auth.scope import current_scope
from auth.session import current_account, session_ended, store
from callbacks._common import org_timezone
from callbacks.shell import BILLING_PATH
from layouts import ids
from queries import directory, usage
from queries.billing_periods import billing_periods, period_label
from queries.filters import (
    Filters,
    default_period,
    parse_filters,
    parse_period_text,
    period_text,
    query_from_search,
)
from queries.period import PRESETS, Period, PeriodError, preset_period, today_local
from reports.build import report_for_account
from reports.jobs import JobRefused, ReportJobs, ThreadJobs, cancelled
from reports.request import ReportError, ReportRequest, read_ticket, sign_ticket

SHOWN = "shown"
SESSION_ENDED = "Your session has ended; sign in again to generate reports."
CANCELLED = "Cancelled."
JOBS_EXTENSION = "telemetry_report_jobs"
NO_JOB = -1  # the job handle of a refused request: nothing to poll, cancel or kill
BILLING_CHOICES = 12


def toggle_dialog(_open: int | None, _close: int | None) -> bool:
    return ctx.triggered_id == ids.REPORT_OPEN


def _shown_by_default(pathname: str | None, tz: str) -> Period:
    """The period a page shows when its address names none: the Billing tab's is the current billing period."""
    anchor = current_app.config["BILLING_ANCHOR_DAY"] if pathname == BILLING_PATH else None
    return default_period(tz, billing_anchor=anchor)


def shown_label(filters: Filters) -> str:
    """The view on screen in words: its dates and every team and agent filter in effect."""
    parts = [f"As shown: {period_label(filters.period)}"]
    if filters.teams:
        names = dict(directory.teams_in_scope(current_scope()).select("team_id", "name").iter_rows())
        parts.append("Teams: " + ", ".join(names.get(team, team) for team in filters.teams))
    if filters.agents:
        names = dict(directory.agents().select("agent_id", "name").iter_rows())
        parts.append("Agents: " + ", ".join(names.get(agent, agent) for agent in filters.agents))
    return " · ".join(parts)


def update_period_options(is_open: bool, search: str | None, pathname: str | None = None) -> tuple[list[dict], str]:
    """The view on screen first (its period, teams and agents), then the presets, then recent billing periods."""
    if not is_open:
        return no_update, no_update
    tz = org_timezone()
    try:
        shown = parse_filters(query_from_search(search), current_scope(), tz,
                              default=_shown_by_default(pathname, tz), read_grain=False)  # fmt: skip
        options = [{"label": shown_label(shown), "value": SHOWN}]
    except PeriodError:
        options = []
    options += [{"label": label, "value": key} for key, label in PRESETS.items() if key != "custom"]
    today = today_local(tz)
    anchor = current_app.config["BILLING_ANCHOR_DAY"]
    first = usage.data_bounds(current_scope(), tz)["first_day"][0] or today
    for period in billing_periods(first, today, anchor, tz)[:BILLING_CHOICES]:
        current = " (current)" if period.start <= today <= period.end else ""
        options.append({"label": f"Billing period {period_label(period)}{current}",
                        "value": period_text(period)})  # fmt: skip
    return options, options[0]["value"]


def chosen_filters(choice: str | None, grain: str, search: str | None, tz: str, pathname: str | None = None) -> Filters:
    """What the dialog's choices ask: a period (the one on screen, with its teams and agents; a billing
    period; a preset) and a grain ("auto": the one that fits the period)."""
    if not choice or not isinstance(choice, str):
        raise PeriodError("Choose a period.")
    asked = {"grain": None if grain == "auto" else grain}
    if choice == SHOWN:
        query = {**query_from_search(search), **asked}
        return parse_filters(query, current_scope(), tz, default=_shown_by_default(pathname, tz))
    if "/" in choice:  # a billing period
        period = parse_period_text(choice, tz)
    else:
        first = usage.data_bounds(current_scope(), tz)["first_day"][0]
        period = preset_period(choice, today_local(tz), tz, first)
    return parse_filters(asked, current_scope(), tz, default=period)


def prepare_ticket(
    points: list[str] | None, choice: str | None, grain: str, fmt: str, search: str | None, pathname: str | None = None
) -> tuple:
    """Check the choices and sign them with who asks; Generate stays off, with the reason, until they hold."""
    tz = org_timezone()
    if not isinstance(points, list | None) or not all(isinstance(p, str) for p in points or ()):
        return None, True, "Choose at least one data point."
    if not isinstance(grain, str) or not isinstance(fmt, str):
        return None, True, "Choose a grain and a format."
    try:
        ask = ReportRequest.asking(chosen_filters(choice, grain, search, tz, pathname), tuple(points or ()), fmt)
    except (PeriodError, ReportError) as error:
        return None, True, str(error)
    account = current_account()
    ticket = sign_ticket(current_app.config["SECRET_KEY"], ask, account.email, getattr(account, "sid", None))
    return ticket, False, ""


def generate_report(set_progress: Callable, n_clicks: int | None, ticket: str | None) -> tuple:
    """Verify the ticket and its session, then build the file in the account's own scope."""
    if not n_clicks or not ticket:
        return no_update, ""
    if not isinstance(ticket, str):
        return no_update, "This report request has expired or was not issued here; choose Generate again."
    try:
        ask, email, sid = read_ticket(current_app.config["SECRET_KEY"], ticket)
        account = store().account_by_email(email)
        session = store().session(sid) if sid else None
        if account is None or session is None or session.revoked or session.account.id != account.id:
            raise ReportError(SESSION_ENDED)

        def progress(done: int, total: int, step: str) -> None:
            if session_ended(sid):  # signed out, or timed out, while the report was being built
                raise ReportError(SESSION_ENDED)
            if cancelled():  # a job on a thread (chDB), cancelled: it ends here
                raise ReportError(CANCELLED)
            set_progress((int(100 * done / max(total, 1)), f"{step}…"))

        report = report_for_account(ask, account, progress)
    except ReportError as error:
        return no_update, str(error)
    content = base64.b64encode(report.content).decode()
    download = {"content": content, "filename": report.filename, "type": report.mimetype, "base64": True}
    return download, f"Done: {report.filename} ({len(report.content):,} bytes)."


def spawn_job(job_fn: Callable, args: tuple) -> int:
    """Start a job in a fresh interpreter ("spawn", not "fork"): Polars' and DuckDB's thread pools do not
    survive a fork (a forked job hangs in Polars)."""
    process = multiprocess.get_context("spawn").Process(target=job_fn, args=args)
    process.start()
    return process.pid


class OwnJobManager(DiskcacheManager):
    """Dash's disk-cache manager for one app's report job. Dash (4.4) registers each background callback in every
    manager of the process under one key per function source and outputs, the same for every app: a later app's
    job replaced an earlier app's in its manager, so a report asked of the earlier app ran with the later one's
    settings (its data folder: "Your session has ended"). This one keeps only its own app's job."""

    def __init__(self, cache: diskcache.Cache, job: Callable, expire: int | None = None) -> None:
        self.job = job  # before Dash's __init__, which registers every job made before this manager
        super().__init__(cache, expire=expire)

    def register(self, key, fn, progress):
        if fn is self.job:
            super().register(key, fn, progress)


class SpawningDiskcacheManager(OwnJobManager):
    """Dash's disk-cache manager, with each job in a fresh interpreter (`spawn_job`), started only when
    the register of running jobs (reports/jobs.py) has a slot for it: one an account, REPORT_MAX_JOBS in
    all, across workers. Refused, no process starts and the dialog's status says why."""

    def __init__(self, cache: diskcache.Cache, jobs: ReportJobs, job: Callable, expire: int | None = None) -> None:
        super().__init__(cache, job, expire=expire)
        self.jobs = jobs

    def call_job_fn(self, key, job_fn, args, context):
        account = current_account()

        def spawn() -> int:
            return spawn_job(job_fn, (key, self._make_progress_key(key), args, context))

        try:
            return self.jobs.start(account.email, getattr(account, "sid", None), spawn, session_ended)
        except JobRefused as refused:
            self.handle.set(key, (no_update, str(refused)))  # the first poll answers with this
            return NO_JOB

    def terminate_job(self, job):
        """Cancel: only a job in the register is ended (never "no job", nor a pid now used by another process)."""
        if job is None or int(job) <= 0:
            return
        self.jobs.stop(int(job))
        with contextlib.suppress(ChildProcessError):
            os.waitpid(int(job), os.WNOHANG)  # reap it if it was this worker's child and has ended

    def job_running(self, job):
        return job is not None and int(job) > 0 and super().job_running(job)


class ThreadDiskcacheManager(OwnJobManager):
    """Dash's disk-cache manager with each job on a thread of this process (`ThreadJobs`), for chDB, whose
    engine only the server's process can open; the same limits, refusals and cancelling (at the job's next
    step) as `SpawningDiskcacheManager`."""

    def __init__(self, cache: diskcache.Cache, jobs: ThreadJobs, job: Callable, expire: int | None = None) -> None:
        super().__init__(cache, job, expire=expire)
        self.jobs = jobs

    def call_job_fn(self, key, job_fn, args, context):
        account = current_account()
        progress_key = self._make_progress_key(key)

        def run() -> None:
            job_fn(key, progress_key, args, context)
            if cancelled():  # nobody polls a cancelled job: its answer is not kept
                self.clear_cache_entry(key)
                self.clear_cache_entry(progress_key)

        try:
            return self.jobs.start(account.email, getattr(account, "sid", None), run, session_ended)
        except JobRefused as refused:
            self.handle.set(key, (no_update, str(refused)))
            return NO_JOB

    def terminate_job(self, job):
        if job is not None and int(job) > 0:
            self.jobs.stop(int(job))

    def terminate_unhealthy_job(self, job):
        return False

    def job_running(self, job):
        return job is not None and int(job) > 0 and self.jobs.is_running(int(job))


def stop_jobs_at_logout(sender: Flask, user: object = None, **_extra) -> None:
    """Flask-Login's user_logged_out: the session's report jobs end with it, in whichever worker they run."""
    jobs, sid = sender.extensions.get(JOBS_EXTENSION), getattr(user, "sid", None)
    if jobs is not None and sid:
        jobs.stop_session(sid)


JOB_CONFIG_KEYS = (
    "DATA_DIR", "ORG_TIMEZONE", "BILLING_ANCHOR_DAY", "SECRET_KEY", "ACCOUNTS_DB", "DUCKDB_THREADS",
    "SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS",
    # the backend, so that a job answers from the same ClickHouse as the page (never DuckDB's folder instead)
    "BACKEND", "CHDB_PATH", "CLICKHOUSE_URL", "CLICKHOUSE_PASSWORD", "CLICKHOUSE_DATABASE",
)  # fmt: skip


def _background_job(config: dict, make_app: Callable[..., Flask]) -> Callable:
    """The job's own app (no Dash), built in the child from the parent's settings by the factory the app
    passed in (`register_callbacks`): callbacks never import the app module."""

    def generate_report_job(set_progress, n_clicks, ticket):
        server = make_app({**config, "TESTING": False}, with_dash=False)
        with server.app_context():
            return generate_report(set_progress, n_clicks, ticket)

    return generate_report_job


def _thread_job(server: Flask) -> Callable:
    """The job on a thread of the server's process (chDB): the server's own app answers it."""

    def generate_report_job(set_progress, n_clicks, ticket):
        with server.app_context():
            return generate_report(set_progress, n_clicks, ticket)

    return generate_report_job


def register_callbacks(app: dash.Dash, make_app: Callable[..., Flask]) -> None:
    """Wire the dialog; `make_app` (the app factory) builds each report job's own app in its process."""
    server = app.server
    folder = Path(server.config["DATA_DIR"]) / ".cache" / "reports"
    max_jobs = int(server.config["REPORT_MAX_JOBS"])
    if server.config.get("BACKEND") == "chdb":  # one process holds chDB's engine: jobs are its threads
        jobs = ThreadJobs(max_jobs)
        job = _thread_job(server)
        manager = ThreadDiskcacheManager(diskcache.Cache(str(folder)), jobs, job, expire=3600)
    else:
        jobs = ReportJobs(folder / "jobs", max_jobs)
        job_config = {key: server.config.get(key) for key in JOB_CONFIG_KEYS}
        job = _background_job(job_config | {"DATA_DIR": str(server.config["DATA_DIR"])}, make_app)
        manager = SpawningDiskcacheManager(diskcache.Cache(str(folder)), jobs, job, expire=3600)
    server.extensions[JOBS_EXTENSION] = jobs
    user_logged_out.connect(stop_jobs_at_logout, server)
    app.callback(
        Output(ids.REPORT_DIALOG, "is_open"),
        Input(ids.REPORT_OPEN, "n_clicks"),
        Input(ids.REPORT_CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )(toggle_dialog)
    app.callback(
        Output(ids.REPORT_PERIOD, "options"),
        Output(ids.REPORT_PERIOD, "value"),
        Input(ids.REPORT_DIALOG, "is_open"),
        State(ids.SHELL_LOCATION, "search"),
        State(ids.SHELL_LOCATION, "pathname"),
        prevent_initial_call=True,  # the dialog opens closed; these two run when it opens
    )(update_period_options)
    app.callback(
        Output(ids.REPORT_TICKET, "data"),
        Output(ids.REPORT_GENERATE, "disabled"),
        Output(ids.REPORT_REASON, "children"),
        Input(ids.REPORT_POINTS, "value"),
        Input(ids.REPORT_PERIOD, "value"),
        Input(ids.REPORT_GRAIN, "value"),
        Input(ids.REPORT_FORMAT, "value"),
        State(ids.SHELL_LOCATION, "search"),
        State(ids.SHELL_LOCATION, "pathname"),
        prevent_initial_call=True,
    )(prepare_ticket)
    # A new file starts: the last one's "Done" goes at once (the job's own answer comes when it ends).
    app.clientside_callback(
        ClientsideFunction("telemetry", "clearReportStatus"),
        Output(ids.REPORT_STATUS, "children", allow_duplicate=True),
        Input(ids.REPORT_GENERATE, "n_clicks"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.REPORT_DOWNLOAD, "data"),
        Output(ids.REPORT_STATUS, "children"),
        Input(ids.REPORT_GENERATE, "n_clicks"),
        State(ids.REPORT_TICKET, "data"),
        background=True,
        manager=manager,
        running=[
            (Output(ids.REPORT_GENERATE, "disabled"), True, False),
            (Output(ids.REPORT_CANCEL, "style"), {"display": "inline-block"}, {"display": "none"}),
            (Output(ids.REPORT_PROGRESS, "style"), {"visibility": "visible"}, {"visibility": "hidden"}),
        ],
        progress=[
            Output(ids.REPORT_PROGRESS, "value"),
            Output(ids.REPORT_PROGRESS, "label"),
        ],
        cancel=[Input(ids.REPORT_CANCEL, "n_clicks")],
        interval=500,
        prevent_initial_call=True,
    )(job)
