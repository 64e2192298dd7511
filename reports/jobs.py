"""Report jobs that are running: one an account, REPORT_MAX_JOBS in all, shared by every worker process.

Each job is a process (about 250 MB), so the limit is checked before it is started. On chDB a job cannot be a
process (chDB's engine opens its data path in one process only: the server's), so there each job is a thread of
the server (`ThreadJobs`, the same rules, one process so one register in memory). The register of processes is a
folder of small files, one per running job (`<pid>.json`: the process's start time, the account and
its session), changed only under an exclusive `flock` on `lock` in the same folder, so gunicorn's
workers see one register. A job whose process has ended (or is a zombie, or whose pid now belongs to
another process) no longer counts, whoever started it: nothing has to remember to free its slot.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
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


_cancel: ContextVar[threading.Event | None] = ContextVar("report_job_cancel", default=None)


def cancelled() -> bool:
    """Whether the job this thread runs (`ThreadJobs`) was cancelled: a thread cannot be killed, so the job
    checks this at each step and ends there."""
    event = _cancel.get()
    return event is not None and event.is_set()


@dataclass(frozen=True)
class ThreadJob:
    id: int
    account: str
    sid: str | None
    thread: threading.Thread
    cancel: threading.Event


class ThreadJobs:
    """The register of report jobs run on threads of this process (the chDB backend, which serves from one
    process), allowing `max_jobs` at once and one an account, as `ReportJobs`. A stopped job is asked to end
    (`cancelled`) and no longer counts: it ends at its next step."""

    def __init__(self, max_jobs: int = DEFAULT_MAX_JOBS) -> None:
        self.max_jobs = max_jobs
        self._jobs: dict[int, ThreadJob] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, account: str, sid: str | None, run: Callable[[], None], ended: Callable[[str], bool]) -> int:
        """Run `run` on a thread of its own if the account has no job running and a slot is free; answer the
        job's id, or raise JobRefused. Jobs of sessions that `ended` stop first."""
        with self._lock:
            self._stop_ended(ended)
            jobs = self._running()
            if any(job.account == account for job in jobs):
                raise JobRefused(OWN_JOB_RUNNING)
            if len(jobs) >= self.max_jobs:
                raise JobRefused(server_busy(self.max_jobs))
            job_id, cancel = next(self._ids), threading.Event()

            def job() -> None:
                _cancel.set(cancel)
                run()

            thread = threading.Thread(target=job, name=f"report-job-{job_id}", daemon=True)
            self._jobs[job_id] = ThreadJob(job_id, account, sid, thread, cancel)
            thread.start()
            return job_id

    def running(self) -> list[ThreadJob]:
        with self._lock:
            return self._running()

    def is_running(self, job_id: int) -> bool:
        with self._lock:
            job = self._jobs.get(job_id)
            return job is not None and job.thread.is_alive()

    def stop(self, job_id: int) -> None:
        """Ask a job to end (at its next step); an id that is not a running job is left alone."""
        with self._lock:
            job = self._jobs.pop(job_id, None)
            if job is not None:
                job.cancel.set()

    def stop_session(self, sid: str) -> int:
        """Ask every job started from this session to end (at logout); how many there were."""
        return self.stop_ended(lambda candidate: candidate == sid)

    def stop_ended(self, ended: Callable[[str], bool]) -> int:
        """Ask every job whose session has ended to end; how many there were."""
        with self._lock:
            return self._stop_ended(ended)

    def _stop_ended(self, ended: Callable[[str], bool]) -> int:
        stopped = [job for job in self._running() if job.sid is not None and ended(job.sid)]
        for job in stopped:
            job.cancel.set()
            del self._jobs[job.id]
        return len(stopped)

    def _running(self) -> list[ThreadJob]:
        for job_id in [job.id for job in self._jobs.values() if not job.thread.is_alive()]:
            del self._jobs[job_id]
        return list(self._jobs.values())
