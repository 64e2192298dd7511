"""Every format checked as columns gives what checking each record gives, and the same reasons.

The same records (a few good, most breaking one rule of the contract) are written as JSONL, CSV,
Parquet and OTLP/JSON and imported; each import is compared with the reference, the per-record path
(`EventValidator.validate` on every record, as before the column-wise readers), and the quarantine
files are compared across formats: the same records refused, in the same order, for the same reasons.
Then CSV and Parquet inputs that only one of them can spell (quoted line breaks, other column types)
are compared with their reference.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data import ingest, schema
from data.ingest import csv_blocks, jsonl, otlp_columns, readers
from tests.test_ingest import NOW, event, with_prices
from tests.test_ingest_jsonl import outcome

COLUMNS = schema.EVENTS.names()

# (record, reason) in file order; reason None: written (or a duplicate). Worked out from docs/schema.md.
RECORDS = [
    (event("f1"), None),
    (event("f2", user_id="ghost"), "unknown user 'ghost'"),
    (event("f3", agent_id="a_nope"), "unknown agent 'a_nope'"),
    (event("f4", team_id="t_nope"), "unknown team 't_nope'"),
    (event("f5", ts="1999-12-31T23:59:59Z"), "ts is before 2000-01-01 (an unset clock?)"),
    (event("f6", ts="2026-03-11T00:00:01Z"), "ts is more than a day in the future"),
    (event("f7", input_tokens=-5), "input_tokens is negative (-5)"),
    (
        event("f8", output_tokens=schema.MAX_TOKENS + 1),
        f"output_tokens is too large for one interaction ({schema.MAX_TOKENS + 1} > {schema.MAX_TOKENS})",
    ),
    (
        event("f9", latency_ms=schema.MAX_LATENCY_MS + 1),
        f"latency_ms is too large for one interaction ({schema.MAX_LATENCY_MS + 1} > {schema.MAX_LATENCY_MS})",
    ),
    (
        event("f10", model="mystery-model"),
        "no price for model 'mystery-model' on 2026-03-02 in directory/prices.parquet (cost_usd missing)",
    ),
    (event("f11", model=None), "model is missing"),
    (event("f12", conversation_id="c" * 513), "conversation_id is longer than 512 characters"),
    (event("f1"), None),  # a duplicate
    (event("f14", user_id="u5", team_id="t_sales", ts="2026-03-03T23:30:00-05:00"), None),
    (event("f15", user_id="ghost", agent_id="a_nope"), "unknown user 'ghost'; unknown agent 'a_nope'"),
    (event("f16", ts="2026-02-27T10:00:00Z", model="half-model"), None),
]


def as_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def as_csv(path: Path, records: list[dict]) -> Path:
    frame = pl.DataFrame([{name: r.get(name) for name in COLUMNS} for r in records], schema=dict.fromkeys(COLUMNS))
    frame.drop("cost_usd").write_csv(path)
    return path


def as_parquet(path: Path, records: list[dict]) -> Path:
    rows = [{**r, "ts": dt.datetime.fromisoformat(r["ts"])} for r in records]
    frame = pl.DataFrame([{name: r.get(name) for name in COLUMNS} for r in rows], schema=schema.EVENTS)
    frame.write_parquet(path)
    return path


def as_otlp(path: Path, records: list[dict]) -> Path:
    """One `invoke_agent` span per record: ids, times and usage where the receiver finds them."""
    spans = []
    for number, record in enumerate(records, start=1):
        start = dt.datetime.fromisoformat(record["ts"])
        start_ns = (start - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1) * 1000
        names = {"gen_ai.agent.id": "agent_id", "user.id": "user_id", "team.id": "team_id",
                 "gen_ai.request.model": "model", "gen_ai.conversation.id": "conversation_id"}  # fmt: skip
        attributes = [{"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}}]
        attributes += [{"key": k, "value": {"stringValue": record[v]}} for k, v in names.items() if v in record]
        for key in ("input_tokens", "output_tokens"):
            attributes.append({"key": f"gen_ai.usage.{key}", "value": {"intValue": str(record[key])}})
        span_number = int(record["event_id"][1:])  # the duplicate gets the same ids
        spans.append(
            {
                "traceId": f"{span_number:032x}",
                "spanId": f"{span_number:016x}",
                "name": "invoke_agent",
                "startTimeUnixNano": str(start_ns),
                "endTimeUnixNano": str(start_ns + record["latency_ms"] * 1_000_000),
                "attributes": attributes,
            }
        )
        assert number  # spans keep the records' order
    document = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]}
    path.write_text(json.dumps(document) + "\n")
    return path


WRITERS = {"jsonl": as_jsonl, "csv": as_csv, "parquet": as_parquet, "otlp-json": as_otlp}
SUFFIX = {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet", "otlp-json": ".json"}


def per_record(patched: pytest.MonkeyPatch) -> None:
    """The reference: no column-wise reading anywhere, every record through `validate`."""
    patched.setattr(jsonl, "_arrow_records", lambda text, expected: None)
    patched.setattr(csv_blocks, "_plain_header", lambda line: None)
    patched.setattr(readers, "_event_columns", lambda frame: (None, None))
    patched.setattr(otlp_columns, "read_file", lambda path, validator, team_attribute: None)


def both_ways(data_dir: Path, tmp_path: Path, source: Path, monkeypatch) -> tuple[tuple, tuple]:
    reference_dir = tmp_path / f"reference-{source.name}"
    shutil.copytree(data_dir, reference_dir)
    fast = outcome(data_dir, ingest.ingest_files(data_dir, [source], now=NOW))
    with monkeypatch.context() as patched:
        per_record(patched)
        slow = outcome(reference_dir, ingest.ingest_files(reference_dir, [source], now=NOW))
    return fast, slow


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_each_format_refuses_the_same_records_for_the_same_reasons(data_dir, tmp_path, monkeypatch, fmt):
    with_prices(data_dir)
    source = WRITERS[fmt](tmp_path / f"records{SUFFIX[fmt]}", [record for record, _ in RECORDS])
    if fmt == "otlp-json":  # read as columns (Arrow's reader: every count a string)
        assert otlp_columns.read_file(source, _validator(data_dir), "team.id") is not None
    fast, slow = both_ways(data_dir, tmp_path, source, monkeypatch)
    assert fast == slow
    counts, _rows, _files, quarantine, _reasons = fast
    assert [q["reason"] for q in quarantine] == [reason for _, reason in RECORDS if reason]
    # read, written, duplicates, quarantined
    assert counts[:4] == (len(RECORDS), 3, 1, len(quarantine))
    if fmt != "otlp-json":  # OTLP has no place in a line or row: the quarantine shows the span
        first = 2 if fmt == "csv" else 1  # the header
        position = "row" if fmt == "parquet" else "line"
        expected = [first + n for n, (_, reason) in enumerate(RECORDS) if reason]
        assert [q[position] for q in quarantine] == expected
        assert [q["record"]["event_id"] for q in quarantine] == [r["event_id"] for r, reason in RECORDS if reason]


def test_the_formats_write_the_same_rows(data_dir, tmp_path):
    with_prices(data_dir)
    written = {}
    for fmt in ("jsonl", "csv", "parquet"):
        folder = tmp_path / fmt
        shutil.copytree(data_dir, folder)
        source = WRITERS[fmt](tmp_path / f"records{SUFFIX[fmt]}", [record for record, _ in RECORDS])
        ingest.ingest_files(folder, [source], now=NOW)
        files = schema.events_dir(folder).glob("*/part-2*.parquet")
        written[fmt] = pl.concat([pl.read_parquet(f) for f in files]).sort("event_id")
    assert written["jsonl"].equals(written["csv"]) and written["jsonl"].equals(written["parquet"])
    costs = dict(written["jsonl"].select("event_id", "cost_usd").rows())
    # 1000 in, 200 out at 2.5 / 12.5 per million (March); f16: 0.5 / 0.25 (half-model)
    assert costs == {"f1": Decimal("0.005000"), "f14": Decimal("0.005000"), "f16": Decimal("0.000550")}


HEADER = ",".join(name for name in COLUMNS if name != "cost_usd")


def csv_line(event_id: str, **cells: str) -> str:
    record = {**{k: str(v) for k, v in event(event_id).items()}, **cells}
    return ",".join(record.get(name, "") for name in COLUMNS if name != "cost_usd")


TRICKY_CSV = [
    csv_line("c_plain"),
    csv_line("c_quoted", model='"claude-sonnet-4.5"', conversation_id='"c, with ""quotes"""'),
    csv_line("c_newline", conversation_id='"two\nlines"'),  # one record over two lines
    csv_line("c_after_newline"),
    csv_line("c_lone_cr", conversation_id="a\rb"),  # a line break for csv: two short records
    csv_line("c_extra") + ",surplus",
    "c_short,2026-03-02T12:00:00Z,u4",
    "",
    "\r",
    csv_line("c_spaces", input_tokens=" 12 ", user_id=" u4"),  # valid tokens, unknown user ' u4'
    csv_line("c_plus", input_tokens="+3"),  # valid, read by csv
    csv_line("c_cost_text") + "",
    csv_line("c_stray_quote", conversation_id='ab"c'),
    csv_line("c_quote_space", conversation_id='"ab" '),
    csv_line("c_blank_team", team_id="   "),  # a blank cell is a value not given
    csv_line("c_empty_quoted", team_id='""'),
    csv_line("c_bad_ts", ts="2026-02-30T12:00:00Z"),
    csv_line("c_unicode", conversation_id="c_✓"),
    csv_line("c_plain"),  # a duplicate
    csv_line("c_open_quote", conversation_id='"never closed') + "\n" + csv_line("c_swallowed"),
]


@pytest.mark.parametrize("block", [16 << 20, 300])
def test_tricky_csv_gives_what_reading_it_with_csv_gives(data_dir, tmp_path, monkeypatch, block):
    with_prices(data_dir)
    monkeypatch.setattr(csv_blocks, "CSV_BLOCK_BYTES", block)
    source = tmp_path / "tricky.csv"
    source.write_bytes(("\ufeff" + HEADER + "\r\n" + "\r\n".join(TRICKY_CSV)).encode())  # no last line break
    fast, slow = both_ways(data_dir, tmp_path, source, monkeypatch)
    assert fast == slow
    counts, rows, _files, quarantine, _reasons = fast
    written = {row[0] for row in rows}
    assert {"c_plain", "c_quoted", "c_newline", "c_after_newline", "c_plus", "c_blank_team"} <= written
    assert {"c_extra", "c_short", "c_spaces", "c_swallowed"}.isdisjoint(written)
    lines = {q["record"].get("event_id"): q["line"] for q in quarantine}
    assert lines["c_extra"] == 9  # the header is line 1; c_newline takes lines 4-5; c_lone_cr 7-8


UNQUOTED_CSV = [
    csv_line("u_plain"),
    csv_line("u_extra") + ",surplus",  # a cell too many: Arrow refuses the whole block, which is sorted out
    "u_short,2026-03-02T12:00:00Z,u4",
    "",
    "   ",
    csv_line("u_unicode", conversation_id="c_✓"),
    csv_line("u_plain"),  # a duplicate
    csv_line("u_last"),
]


@pytest.mark.parametrize("block", [16 << 20, 300])
def test_csv_without_quotes_or_carriage_returns_gives_what_csv_gives(data_dir, tmp_path, monkeypatch, block):
    """A block with no quote, carriage return or NUL is given to Arrow whole first; a line of another count of
    cells makes Arrow refuse it, and then the block is read line by line as any other."""
    with_prices(data_dir)
    monkeypatch.setattr(csv_blocks, "CSV_BLOCK_BYTES", block)
    source = tmp_path / "unquoted.csv"
    source.write_text(HEADER + "\n" + "\n".join(UNQUOTED_CSV) + "\n")
    fast, slow = both_ways(data_dir, tmp_path, source, monkeypatch)
    assert fast == slow
    counts, rows, _files, quarantine, _reasons = fast
    assert {row[0] for row in rows if row[0].startswith("u_")} == {"u_plain", "u_unicode", "u_last"}
    refused = [(q["line"], q["record"].get("event_id")) for q in quarantine]
    assert refused == [(3, "u_extra"), (4, "u_short"), (6, "   ")]
    assert counts[:4] == (7, 3, 1, 3)


def test_csv_odd_lines_all_over_a_block_leave_the_plain_ones_to_one_call(data_dir, tmp_path, monkeypatch):
    """The runs of plain lines between odd ones are read and checked together, in one call."""
    with_prices(data_dir)
    lines = [csv_line(f"o{n}") for n in range(200)]
    for n in range(5, 200, 9):
        lines[n] = csv_line(f"o{n}") + ",surplus" if n % 2 else csv_line(f"o{n}", model='"claude-sonnet-4.5"')
    source = tmp_path / "odd.csv"
    source.write_text(HEADER + "\n" + "\n".join(lines) + "\n")
    validator = ingest.validate.EventValidator(ingest.validate.Directory.load(data_dir), NOW)
    [block] = list(csv_blocks.csv_blocks(source, validator, iter(())))
    extra = [n + 2 for n in range(5, 200, 9) if n % 2]  # line numbers: the header is line 1
    # the wholly quoted cells are plain too (Arrow reads them as csv does): only the lines with a cell too many
    # are read by `csv`
    assert len(block.rows) == 1 and block.rows[0].num_rows == 200 - len(extra)
    assert [item[0] for item in block.items] == extra
    fast, slow = both_ways(data_dir, tmp_path, source, monkeypatch)
    assert fast == slow
    assert [q["line"] for q in fast[3]] == extra


def test_csv_the_column_path_takes_plain_lines(data_dir, tmp_path, monkeypatch):
    with_prices(data_dir)
    source = tmp_path / "plain.csv"
    source.write_text(HEADER + "\n" + "\n".join(csv_line(f"p{n}") for n in range(50)) + "\n")
    validator = ingest.validate.EventValidator(ingest.validate.Directory.load(data_dir), NOW)
    blocks = list(csv_blocks.csv_blocks(source, validator, iter(())))
    assert sum(t.num_rows for b in blocks for t in b.rows) == 50 and not any(b.items for b in blocks)


def test_csv_not_utf8_is_refused_as_before(data_dir, tmp_path):
    with_prices(data_dir)
    source = tmp_path / "latin1.csv"
    source.write_bytes((HEADER + "\n" + csv_line("l1") + "\n").encode() + "l2,caf\xe9\n".encode("latin-1"))
    with pytest.raises(ingest.IngestError, match=r"latin1.csv: not UTF-8 text \("):
        ingest.ingest_files(data_dir, [source], now=NOW)


def parquet_variant(tmp_path: Path, name: str, change) -> Path:
    records = [record for record, _ in RECORDS]
    frame = pl.read_parquet(as_parquet(tmp_path / "base.parquet", records))
    path = tmp_path / f"{name}.parquet"
    table = change(frame)
    if isinstance(table, pa.Table):
        pq.write_table(table, path)
    else:
        table.write_parquet(path)
    return path


def _cycled(frame: pl.DataFrame, kind: pa.DataType) -> pl.Series | pa.Array:
    """A cost column of this type: exact, too many places (too large for one interaction), missing, too large
    for DECIMAL(18,6), by turns."""
    wide = pa.types.is_decimal256(kind)
    values = [Decimal("0.25"), Decimal("123456.5" if wide else "1.1234567"), None, Decimal(10) ** (60 if wide else 20)]
    column = pa.array([values[n % 4] for n in range(frame.height)], kind)
    return column if wide else pl.Series("cost_usd", column)


PARQUET_VARIANTS = {
    "int32_tokens": lambda f: f.with_columns(pl.col("input_tokens").cast(pl.Int32)),
    "uint64_tokens": lambda f: f.with_columns(pl.col("output_tokens").cast(pl.UInt64) + 2**63),
    "text_tokens": lambda f: f.with_columns(pl.col("latency_ms").cast(pl.String)),
    "float_cost": lambda f: f.with_columns(pl.lit(0.5).alias("cost_usd")),
    "cost_9_places": lambda f: f.with_columns(pl.lit(Decimal("0.123456000")).cast(pl.Decimal(38, 9)).alias("cost_usd")),
    "cost_2_places": lambda f: f.with_columns(pl.lit(Decimal("1.25")).cast(pl.Decimal(10, 2)).alias("cost_usd")),
    "cost_too_large": lambda f: f.with_columns(pl.lit(Decimal("10") ** 14).cast(pl.Decimal(38, 2)).alias("cost_usd")),
    "cost_10_places_mixed": lambda f: f.with_columns(_cycled(f, pa.decimal128(38, 10))),
    "cost_76_digits": lambda f: f.to_arrow().set_column(9, "cost_usd", _cycled(f, pa.decimal256(76, 6))),
    "naive_ts": lambda f: f.with_columns(pl.col("ts").dt.replace_time_zone(None)),
    "ns_paris_ts": lambda f: f.with_columns(pl.col("ts").dt.cast_time_unit("ns").dt.convert_time_zone("Europe/Paris")),
    "text_ts": lambda f: f.with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")),
    "date_ts": lambda f: f.with_columns(pl.col("ts").dt.date()),
    "categorical": lambda f: f.with_columns(pl.col("model", "user_id").cast(pl.Categorical)),
    "int_user": lambda f: f.with_columns(pl.lit(4).alias("user_id")),
    "int_team": lambda f: f.with_columns(pl.lit(4).alias("team_id")),
    "bool_tokens": lambda f: f.with_columns(pl.lit(True).alias("input_tokens")),
    "no_team_column": lambda f: f.drop("team_id", "cost_usd"),
    "unknown_column": lambda f: f.with_columns(pl.lit(None).alias("colour")),
    "null_columns": lambda f: f.with_columns(pl.lit(None).alias("conversation_id")),
    "dictionary": lambda f: f.to_arrow().set_column(2, "user_id", f.to_arrow().column("user_id").dictionary_encode()),
}


@pytest.mark.parametrize("variant", list(PARQUET_VARIANTS))
def test_parquet_of_any_types_gives_what_reading_each_row_gives(data_dir, tmp_path, monkeypatch, variant):
    with_prices(data_dir)
    source = parquet_variant(tmp_path, variant, PARQUET_VARIANTS[variant])
    fast, slow = both_ways(data_dir, tmp_path, source, monkeypatch)
    assert fast == slow


def test_parquet_the_column_path_takes_typed_rows(data_dir, tmp_path):
    with_prices(data_dir)
    source = as_parquet(tmp_path / "good.parquet", [event(f"g{n}") for n in range(50)])
    validator = ingest.validate.EventValidator(ingest.validate.Directory.load(data_dir), NOW)
    [block] = list(readers._parquet_blocks(source, validator))
    assert sum(t.num_rows for t in block.rows) == 50 and block.items == []


def test_an_import_of_many_rounds_is_one_write_with_one_rollup_update(data_dir, tmp_path, monkeypatch):
    """Memory follows MAX_ROWS_IN_MEMORY: each round's rows are written before more are read; the rounds
    share one write, so the rollups are updated once, for every day touched."""
    with_prices(data_dir)
    monkeypatch.setattr(ingest.writer, "MAX_ROWS_IN_MEMORY", 4)
    days = ["2026-03-02", "2026-03-03", "2026-03-04"]
    records = [event(f"m{n}", ts=f"{days[n % 3]}T12:{n:02}:00Z") for n in range(10)]
    summary = ingest.ingest_files(data_dir, [as_parquet(tmp_path / "m.parquet", records)], now=NOW, tz="UTC")
    assert (summary.read, summary.written) == (10, 10)
    # rounds m0-m3, m4-m7, m8-m9: a new file per round and date; the last round has no 3 March (m8: 4th, m9: 2nd)
    new = [len(list(schema.partition_dir(data_dir, day).glob("part-2*.parquet"))) for day in days]
    assert new == [3, 2, 3]
    [update] = summary.rollups
    assert update.days >= 3 and summary.rollup_error is None


def _span(trace: int, span: int, name: str, parent: int | None = None, **options) -> dict:
    """An OTLP/JSON span at 2026-03-02 12:00 UTC plus `span` seconds; `attributes` as key: AnyValue."""
    start_ns = 1_772_452_800_000_000_000 + span * 1_000_000_000
    found = {
        "traceId": f"{trace:032X}",  # upper case: the event id is lower case either way
        "spanId": f"{span:016x}",
        "name": name,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + options.pop("latency_ns", 700_000_000)),
        "attributes": [{"key": k, "value": v} for k, v in options.pop("attributes", {}).items()],
    }
    if parent is not None:
        found["parentSpanId"] = f"{parent:016x}"
    return {**found, **options}


def _text(value: str) -> dict:
    return {"stringValue": value}


def _usage(input_tokens, output_tokens) -> dict:
    return {"gen_ai.usage.input_tokens": input_tokens, "gen_ai.usage.output_tokens": output_tokens}


# fmt: off
WHO = {"user.id": _text("u4"), "gen_ai.request.model": _text(SONNET_MODEL := "claude-sonnet-4.5")}
OTLP_DOCUMENTS = [
    # one resource with the user on it, spans of every kind
    {"resourceSpans": [{
        "resource": {"attributes": [{"key": "user.id", "value": _text("u4")}]},
        "scopeSpans": [{"scope": {"name": "agents"}, "spans": [
            _span(1, 1, "invoke_agent", attributes={"gen_ai.agent.id": _text("a_code"), "gen_ai.request.model":
                  _text(SONNET_MODEL), **_usage({"intValue": "1000"}, {"intValue": 200})}),
            _span(1, 2, "chat claude", parent=1, attributes={"gen_ai.agent.id": _text("a_code"),
                  **_usage({"intValue": "5"}, {"intValue": "5"})}),  # under an agent: not counted
            _span(2, 3, "invoke_agent", attributes={"gen_ai.agent.id": _text("a_code")}),  # usage from below
            _span(2, 4, "tool", parent=3),
            _span(2, 5, "chat", parent=4, attributes={"gen_ai.request.model": _text(SONNET_MODEL),
                  **_usage({"intValue": "300"}, {"doubleValue": 40.0})}),
            _span(2, 6, "invoke_agent", parent=4, attributes={"gen_ai.agent.name": _text("Drafting"),
                  **_usage({"intValue": "7"}, {"intValue": "8"})}),  # a nested agent, by name
            _span(2, 7, "chat", parent=6, attributes=_usage({"intValue": "9"}, {"intValue": "9"})),  # its own
            _span(3, 8, "chat", attributes={"gen_ai.agent.id": _text("a_code"), "team.id": _text("t_eng"),
                  **WHO, **_usage({"intValue": "10"}, {"intValue": "20"})}),  # no agent above: counted
            _span(3, 9, "chat", attributes={**WHO, **_usage({"intValue": "1"}, {"intValue": "1"})}),  # no agent
            _span(4, 10, "http get"),
            _span(5, 11, "invoke_agent", attributes={"gen_ai.agent.id": _text("a_code"), **WHO, "error.type":
                  _text("timeout"), **_usage({"intValue": "1"}, {"intValue": "2"})}),
            _span(5, 12, "invoke_agent", status={"code": 2}, attributes={"gen_ai.agent.id": _text("a_code"),
                  **WHO, **_usage({"intValue": "1"}, {"intValue": "2"})}),
            _span(6, 13, "x", attributes={"gen_ai.operation.name": _text("invoke_agent"), "gen_ai.agent.id":
                  _text("a_code"), **WHO, **_usage({"intValue": "3"}, {"intValue": "4"})}),
        ]}],
    }]},
    # refusals: each for its own reason
    {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {"name": "bad"}, "spans": [
        _span(7, 22, "http post"),  # ignored, before the others of its document
        _span(7, 14, "invoke_agent", attributes={"gen_ai.agent.id": _text("a_code"), "user.id": _text("ghost"),
              "gen_ai.request.model": _text(SONNET_MODEL), **_usage({"intValue": "1"}, {"intValue": "1"})}),
        _span(7, 15, "invoke_agent", latency_ns=-5, attributes={"gen_ai.agent.id": _text("a_code"), **WHO,
              **_usage({"intValue": "1"}, {"intValue": "1"})}),
        _span(8, 16, "invoke_agent", attributes={"gen_ai.agent.id": _text("a_code"), "user.id": _text("u4")}),
        _span(8, 17, "chat", parent=16, attributes={"gen_ai.request.model": _text("gpt-5"),
              **_usage({"intValue": "1"}, {"intValue": "1"})}),
        _span(8, 18, "chat", parent=16, attributes={"gen_ai.request.model": _text(SONNET_MODEL),
              **_usage({"intValue": "1"}, {"intValue": "1"})}),  # two models: cannot be priced as one
        _span(9, 19, "invoke_agent", attributes={"gen_ai.agent.name": _text("Nobody"), **WHO,
              **_usage({"intValue": "1"}, {"intValue": "1"})}),
        _span(9, 20, "invoke_agent", attributes={"gen_ai.agent.id": _text("a_code"), **WHO,
              **_usage({"intValue": "-3"}, {"intValue": "1"})}),
        _span(9, 21, "invoke_agent", endTimeUnixNano="0", attributes={"gen_ai.agent.id": _text("a_code"), **WHO,
              **_usage({"intValue": "1"}, {"intValue": "1"})}),
        _span(1, 1, "invoke_agent", attributes={"gen_ai.agent.id": _text("a_code"), **WHO,
              **_usage({"intValue": "1"}, {"intValue": "1"})}),  # sent again: a duplicate
    ]}]}]},
]
# fmt: on


def test_otlp_spans_read_as_columns_give_what_decoding_each_span_gives(data_dir, tmp_path, monkeypatch):
    with_prices(data_dir)
    source = tmp_path / "traces.json"
    source.write_text("".join(json.dumps(document) + "\n" for document in OTLP_DOCUMENTS))
    # read as columns (Polars' reader: a count is spelt as a number and as a string)
    assert otlp_columns.read_file(source, _validator(data_dir), "team.id") is not None
    fast, slow = both_ways(data_dir, tmp_path, source, monkeypatch)
    assert fast == slow
    counts, rows, _files, quarantine, _reasons = fast
    # read: the 14 spans that are interactions (8 others ignored); 6 written, the re-sent one a duplicate
    assert counts[:4] == (14, 6, 1, 7)
    written = {row[0].split("-")[2] for row in rows if row[0].startswith("otel-")}
    assert written == {f"{n:016x}" for n in (1, 3, 8, 11, 12, 13)}
    assert [q["reason"] for q in quarantine] == [
        "model is missing",  # the nested agent (found by its name) has usage of its own but no model
        "unknown user 'ghost'",
        "span ends before it starts",
        "usage is spread over several models (claude-sonnet-4.5, gpt-5); cannot price it as one; model is missing",
        "unknown agent name 'Nobody' (not in directory/agents.parquet)",
        "input_tokens is negative (-3)",
        "span ends before it starts; latency_ms is missing",
    ]
    usage = {row[0].split("-")[2]: row[7:9] for row in rows if row[0].startswith("otel-")}
    assert usage[f"{3:016x}"] == (300, 40)  # from the chat under its tool span, not the nested agent's


def _validator(data_dir: Path):
    from data.ingest.validate import Directory, EventValidator

    return EventValidator(Directory.load(data_dir), NOW)


def test_otlp_counts_sent_as_numbers_are_read_as_columns_too(data_dir, tmp_path, monkeypatch):
    with_prices(data_dir)
    source = as_otlp(tmp_path / "numbers.json", [record for record, _ in RECORDS])
    source.write_text(re.sub(r'"intValue": "(-?[0-9]+)"', r'"intValue": \1', source.read_text()))
    assert '"intValue": 1000' in source.read_text()
    assert otlp_columns.read_file(source, _validator(data_dir), "team.id") is not None
    fast, slow = both_ways(data_dir, tmp_path, source, monkeypatch)
    assert fast == slow and fast[0][:4] == (len(RECORDS), 3, 1, len(RECORDS) - 4)


@pytest.mark.parametrize(
    ("key", "value"),
    [("stringValue", 12345), ("stringValue", True), ("stringValue", {"a": 1}), ("traceId", 1), ("name", False)],
)
def test_otlp_a_value_of_the_wrong_type_is_refused_not_read_as_text(data_dir, tmp_path, monkeypatch, key, value):
    """Polars' reader (a count spelt both ways in one file) would take a number or a flag where text is due
    as its text, and import it; protobuf's reader refuses the file, so the column path must leave it to it."""
    with_prices(data_dir)
    documents = json.loads(json.dumps(OTLP_DOCUMENTS))
    span = documents[0]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    if key == "stringValue":
        span["attributes"][0]["value"] = {"stringValue": value}  # gen_ai.agent.id
    else:
        span[key] = value
    source = tmp_path / "traces.json"
    source.write_text("".join(json.dumps(document) + "\n" for document in documents))
    assert otlp_columns.read_file(source, _validator(data_dir), "team.id") is None
    before = sorted(schema.events_dir(data_dir).glob("*/*.parquet"))
    with pytest.raises(ingest.IngestError, match="not an OTLP/JSON ExportTraceServiceRequest"):
        ingest.ingest_files(data_dir, [source], now=NOW)
    assert sorted(schema.events_dir(data_dir).glob("*/*.parquet")) == before  # nothing imported


def test_otlp_a_large_file_is_read_a_block_of_lines_at_a_time(data_dir, tmp_path, monkeypatch):
    """Memory follows `BLOCK_BYTES`, not the file: with one line to a block, each span its own export and the
    spans in reverse (a chat before the agent above it, as a Collector exports spans that end first), the
    file gives what one read of the whole of it gives, and what decoding each span gives."""
    with_prices(data_dir)
    lines = []
    for document in OTLP_DOCUMENTS:
        [resource_spans] = document["resourceSpans"]
        [scope_spans] = resource_spans["scopeSpans"]
        for span in scope_spans["spans"]:
            one = {**scope_spans, "spans": [span]}
            lines.append(json.dumps({"resourceSpans": [{**resource_spans, "scopeSpans": [one]}]}) + "\n")
    source = tmp_path / "traces.json"
    source.write_text("".join(reversed(lines)))
    whole_dir = tmp_path / "whole"
    shutil.copytree(data_dir, whole_dir)
    whole = outcome(whole_dir, ingest.ingest_files(whole_dir, [source], now=NOW))
    monkeypatch.setattr(otlp_columns, "BLOCK_BYTES", 1)
    blocks, ignored = otlp_columns.read_file(source, _validator(data_dir), "team.id")
    # 23 lines, one span each: a block of checked rows for each of the 14 interactions, 9 spans ignored
    assert (len(list(blocks)), ignored) == (14, 9)
    fast, slow = both_ways(data_dir, tmp_path, source, monkeypatch)
    assert fast == whole and fast == slow
    counts, _rows, _files, quarantine, _reasons = fast
    assert counts[:4] == (14, 6, 1, 7) and len(quarantine) == 7


def test_otlp_blocks_set_aside_are_removed_when_the_read_fails(data_dir, tmp_path, monkeypatch):
    """A read that fails after blocks were set aside on disk (a disk full, an interrupt) removes them then,
    not when the process ends: a long-running receiver would otherwise fill its temporary folder."""
    with_prices(data_dir)
    source = tmp_path / "traces.json"
    source.write_text("".join(json.dumps(document) + "\n" for document in OTLP_DOCUMENTS))
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(otlp_columns, "BLOCK_BYTES", 1)

    def disk_full(links):
        assert list(temp.iterdir()), "the blocks were set aside"
        raise OSError("No space left on device")

    monkeypatch.setattr(otlp_columns, "_nearest_agent", disk_full)
    with pytest.raises(OSError, match="No space left") as failed:
        otlp_columns.read_file(source, _validator(data_dir), "team.id")
    assert list(temp.iterdir()) == []  # while the error is still held, as a log handler holds it
    assert failed.type is OSError


def test_an_import_of_each_format_loads_no_pandas(data_dir, tmp_path):
    """Nothing an import does needs pandas, and loading it costs more CPU than checking 100,000 records (Arrow
    loads it for `pa.array` of numpy or Python values): a fresh process imports each format, odd records and
    all, the rollups updated, without it."""
    with_prices(data_dir)
    records = [record for record, _ in RECORDS]
    paths = [str(WRITERS[fmt](tmp_path / f"events{SUFFIX[fmt]}", records)) for fmt in ("jsonl", "csv", "parquet")]
    script = (
        "import sys; from pathlib import Path; from data import ingest; "
        "summary = ingest.ingest_files(Path(sys.argv[1]), sys.argv[2:], tz='UTC'); "
        "print(summary.written, 'pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script, str(data_dir), *paths], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], check=True)  # fmt: skip
    assert done.stdout.split() == ["4", "False"]


def test_a_parquet_file_named_like_a_pattern_is_read_as_itself(data_dir, tmp_path):
    """Its row groups are read by Polars, which would take `[1]*` for a pattern of names."""
    with_prices(data_dir)
    as_parquet(tmp_path / "ev1x.parquet", [event("other")])  # what the pattern would match
    source = as_parquet(tmp_path / "ev[1]*.parquet", [event(f"p{n}") for n in range(3)])
    summary = ingest.ingest_files(data_dir, [source], now=NOW)
    assert (summary.read, summary.written) == (3, 3)


def _costs_file(path: Path, kind: pa.DataType, costs: list[Decimal | None]) -> Path:
    """Events c0, c1, … on 2 March whose `cost_usd` column is of this decimal type, written by pyarrow."""
    frame = pl.DataFrame([event(f"c{n}") for n in range(len(costs))]).with_columns(
        pl.col("ts").str.to_datetime(time_zone="UTC", time_unit="us")
    )
    table = frame.to_arrow().append_column(pa.field("cost_usd", kind), pa.array(costs, kind))
    pq.write_table(table, path)
    return path


PRICED = Decimal("0.005000")  # 1,000 in at 2.5 and 200 out at 12.5 USD per million tokens (tests/test_ingest.py)
TOO_LARGE = "cost_usd is too large for one interaction"
WIDE_DECIMALS = {
    "76_6": (
        pa.decimal256(76, 6),
        [Decimal("0.25"), Decimal(10) ** 60, Decimal("123456789012.5"), None, Decimal("99999.999999")],
        {"c0": Decimal("0.25"), "c3": PRICED, "c4": Decimal("99999.999999")},
        {"c1": "cost_usd is too large for DECIMAL(18,6) (1" + "0" * 60 + ".000000)",
         "c2": f"{TOO_LARGE} (123456789012.500000 > 100000)"},
    ),
    "38_10": (
        pa.decimal128(38, 10),
        [Decimal("0.25"), Decimal("1.1234567"), Decimal("0.123456"), None],
        {"c0": Decimal("0.25"), "c2": Decimal("0.123456"), "c3": PRICED},
        {"c1": "cost_usd has more than 6 decimal places (1.1234567000)"},
    ),
    "18_2": (
        pa.decimal128(18, 2),
        [Decimal("0.25"), Decimal("1234567890123456.78"), Decimal("12.5")],
        {"c0": Decimal("0.25"), "c2": Decimal("12.5")},
        {"c1": "cost_usd is too large for DECIMAL(18,6) (1234567890123456.78)"},
    ),
    "76_40": (  # no 38-digit decimal has this scale: each row is read by `validate`
        pa.decimal256(76, 40),
        [Decimal("0.25"), Decimal("0.1234567"), None],
        {"c0": Decimal("0.25"), "c2": PRICED},
        {"c1": "cost_usd has more than 6 decimal places (0.1234567" + "0" * 33 + ")"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(WIDE_DECIMALS))
def test_a_parquet_cost_of_any_decimal_is_taken_exactly_or_refused_with_its_reason(data_dir, tmp_path, name):
    """A cost column of a decimal wider than Polars takes (more than 38 digits) or with more places than the
    schema's: values that fit DECIMAL(18,6) are written exactly, the others quarantined with the value as sent;
    never a panic, never a row lost."""
    with_prices(data_dir)
    kind, costs, written, refused = WIDE_DECIMALS[name]
    summary = ingest.ingest_files(data_dir, [_costs_file(tmp_path / f"{name}.parquet", kind, costs)], now=NOW)
    assert (summary.read, summary.written, summary.quarantined) == (len(costs), len(written), len(refused))
    stored = pl.read_parquet(schema.events_dir(data_dir) / "*" / "*.parquet")
    stored = stored.filter(pl.col("event_id").is_in(list(written)))
    assert dict(stored.select("event_id", "cost_usd").rows()) == written
    lines = [json.loads(line) for path in summary.quarantine_files for line in path.read_text().splitlines()]
    assert {q["record"]["event_id"]: q["reason"] for q in lines} == refused


def test_a_parquet_cost_written_by_duckdb_as_decimal_38_10_is_taken_exactly(data_dir, tmp_path):
    with_prices(data_dir)
    source = _costs_file(tmp_path / "pyarrow.parquet", pa.decimal128(38, 10), [Decimal("0.25"), Decimal("1.1234567")])
    path = tmp_path / "duckdb.parquet"
    duckdb.sql(f"copy (select * from read_parquet('{source}')) to '{path}' (format parquet)")  # noqa: S608
    assert pq.read_schema(path).field("cost_usd").type == pa.decimal128(38, 10)
    summary = ingest.ingest_files(data_dir, [path], now=NOW)
    assert (summary.read, summary.written, summary.quarantined) == (2, 1, 1)
    assert summary.reasons == (("cost_usd has more than 6 decimal places (1.1234567000)", 1),)
@pytest.mark.parametrize("nest", [lambda kind: pa.struct([("d", kind)]), pa.list_])
def test_a_parquet_column_with_wide_decimals_inside_is_refused_as_with_narrow_ones(data_dir, tmp_path, nest):
    """An extra column of lists or structs holding decimals of more than 38 digits (Polars panics on them at any
    depth): its rows are quarantined for the same reasons, with the same values, as with 38-digit decimals."""
    with_prices(data_dir)
    outcomes = []
    for kind in (pa.decimal128(38, 6), pa.decimal256(76, 6)):
        value = {"d": Decimal("1.5")} if pa.types.is_struct(nest(kind)) else [Decimal("1.5")]
        frame = pl.DataFrame([event(f"x{n}") for n in range(2)])
        table = frame.to_arrow().append_column("extra", pa.array([value, None], nest(kind)))
        pq.write_table(table, tmp_path / "extra.parquet")
        summary = ingest.ingest_files(data_dir, [tmp_path / "extra.parquet"], now=NOW)
        lines = [json.loads(line) for path in summary.quarantine_files for line in path.read_text().splitlines()]
        outcomes.append((summary.read, summary.written, [(q["reason"], q["record"]) for q in lines]))
    assert outcomes[1] == outcomes[0]
    assert outcomes[0][0] == 2
