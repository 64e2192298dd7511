"""Report jobs that are running: one an account, REPORT_MAX_JOBS in all, shared by every worker process.

Each job is a process (about 250 MB), so the limit is checked before it is started. The register is a
folder of small files, one per running job (`<pid>.json`: the process's start time, the account and
its session), changed only under an exclusive `flock` on `lock` in the same folder, so gunicorn's
workers see one register. A job whose process has ended (or is a zombie, or whose pid now belongs to
another process) no longer counts, whoever started it: nothing has to remember to free its slot.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

DEFAULT_MAX_JOBS = 2
OWN_JOB_RUNNING = (
    "Your previous report is still being generated; wait for it to finish, or cancel it, before starting another."
)


def server_busy(limit: int) -> str:
    return (
        f"The server is already generating {limit} report{'s' if limit != 1 else ''}, the most it runs at once; "
        "try again in a minute."
    )


class JobRefused(RuntimeError):
    """No slot for this job; the message is for the person who asked."""


@dataclass(frozen=True)
class Job:
    pid: int
    started: float  # the process's start time, so that a reused pid is not taken for the job
    account: str
    sid: str | None


class ReportJobs:
    """The register of running report jobs in `folder`, allowing `max_jobs` at once."""

    def __init__(self, folder: Path, max_jobs: int = DEFAULT_MAX_JOBS) -> None:
        self.folder = Path(folder)
        self.max_jobs = max_jobs

    def start(self, account: str, sid: str | None, spawn: Callable[[], int], ended: Callable[[str], bool]) -> int:
        """Call `spawn` (it starts the job and returns its pid) if the account has no job running and a
        slot is free, and record the job; raise JobRefused otherwise. Jobs of sessions that `ended` stop first."""
        with self._locked():
            jobs = self._stop_ended(self._running(), ended)
            if any(job.account == account for job in jobs):
                raise JobRefused(OWN_JOB_RUNNING)
            if len(jobs) >= self.max_jobs:
                raise JobRefused(server_busy(self.max_jobs))
            pid = spawn()
            job = Job(pid, _started(pid) or 0.0, account, sid)
            (self.folder / f"{pid}.json").write_text(json.dumps(asdict(job)))
            return pid

    def running(self) -> list[Job]:
        with self._locked():
            return self._running()

    def stop(self, pid: int) -> None:
        """End a recorded job's process (and its children); a pid that is not a running job is left alone."""
        with self._locked():
            for job in self._running():
                if job.pid == pid:
                    _kill(job)
                    self._forget(job.pid)

    def stop_session(self, sid: str) -> int:
        """End every job started from this session (at logout); how many there were."""
        return self.stop_ended(lambda candidate: candidate == sid)

    def stop_ended(self, ended: Callable[[str], bool]) -> int:
        """End every job whose session has ended; how many there were."""
        with self._locked():
            jobs = self._running()
            return len(jobs) - len(self._stop_ended(jobs, ended))

    def _stop_ended(self, jobs: list[Job], ended: Callable[[str], bool]) -> list[Job]:
        kept = []
        for job in jobs:
            if job.sid is not None and ended(job.sid):
                _kill(job)
                self._forget(job.pid)
            else:
                kept.append(job)
        return kept

    def _running(self) -> list[Job]:
        jobs = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                job = Job(**json.loads(path.read_text()))
            except (OSError, ValueError, TypeError):
                job = None
            if job is not None and _alive(job):
                jobs.append(job)
            else:
                path.unlink(missing_ok=True)
        return jobs

    def _forget(self, pid: int) -> None:
        (self.folder / f"{pid}.json").unlink(missing_ok=True)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # every worker's changes, one at a time; released on close
            yield
        finally:
            os.close(fd)


def _started(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _alive(job: Job) -> bool:
    try:
        process = psutil.Process(job.pid)
        return process.create_time() == job.started and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill(job: Job) -> None:
    """Kill the job's process and its children; reap it when it is this process's child."""
    try:
        process = psutil.Process(job.pid)
        if process.create_time() != job.started:
            return
        for child in process.children(recursive=True):
            with suppress(psutil.NoSuchProcess):
                child.kill()
        process.kill()
        if process.ppid() == os.getpid():
            process.wait()
    except psutil.Error:
        pass
