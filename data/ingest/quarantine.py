"""Refused records, kept with every reason in `$DATA_DIR/quarantine/`."""

from __future__ import annotations

import fcntl
import heapq
import itertools
import json
import os
import re
import secrets
from array import array
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
LAST = 2**63 - 1  # the place of a record its source no longer holds (data/ingest/late.py): after the others


class _Quarantine:
    """`$DATA_DIR/quarantine/<UTC time>-<source>.jsonl`, one JSON object per refused record.

    Written as a hidden temp file, closed when its source is read, renamed when the import is over (rows refused
    under the writer's lock put in their places: data/ingest/late.py); for the live receiver the lines are
    appended to `<UTC date>-otlp-http.jsonl` instead, so a chatty sender makes one file a day.
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
        self._places = array("q")  # each line's record's place in its source, to put late lines among them

    def __enter__(self) -> _Quarantine:
        return self

    def add(self, position: int | None, original: object, reasons: list[str], place: int | None = None) -> None:
        """One refused record; `place`: its place in the source when `position` is not it (OTLP), None: last."""
        if self._out is None:
            if self._draft is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._draft = self.folder / f".{self.name}.{secrets.token_hex(4)}.tmp"
            self._out = open(self._draft, "a", encoding="utf-8")  # noqa: SIM115 (closed in close)
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
        place = position if place is None else place
        self._places.append(LAST if place is None else place)
        self.count += 1

    def close(self) -> None:
        """The draft written out and its file closed (an import of many sources keeps one open); `add` opens it
        again."""
        if self._out is not None:
            self._out.flush()
            os.fsync(self._out.fileno())
            self._out.close()
            self._out = None

    def in_place(self, first: int) -> None:
        """The lines from the `first` on (in their places' order) put among those before at their places, the
        earlier lines' order kept: the file in the input's order (the first record of an id wins on a retry)."""
        self.close()
        if self._draft is None or first >= len(self._places):
            return
        merged = self._draft.with_name(self._draft.name + ".merged")
        with open(self._draft, "rb") as before, open(self._draft, "rb") as late, open(merged, "wb") as out:
            earlier = zip(self._places[:first], itertools.islice(before, first), strict=True)
            later = zip(self._places[first:], itertools.islice(late, first, None), strict=True)
            places = array("q")
            for place, line in heapq.merge(earlier, later, key=lambda pair: pair[0]):
                out.write(line)
                places.append(place)
            out.flush()
            os.fsync(out.fileno())
        os.replace(merged, self._draft)
        self._places = places

    def __exit__(self, *exc) -> None:
        if self._draft is None:
            return
        self.close()
        if self.daily:
            self.path, self._draft = self._append_to_daily_file(), None
            return
        target = self.folder / self.name
        serial = 1
        while target.exists():
            serial += 1
            target = self.folder / self.name.replace(".jsonl", f"-{serial}.jsonl")
        os.replace(self._draft, target)
        self.path, self._draft = target, None

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


def checked_row(
    item: Item, validator: EventValidator, text_mode: bool, quarantine: _Quarantine, place: int | None = None
) -> tuple | None:
    """One record through `validate`: its row, or None once it is in quarantine with every reason (`place`: the
    record's in its source, when its position is not it)."""
    position, record, original, reasons, agent_name = item
    row = None
    if record is not None:
        row, found = validator.validate(record, text_mode, agent_name)
        if reasons or found:
            row, reasons = None, reasons + found
    if row is None:
        quarantine.add(position, original, reasons, place)
    return row


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
