"""Rows refused under the writer's lock, quarantined as the input had them.

On ClickHouse a person's code may go (import-directory, purge) after a validator read the directory and before
the round of rows it accepted is written: the writer asks the store again under the lock (`refuse_unknown`)
and holds back that person's rows. Once the write is over (`Late.settle`, the lock released) each held row is
found again in its source, by its place (line, row, or span), read again as the validator reads it with those
people unknown, and quarantined as validation would have quarantined it: the input's record, its line or row,
the reasons `validate` gives. A re-import after the directory is fixed then gives what it gives for a record
refused at validation. A row its source no longer holds is quarantined as it would have been stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from data.ingest.checks import unknown_user
from data.ingest.jsonl import Item, _Checked
from data.ingest.quarantine import _Quarantine, checked_row
from data.ingest.readers import _Source
from data.ingest.storage import IngestError, numpy_array
from data.ingest.validate import EventValidator

if TYPE_CHECKING:
    from data.ingest.store import Store

ORIGIN = ("_source", "_place")  # columns of a pending row: its source's index and its place in it


def with_origin(table: pa.Table, source: int | np.ndarray, places: np.ndarray) -> pa.Table:
    """The rows with where each came from (`ORIGIN`: one source or one per row), dropped before they are stored."""
    sources = np.full(len(places), source, dtype=np.int32) if isinstance(source, int) else source.astype(np.int32)
    table = table.append_column(ORIGIN[0], numpy_array(sources))
    return table.append_column(ORIGIN[1], numpy_array(np.asarray(places, dtype=np.int64)))


def place_of(item: Item, index: int) -> int:
    """A record's place in its source: its line or row, or its index among the source's records (OTLP)."""
    return item[0] if item[0] is not None else index


@dataclass
class Late:
    """The rows held back by `refuse_unknown`, per source and place, as they would have been stored."""

    people: set[str] = field(default_factory=set)
    rows: dict[int, dict[int, dict]] = field(default_factory=dict)

    def settle(self, sources: list[_Source], validator: EventValidator, quarantines: list[_Quarantine]) -> None:
        """Each held row quarantined as validation, had it known, would have: read again from its source, put in
        its place among the source's refusals."""
        if not self.rows:
            return
        recall = _without(validator, self.people)
        for index, held in sorted(self.rows.items()):
            quarantine = quarantines[index]
            first = quarantine.count
            for place, item, text_mode in _read_again(sources[index], recall):
                row = held.get(place)
                if row is None:
                    continue
                if checked_row(item, recall, text_mode, quarantine, place):
                    quarantine.add(item[0], item[2], [unknown_user(item[1]["user_id"])], place)  # not expected
                del held[place]
                if not held:
                    break
            for row in held.values():  # no longer in its source: as it would have been stored, last
                quarantine.add(None, row, [unknown_user(row["user_id"])])
            held.clear()
            quarantine.in_place(first)
        self.rows.clear()


def refuse_unknown(store: Store, table: pa.Table, late: Late) -> pa.Table:
    """The round's rows, without their origin, but those of people the store no longer knows (asked under the
    lock: a validator may have read the directory before their code went): held in `late`."""
    unknown = store.unknown_people(table.column("user_id"))
    if unknown:
        people = pa.array(sorted(unknown), table.schema.field("user_id").type)
        refused = pc.is_in(table.column("user_id"), value_set=people)
        late.people |= unknown
        for row in table.filter(refused).to_pylist():
            source, place = (row.pop(name) for name in ORIGIN)
            late.rows.setdefault(source, {})[place] = row
        table = table.filter(pc.invert(refused))
    return table.drop_columns(list(ORIGIN))


def _without(validator: EventValidator, people: set[str]) -> EventValidator:
    """The same checks, at the same instant, with these people unknown."""
    users = {user: team for user, team in validator.directory.user_teams.items() if user not in people}
    recall = EventValidator(dataclasses.replace(validator.directory, user_teams=users))
    recall.earliest_us, recall.latest_us = validator.earliest_us, validator.latest_us
    return recall


def _read_again(source: _Source, validator: EventValidator) -> Iterator[tuple[int, Item, bool]]:
    """`_records`, up to where the source can no longer be read (a file gone or changed): the rows not found by
    then are quarantined as they would have been stored."""
    records = _records(source, validator)
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except (IngestError, OSError, pa.ArrowException, pl.exceptions.PolarsError):
            records.close()
            return
        yield record


def _records(source: _Source, validator: EventValidator) -> Iterator[tuple[int, Item, bool]]:
    """The source read again: each record the column check leaves to `validate`, with its place."""
    if source.recall is None:
        return
    for index, entry in enumerate(source.recall(validator)):
        if isinstance(entry, _Checked):
            yield from ((place, item, entry.text_mode) for place, item in entry.records() if item is not None)
        else:
            yield place_of(entry, index), entry, source.text_mode
