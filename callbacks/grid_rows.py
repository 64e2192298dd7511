"""One block of a table's rows, as AG Grid's infinite row model asks for it: searched, filtered, sorted, sliced.

The request comes from the browser, so nothing in it is trusted: only the columns the caller names can
be filtered or sorted, a condition that is not one AG Grid's text or number filters send is ignored,
and a block is at most MAX_BLOCK rows. Text matching is case-insensitive and literal, as in the grid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

MAX_BLOCK = 1000
TEXT, NUMBER = "text", "number"
# What one request may ask, so that no search or filter costs more than a normal tab load: each word
# and each condition is one pass over the rows. The grid offers two conditions a column (layouts/users.py).
MAX_SEARCH_CHARS = 200
MAX_SEARCH_WORDS = 10
MAX_FILTER_COLUMNS = 20
MAX_FILTER_CONDITIONS = 2
MAX_FILTER_TEXT = 200
SEARCH_TOO_LONG = (
    f"Search is limited to {MAX_SEARCH_CHARS} characters and {MAX_SEARCH_WORDS} words; shorten it to see people."
)
FILTER_TOO_LONG = (
    f"The table's filters are limited to {MAX_FILTER_CONDITIONS} conditions a column and {MAX_FILTER_TEXT} "
    "characters a value; reset a filter to see people."
)


class TooMuchAsked(ValueError):
    """A search or filter model over the limits above; the message is for the person who typed it."""


def check(model: object, search: object) -> None:
    """Raise TooMuchAsked when the search text or the grid's filter model is over the limits."""
    if isinstance(search, str) and (len(search) > MAX_SEARCH_CHARS or len(search.split()) > MAX_SEARCH_WORDS):
        raise TooMuchAsked(SEARCH_TOO_LONG)
    if not isinstance(model, Mapping):
        return
    if len(model) > MAX_FILTER_COLUMNS or not all(_within_limits(spec) for spec in model.values()):
        raise TooMuchAsked(FILTER_TOO_LONG)


def _within_limits(spec: object) -> bool:
    if not isinstance(spec, Mapping):
        return True  # ignored by _filter
    parts = spec.get("conditions") if "conditions" in spec else [spec]
    if not isinstance(parts, list):
        return True
    if len(parts) > MAX_FILTER_CONDITIONS:
        return False
    values = [part.get(key) for part in parts if isinstance(part, Mapping) for key in ("filter", "filterTo")]
    return all(len(value) <= MAX_FILTER_TEXT for value in values if isinstance(value, str))


def block(
    frame: pl.DataFrame,
    request: Mapping,
    kinds: Mapping[str, str],
    search: str | None = None,
    search_fields: Sequence[str] = (),
) -> tuple[pl.DataFrame, int]:
    """The rows from `startRow` to `endRow` of `frame` searched, filtered by `filterModel` and sorted by
    `sortModel`, and how many rows there are in all. `kinds` maps each filterable column to TEXT or NUMBER.
    Raises TooMuchAsked for a search or filter model over the limits."""
    frame = matching(frame, request.get("filterModel"), kinds, search, search_fields)
    by, descending = _sort(request.get("sortModel"), kinds)
    if by:
        frame = frame.sort(by, descending=descending, nulls_last=True, maintain_order=True)
    start, end = _bounds(request)
    return frame.slice(start, end - start), frame.height


def is_plain(request: Mapping, search: str | None = None) -> bool:
    """Whether the grid asks for rows in the frame's own order: no search, filter or sort."""
    searched = isinstance(search, str) and bool(search.strip())
    return not searched and not request.get("filterModel") and not request.get("sortModel")


def matching(
    frame: pl.DataFrame, model: object, kinds: Mapping[str, str], search: str | None, search_fields: Sequence[str]
) -> pl.DataFrame:
    """The rows of `frame` that the search text and the grid's filter model (as in `block`) let through."""
    check(model, search)
    conditions = [_search(search, search_fields)] if isinstance(search, str) and search.strip() else []
    if isinstance(model, Mapping):
        conditions += [_filter(field, kinds[field], spec) for field, spec in model.items() if field in kinds]
    conditions = [condition for condition in conditions if condition is not None]
    return frame.filter(pl.all_horizontal(conditions)) if conditions else frame


def _bounds(request: Mapping) -> tuple[int, int]:
    start, end = request.get("startRow"), request.get("endRow")
    start = start if isinstance(start, int) and not isinstance(start, bool) and start > 0 else 0
    if not isinstance(end, int) or isinstance(end, bool) or end < start:
        end = start
    return start, min(end, start + MAX_BLOCK)


def _sort(model: object, kinds: Mapping[str, str]) -> tuple[list[str], list[bool]]:
    by, descending = [], []
    for item in model if isinstance(model, list) else []:
        column = item.get("colId") if isinstance(item, Mapping) else None
        if isinstance(column, str) and column in kinds and column not in by and item.get("sort") in ("asc", "desc"):
            by.append(item["colId"])
            descending.append(item["sort"] == "desc")
    return by, descending


def _search(text: str, fields: Sequence[str]) -> pl.Expr | None:
    """Every word of the text in one of the fields (so "ada engineering" finds Ada in Engineering)."""
    if not fields:
        return None
    texts = [pl.col(field).cast(pl.String).str.to_lowercase() for field in fields]
    words = [pl.any_horizontal([t.str.contains(word, literal=True) for t in texts]).fill_null(False)
             for word in text.lower().split()]  # fmt: skip
    return pl.all_horizontal(words)


def _filter(field: str, kind: str, spec: object) -> pl.Expr | None:
    """A column's filter: one condition, or several joined by AND / OR."""
    if not isinstance(spec, Mapping):
        return None
    if "conditions" in spec:
        given = spec["conditions"] if isinstance(spec["conditions"], list) else []
        parts = [_condition(field, kind, part) for part in given if isinstance(part, Mapping)]
        parts = [part for part in parts if part is not None]
        if not parts:
            return None
        return pl.all_horizontal(parts) if spec.get("operator") != "OR" else pl.any_horizontal(parts)
    return _condition(field, kind, spec)


def _condition(field: str, kind: str, spec: Mapping) -> pl.Expr | None:
    column, kind_of, value = pl.col(field), spec.get("type"), spec.get("filter")
    if kind_of in ("blank", "notBlank"):
        # as AG Grid: a text of spaces only is blank too
        blank = column.is_null()
        if kind == TEXT:
            blank = blank | (column.cast(pl.String).str.strip_chars() == "")
        return blank if kind_of == "blank" else ~blank
    if kind == TEXT:
        return _text(column, kind_of, value)
    return _number(column, kind_of, value, spec.get("filterTo"))


def _text(column: pl.Expr, kind_of: object, value: object) -> pl.Expr | None:
    if not isinstance(value, str):
        return None
    text, needle = column.cast(pl.String).str.to_lowercase(), value.lower()
    tests = {
        "contains": lambda: text.str.contains(needle, literal=True),
        "notContains": lambda: ~text.str.contains(needle, literal=True),
        "equals": lambda: text == needle,
        "notEqual": lambda: text != needle,
        "startsWith": lambda: text.str.starts_with(needle),
        "endsWith": lambda: text.str.ends_with(needle),
    }
    test = tests.get(kind_of) if isinstance(kind_of, str) else None
    # as AG Grid: an empty cell does not contain or equal anything, so it passes the negative tests
    return None if test is None else test().fill_null(kind_of in ("notContains", "notEqual"))


def _is_number(value: object) -> bool:
    """A finite number a column can be compared with (not NaN, not an integer too big for 64 bits)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) < 2**63 if isinstance(value, int) else value == value and abs(value) != float("inf")


def _number(column: pl.Expr, kind_of: object, value: object, upper: object) -> pl.Expr | None:
    if not _is_number(value):
        return None
    tests = {
        "equals": lambda: column == value,
        "notEqual": lambda: column != value,
        "lessThan": lambda: column < value,
        "lessThanOrEqual": lambda: column <= value,
        "greaterThan": lambda: column > value,
        "greaterThanOrEqual": lambda: column >= value,
        # AG Grid's inRange leaves out both ends unless told otherwise
        "inRange": lambda: (column > value) & (column < upper) if _is_number(upper) else None,
    }
    test = tests.get(kind_of) if isinstance(kind_of, str) else None
    found = None if test is None else test()
    return None if found is None else found.fill_null(False)
