"""Refused records, kept with every reason in `$DATA_DIR/quarantine/`."""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from data.ingest.jsonl import Item, RawJson

if TYPE_CHECKING:
    from data.ingest.validate import EventValidator

QUARANTINE = "quarantine"


MAX_DISTINCT_REASONS = 1000


class _Quarantine:
    """`$DATA_DIR/quarantine/<UTC time>-<source>.jsonl`, one JSON object per refused record.

    Written as a hidden temp file and renamed when the source is done; for the live receiver the
    lines are appended to `<UTC date>-otlp-http.jsonl` instead, so a chatty sender makes one file a day.
    """

    def __init__(self, data_dir: Path, stamp: str, source: str, position: str = "line", daily: bool = False) -> None:
        self.folder = Path(data_dir) / QUARANTINE
        self.source = source
        self.position = position  # "line" of a text file, "row" of a Parquet file
        self.daily = daily  # append to <UTC date>-<source>.jsonl (the live receiver) instead
        self.name = f"{stamp}-{re.sub(r'[^A-Za-z0-9._-]+', '_', Path(source).stem)[:80]}.jsonl"
        self.count = 0
        self.reasons: Counter[str] = Counter()
        self.path: Path | None = None
        self._draft: Path | None = None
        self._out = None

    def __enter__(self) -> _Quarantine:
        return self

    def add(self, position: int | None, original: object, reasons: list[str]) -> None:
        if self._out is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._draft = self.folder / f".{self.name}.{secrets.token_hex(4)}.tmp"
            self._out = open(self._draft, "w", encoding="utf-8")  # noqa: SIM115 (closed in __exit__)
        if callable(original):
            original = original()
        head = {"reason": "; ".join(reasons), "source": self.source}
        if len(self.reasons) < MAX_DISTINCT_REASONS or head["reason"] in self.reasons:
            self.reasons[head["reason"]] += 1
        if position is not None:
            head[self.position] = position
        if isinstance(original, RawJson):
            record = original
        else:
            record = json.dumps(original, default=_json_value, ensure_ascii=False)
        self._out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "record": ' + record + "}\n")
        self.count += 1

    def __exit__(self, *exc) -> None:
        if self._out is None:
            return
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        if self.daily:
            self.path = self._append_to_daily_file()
            return
        target = self.folder / self.name
        serial = 1
        while target.exists():
            serial += 1
            target = self.folder / self.name.replace(".jsonl", f"-{serial}.jsonl")
        os.replace(self._draft, target)
        self.path = target

    def _append_to_daily_file(self) -> Path:
        """The receiver's refusals go to one file per UTC day, appended whole under a lock."""
        target = self.folder / f"{self.name.split('T', 1)[0]}-{self.source}.jsonl"
        content = self._draft.read_bytes()
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        self._draft.unlink()
        return target


def checked_row(item: Item, validator: EventValidator, text_mode: bool, quarantine: _Quarantine) -> tuple | None:
    """One record through `validate`: its row, or None once it is in quarantine with every reason."""
    position, record, original, reasons, agent_name = item
    row = None
    if record is not None:
        row, found = validator.validate(record, text_mode, agent_name)
        if reasons or found:
            row, reasons = None, reasons + found
    if row is None:
        quarantine.add(position, original, reasons)
    return row


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
