"""The checker of a serving process: `check_alerts` every TELEMETRY_ALERTS_EVERY seconds, and at once when a
write of this process changed events (data/ingest/commit.py `after_write`: the writer only sets an event, so
its write is not slowed). Several processes may each run one: the outbox sends each alert once."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask

from alerts.check import check_alerts
from data.ingest import commit

logger = logging.getLogger(__name__)


class Checker:
    def __init__(self, app: Flask, every: float) -> None:
        self.app, self.every = app, every
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="alerts-checker", daemon=True)

    def start(self) -> None:
        commit.after_write(self._written)
        self._thread.start()

    def stop(self) -> None:
        """End the thread after its check under way, if any (tests; a server's ends with its process)."""
        self._stopping.set()
        self._wake.set()
        self._thread.join()

    def _written(self, data_dir: Path) -> None:
        if Path(data_dir).resolve() == Path(self.app.config["DATA_DIR"]).resolve():
            self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.every)
            self._wake.clear()  # a write during the check below wakes the next one at once
            if self._stopping.is_set():
                return
            try:
                with self.app.app_context():
                    check_alerts()
            except Exception:  # the next round tries again; deliveries claimed and not sent are retried
                logger.exception("Checking alerts failed")
