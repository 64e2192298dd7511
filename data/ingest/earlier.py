"""The ids an import's earlier rounds handled: within one import the first record of an id wins whatever its
UTC date, in one round or in many (data/ingest/writer.py `MAX_ROWS_IN_MEMORY`), as docs/schema.md says.

A round's rows are checked against the stored ids of their own dates only (storage.py), so a record whose id an
earlier round wrote on another date would be written again without this. Kept so that memory follows the round,
not the file: the ids' 64-bit hashes in memory, sorted, each with its place among the import's ids (12 bytes an
id), and the ids themselves in a temporary Arrow file per round. A row whose hash is found is compared with the
ids at the places of that hash only (the same id, or another id of the same hash, which is kept).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from data.ingest.storage import numpy_array

_COLUMN = "event_id"


class EarlierIds:
    """The event ids of an import's rounds so far (after each round's own first-of-an-id)."""

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype=np.uint64)
        self.places = np.empty(0, dtype=np.uint32)  # of each hash: its id's number among the import's ids
        self.starts: list[int] = []  # the number of each round's first id
        self.count = 0  # ids so far
        self.folder: Path | None = None
        self.files: list[Path] = []

    def add(self, ids: pa.ChunkedArray, hashes: np.ndarray) -> None:
        """A round's ids (`id_hash`es given), all distinct and none of an earlier round's."""
        if not len(ids):
            return
        start, self.count = self.count, self.count + len(ids)
        order = np.argsort(hashes)
        new = hashes[order]
        at = np.searchsorted(self.hashes, new)
        self.hashes = np.insert(self.hashes, at, new)
        self.places = np.insert(self.places, at, (start + order).astype(np.uint32))
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="telemetry-ingest-ids-"))
        path = self.folder / f"round-{len(self.files)}.arrow"
        table = pa.table({_COLUMN: ids})
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        self.files.append(path)
        self.starts.append(start)

    def without_earlier(self, table: pa.Table, hashes: np.ndarray, counts: dict) -> tuple[pa.Table, np.ndarray]:
        """The rows whose id no earlier round had, and their ids' hashes; the others are counted as duplicates."""
        if not self.hashes.size or not table.num_rows:
            return table, hashes
        order = np.argsort(hashes)  # looked up in order: one walk through the sorted hashes, not a jump each
        ordered = hashes[order]
        first = np.searchsorted(self.hashes, ordered)
        found = self.hashes[first.clip(max=self.hashes.size - 1)] == ordered
        if not found.any():
            return table, hashes
        rows, first = order[found], first[found]
        last = np.searchsorted(self.hashes, ordered[found], side="right")  # several places: ids of one hash
        pairs = np.repeat(np.arange(len(rows)), last - first)  # each found row, once per place of its hash
        places = self.places[np.arange(len(pairs)) - np.repeat(np.cumsum(last - first) - (last - first), last - first)
                             + np.repeat(first, last - first)]  # fmt: skip
        same = pl.from_arrow(table.column(_COLUMN).take(numpy_array(rows[pairs]))) == self._ids_at(places)
        seen = np.bincount(pairs, weights=same.to_numpy(), minlength=len(rows)) > 0
        keep = np.ones(table.num_rows, dtype=bool)
        keep[rows[seen]] = False
        counts["duplicates"] += int(table.num_rows - keep.sum())
        return table.filter(pl.Series(keep).to_arrow()), hashes[keep]

    def _ids_at(self, places: np.ndarray) -> pl.Series:
        """The ids at these places, in this order: of each round's file, only the rows asked for are read."""
        rounds = np.searchsorted(np.array(self.starts), places, side="right") - 1
        order = np.argsort(rounds, kind="stable")
        parts = []
        for number in np.unique(rounds).tolist():
            rows = places[order][rounds[order] == number].astype(np.int64) - self.starts[number]
            with pa.memory_map(str(self.files[number])) as source:
                column = pa.ipc.open_file(source).read_all().column(_COLUMN)
                parts.append(pl.from_arrow(column.take(numpy_array(rows))))
        return pl.concat(parts).gather(np.argsort(order))  # back in the places' order

    def close(self) -> None:
        """The temporary files removed (the import is over)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        self.files, self.starts, self.count = [], [], 0
        self.hashes = np.empty(0, dtype=np.uint64)
        self.places = np.empty(0, dtype=np.uint32)


def id_hash(ids: pl.Expr) -> pl.Expr:
    """The 64-bit hash an id is kept by (data/ingest/writer.py computes it with the round's first of each id)."""
    return ids.hash()
