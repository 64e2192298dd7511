"""JSONL read a block at a time (data/ingest/jsonl.py `_jsonl_blocks`, data/ingest/validate.py `accept_columns`).

The column-wise path is an optimisation only: for any file it must give what reading every line
with json and `EventValidator.validate` gives (the reference below): the same rows on disk, the same
duplicates, the same quarantine lines in the same order. Each test imports a file twice, once as
usual and once with Arrow switched off, and compares.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data import ingest, schema
from data.ingest import jsonl, validate, writer
from data.ingest.validate import Directory, EventValidator
from tests.test_ingest import NOW, event, events, with_prices

# Lines a platform (or a broken exporter) might send; the comment says which way each must go.
TRICKY = [
    json.dumps(event("t_plain")),  # the common case: column-wise
    json.dumps(event("t_cost_number")).replace('"status"', '"cost_usd": 0.5, "status"'),
    json.dumps(event("t_cost_text", cost_usd="0.25")),
    json.dumps(event("t_cost_plus", cost_usd="+1")),  # valid text, read one by one or not: same value
    json.dumps(event("t_cost_dot", cost_usd=".5")),
    json.dumps(event("t_cost_zeros", cost_usd="007")),
    json.dumps(event("t_cost_trailing_dot", cost_usd="1.")),  # Arrow reads 1, micro_usd refuses it
    json.dumps(event("t_cost_exponent_text", cost_usd="1e-3")),  # Arrow reads 0.001, refused
    json.dumps(event("t_cost_exponent")).replace('"status"', '"cost_usd": 1E+3, "status"'),  # valid
    json.dumps(event("t_cost_7_places")).replace('"status"', '"cost_usd": 0.1000000, "status"'),  # valid: 0.1
    json.dumps(event("t_cost_negative_zero")).replace('"status"', '"cost_usd": -0.0, "status"'),  # valid: 0
    json.dumps(event("t_cost_negative")).replace('"status"', '"cost_usd": -1, "status"'),
    json.dumps(event("t_cost_escaped_key")).replace('"status"', '"cost\\u005fusd": "0.5", "status"'),
    json.dumps(event("t_cost_null")).replace('"status"', '"cost_usd": null, "status"'),  # priced
    json.dumps(event('t_key_in_text "cost_usd": 5,')),  # the key's spelling inside a string
    json.dumps(event("t_offset", ts="2026-03-02T09:15:30.25-05:00")),
    json.dumps(event("t_space", ts="2026-03-02 12:00:00+00:00")),  # valid, not the usual spelling
    json.dumps(event("t_7_decimals", ts="2026-03-02T12:00:00.1234567Z")),  # fromisoformat truncates
    json.dumps(event("t_lower_z", ts="2026-03-02T12:00:00z")),
    json.dumps(event("t_no_day", ts="2026-02-29T12:00:00Z")),
    json.dumps(event("t_leap_second", ts="2026-03-02T23:59:60Z")),
    json.dumps(event("t_no_zone", ts="2026-03-02T12:00:00")),
    json.dumps(event("t_future", ts="2026-03-11T00:00:00Z")),
    json.dumps(event("t_old", ts="1999-12-31T23:59:59Z")),
    '{"event_id": "t_repeated", "ts": "2026-03-02T12:00:00Z", "user_id": "u4", "agent_id": "a_code", '
    '"model": "claude-sonnet-4.5", "input_tokens": 1, "output_tokens": 2, "latency_ms": 3, '
    '"status": "error", "status": "ok"}',  # json keeps the last
    json.dumps(event("t_two_a")) + " " + json.dumps(event("t_two_b")),  # two objects, one line
    "\ufeff" + json.dumps(event("t_bom")),
    "  " + json.dumps(event("t_indented")) + "  ",
    "\t",
    "",
    json.dumps(event("t_crlf")) + "\r",
    json.dumps(event("t_unicode_é", conversation_id="c_✓")),
    json.dumps(event("t_blank_text", conversation_id="\u3000")),
    json.dumps(event("t_long_" + "x" * 505)),  # 512 characters: valid
    json.dumps(event("t_long_" + "x" * 506)),  # 513: refused
    json.dumps(event("t_long_bytes_" + "é" * 300)),  # 313 characters, 613 bytes: valid
    json.dumps(event("t_tokens_text", input_tokens="1")),
    json.dumps(event("t_tokens_float")).replace('"input_tokens": 1000', '"input_tokens": 1000.0'),
    json.dumps(event("t_tokens_huge", input_tokens=2**64)),
    json.dumps(event("t_tokens_big", input_tokens=2**62)),  # valid, but its cost is too large
    json.dumps(event("t_latency_big", latency_ms=2**31)),
    json.dumps(event("t_user", user_id="ghost")),
    json.dumps(event("t_team_null", team_id=None)),
    json.dumps(event("t_team_unknown", team_id="t_nope")),
    json.dumps(event("t_team_given", user_id="u5", team_id="t_eng")),
    json.dumps(event("t_agent", agent_id="a_nope")),
    json.dumps(event("t_no_price", model="mystery-model")),
    json.dumps(event("t_unknown_field", colour="blue")),
    json.dumps(event("t_nested", conversation_id={"id": 1})),
    json.dumps(event("t_missing", model=None)),
    '{"event_id": "t_nan", "input_tokens": NaN}',
    "{}",
    "[1, 2]",
    "not json at all",
    '{"event_id": "t_truncated", "ts": "2026-03-02T12',
    json.dumps(event("t_plain")),  # a duplicate of line 1
    json.dumps(event("t_space")),  # first seen one by one above, now column-wise: the first wins
]


def lines_file(path: Path, lines: list[str], raw_tail: bytes = b"") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8") + raw_tail)
    return path


def one_by_one(monkeypatch) -> None:
    """The reference: Arrow never used, every line read by json and checked by `validate`."""
    monkeypatch.setattr(jsonl, "_arrow_records", lambda text, expected: None)


def small_blocks(monkeypatch) -> None:
    """Many blocks and a deep split of refused stretches, so every path runs on a small file."""
    monkeypatch.setattr(jsonl, "JSONL_BLOCK_BYTES", 2000)
    monkeypatch.setattr(jsonl, "SPLIT_INTO", 2)
    monkeypatch.setattr(jsonl, "ONE_BY_ONE_LINES", 1)


def outcome(data_dir: Path, summary: ingest.IngestSummary) -> tuple:
    """Everything an import leaves: counts, rows on disk, each file's rows in order, quarantine."""
    files = sorted(schema.events_dir(data_dir).glob("*/*.parquet"), key=lambda p: (p.parent.name, p.name))
    in_order = [pq.read_table(f).column("event_id").to_pylist() for f in files if f.name != "part-0.parquet"]
    quarantine = [json.loads(line) for path in summary.quarantine_files for line in path.read_text().splitlines()]
    counts = (summary.read, summary.written, summary.duplicates, summary.quarantined, summary.partitions)
    return counts, events(data_dir).sort("event_id").rows(), in_order, quarantine, summary.reasons


def both_ways(data_dir: Path, tmp_path: Path, source: Path, monkeypatch) -> tuple[tuple, tuple]:
    reference_dir = tmp_path / "reference"
    shutil.copytree(data_dir, reference_dir)
    fast = outcome(data_dir, ingest.ingest_files(data_dir, [source], now=NOW))
    with monkeypatch.context() as patched:
        one_by_one(patched)
        slow = outcome(reference_dir, ingest.ingest_files(reference_dir, [source], now=NOW))
    return fast, slow


@pytest.mark.parametrize("blocks", ["default", "small"])
def test_tricky_lines_give_what_reading_one_by_one_gives(data_dir, tmp_path, monkeypatch, blocks):
    with_prices(data_dir)
    if blocks == "small":
        small_blocks(monkeypatch)
    source = lines_file(tmp_path / "tricky.jsonl", TRICKY, raw_tail=b'{"event_id": "t_\xff"}\n')
    fast, slow = both_ways(data_dir, tmp_path, source, monkeypatch)
    assert fast == slow
    counts, rows, _, quarantine, _ = fast
    written = {row[0] for row in rows}
    # worked out by hand from the comments above
    assert {"t_plain", "t_cost_plus", "t_cost_exponent", "t_cost_7_places", "t_repeated", "t_crlf"} <= written
    assert {"t_cost_trailing_dot", "t_cost_exponent_text", "t_two_a", "t_bom", "t_lower_z"}.isdisjoint(written)
    new = written - {f"e{n}" for n in range(9)}  # the tiny org's events were there before
    # read: every line but the two blank ones, plus the one that is not UTF-8; 2 repeated ids
    assert counts[:4] == (len(TRICKY) - 2 + 1, len(new), 2, len(quarantine))
    assert quarantine[-1]["reason"] == "not UTF-8 text"


def test_the_column_path_is_taken_for_plain_records(data_dir, tmp_path, monkeypatch):
    with_prices(data_dir)
    validator = EventValidator(Directory.load(data_dir), NOW)
    source = lines_file(tmp_path / "plain.jsonl", [json.dumps(event(f"p{n}")) for n in range(50)])
    [block] = list(jsonl._jsonl_blocks(source, validator))
    assert sum(table.num_rows for table in block.rows) == 50 and block.left == []


def test_a_bad_line_sends_only_its_short_stretch_one_by_one(data_dir, tmp_path, monkeypatch):
    with_prices(data_dir)
    monkeypatch.setattr(jsonl, "ONE_BY_ONE_LINES", 4)
    validator = EventValidator(Directory.load(data_dir), NOW)
    lines = [json.dumps(event(f"p{n}")) for n in range(64)]
    lines[40] = json.dumps(event("p40", input_tokens="1000"))  # Arrow refuses the whole block
    [block] = list(jsonl._jsonl_blocks(lines_file(tmp_path / "one_bad.jsonl", lines), validator))
    # 65 lines (the last one empty) in 16 stretches of 5, the refused one in 5 stretches of 1:
    # only line 41 is read on its own, the other 63 records still column-wise
    assert [number for number, _ in block.left] == [41]
    assert sum(table.num_rows for table in block.rows) == 63


REFUSED_BY_ARROW = [
    lambda n: json.dumps(event(f"r{n}", user_id=5)),  # a number where text is due
    lambda n: json.dumps(event(f"r{n}", colour="blue")),  # an unknown field
    lambda n: json.dumps(event(f"r{n}")).replace('"status"', '"cost_usd": 0.1234567, "status"'),  # 7 places
    lambda n: json.dumps(event(f"r{n}", conversation_id="\ud800")),  # a lone surrogate
    lambda n: json.dumps(event(f"r{n}", input_tokens="12")),  # text where a count is due
]


def test_lines_arrow_refuses_all_over_a_block_go_one_by_one_the_rest_in_one_call(data_dir, tmp_path, monkeypatch):
    """A block with refused lines everywhere: those lines are read on their own, all the others in one call of
    Arrow's reader (not the stretches between them split down to single lines)."""
    with_prices(data_dir)
    lines = [json.dumps(event(f"p{n}", ts=f"2026-03-02T12:{n % 60:02}:00Z")) for n in range(300)]
    for n in range(3, 300, 7):
        lines[n] = REFUSED_BY_ARROW[n % len(REFUSED_BY_ARROW)](n)
    lines[100] = json.dumps(event("p100", user_id="ghost"))  # Arrow reads it; `validate` refuses it
    source = lines_file(tmp_path / "refused.jsonl", lines)
    validator = EventValidator(Directory.load(data_dir), NOW)
    [block] = list(jsonl._jsonl_blocks(source, validator))
    refused = [n + 1 for n in range(3, 300, 7)]
    assert sorted(number for number, _ in block.left) == sorted([*refused, 101])
    assert [number for number, _ in block.left] == sorted(number for number, _ in block.left)  # in line order
    assert len(block.rows) == 1 and block.rows[0].num_rows == 300 - len(refused) - 1
    fast, slow = both_ways(data_dir, tmp_path, source, monkeypatch)
    assert fast == slow
    assert [q["line"] for q in fast[3]] == sorted([*refused, 101])  # each refused by `validate` too


def test_a_field_given_twice_among_refused_lines_is_read_as_before(data_dir, tmp_path, monkeypatch):
    """Arrow refuses a line whose field is given twice though its form looks plain: the block is then read
    stretch by stretch, as before, with the same outcome as reading every line on its own."""
    with_prices(data_dir)
    small_blocks(monkeypatch)
    lines = [json.dumps(event(f"d{n}", ts=f"2026-03-02T12:{n:02}:00Z")) for n in range(40)]
    for n in range(2, 40, 9):
        lines[n] = REFUSED_BY_ARROW[n % len(REFUSED_BY_ARROW)](n)
    lines[20] = json.dumps(event("d20")).replace('"status": "ok"', '"status": "error", "status": "ok"')
    fast, slow = both_ways(data_dir, tmp_path, lines_file(tmp_path / "twice.jsonl", lines), monkeypatch)
    assert fast == slow
    assert "d20" in {row[0] for row in fast[1]}  # json keeps the last "status"


def test_a_line_not_utf8_in_a_long_stretch_of_costs_is_quarantined(data_dir, tmp_path, monkeypatch):
    """The stretch around a line that is not UTF-8 is split and its parts read by Arrow; their costs are checked
    on their own lines (UTF-8) though the block is not: the import goes on, that one line quarantined."""
    with_prices(data_dir)
    lines = [json.dumps(event(f"b{n}", cost_usd="0.5")).encode() for n in range(600)]
    lines[300] = b'{"event_id": "b_\xff"}'
    source = tmp_path / "not_utf8.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    fast, slow = both_ways(data_dir, tmp_path, source, monkeypatch)
    assert fast == slow
    counts, _rows, _, quarantine, _ = fast
    assert counts[:4] == (600, 599, 0, 1)
    assert [(q["line"], q["reason"]) for q in quarantine] == [(301, "not UTF-8 text")]


def test_lines_and_duplicates_follow_the_file_across_blocks(data_dir, tmp_path, monkeypatch):
    with_prices(data_dir)
    small_blocks(monkeypatch)
    lines = []
    for n in range(60):
        lines.append(json.dumps(event(f"b{n % 25}", ts=f"2026-03-0{2 + n % 3}T12:{n:02}:00Z")))
        if n % 7 == 0:
            lines.append(json.dumps(event(f"b_bad{n}", user_id="ghost")))
        if n % 11 == 0:
            lines.append(json.dumps(event(f"b{n % 25}", ts="2026-03-02 08:00:00+00:00")))  # one by one
    fast, slow = both_ways(data_dir, tmp_path, lines_file(tmp_path / "blocks.jsonl", lines), monkeypatch)
    assert fast == slow
    assert [q["line"] for q in fast[3]] == [n + 1 for n, line in enumerate(lines) if "ghost" in line]


def test_a_large_import_is_written_in_rounds_as_before(data_dir, tmp_path, monkeypatch):
    with_prices(data_dir)
    small_blocks(monkeypatch)
    monkeypatch.setattr(writer, "MAX_ROWS_IN_MEMORY", 7)  # rounds end inside blocks
    lines = [json.dumps(event(f"r{n}", ts=f"2026-03-0{2 + n % 2}T12:{n:02}:00Z")) for n in range(40)]
    lines[9] = json.dumps(event("r9", ts="2026-03-02 12:09:00+00:00"))  # read one by one
    fast, slow = both_ways(data_dir, tmp_path, lines_file(tmp_path / "rounds.jsonl", lines), monkeypatch)
    assert fast == slow
    # rounds r0-r6, r7-r13, ..., r35-r39; even ids (and r9) on 2 March, odd ones on 3 March
    assert [len(ids) for ids in fast[2]] == [4, 4, 4, 3, 4, 2] + [3, 3, 3, 4, 3, 3]


TEXTS = st.sampled_from(["u4", "u5", "ghost", "", " ", "\u3000", "a_code", "a_draft", "t_eng", "claude-sonnet-4.5"])
VALUES = st.one_of(
    st.none(),
    TEXTS,
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from(["0.5", "1.", "1e-3", "+2", ".25", "-0", "0.1234567", "2026-03-02T12:00:00Z", "yes"]),
    st.booleans(),
)
TIMES = st.sampled_from(
    ["2026-03-02T12:00:00Z", "2026-03-02T12:00:00.5+01:00", "2026-03-02 12:00:00Z", "2026-03-02T12:00:00", "x"]
)


@st.composite
def records(draw) -> str:
    record = event(
        draw(st.sampled_from(["h1", "h2", "h3"])),
        ts=draw(TIMES),
        user_id=draw(st.sampled_from(["u4", "u5", "ghost"])),
        input_tokens=draw(st.sampled_from([0, 5, 10**15, -1])),
    )
    for name in draw(st.sets(st.sampled_from([*schema.EVENTS.names(), "colour"]), max_size=3)):
        value = draw(VALUES)
        if value is None and draw(st.booleans()):
            record.pop(name, None)
        else:
            record[name] = value
    return json.dumps(record)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records(), min_size=1, max_size=12))
def test_any_records_give_what_reading_one_by_one_gives(data_dir, tmp_path_factory, lines):
    """Rows and reasons from the blocks, then `validate` on what is left, against `validate` alone."""
    with_prices(data_dir)
    validator = EventValidator(Directory.load(data_dir), NOW)
    path = lines_file(tmp_path_factory.mktemp("any") / "any.jsonl", lines)
    fast, slow = [], []
    for block in jsonl._jsonl_blocks(path, validator):
        for table, numbers in zip(block.rows, block.lines, strict=True):
            fast.extend(zip(numbers.tolist(), table.to_pylist(), strict=True))
        fast.extend(checked(validator, [jsonl._jsonl_item(n, raw) for n, raw in block.left]))
    with open(path, "rb") as handle:
        items = [jsonl._jsonl_item(n, raw) for n, raw in enumerate(handle, start=1)]
    slow.extend(checked(validator, items))
    assert sorted(fast, key=lambda x: x[0]) == slow


def checked(validator: EventValidator, items: list) -> list[tuple[int, object]]:
    """Per record: the row as the writer stores it, or the reasons it is refused."""
    out = []
    for position, record, _, reasons, _ in filter(None, items):
        row, found = validator.validate(record) if record is not None else (None, [])
        if row is None:
            out.append((position, reasons + found))
        else:
            out.append((position, writer._events_table([row]).to_pylist()[0]))
    return out


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-03-02T09:15:30Z", dt.datetime(2026, 3, 2, 9, 15, 30)),
        ("2026-03-02T09:15:30.25+05:30", dt.datetime(2026, 3, 2, 3, 45, 30, 250_000)),
        ("2026-03-01T23:15:30.000001-05:00", dt.datetime(2026, 3, 2, 4, 15, 30, 1)),
        ("2026-03-02T00:30:00+23:59", dt.datetime(2026, 3, 1, 0, 31)),
        ("2024-02-29T00:00:00.123456Z", dt.datetime(2024, 2, 29, 0, 0, 0, 123_456)),
        ("2026-02-29T00:00:00Z", None),  # no such day
        ("2026-03-02T09:15:30.1234567Z", None),  # 7 decimals, a space, no zone: left to `validate`
        ("2026-03-02 09:15:30Z", None),
        ("2026-03-02T09:15:30", None),
    ],
)
def test_a_timestamp_as_text_is_read_as_columns_to_the_microsecond(text, utc):
    micros = pl.select(validate._iso_utc_us(pl.lit(text))).item()
    assert micros == (None if utc is None else (utc - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1))


def test_an_exported_day_in_time_order_is_written_sorted(data_dir, tmp_path):
    with_prices(data_dir)
    lines = [json.dumps(event(f"s{n:03}", ts=f"2026-03-05T10:00:{n % 60:02}Z")) for n in range(200)]
    summary = ingest.ingest_files(data_dir, [lines_file(tmp_path / "sorted.jsonl", lines)], now=NOW)
    [written] = schema.partition_dir(data_dir, "2026-03-05").glob("*.parquet")
    table = pq.read_table(written)
    keys = list(zip(table.column("ts").to_pylist(), table.column("event_id").to_pylist(), strict=True))
    assert summary.written == 200 and keys == sorted(keys)  # equal ts ordered by event_id
    assert table.column("ts")[0].as_py() == dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC)


def test_a_lone_surrogate_is_quarantined_not_a_crash(data_dir: Path, tmp_path: Path) -> None:
    with_prices(data_dir)
    path = tmp_path / "surrogate.jsonl"
    good = json.dumps(event("ok-1"))
    bad = json.dumps(event("bad-1", conversation_id="\ud800"))  # written as the JSON escape "\ud800"
    path.write_text(good + "\n" + bad + "\n")
    summary = ingest.ingest_files(data_dir, [path], now=NOW)
    assert (summary.written, summary.quarantined) == (1, 1), summary.reasons
    assert any("lone surrogate" in reason for reason, _count in summary.reasons)
