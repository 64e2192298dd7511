"""Real gunicorn as production runs it (`app:create_app()`, two worker processes, threads): logins and
concurrent callbacks answered with the tiny org's numbers by both workers, then a clean shutdown."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests

from app import ENVIRONMENT
from auth.store import Store
from tests import dash_payloads as dp
from tests import org
from tests.conftest import ACCOUNTS

PROJECT = Path(__file__).resolve().parents[1]
WEEK = {"dashboard-query.data": {"start": "2026-03-02", "end": "2026-03-08"}}
# Worked out in tests/org.py (see test_callbacks_dashboard): 2 to 8 March, the whole org and Max's teams.
EXPECTED = {"admin": ('"6"', "$3.72"), "manager": ('"5"', "$1.72")}
ACCESS_LOG_FORMAT = "%(p)s %(s)s %(m)s %(U)s"  # "<pid>" of the worker first: which process answered


@dataclass
class Gunicorn:
    base: str
    process: subprocess.Popen
    access_log: Path
    error_log: Path

    def workers(self) -> set[int]:
        return {child.pid for child in psutil.Process(self.process.pid).children()}

    def callback_pids(self) -> set[int]:
        lines = self.access_log.read_text().splitlines()
        return {int(line.split()[0].strip("<>")) for line in lines if line.endswith(dp.CALLBACK_URL)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(data_dir: Path) -> dict[str, str]:
    """This machine's environment without any Telemetry setting, then the tiny org's."""
    settings = {*ENVIRONMENT, "TELEMETRY_CACHE_MB"}
    env = {key: value for key, value in os.environ.items() if key not in settings}
    return {**env, "TELEMETRY_DATA_DIR": str(data_dir), "SECRET_KEY": "serving-test"}


def wait_until_up(server: Gunicorn, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process.poll() is None, server.error_log.read_text()
        try:
            if requests.get(f"{server.base}/login", timeout=120).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within {timeout} s:\n{server.error_log.read_text()}")


@pytest.fixture
def gunicorn(data_dir: Path, tmp_path: Path, password_hash: str) -> Iterator[Gunicorn]:
    store = Store(data_dir / "telemetry.sqlite")  # where the app keeps accounts unless told otherwise
    for role in ("admin", "manager"):
        store.create_account(*ACCOUNTS[role], password_hash)
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "app:create_app()", "--bind", f"127.0.0.1:{port}",
               "--workers", "2", "--threads", "2", "--no-control-socket",  # a `make run` elsewhere keeps its own
               "--access-logfile", str(tmp_path / "access.log"), "--access-logformat", ACCESS_LOG_FORMAT,
               "--error-logfile", str(tmp_path / "error.log")]  # fmt: skip
    process = subprocess.Popen(command, cwd=PROJECT, env=server_environment(data_dir))
    server = Gunicorn(f"http://127.0.0.1:{port}", process, tmp_path / "access.log", tmp_path / "error.log")
    try:
        wait_until_up(server)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def login(base: str, who: str) -> requests.Session:
    """Signed in through the login form, CSRF token and all, as a browser does."""
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=120).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{base}/login",
        data={"email": ACCOUNTS[who][0], "password": org.PASSWORD, "csrf_token": token},
        headers={"Origin": base},
        allow_redirects=False,
        timeout=30,
    )
    assert (answer.status_code, answer.headers.get("Location")) == (302, "/telemetry")
    return session


def kpis(base: str, session: requests.Session, body: dict) -> requests.Response:
    """The Dashboard KPI callback on a new connection each time, so the workers take turns accepting."""
    headers = {"Origin": base, "Connection": "close"}
    return session.post(base + dp.CALLBACK_URL, json=body, headers=headers, timeout=120)


def send_together(server: Gunicorn, sessions: dict[str, requests.Session], body: dict, rounds: int) -> None:
    """`rounds` × each role's KPI request, eight at a time; each answer has that role's numbers."""
    roles = list(sessions) * rounds
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda role: kpis(server.base, sessions[role], body), roles))
    for role, answer in zip(roles, answers, strict=True):
        assert answer.status_code == 200, answer.text[:300]
        text = answer.text
        assert "sideUpdate" not in answer.json(), text[:300]  # no callback failed on the server
        assert all(figure in text for figure in EXPECTED[role]), (role, text[:300])


def test_gunicorn_workers_answer_concurrent_callbacks_and_shut_down_cleanly(gunicorn: Gunicorn):
    sessions = {role: login(gunicorn.base, role) for role in EXPECTED}
    dependencies = sessions["admin"].get(f"{gunicorn.base}/_dash-dependencies", timeout=120).json()
    body = dp.payload(dp.find(dependencies, "dashboard-kpis"), WEEK)
    send_together(gunicorn, sessions, body, rounds=6)
    workers = gunicorn.workers()
    assert len(workers) == 2
    deadline = time.monotonic() + 120  # a worker still importing the app accepts nothing: give it time
    while gunicorn.callback_pids() != workers and time.monotonic() < deadline:
        send_together(gunicorn, sessions, body, rounds=2)
    assert gunicorn.callback_pids() == workers  # both processes answered (each with its own DuckDB)

    gunicorn.process.send_signal(signal.SIGTERM)
    assert gunicorn.process.wait(timeout=120) == 0
    assert not any(psutil.pid_exists(pid) for pid in workers)
    assert "Shutting down: Master" in gunicorn.error_log.read_text()
