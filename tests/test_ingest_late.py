"""A row refused under the writer's lock (its person gone between validation and the write: on ClickHouse, a code
that went; data/ingest/late.py) is quarantined as validation would have quarantined it, had the directory already
lost that person: the record as the input had it (no team filled in, no cost priced), its line or row, the same
reason; and every other count and row is what validation would have made.

The store here is the data folder's, told to forget Sam (u5) when the rows are written; the reference is the same
import into a copy of the folder whose directory no longer has Sam.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
from pathlib import Path

import polars as pl
import pytest

from data import schema
from data.ingest import ingest_files, ingest_otlp
from data.ingest.otlp import decode_json
from data.ingest.quarantine import _Quarantine
from data.ingest.store import ParquetStore
from tests.test_ingest import NOW, event, with_prices
from tests.test_ingest_formats import SUFFIX, WRITERS
from tests.test_ingest_jsonl import outcome

GONE = "u5"  # Sam Sales, of t_sales
RECORDS = [
    event("z1", user_id=GONE),  # no team, no cost: it would have been stored with t_sales and a priced cost
    event("z2"),  # Mia's: written
    event("z3", user_id=GONE, input_tokens=-1),  # refused at validation whoever Sam is
    event("z4", user_id=GONE, team_id="t_sales", ts="2026-03-03T09:00:00Z", model="half-model"),
    event("z1", user_id=GONE),  # the same id again: quarantined again, as validation does
    event("z6", ts="2026-03-04T10:00:00Z"),
    event("z9", user_id=GONE, ts="2026-03-04T11:00:00Z"),  # an id first Sam's, refused ...
    event("z9", ts="2026-03-04T11:00:00Z"),  # ... then Mia's: hers is the first of the id that is written
]
OTHERS = [event("z7", ts="2026-03-05T10:00:00Z"), event("z8", user_id="u1")]  # a first file, all written


class Forgets(ParquetStore):
    """The data folder, but Sam is no longer known when a round is written, though the validator knew him."""

    def unknown_people(self, user_ids) -> set[str]:
        return {GONE} & set(user_ids.to_pylist())


def _without_sam(data_dir: Path, folder: Path) -> Path:
    shutil.copytree(data_dir, folder)
    users = schema.directory_dir(folder) / "users.parquet"
    pl.read_parquet(users).filter(pl.col("user_id") != GONE).write_parquet(users)
    return folder


def _import(folder: Path, fmt: str, sources: list[Path], store: ParquetStore | None) -> tuple:
    if fmt == "otlp-receiver":
        request = decode_json(sources[-1].read_text())
        done = ingest_otlp(folder, [request], now=NOW, store=store)
    else:
        done = ingest_files(folder, sources, now=NOW, store=store)
    assert done.read == done.written + done.duplicates + done.quarantined
    counts, rows, _in_order, quarantine, reasons = outcome(folder, done)
    return counts, rows, quarantine, reasons  # the quarantine in file order: the input's


@pytest.mark.parametrize("fmt", [*WRITERS, "otlp-receiver"])
def test_a_row_refused_under_the_lock_is_quarantined_as_validation_would(data_dir, tmp_path, fmt) -> None:
    with_prices(data_dir)
    kind = "otlp-json" if fmt == "otlp-receiver" else fmt
    sources = [WRITERS[kind](tmp_path / f"records{SUFFIX[kind]}", RECORDS)]
    if fmt != "otlp-receiver":
        sources.insert(0, WRITERS["jsonl"](tmp_path / "first.jsonl", OTHERS))
    reference = _import(_without_sam(data_dir, tmp_path / "reference"), fmt, sources, None)
    late = _import(data_dir, fmt, sources, Forgets(data_dir))
    assert late == reference
    counts, _rows, quarantine, reasons = late
    assert counts[:4] == (len(RECORDS) + len(sources[:-1]) * len(OTHERS), 3 + 2 * len(sources[:-1]), 0, 5)
    assert dict(reasons) == {f"unknown user '{GONE}'": 4, "input_tokens is negative (-1)": 1}
    if fmt == "jsonl":  # worked out: the input's record, its line, its file
        first = {"reason": "unknown user 'u5'", "source": "records.jsonl", "line": 1, "record": RECORDS[0]}
        assert [q for q in quarantine if q.get("line") == 1] == [first]
    if fmt == "parquet":
        assert [q["row"] for q in quarantine] == [1, 3, 4, 5, 7]
        teams = {q["row"]: (q["record"]["team_id"], q["record"]["cost_usd"]) for q in quarantine}
        assert teams == {1: (None, None), 3: (None, None), 4: ("t_sales", None), 5: (None, None), 7: (None, None)}


def test_an_import_of_many_files_keeps_few_open(data_dir, tmp_path) -> None:
    """Each of 100 files has a late row (Sam's), a good one and a refused one: under a limit of 48 more open files
    than the process holds the import goes through, each file's quarantine in its lines' order."""
    with_prices(data_dir)
    files = [
        WRITERS["jsonl"](
            tmp_path / f"in{n:03d}.jsonl",
            [event(f"s{n}", user_id=GONE), event(f"g{n}"), event(f"b{n}", input_tokens=-1)],
        )
        for n in range(100)
    ]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # 48 more than this process holds now (a test worker holds more than a lone run): fewer than the 100 files'
    # quarantines an import keeping each open would need
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, len(os.listdir("/proc/self/fd")) + 48), hard))
    try:
        done = ingest_files(data_dir, files, now=NOW, store=Forgets(data_dir))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert (done.read, done.written, done.duplicates, done.quarantined) == (300, 100, 0, 200)
    assert len(done.quarantine_files) == 100
    first = [json.loads(line) for line in done.quarantine_files[0].read_text().splitlines()]
    assert [(q["line"], q["record"]["event_id"]) for q in first] == [(1, "s0"), (3, "b0")]


def test_a_late_row_the_quarantine_cannot_take_fails_the_import(data_dir, tmp_path, monkeypatch) -> None:
    """A disk full while a late row is quarantined is an error, not a row lost: only reading again is forgiven."""
    with_prices(data_dir)
    source = WRITERS["jsonl"](tmp_path / "records.jsonl", RECORDS)
    add = _Quarantine.add

    def disk_full(self, position, original, reasons, place=None) -> None:
        if reasons == [f"unknown user '{GONE}'"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        add(self, position, original, reasons, place)

    monkeypatch.setattr(_Quarantine, "add", disk_full)
    with pytest.raises(OSError, match="No space left"):
        ingest_files(data_dir, [source], now=NOW, store=Forgets(data_dir))
