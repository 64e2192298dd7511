"""Report jobs: one running an account, REPORT_MAX_JOBS in all across workers, ended with their session.

A job here is a small process that waits on its stdin: it runs until the test closes that pipe or
the register kills it, so nothing depends on how long anything takes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app import ConfigError, create_app
from callbacks import report
from reports.jobs import OWN_JOB_RUNNING, JobRefused, ReportJobs, ThreadJobs, cancelled, server_busy
from tests import dash_payloads as dp
from tests.conftest import ACCOUNTS

WAITS = [sys.executable, "-c", "import sys; sys.stdin.read()"]


@pytest.fixture
def processes():
    """Start waiting processes; every one left is ended after the test."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        started.append(subprocess.Popen(WAITS, stdin=subprocess.PIPE))
        return started[-1]

    yield start
    for process in started:
        process.stdin.close()
        process.wait()


def never_ended(_sid: str) -> bool:
    return False


def finish(process: subprocess.Popen) -> None:
    """The job ends by itself: its input closes and it returns."""
    process.stdin.close()
    process.wait()


def ended(process: subprocess.Popen) -> bool:
    """Whether the process has gone though its input is still open: killed. The register kills a process
    of this one's and reaps it before it returns, so there is nothing to wait for."""
    return process.poll() is not None and not process.stdin.closed


def test_one_job_an_account_and_the_setting_in_all(tmp_path, processes):
    jobs = ReportJobs(tmp_path / "jobs", max_jobs=2)
    spawned = []

    def spawn() -> int:
        spawned.append(processes())
        return spawned[-1].pid

    ada = jobs.start("ada@x", "s1", spawn, never_ended)
    with pytest.raises(JobRefused, match="^" + OWN_JOB_RUNNING):
        jobs.start("ada@x", "s1-other-tab", spawn, never_ended)
    bob = jobs.start("bob@x", "s2", spawn, never_ended)
    with pytest.raises(JobRefused) as refused:
        jobs.start("cy@x", "s3", spawn, never_ended)
    assert str(refused.value) == server_busy(2)
    assert len(spawned) == 2  # nothing was started for the refused ones
    assert sorted(job.pid for job in jobs.running()) == sorted([ada, bob])
    finish(spawned[0])  # Ada's report is done: her slot is free again, without anyone freeing it
    assert jobs.start("cy@x", "s3", spawn, never_ended) == spawned[2].pid
    with pytest.raises(JobRefused, match="^The server is already generating 2 reports"):
        jobs.start("ada@x", "s1", spawn, never_ended)


def test_every_worker_sees_one_register(tmp_path, processes):
    folder = tmp_path / "jobs"
    job = processes()
    ReportJobs(folder, 1).start("ada@x", "s1", lambda: job.pid, never_ended)
    other_worker = (
        "import sys; from pathlib import Path; from reports.jobs import ReportJobs, JobRefused\n"
        "try:\n"
        "    ReportJobs(Path(sys.argv[1]), 1).start('bob@x', 's2', lambda: 1 / 0, lambda sid: False)\n"
        "except JobRefused as refused:\n"
        "    print(refused)\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", other_worker, str(folder)], capture_output=True, text=True, check=True,
        cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert answer.stdout.strip() == server_busy(1)


def test_a_pid_used_by_another_process_is_not_a_job(tmp_path):
    folder = tmp_path / "jobs"
    folder.mkdir()
    me = {"pid": subprocess.os.getpid(), "started": 1.0, "account": "ada@x", "sid": "s1"}
    (folder / f"{me['pid']}.json").write_text(json.dumps(me))  # a job long gone; its pid is now this test
    jobs = ReportJobs(folder, 1)
    jobs.stop(me["pid"])  # does not kill this process
    assert jobs.running() == [] and not list(folder.glob("*.json"))


def test_jobs_end_with_their_session(tmp_path, processes):
    jobs = ReportJobs(tmp_path / "jobs", max_jobs=3)
    ada, bob = processes(), processes()
    jobs.start("ada@x", "s1", lambda: ada.pid, never_ended)
    jobs.start("bob@x", "s2", lambda: bob.pid, never_ended)
    assert jobs.stop_session("s1") == 1 and ended(ada)  # logout
    # Bob's session timed out: the next admission ends his job before counting
    cy = processes()
    jobs.start("cy@x", "s3", lambda: cy.pid, lambda sid: sid == "s2")
    assert ended(bob) and [job.account for job in jobs.running()] == ["cy@x"]


@pytest.fixture
def fake_spawn(monkeypatch, processes):
    """Report jobs in the app start a waiting process instead of a report-building interpreter."""
    spawned: list[subprocess.Popen] = []

    def spawn(_job_fn, _args) -> int:
        spawned.append(processes())
        return spawned[-1].pid

    monkeypatch.setattr(report, "spawn_job", spawn)
    return spawned


def generate(client, query: str = "") -> dict:
    body = dp.payload(
        dp.find(client.get("/_dash-dependencies").get_json(), r"report-download\.data"),
        {"report-generate.n_clicks": 1, "report-ticket.data": "a ticket"},
    )
    answer = client.post(dp.CALLBACK_URL + query, json=body, headers={"Origin": dp.ORIGIN})
    assert answer.status_code == 200
    return answer.get_json()


def test_a_second_report_of_the_same_account_is_refused_in_the_dialog(client, auth, fake_spawn):
    auth.login("manager")
    first = generate(client)
    assert len(fake_spawn) == 1 and fake_spawn[0].poll() is None
    second = generate(client)  # another click, or another tab: no second process
    assert len(fake_spawn) == 1
    polled = generate(client, f"?cacheKey={second['cacheKey']}&job={second['job']}")
    assert polled["response"]["report-status"]["children"] == OWN_JOB_RUNNING
    generate(client, f"?oldJob={first['job']}")  # Cancel: the running job ends
    assert ended(fake_spawn[0])


def test_logging_out_ends_the_sessions_jobs(app, client, auth, fake_spawn):
    auth.login("manager")
    generate(client)
    jobs = app.extensions[report.JOBS_EXTENSION]
    assert [job.account for job in jobs.running()] == [ACCOUNTS["manager"][0]]
    assert auth.logout().status_code == 302
    assert ended(fake_spawn[0]) and jobs.running() == []


def test_a_job_stops_at_its_next_step_once_its_session_has_ended(app, signed_in):
    store = app.extensions["telemetry_store"]
    with signed_in("manager"):
        search = "?start=2026-03-02&end=2026-03-08"
        ticket = report.prepare_ticket(["summary", "by_team"], "shown", "auto", "csv", search)[0]
        sid = report.current_account().sid
        steps = []

        def progress(value) -> None:
            steps.append(value)
            store.revoke_session(sid)  # signed out (or timed out) in another tab while the report is built

        download, status = report.generate_report(progress, 1, ticket)
    assert len(steps) == 1
    assert (download, status) == (report.no_update, report.SESSION_ENDED)


def test_the_total_is_a_setting(monkeypatch, data_dir):
    monkeypatch.setenv("TELEMETRY_REPORT_MAX_JOBS", "5")
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "test"})
    assert app.extensions[report.JOBS_EXTENSION].max_jobs == 5
    monkeypatch.setenv("TELEMETRY_REPORT_MAX_JOBS", "0")
    with pytest.raises(ConfigError, match="TELEMETRY_REPORT_MAX_JOBS"):
        create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "test"})


def test_jobs_on_threads_keep_the_same_rules(tmp_path):
    """chDB's register (jobs on threads of the server): one an account, the setting in all, a cancelled job
    told at its next step, a finished one's slot free again."""
    jobs = ThreadJobs(max_jobs=2)
    go_on = {name: threading.Event() for name in ("ada", "bob", "cy")}
    told: dict[str, bool] = {}

    def job(name: str):
        def run() -> None:
            go_on[name].wait()
            told[name] = cancelled()

        return run

    ada = jobs.start("ada@x", "s1", job("ada"), never_ended)
    with pytest.raises(JobRefused, match=OWN_JOB_RUNNING):
        jobs.start("ada@x", "s1-other-tab", job("ada"), never_ended)
    bob = jobs.start("bob@x", "s2", job("bob"), never_ended)
    with pytest.raises(JobRefused, match=server_busy(2)):
        jobs.start("cy@x", "s3", job("cy"), never_ended)
    assert jobs.is_running(ada) and jobs.is_running(bob)
    threads = [job.thread for job in jobs.running()]
    jobs.stop(ada)  # Cancel: the slot is free at once, the thread ends at its next step
    cy = jobs.start("cy@x", "s3", job("cy"), lambda sid: sid == "s2")  # bob's session has ended
    assert [job.account for job in jobs.running()] == ["cy@x"]
    threads += [job.thread for job in jobs.running()]
    for name in go_on:
        go_on[name].set()
    for thread in threads:
        thread.join()
    assert told == {"ada": True, "bob": True, "cy": False}
    assert not jobs.is_running(cy) and jobs.running() == []


def test_a_job_on_a_thread_ends_at_its_next_step_once_cancelled():
    jobs, step_reached, outcome = ThreadJobs(), threading.Event(), {}
    resume = threading.Event()

    def run() -> None:
        step_reached.set()
        resume.wait()
        outcome["cancelled"] = cancelled()

    job = jobs.start("ada@x", "s1", run, never_ended)
    step_reached.wait()
    thread = jobs.running()[0].thread
    jobs.stop(job)
    resume.set()
    thread.join()
    assert outcome == {"cancelled": True} and jobs.running() == []


def test_a_report_asked_of_an_app_runs_with_its_settings_though_another_app_was_made_after_it(
    data_dir, tmp_path, password_hash, processes, monkeypatch
):
    """Dash (4.4) registers each app's report job in every manager of the process under one key: the job of an app
    made earlier ran with the settings of the last app made (its data folder, where the session asking is unknown:
    "Your session has ended"). Two apps in one process; the first one's job runs on a thread here (as on chDB), a
    waiting process standing for it in the register of jobs."""
    from tests import org
    from tests.conftest import make_app
    from tests.test_callbacks_memo import signed_in_client

    def spawn(job_fn, args) -> int:
        threading.Thread(target=job_fn, args=args, daemon=True).start()
        return processes().pid

    monkeypatch.setattr(report, "spawn_job", spawn)
    first = make_app(data_dir, password_hash)
    org.write_org_rolled_up(tmp_path / "other")
    make_app(tmp_path / "other", password_hash)
    client = signed_in_client(first, "admin")
    deps = client.get("/_dash-dependencies").get_json()
    asked = dp.payload(dp.find(deps, r"report-ticket\.data"), {
        "report-points.value": ["summary"], "report-period.value": "shown", "report-grain.value": "day",
        "report-format.value": "csv", "shell-location.search": "?start=2026-03-02&end=2026-03-08",
        "shell-location.pathname": "/telemetry",
    })  # fmt: skip
    ticket = dp.post(client, asked).get_json()["response"]["report-ticket"]["data"]
    generate = dp.payload(dp.find(deps, r"report-download\.data"),
                          {"report-generate.n_clicks": 1, "report-ticket.data": ticket})  # fmt: skip
    started = dp.post(client, generate).get_json()
    poll = f"{dp.CALLBACK_URL}?cacheKey={started['cacheKey']}&job={started['job']}"
    deadline, answer = time.monotonic() + 300, {}
    while "response" not in answer:  # the page's polling, until the job's answer is there
        assert time.monotonic() < deadline, "the report job never answered"
        threading.Event().wait(0.05)
        answer = client.post(poll, json=generate, headers={"Origin": dp.ORIGIN}).get_json() or {}
    status = answer["response"]["report-status"]["children"]
    assert status.startswith("Done: telemetry-summary-2026-03-02-to-2026-03-08.csv"), status
