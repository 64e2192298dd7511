"""The scheduler of a serving process: `run_schedules` every TELEMETRY_SCHEDULES_EVERY seconds. Several
processes may each run one (and cron may run `run-schedules` too): each due report is claimed once."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from auth.store import utcnow
from reports.schedule_run import run_schedules

logger = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, app: Flask, every: float) -> None:
        self.app, self.every = app, every
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="report-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """End the thread after the round under way, if any (tests; a server's ends with its process)."""
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self.every):
            try:
                with self.app.app_context():
                    run_schedules(utcnow())
            except Exception:  # the next round tries again; a run claimed and not sent is taken after its lease
                logger.exception("Sending scheduled reports failed")
