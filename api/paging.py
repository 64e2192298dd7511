"""Pages of a list answer: `limit` rows after an opaque `cursor`, as usage APIs page.

The rows are put in a fixed order (`Order`) and a page is the first `limit` rows after the cursor's
last row in that order (keyset paging: a row that no new event touches is never repeated nor
skipped, whatever arrived between two pages). The cursor is signed with the app's secret key and
names the question it continues (`question_id`: breakdown, period, zone and the scope it was
answered in), so a changed or foreign cursor is refused instead of answered; the scope itself is
always the caller's, never read from the cursor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl
from itsdangerous import BadSignature, URLSafeSerializer

from queries.filters import parse_date

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
_SALT = "api.v1.cursor"


class PagingError(ValueError):
    """A `limit` or `cursor` the API cannot use; the message is shown to the caller."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class Order:
    """Sort columns, each with `descending`; the last column must be unique in the answer."""

    columns: tuple[tuple[str, bool], ...]

    def sort(self, frame: pl.DataFrame) -> pl.DataFrame:
        names = [name for name, _ in self.columns]
        return frame.sort(names, descending=[descending for _, descending in self.columns])

    def after(self, values: Sequence[Any], schema: pl.Schema) -> pl.Expr:
        """Rows that come after a row holding `values` (as a cursor keeps them) in this order."""
        later = pl.lit(False)
        same = pl.lit(True)
        for (name, descending), kept in zip(self.columns, values, strict=True):
            column, value = pl.col(name), _typed(kept, schema[name])
            later = later | (same & ((column < value) if descending else (column > value)))
            same = same & (column == value)
        return later


def parse_limit(text: str | None) -> int:
    """`limit` from the query string: DEFAULT_LIMIT when absent, else a whole number 1..MAX_LIMIT."""
    if text is None:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
        raise PagingError("limit", f"limit must be a whole number from 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).")
    return int(text)


def question_id(*parts: Any) -> str:
    """A short digest of what was asked, to tell a cursor's question from another."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


@dataclass(frozen=True)
class Page:
    rows: pl.DataFrame
    next_cursor: str | None


class Pager:
    """Cuts one question's answer into pages and reads and writes its cursors."""

    def __init__(self, secret_key: str | bytes, question: str, order: Order) -> None:
        self._signer = URLSafeSerializer(secret_key, salt=_SALT)
        self._question = question
        self._order = order

    def resume(self, cursor: str | None) -> list | None:
        """Where `cursor` says the previous page ended (None: at the start); checked before any query runs."""
        if not cursor:
            return None
        try:
            payload = self._signer.loads(cursor)
        except BadSignature:
            raise PagingError("cursor", "Unknown cursor: pass the next_cursor of a previous page unchanged.") from None
        if not isinstance(payload, dict) or payload.get("q") != self._question:
            raise PagingError(
                "cursor",
                "This cursor belongs to another question: ask with the same by, start, end, teams and agents"
                " as the page that gave it, or start again without a cursor.",
            )
        return payload["after"]

    def page(self, frame: pl.DataFrame, limit: int, after: list | None) -> Page:
        """The `limit` rows after the row `after` (from the first row when None), and the next page's cursor."""
        rows = self._order.sort(frame)
        if after is not None:
            rows = rows.filter(self._order.after(after, rows.schema))
        rows = rows.head(limit + 1)
        if rows.height <= limit:
            return Page(rows, None)
        rows = rows.head(limit)
        last = rows.row(-1, named=True)
        after = [_plain(last[name]) for name, _ in self._order.columns]
        return Page(rows, self._signer.dumps({"q": self._question, "after": after}))


def _plain(value: Any) -> Any:
    """A value as JSON keeps it (dates as ISO text)."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _typed(value: Any, dtype: pl.DataType) -> Any:
    return parse_date(value, "cursor") if dtype == pl.Date else value
