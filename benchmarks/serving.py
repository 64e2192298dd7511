"""gunicorn for the benchmarks: start it on a free loopback port, wait for it, stop it, watch its memory."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

PROJECT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(app: str, env: dict[str, str], port: int, workers: int, threads: int, log: Path) -> subprocess.Popen:
    """gunicorn serving `app` (a WSGI factory call, e.g. "app:create_app()"); no control socket, so a
    `make run` elsewhere keeps its own."""
    command = [str(GUNICORN), app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--threads", str(threads), "--access-logfile", "-", "--no-control-socket"]  # fmt: skip
    with log.open("w") as out:
        return subprocess.Popen(
            command, cwd=PROJECT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )


def wait_until_up(base: str, server: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{base}/login", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # not up yet, or its first request still loading
            pass
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")


def stop(server: subprocess.Popen) -> int:
    """A graceful shutdown (SIGTERM, as a process manager sends it); answers gunicorn's exit code."""
    server.send_signal(signal.SIGTERM)
    try:
        return server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        return server.wait()


def worker_pids(server: subprocess.Popen) -> set[int]:
    return {child.pid for child in psutil.Process(server.pid).children()}


def tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def high_water_marks(pid: int) -> int:
    """The sum of each process's own peak RSS (VmHWM) over a process tree, in bytes."""
    total = 0
    for process in tree(pid):
        with contextlib.suppress(FileNotFoundError, psutil.NoSuchProcess):
            status = Path(f"/proc/{process.pid}/status").read_text()
            total += next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM"))
    return total


def rss_and_pss(pid: int) -> tuple[int, int]:
    """RSS and PSS summed over a process tree, in bytes (PSS counts pages shared between processes,
    like the Parquet files every worker reads, once in all)."""
    rss = pss = 0
    for process in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            rss += process.memory_info().rss
            pss += process.memory_full_info().pss
    return rss, pss
