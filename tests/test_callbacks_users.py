"""Users tab callbacks as plain functions, signed in as each role."""

from __future__ import annotations

import polars as pl
import pytest
from dash import dcc, no_update

from callbacks import users
from callbacks.grid_rows import FILTER_TOO_LONG, SEARCH_TOO_LONG
from reports.safe import spreadsheet_safe
from tests.conftest import read_only_app
from tests.figures import as_figure

WEEK = {"start": "2026-03-02", "end": "2026-03-08"}
FIRST_BLOCK = {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}}

app = pytest.fixture(read_only_app, name="app")  # one app for the module: its tests only read


def all_rows(query: dict, search: str | None = None, **request) -> list[dict]:
    """The rows the grid would get in its first block."""
    answer = users.update_rows({**FIRST_BLOCK, **request}, query, search)
    assert answer["rowCount"] == len(answer["rowData"])
    return answer["rowData"]


def card_values(row) -> dict[str, str]:
    return {col.children.id: col.children.children.children[1].children for col in row.children}


def test_table_and_cards_for_an_admin(signed_in):
    with signed_in("admin"):
        note, cards, columns = users.update_table(WEEK)
        rows = all_rows(WEEK)
    assert note is None
    assert card_values(cards) == {
        "users-card-total": "7",
        "users-card-adopted": "4",
        "users-card-not-adopted": "3",
        "users-card-inactive": "0",
    }
    assert [c["field"] for c in columns][:3] == ["name", "email", "team"]
    mia = next(r for r in rows if r["user_id"] == "u4")
    assert (mia["interactions"], mia["last_active"], mia["frequency"]) == (3, "2026-03-08 06:30", "weekly")
    ada = next(r for r in rows if r["user_id"] == "u1")
    assert (ada["last_active"], ada["most_used_agent"], ada["frequency"]) == ("never", "—", "not adopted")


def test_not_adopted_view(signed_in):
    with signed_in("admin"):
        _note, _cards, columns = users.update_table({**WEEK, "view": "not_adopted"})
        rows = all_rows({**WEEK, "view": "not_adopted"})
    assert [c["headerName"] for c in columns][-2:] == ["Has had access since", "Days with access"]
    assert [(r["name"], r["team"], r["access_since"], r["days_with_access"]) for r in rows] == [
        ("Ada Admin", "Engineering", "2026-01-05", 62),  # 5 January to 8 March
        ("Ivy Idle", "Engineering", "2026-01-05", 62),
        ("Noa Never", "Legal", "2026-01-05", 62),
    ]


def test_a_manager_sees_and_exports_only_their_teams(app, signed_in):
    with signed_in("manager"):
        _note, cards, _columns = users.update_table(WEEK)
        rows = all_rows(WEEK)
        download = users.export_csv(1, {**WEEK, "view": "not_adopted"})
    assert card_values(cards)["users-card-total"] == "5"
    assert {r["team"] for r in rows} == {"Engineering", "Sales"}
    assert download["filename"] == "telemetry-not-adopted-2026-03-02-to-2026-03-08.csv"
    assert download["content"].splitlines() == [
        "name,email,team,access_since,days_with_access",
        "Ada Admin,admin@test.example,Engineering,2026-01-05,62",
        "Ivy Idle,ivy@test.example,Engineering,2026-01-05,62",
    ]
    entry = app.extensions["telemetry_store"].audit_entries(1)[0]
    assert (entry["actor"], entry["action"], entry["detail"]["what"]) == (
        "manager@test.example",
        "export",
        "users:not_adopted",
    )


def test_user_detail_is_checked_against_the_scope(signed_in):
    with signed_in("manager"):
        is_open, title, body = users.open_detail([{"user_id": "u4"}], WEEK)
        assert (is_open, title.children, title.id) == (True, "Mia Member", "users-detail-title")
        daily = next(part.figure for part in body if isinstance(part, dcc.Graph))
        assert list(as_figure(daily).data[0].y) == [2, 0, 0, 0, 0, 0, 1]  # e1, e2 on Monday; e6 on Sunday
        _open, title, body = users.open_detail([{"user_id": "u3"}], WEEK)  # Legal is not theirs
    assert title.children == "User"
    assert body[0].children == "This person is not in your scope."


def test_view_is_written_to_the_url():
    assert users.update_view("not_adopted", "?start=2026-03-02&end=2026-03-08") == (
        "?start=2026-03-02&end=2026-03-08&view=not_adopted"
    )
    assert users.update_view("all", "?view=not_adopted&start=2026-03-02") == "?start=2026-03-02"


def test_distribution_and_adoption(signed_in):
    with signed_in("admin"):
        text, fig = users.update_distribution(WEEK)
        fig = as_figure(fig)
        adoption = as_figure(users.update_adoption(WEEK))
    assert text == "The most active 10% of active users made 50.0% of all interactions."
    assert list(fig.data[0].y)[:2] == [3, 1]
    assert list(adoption.data[1].y) == [1, 3, 4, 4, 4, 4, 4]


def test_backwards_period_is_explained(signed_in):
    with signed_in("admin"):
        note, cards, _columns = users.update_table({"start": "2026-03-08", "end": "2026-03-01"})
        rows = users.update_rows(FIRST_BLOCK, {"start": "2026-03-08", "end": "2026-03-01"}, None)
    assert "before it starts" in note.children and cards is None and rows == {"rowData": [], "rowCount": 0}


def test_the_grid_gets_its_rows_a_block_at_a_time(signed_in):
    with signed_in("admin"):
        everyone = all_rows(WEEK)
        second = users.update_rows({**FIRST_BLOCK, "startRow": 2, "endRow": 4}, WEEK, None)
    assert len(everyone) == 7
    assert second == {"rowData": everyone[2:4], "rowCount": 7}


def test_a_plain_block_is_the_block_of_the_rows_put_for_reading(signed_in):
    # without search, filter or sort only the block is put as a person reads it; "@" is in every
    # email, so the search takes the long way to the same rows
    with signed_in("admin"):
        for block in ({"startRow": 0, "endRow": 100}, {"startRow": 2, "endRow": 5}):
            plain = users.update_rows({**FIRST_BLOCK, **block}, WEEK, None)
            searched = users.update_rows({**FIRST_BLOCK, **block}, WEEK, "@")
            assert plain == searched and plain["rowCount"] == 7


def test_the_grid_is_searched_filtered_and_sorted_on_the_server(signed_in):
    with signed_in("admin"):
        searched = [r["name"] for r in all_rows(WEEK, "ENGINEERING")]
        by_email = [r["name"] for r in all_rows(WEEK, "  Member@TEST ")]
        two_words = [r["name"] for r in all_rows(WEEK, "max engineering")]  # each word in some column
        more_than_one = {"filterType": "number", "type": "greaterThan", "filter": 1}
        busy = all_rows(WEEK, filterModel={"interactions": more_than_one})
        either = all_rows(WEEK, filterModel={"name": {"filterType": "text", "operator": "OR", "conditions": [
            {"filterType": "text", "type": "startsWith", "filter": "ada"},
            {"filterType": "text", "type": "endsWith", "filter": "never"}]}})  # fmt: skip
        by_name = [r["name"] for r in all_rows(WEEK, sortModel=[{"colId": "name", "sort": "desc"}])]
        forged = all_rows(WEEK, filterModel={"user_id": {"type": "equals", "filter": "u1"}, "name": "x"},
                          sortModel=[{"colId": "created_at", "sort": "asc"}], endRow=10**9)  # fmt: skip
    assert sorted(searched) == ["Ada Admin", "Ivy Idle", "Max Manager", "Mia Member"]
    assert by_email == ["Mia Member"]
    assert two_words == ["Max Manager"]
    assert busy and all(r["interactions"] > 1 for r in busy)
    assert sorted(r["name"] for r in either) == ["Ada Admin", "Noa Never"]
    assert by_name == sorted(by_name, reverse=True)
    assert len(forged) == 7  # filters on columns the table does not show, and bad specs, are ignored



def test_formula_looking_cells_become_text():
    frame = pl.DataFrame({"name": ['=HYPERLINK("x")', "+1", "-2", "@a", "\tx", "|cmd", "%x", "Ann"], "n": [1] * 8})
    assert spreadsheet_safe(frame)["name"].to_list() == [
        "'=HYPERLINK(\"x\")", "'+1", "'-2", "'@a", "'\tx", "'|cmd", "'%x", "Ann",
    ]  # fmt: skip


def test_the_export_is_what_the_grid_shows(app, signed_in):
    legal = {"team": {"filterType": "text", "type": "equals", "filter": "legal"}}
    with signed_in("admin"):
        searched = users.export_csv(1, WEEK, "  sam ", None)
        filtered = users.export_csv(1, WEEK, None, legal)
    assert [line.split(",")[0] for line in searched["content"].splitlines()] == ["name", "Sam Sales"]
    assert sorted(line.split(",")[0] for line in filtered["content"].splitlines()[1:]) == ["Lee Legal", "Noa Never"]
    entry = app.extensions["telemetry_store"].audit_entries(1)[0]
    assert (entry["detail"]["rows"], entry["detail"]["narrowed"]) == (2, True)


def test_a_search_or_filter_over_the_limits_finds_nobody_and_says_why(signed_in):
    huge = " ".join(["engineering"] * 48_000)
    three = {"name": {"operator": "OR", "conditions": [{"type": "contains", "filter": "a"}] * 3}}
    with signed_in("admin"):
        assert users.update_rows(FIRST_BLOCK, WEEK, huge) == {"rowData": [], "rowCount": 0}
        assert users.update_rows({**FIRST_BLOCK, "filterModel": three}, WEEK, None) == {"rowData": [], "rowCount": 0}
        # the grid's block request says it too: the note comes with the rows, no request of its own
        nobody = {"rowData": [], "rowCount": 0}
        too_much = {**FIRST_BLOCK, "filterModel": three}
        assert users.update_rows_and_note(too_much, WEEK, None) == (nobody, FILTER_TOO_LONG)
        assert users.export_csv(1, WEEK, huge, None) is no_update
        assert users.export_csv(1, WEEK, None, three) is no_update
        assert len(all_rows(WEEK, "ada engineering")) == 1
    assert users.update_search_note(huge, None) == SEARCH_TOO_LONG
    assert users.update_search_note("ada", three) == FILTER_TOO_LONG
    assert users.update_search_note("ada engineering", {"name": {"type": "contains", "filter": "a"}}) == ""
    assert users.update_search_note(None, None) == ""


def test_every_card_has_its_definition_and_adopted_says_ever(signed_in):
    with signed_in("admin"):
        _note, cards, _columns = users.update_table(WEEK)
    tips = {}
    for col in cards.children:
        heading, _value, note = col.children.children.children
        _title, badge = heading.children
        assert (badge.tabIndex, badge.role) == (0, "button")
        tips[col.children.id] = (badge.to_plotly_json()["props"]["data-tip"], note.children)
    assert list(tips) == ["users-card-total", "users-card-adopted", "users-card-not-adopted", "users-card-inactive"]
    definition, note = tips["users-card-adopted"]
    assert note == "57.1% have ever used an agent"  # 4 of 7: u2, u3, u4, u5 by 8 March
    assert "at least once, up to the period's end, whether or not in the period" in definition
    assert "Not the Dashboard's “Active share”" in definition
