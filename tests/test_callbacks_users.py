"""Users tab callbacks as plain functions, signed in as each role."""

from __future__ import annotations

import polars as pl

from callbacks import users
from reports.safe import spreadsheet_safe

WEEK = {"start": "2026-03-02", "end": "2026-03-08"}


def card_values(row) -> dict[str, str]:
    return {col.children.id: col.children.children.children[1].children for col in row.children}


def test_table_and_cards_for_an_admin(signed_in):
    with signed_in("admin"):
        note, cards, columns, rows = users.update_table(WEEK)
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
        _note, _cards, columns, rows = users.update_table({**WEEK, "view": "not_adopted"})
    assert [c["headerName"] for c in columns][-2:] == ["Has had access since", "Days with access"]
    assert [(r["name"], r["team"], r["access_since"], r["days_with_access"]) for r in rows] == [
        ("Ada Admin", "Engineering", "2026-01-05", 62),  # 5 January to 8 March
        ("Ivy Idle", "Engineering", "2026-01-05", 62),
        ("Noa Never", "Legal", "2026-01-05", 62),
    ]


def test_a_manager_sees_and_exports_only_their_teams(app, signed_in):
    with signed_in("manager"):
        _note, cards, _columns, rows = users.update_table(WEEK)
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
        assert (is_open, title) == (True, "Mia Member")
        _open, title, body = users.open_detail([{"user_id": "u3"}], WEEK)  # Legal is not theirs
    assert title == "User"
    assert body[0].children == "This person is not in your scope."


def test_view_is_written_to_the_url():
    assert users.update_view("not_adopted", "?start=2026-03-02&end=2026-03-08") == (
        "?start=2026-03-02&end=2026-03-08&view=not_adopted"
    )
    assert users.update_view("all", "?view=not_adopted&start=2026-03-02") == "?start=2026-03-02"


def test_distribution_and_adoption(signed_in):
    with signed_in("admin"):
        text, fig = users.update_distribution(WEEK)
        adoption = users.update_adoption(WEEK)
    assert text == "The most active 10% of active users made 50.0% of all interactions."
    assert list(fig.data[0].y)[:2] == [3, 1]
    assert list(adoption.data[1].y) == [1, 3, 4, 4, 4, 4, 4]


def test_backwards_period_is_explained(signed_in):
    with signed_in("admin"):
        note, cards, _columns, rows = users.update_table({"start": "2026-03-08", "end": "2026-03-01"})
    assert "before it starts" in note.children and cards is None and rows == []


def test_formula_looking_cells_become_text():
    frame = pl.DataFrame({"name": ['=HYPERLINK("x")', "+1", "-2", "@a", "\tx", "|cmd", "%x", "Ann"], "n": [1] * 8})
    assert spreadsheet_safe(frame)["name"].to_list() == [
        "'=HYPERLINK(\"x\")", "'+1", "'-2", "'@a", "'\tx", "'|cmd", "'%x", "Ann",
    ]  # fmt: skip
