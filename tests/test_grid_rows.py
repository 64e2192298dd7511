"""A block of rows as AG Grid's infinite row model asks for it, on a hand-made frame."""

from __future__ import annotations

import polars as pl
import pytest

from callbacks.grid_rows import MAX_BLOCK, MAX_SEARCH_CHARS, NUMBER, TEXT, TooMuchAsked, block

FRAME = pl.DataFrame(
    {"name": ["Ann", "bob", "Cy", None, "Dee"], "n": [5, 1, None, 3, 10], "secret": ["a", "b", "c", "d", "e"]}
)
KINDS = {"name": TEXT, "n": NUMBER}


def names(request: dict, search: str | None = None) -> tuple[list, int]:
    rows, count = block(FRAME, {"startRow": 0, "endRow": 100, **request}, KINDS, search, ("name",))
    return rows["name"].to_list(), count


def number(kind: str, value, **more) -> dict:
    return {"filterModel": {"n": {"filterType": "number", "type": kind, "filter": value, **more}}}


def test_blocks_are_slices_with_the_whole_count() -> None:
    rows, count = block(FRAME, {"startRow": 1, "endRow": 3}, KINDS)
    assert (rows["name"].to_list(), count) == (["bob", "Cy"], 5)
    assert block(FRAME, {"startRow": 4, "endRow": 2}, KINDS)[0].height == 0  # backwards: nothing
    assert block(FRAME, {"startRow": -3, "endRow": True}, KINDS)[0].height == 0
    big = pl.DataFrame({"i": range(MAX_BLOCK + 5)})
    assert block(big, {"startRow": 0, "endRow": 10**9}, {})[0].height == MAX_BLOCK


def test_number_filters() -> None:
    assert names(number("greaterThan", 3)) == (["Ann", "Dee"], 2)
    assert names(number("lessThanOrEqual", 3)) == (["bob", None], 2)
    assert names(number("inRange", 1, filterTo=5)) == ([None], 1)  # both ends left out, as in the grid
    assert names(number("notEqual", 5)) == (["bob", None, "Dee"], 3)  # the blank one is not "not 5"
    assert names({"filterModel": {"n": {"type": "blank"}}}) == (["Cy"], 1)
    assert names(number("greaterThan", "3")) == (["Ann", "bob", "Cy", None, "Dee"], 5)  # not a number: ignored


def test_text_filters_search_and_sort() -> None:
    contains = {"filterModel": {"name": {"filterType": "text", "type": "contains", "filter": "B"}}}
    assert names(contains) == (["bob"], 1)
    either = {"filterModel": {"name": {"operator": "OR", "conditions": [
        {"type": "startsWith", "filter": "a"}, {"type": "endsWith", "filter": "EE"}]}}}  # fmt: skip
    assert names(either) == (["Ann", "Dee"], 2)
    assert names({"filterModel": {"name": {"type": "notBlank"}}})[1] == 4
    assert names({}, search=" Y ") == (["Cy"], 1)  # trimmed, any case
    assert names({}, search="   ") == (["Ann", "bob", "Cy", None, "Dee"], 5)
    assert names({"sortModel": [{"colId": "n", "sort": "desc"}]})[0] == ["Dee", "Ann", None, "bob", "Cy"]


def test_columns_not_offered_and_junk_are_ignored() -> None:
    junk = {"filterModel": {"secret": {"type": "equals", "filter": "a"}, "name": [1], "n": {"type": "drop"}},
            "sortModel": [{"colId": "secret", "sort": "asc"}, "x", {"colId": "n", "sort": "sideways"}]}  # fmt: skip
    assert names(junk) == (["Ann", "bob", "Cy", None, "Dee"], 5)


def test_empty_cells_and_odd_numbers_as_ag_grid_treats_them() -> None:
    spaces = pl.DataFrame({"name": ["Ann", "  ", None], "n": [1, 2, 3]})
    rows = lambda model: block(spaces, {"startRow": 0, "endRow": 9, "filterModel": model}, KINDS)[0]["n"].to_list()  # noqa: E731
    assert rows({"name": {"type": "blank"}}) == [2, 3]
    assert rows({"name": {"type": "notBlank"}}) == [1]
    assert rows({"name": {"type": "notContains", "filter": "an"}}) == [2, 3]  # empty cells pass negative tests
    assert rows({"name": {"type": "notEqual", "filter": "ann"}}) == [2, 3]
    assert rows({"n": {"type": "greaterThan", "filter": 10**40}}) == [1, 2, 3]  # too big to compare: ignored
    assert rows({"n": {"type": "lessThan", "filter": float("inf")}}) == [1, 2, 3]


def test_searches_and_filters_over_the_limits_are_refused() -> None:
    ten_words = " ".join(["nn"] * 10)
    assert names({}, search=ten_words) == (["Ann"], 1)
    assert names({}, search="n" * MAX_SEARCH_CHARS)[1] == 0
    two = {"name": {"operator": "OR", "conditions": [{"type": "equals", "filter": "x" * 200}] * 2}}
    assert names({"filterModel": two})[1] == 0
    refused = [
        {"search": ten_words + " nn"},
        {"search": "n" * (MAX_SEARCH_CHARS + 1)},
        {"search": " ".join(["w"] * 48_000)},  # the 325 KB search of issue 17
        {"filterModel": {"name": {"conditions": [{"type": "contains", "filter": "a"}] * 3}}},
        {"filterModel": {"name": {"type": "contains", "filter": "a" * 201}}},
        {"filterModel": {"n": {"type": "inRange", "filter": 1, "filterTo": "9" * 201}}},
        {"filterModel": {f"c{n}": {"type": "contains", "filter": "a"} for n in range(21)}},
    ]
    for asked in refused:
        search = asked.pop("search", None)
        with pytest.raises(TooMuchAsked):
            block(FRAME, {"startRow": 0, "endRow": 100, **asked}, KINDS, search, ("name",))


def test_a_column_sorted_twice_is_sorted_once() -> None:
    twice = [{"colId": "n", "sort": "desc"}, {"colId": "n", "sort": "asc"}, {"colId": ["n"], "sort": "asc"}]
    assert names({"sortModel": twice * 1000})[0] == ["Dee", "Ann", None, "bob", "Cy"]
