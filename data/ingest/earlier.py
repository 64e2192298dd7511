"""The ids an import's earlier rounds handled: within one import the first record of an id wins whatever its
UTC date, in one round or in many (data/ingest/writer.py `MAX_ROWS_IN_MEMORY`), as docs/schema.md says.

A round's rows are checked against the stored ids of their own dates only (storage.py), so a record whose id an
earlier round wrote on another date would be written again without this. Kept so that memory follows the round,
not the file: the ids' 64-bit hashes in memory, sorted (8 bytes an id), and the ids themselves in a temporary
Arrow file per round, read only when a row's hash is among them (the same id, or another id of the same hash,
which the exact check keeps).
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
        self.folder: Path | None = None
        self.files: list[Path] = []

    def add(self, ids: pa.ChunkedArray, hashes: np.ndarray) -> None:
        """A round's ids (`id_hash`es given), all distinct and none of an earlier round's."""
        if not len(ids):
            return
        new = np.sort(hashes)
        self.hashes = np.insert(self.hashes, np.searchsorted(self.hashes, new), new) if self.hashes.size else new
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="telemetry-ingest-ids-"))
        path = self.folder / f"round-{len(self.files)}.arrow"
        table = pa.table({_COLUMN: ids})
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        self.files.append(path)

    def without_earlier(self, table: pa.Table, hashes: np.ndarray, counts: dict) -> tuple[pa.Table, np.ndarray]:
        """The rows whose id no earlier round had, and their ids' hashes; the others are counted as duplicates."""
        if not self.hashes.size or not table.num_rows:
            return table, hashes
        order = np.argsort(hashes)  # looked up in order: one walk through the sorted hashes, not a jump each
        ordered = hashes[order]
        at = np.searchsorted(self.hashes, ordered).clip(max=self.hashes.size - 1)
        maybe = np.sort(order[self.hashes[at] == ordered])
        if not len(maybe):
            return table, hashes
        candidates = pl.from_arrow(table.column(_COLUMN).take(numpy_array(maybe)))
        seen = pl.Series(np.zeros(len(maybe), dtype=bool))
        for path in self.files:
            with pa.memory_map(str(path)) as source:
                earlier = pl.from_arrow(pa.ipc.open_file(source).read_all().column(_COLUMN))
                seen = seen | candidates.is_in(earlier.implode())
        keep = np.ones(table.num_rows, dtype=bool)
        keep[maybe[seen.to_numpy()]] = False
        counts["duplicates"] += int(table.num_rows - keep.sum())
        return table.filter(pl.Series(keep).to_arrow()), hashes[keep]

    def close(self) -> None:
        """The temporary files removed (the import is over)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        self.files = []
        self.hashes = np.empty(0, dtype=np.uint64)


def id_hash(ids: pl.Expr) -> pl.Expr:
    """The 64-bit hash an id is kept by (data/ingest/writer.py computes it with the round's first of each id)."""
    return ids.hash()
