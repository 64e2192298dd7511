"""Ingestion (data/ingest/) on the tiny org: validation and quarantine, exact cost, idempotence,
late events, crash safety, compaction and directory import. Every number is worked out by hand.

Prices used below (directory/prices.parquet, written by `with_prices`), in USD per million tokens:
  claude-sonnet-4.5   3 in / 15 out   2025-01-01 .. 2026-02-28 (valid_to inclusive)
  claude-sonnet-4.5   2.5 / 12.5      2026-03-01 .. (still in force)
  half-model          0.5 / 0.25      2025-01-01 ..
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
import textwrap
import threading
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data import ingest, schema
from data.ingest import DirectoryImportError, compact, earlier, import_directory, ingest_files, storage
from tests import org

NOW = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)  # "today" for the future-timestamp check
PROJECT = Path(__file__).resolve().parents[1]
SONNET = "claude-sonnet-4.5"


def with_prices(data_dir: Path) -> Path:
    prices = [
        (SONNET, Decimal("3"), Decimal("15"), dt.date(2025, 1, 1), dt.date(2026, 2, 28)),
        (SONNET, Decimal("2.5"), Decimal("12.5"), dt.date(2026, 3, 1), None),
        ("half-model", Decimal("0.5"), Decimal("0.25"), dt.date(2025, 1, 1), None),
    ]
    frame = pl.DataFrame(prices, schema=schema.PRICES, orient="row")
    frame.write_parquet(schema.directory_dir(data_dir) / "prices.parquet")
    return data_dir


@pytest.fixture
def org_dir(data_dir: Path) -> Path:
    return with_prices(data_dir)


def event(event_id: str, ts: str = "2026-03-02T12:00:00Z", **fields) -> dict:
    record = {
        "event_id": event_id,
        "ts": ts,
        "user_id": "u4",
        "agent_id": "a_code",
        "model": SONNET,
        "conversation_id": f"c_{event_id}",
        "input_tokens": 1000,
        "output_tokens": 200,
        "latency_ms": 700,
        "status": "ok",
    }
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


def jsonl(path: Path, *records: dict | str) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n")
    return path


def events(data_dir: Path) -> pl.DataFrame:
    """Every event on disk, as the app's view reads them."""
    glob = schema.events_dir(data_dir) / "*" / "*.parquet"
    with duckdb.connect() as con:
        return con.sql(f"select * from read_parquet('{glob}', hive_partitioning = true)").pl()  # noqa: S608


def quarantine_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def run(data_dir: Path, *paths: Path, fmt: str | None = None, **options) -> ingest.IngestSummary:
    return ingest_files(data_dir, paths, fmt, now=NOW, **options)


# --- Validation and quarantine ---------------------------------------------------------------------

MALFORMED = [
    ("this is not json", "not valid JSON"),
    ("[1, 2]", "not a JSON object but a list"),
    (event(None), "event_id is missing"),
    (event("m_naive", ts="2026-03-02T12:00:00"), "ts has no time zone"),
    (event("m_ts", ts="yesterday"), "ts is not an ISO 8601 timestamp"),
    (event("m_ts_number", ts=1772452800), "ts must be an ISO 8601 timestamp with a time zone"),
    (event("m_status", status="maybe"), "status must be one of ok, error"),
    (event("m_neg_tokens", input_tokens=-1), "input_tokens is negative (-1)"),
    (event("m_str_tokens", output_tokens="200"), "output_tokens must be a whole number, got a string"),
    ('{"event_id": "m_frac_tokens", "input_tokens": 1.5}', "input_tokens must be a whole number, got a number 1.5"),
    (event("m_bool_tokens", input_tokens=True), "input_tokens must be a whole number, got a boolean"),
    (event("m_neg_cost", cost_usd="-0.01"), "cost_usd is negative"),
    ('{"event_id": "m_7_places", "cost_usd": 0.1234567}', "cost_usd has more than 6 decimal places (0.1234567)"),
    (event("m_cost_text", cost_usd="a dollar"), "cost_usd must be a decimal number"),
    (event("m_neg_latency", latency_ms=-5), "latency_ms is negative (-5)"),
    (event("m_big_latency", latency_ms=2**31), "latency_ms is too large"),
    (event("m_user", user_id="ghost"), "unknown user 'ghost'"),
    (event("m_agent", agent_id="a_nope"), "unknown agent 'a_nope'"),
    (event("m_team", team_id="t_nope"), "unknown team 't_nope'"),
    (event("m_field", colour="blue"), "unknown field(s): colour"),
    (event("m_future", ts="2026-03-11T12:00:00Z"), "ts is more than a day in the future"),
    (event("m_epoch", ts="1970-01-01T00:00:00Z"), "ts is before 2000-01-01"),
    (event("m_no_price", model="mystery-model"), "no price for model 'mystery-model' on 2026-03-02"),
    (event("m_before_prices", ts="2024-12-31T23:00:00Z"), "no price for model 'claude-sonnet-4.5' on 2024-12-31"),
    (event("m_empty_user", user_id=""), "user_id is empty"),
    (event("m_missing", model=None, status=None), "model is missing; status is missing"),
]


def test_every_malformed_kind_is_quarantined_with_its_reason(org_dir, tmp_path):
    good = event("g1")
    path = jsonl(tmp_path / "batch.jsonl", good, *[record for record, _ in MALFORMED])
    summary = run(org_dir, path)
    assert (summary.read, summary.written, summary.duplicates, summary.quarantined) == (27, 1, 0, 26)
    [quarantine] = summary.quarantine_files
    assert quarantine.parent == org_dir / "quarantine" and quarantine.name.endswith("-batch.jsonl")
    lines = quarantine_lines(quarantine)
    assert [line["line"] for line in lines] == list(range(2, 28))
    for line, (record, reason) in zip(lines, MALFORMED, strict=True):
        assert reason in line["reason"], (line, reason)
        assert line["source"] == "batch.jsonl"
        assert line["record"] == (json.loads(record) if isinstance(record, str) and record[0] in "[{" else record)
    assert events(org_dir).filter(pl.col("event_id").str.starts_with("m_")).height == 0


def test_quarantine_keeps_the_exact_original_text_and_all_reasons(org_dir, tmp_path):
    raw = '{"event_id": "q1", "cost_usd": 0.12345678901234567890, "status": "meh"}'
    summary = run(org_dir, jsonl(tmp_path / "q.jsonl", raw, b"\xff\xfe not utf-8".decode("latin-1")))
    text = summary.quarantine_files[0].read_text()
    assert '"record": ' + raw + "}" in text  # verbatim: the 20 decimals were never a float
    first, second = quarantine_lines(summary.quarantine_files[0])
    assert first["reason"].split("; ") == [
        "ts is missing",
        "user_id is missing",
        "agent_id is missing",
        "model is missing",
        "input_tokens is missing",
        "output_tokens is missing",
        "cost_usd has more than 6 decimal places (0.12345678901234567890)",
        "latency_ms is missing",
        "status must be one of ok, error, got 'meh'",
    ]
    assert second["reason"] == "not valid JSON: Expecting value: line 1 column 1 (char 0)"


def test_valid_rows_are_written_exactly(org_dir, tmp_path):
    records = [
        # u5 without team_id: Sam's team from the directory; ts with an offset, stored in UTC
        event("v1", ts="2026-03-02T09:15:30.250-05:00", user_id="u5", cost_usd="0.000001", status="error"),
        # the most one interaction may cost (data/schema.py), as a JSON number read as a decimal
        '{"event_id": "v2", "ts": "2026-03-02T20:00:00Z", "user_id": "u3", "team_id": "t_legal", '
        '"agent_id": "a_draft", "model": "claude-sonnet-4.5", "input_tokens": 0, "output_tokens": 0, '
        '"cost_usd": 100000.000000, "latency_ms": 0, "status": "ok"}',
        event("v3", ts="2026-03-02T21:00:00Z", cost_usd="1.10", conversation_id=None),
    ]
    summary = run(org_dir, jsonl(tmp_path / "v.jsonl", *records))
    assert (summary.written, summary.quarantined, summary.partitions) == (3, 0, ("2026-03-02",))
    written = events(org_dir).filter(pl.col("event_id").str.starts_with("v")).sort("event_id")
    assert written.drop("utc_date").rows() == [
        ("v1", dt.datetime(2026, 3, 2, 14, 15, 30, 250000, tzinfo=dt.UTC), "u5", "t_sales", "a_code", SONNET,
         "c_v1", 1000, 200, Decimal("0.000001"), 700, "error"),
        ("v2", dt.datetime(2026, 3, 2, 20, tzinfo=dt.UTC), "u3", "t_legal", "a_draft", SONNET,
         None, 0, 0, Decimal("100000.000000"), 0, "ok"),
        ("v3", dt.datetime(2026, 3, 2, 21, tzinfo=dt.UTC), "u4", "t_eng", "a_code", SONNET,
         None, 1000, 200, Decimal("1.100000"), 700, "ok"),
    ]  # fmt: skip
    new_file = [f for f in schema.partition_dir(org_dir, "2026-03-02").glob("*.parquet") if f.name != "part-0.parquet"]
    assert pq.read_schema(new_file[0]).equals(storage.EVENTS_ARROW)


def test_cost_comes_from_the_price_valid_on_the_events_utc_date(org_dir, tmp_path):
    records = [
        # old price on 28 Feb: 1000 × 3 + 200 × 15 = 6000 dollars per million tokens → 0.006000
        event("c1", ts="2026-02-28T23:59:59Z"),
        # new price from 1 March: 1000 × 2.5 + 200 × 12.5 = 5000 → 0.005000
        event("c2", ts="2026-03-01T00:00:00Z"),
        # 1 × 0.5 = 0.5 micro-dollars: half rounds up to 0.000001
        event("c3", model="half-model", input_tokens=1, output_tokens=0),
        # 1 × 0.25 = 0.25 micro-dollars rounds down to 0; 3 × 0.5 + 1 × 0.25 = 1.75 → 2 micro
        event("c4", model="half-model", input_tokens=0, output_tokens=1),
        event("c5", model="half-model", input_tokens=3, output_tokens=1),
        # a given cost is kept, not recomputed
        event("c6", cost_usd="0.123456"),
    ]
    summary = run(org_dir, jsonl(tmp_path / "c.jsonl", *records))
    assert summary.written == 6
    costs = dict(events(org_dir).filter(pl.col("event_id").str.starts_with("c")).select("event_id", "cost_usd").rows())
    assert costs == {
        "c1": Decimal("0.006000"),
        "c2": Decimal("0.005000"),
        "c3": Decimal("0.000001"),
        "c4": Decimal("0.000000"),
        "c5": Decimal("0.000002"),
        "c6": Decimal("0.123456"),
    }


def test_csv_cells_are_text_and_parsed_strictly(org_dir, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,ts,user_id,team_id,agent_id,model,conversation_id,input_tokens,output_tokens,cost_usd,latency_ms,status\n"
        "s1,2026-03-02T08:00:00Z,u4,,a_code,claude-sonnet-4.5,c1,1000,200,,700,ok\n"
        "s2,2026-03-02 08:30:00+00:00,u5,t_sales,a_code,claude-sonnet-4.5,,10,20,0.25,1,error\n"
        "s3,2026-03-02T09:00:00,u4,,a_code,claude-sonnet-4.5,c1,1000,200,,700,ok\n"
        "s4,2026-03-02T09:00:00Z,u4,,a_code,claude-sonnet-4.5,c1,1e3,200,,700,ok\n"
        "s5,2026-03-02T09:00:00Z,u4,,a_code,claude-sonnet-4.5,c1,1000,200,,700,ok,surplus\n"
    )
    summary = run(org_dir, path)
    assert (summary.read, summary.written, summary.quarantined) == (5, 2, 3)
    costs = dict(events(org_dir).filter(pl.col("event_id").is_in(["s1", "s2"])).select("event_id", "cost_usd").rows())
    assert costs == {"s1": Decimal("0.005000"), "s2": Decimal("0.250000")}
    reasons = {q["record"]["event_id"]: q["reason"] for q in quarantine_lines(summary.quarantine_files[0])}
    assert "ts has no time zone" in reasons["s3"]
    assert reasons["s4"] == "input_tokens must be a whole number, got '1e3'"
    assert reasons["s5"] == "1 more cell(s) than the header has columns"


def test_parquet_input_with_wrong_types_is_quarantined_per_row(org_dir, tmp_path):
    good = org.events_frame().head(2).with_columns(pl.col("event_id") + "_copy")
    good.write_parquet(tmp_path / "good.parquet")
    floats = good.with_columns(pl.col("event_id") + "_f", pl.col("cost_usd").cast(pl.Float64))
    floats.write_parquet(tmp_path / "floats.parquet")
    naive = good.with_columns(pl.col("event_id") + "_n", pl.col("ts").dt.replace_time_zone(None))
    naive.write_parquet(tmp_path / "naive.parquet")
    summary = run(org_dir, tmp_path / "good.parquet", tmp_path / "floats.parquet", tmp_path / "naive.parquet")
    assert (summary.read, summary.written, summary.quarantined) == (6, 2, 4)
    by_source = {p.name.split("Z-", 1)[1]: quarantine_lines(p) for p in summary.quarantine_files}
    assert [q["reason"] for q in by_source["floats.jsonl"]] == [
        "cost_usd is a binary floating-point number (0.05); send an exact decimal",
        "cost_usd is a binary floating-point number (0.1); send an exact decimal",
    ]
    assert all("ts has no time zone" in q["reason"] and q["row"] in (1, 2) for q in by_source["naive.jsonl"])


# --- Idempotence, late events ----------------------------------------------------------------------


def test_reimport_and_overlapping_files_add_no_duplicates(org_dir, tmp_path):
    first = jsonl(tmp_path / "a.jsonl", event("i1"), event("i2"), event("i1"), event("e1", ts="2026-03-02T10:00:00Z"))
    summary = run(org_dir, first)
    # i1 twice in the batch, e1 is already in the tiny org's 2 March file
    assert (summary.read, summary.written, summary.duplicates) == (4, 2, 2)
    again = run(org_dir, first)
    assert (again.read, again.written, again.duplicates) == (4, 0, 4)
    overlap = jsonl(tmp_path / "b.jsonl", event("i2"), event("i3"))
    both = run(org_dir, overlap, first)
    assert (both.read, both.written, both.duplicates) == (6, 1, 5)
    on_disk = events(org_dir)
    assert on_disk.height == len(org.EVENTS) + 3
    assert on_disk["event_id"].is_unique().all()


def _rounds_file(tmp_path: Path) -> Path:
    """Ids repeated on other UTC dates and in other rounds, an id the org has already (e1, 2 March), refusals."""
    return jsonl(
        tmp_path / "rounds.jsonl",
        event("r1", ts="2026-03-02T12:00:00Z"),
        event("r2", ts="2026-03-03T12:00:00Z"),
        "not json",
        event("r1", ts="2026-03-04T12:00:00Z", input_tokens=5),  # r1 again, another date: a duplicate
        event("r3", ts="2026-03-05T12:00:00Z"),
        event("e1", ts="2026-03-06T12:00:00Z", input_tokens=7),  # the org's e1 is on 2 March: new on 6 March
        event("r2", ts="2026-03-03T12:00:00Z"),
        event("bad", input_tokens=-1),
        event("e1", ts="2026-03-02T10:00:00Z"),  # e1 again: the first (6 March) won
        event("r4", ts="2026-03-01T12:00:00Z"),
        event("r3", ts="2026-03-01T13:00:00Z"),
    )


@pytest.mark.parametrize("round_rows", [1, 2, 3, 4, None])
def test_an_import_in_rounds_keeps_what_one_round_keeps(org_dir, tmp_path, monkeypatch, round_rows):
    """Within one import the first record of an id wins whatever its date, however many rounds the import is
    written in: the same events, counts and quarantine as in one round, worked out by hand."""
    if round_rows is not None:
        monkeypatch.setattr(ingest.writer, "MAX_ROWS_IN_MEMORY", round_rows)
    summary = run(org_dir, _rounds_file(tmp_path))
    assert (summary.read, summary.written, summary.duplicates, summary.quarantined) == (11, 5, 4, 2)
    new = events(org_dir).filter(pl.col("event_id").is_in(["r1", "r2", "r3", "r4", "e1"]))
    placed = sorted(new.select("event_id", "utc_date", "input_tokens").rows())
    assert placed == [
        ("e1", dt.date(2026, 3, 2), 1000),  # the org's own
        ("e1", dt.date(2026, 3, 6), 7),
        ("r1", dt.date(2026, 3, 2), 1000),
        ("r2", dt.date(2026, 3, 3), 1000),
        ("r3", dt.date(2026, 3, 5), 1000),
        ("r4", dt.date(2026, 3, 1), 1000),
    ]
    assert [q["line"] for q in quarantine_lines(summary.quarantine_files[0])] == [3, 8]
    again = run(org_dir, _rounds_file(tmp_path))
    assert (again.read, again.written, again.duplicates, again.quarantined) == (11, 0, 9, 2)


def test_ids_of_one_hash_in_other_rounds_are_told_apart_exactly(org_dir, tmp_path, monkeypatch):
    """The earlier rounds' ids are kept as hashes, and a hash found again is checked against the ids themselves:
    with every id given the same hash, the import keeps what it keeps in one round."""
    monkeypatch.setattr(ingest.writer, "MAX_ROWS_IN_MEMORY", 2)
    monkeypatch.setattr(earlier, "id_hash", lambda ids: ids.hash() * 0)
    summary = run(org_dir, _rounds_file(tmp_path))
    assert (summary.read, summary.written, summary.duplicates, summary.quarantined) == (11, 5, 4, 2)


def test_the_earlier_rounds_ids_leave_no_file_behind(org_dir, tmp_path, monkeypatch):
    """The ids an import keeps on disk between its rounds are removed when it ends, and when it fails."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    monkeypatch.setattr(ingest.writer, "MAX_ROWS_IN_MEMORY", 2)
    run(org_dir, _rounds_file(tmp_path))
    assert list(temporary.iterdir()) == []

    def disk_full(data_dir, dates):
        raise OSError("disk full")

    monkeypatch.setattr(storage, "_append_partitions", disk_full)
    monkeypatch.setattr(ingest.store, "_append_partitions", disk_full)
    records = [event(f"t{n}", ts=f"2026-03-0{n % 3 + 1}T12:00:00Z") for n in range(6)]
    with pytest.raises(OSError, match="disk full"):
        run(org_dir, jsonl(tmp_path / "more.jsonl", *records))
    assert list(temporary.iterdir()) == []


def test_an_id_sent_again_in_another_import_is_a_duplicate_on_its_own_date_only(org_dir, tmp_path):
    """Between imports an id is looked for in its own UTC date's events (docs/schema.md, "Duplicates"): sent
    again at the same instant it is a duplicate; at another instant on another date it is stored again."""
    run(org_dir, jsonl(tmp_path / "a.jsonl", event("s1", ts="2026-03-02T12:00:00Z")))
    later = jsonl(tmp_path / "b.jsonl", event("s1", ts="2026-03-02T12:00:00Z"), event("s1", ts="2026-03-05T12:00:00Z"))
    summary = run(org_dir, later)
    assert (summary.written, summary.duplicates) == (0, 2)  # the first of the file is the stored one: the second goes
    run(org_dir, jsonl(tmp_path / "c.jsonl", event("s1", ts="2026-03-05T12:00:00Z")))
    stored = events(org_dir).filter(pl.col("event_id") == "s1")["utc_date"].sort().to_list()
    assert stored == [dt.date(2026, 3, 2), dt.date(2026, 3, 5)]


def test_late_events_land_in_their_own_utc_dates_partition(org_dir, tmp_path):
    records = [
        event("l1", ts="2026-01-15T08:00:00Z"),  # no partition yet
        event("l2", ts="2026-02-25T23:59:59.999999Z"),  # an old, existing partition
        event("l3", ts="2026-03-03T23:30:00-05:00"),  # 04:30 UTC on 4 March
    ]
    summary = run(org_dir, jsonl(tmp_path / "late.jsonl", *records))
    assert summary.partitions == ("2026-01-15", "2026-02-25", "2026-03-04")
    placed = dict(events(org_dir).filter(pl.col("event_id").str.starts_with("l")).select("event_id", "utc_date").rows())
    assert placed == {"l1": dt.date(2026, 1, 15), "l2": dt.date(2026, 2, 25), "l3": dt.date(2026, 3, 4)}


def test_the_running_app_sees_new_files_without_a_restart(app, client, auth, org_dir, tmp_path):
    auth.login("admin")
    url = "/api/v1/summary?start=2026-01-15&end=2026-03-08"
    before = client.get(url).get_json()
    # e0 (25 Feb, 0.05) and e1..e6 (2..8 March, 3.723334); e7 and e8 are on 9 March
    assert (before["interactions"], before["cost_usd"]) == (7, "3.773334")
    run(org_dir, jsonl(tmp_path / "n.jsonl", event("n1"), event("n2", ts="2026-01-15T08:00:00Z")))
    # no refresh: the events view is a glob that DuckDB expands again for every query
    answer = client.get(url).get_json()
    # n1 at the March price 0.005000, n2 (a new partition) at the January price 0.006000
    assert (answer["interactions"], answer["cost_usd"]) == (9, "3.784334")


def test_cli_ingest_prints_the_summary_and_fails_on_quarantine(runner, org_dir, tmp_path):
    clean = jsonl(tmp_path / "clean.jsonl", event("k1"), event("k2"))
    result = runner.invoke(args=["ingest", str(clean)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("read 2, written 2, duplicates 0, quarantined 0")
    dirty = jsonl(tmp_path / "dirty.ndjson", event("k1"), event("k3", user_id="ghost"))
    result = runner.invoke(args=["ingest", "--format", "jsonl", str(dirty)])
    assert result.exit_code == 1
    assert "read 2, written 0, duplicates 1, quarantined 1" in result.output
    assert "1 × unknown user 'ghost'" in result.output and "quarantine: " in result.output
    unknown = runner.invoke(args=["ingest", str(tmp_path / "x.txt")])
    assert unknown.exit_code != 0 and "cannot tell the format" in unknown.output


def test_a_file_of_another_format_gives_no_records_and_is_an_error(runner, org_dir, tmp_path):
    """JSON Lines named .json used to be read as OTLP, each line an export of nothing: `read 0`, exit 0."""
    lines = jsonl(tmp_path / "events.json", event("w1"), event("w2"))
    result = runner.invoke(args=["ingest", str(lines)])
    assert result.exit_code == 1
    assert f"{lines}: read as OTLP/JSON (from its extension .json): no records, not one OTLP span." in result.output
    assert "Nothing was imported; if it is another format, pass --format jsonl|csv|parquet." in result.output
    assert "read 0" not in result.output
    one_line = jsonl(tmp_path / "one.json", event("w3"))  # a single line is one JSON document
    result = runner.invoke(args=["ingest", "--format", "otlp-json", str(one_line)])
    assert result.exit_code == 1 and "read as OTLP/JSON (--format otlp-json): no records" in result.output
    assert events(org_dir).filter(pl.col("event_id").is_in(["w1", "w2", "w3"])).height == 0
    result = runner.invoke(args=["ingest", "--format", "jsonl", str(lines)])
    assert result.exit_code == 0 and result.output.startswith("read 2, written 2"), result.output


def test_an_otlp_export_of_no_spans_is_read_as_nothing_not_refused(runner, org_dir, tmp_path):
    """A Collector flushing nothing writes exports with empty resourceSpans: that is OTLP, with no records."""
    exports = {"one.json": '{"resourceSpans": []}', "lines.json": '{"resourceSpans":[]}\n{"resourceSpans":[]}\n'}
    for name, text in exports.items():
        path = tmp_path / name
        path.write_text(text)
        result = runner.invoke(args=["ingest", str(path)])
        assert result.exit_code == 0 and result.output.startswith("read 0, written 0"), result.output


def test_a_csv_file_with_no_records_is_an_error_unless_it_is_an_empty_export(runner, org_dir, tmp_path):
    one_line = jsonl(tmp_path / "events.csv", event("w4"))  # one JSON line: a CSV "header" and no rows
    result = runner.invoke(args=["ingest", str(one_line)])
    assert result.exit_code == 1
    assert f"{one_line}: read as CSV (from its extension .csv): no records, only a first line that is not" in (
        result.output
    )
    assert "pass --format jsonl|parquet|otlp-json." in result.output
    empty_export = tmp_path / "none.csv"
    empty_export.write_text("event_id,ts,user_id,agent_id,model,input_tokens,output_tokens,latency_ms,status\n")
    result = runner.invoke(args=["ingest", str(empty_export)])
    assert result.exit_code == 0 and result.output.startswith("read 0, written 0"), result.output


# --- Crashes ---------------------------------------------------------------------------------------


def three_days(tmp_path: Path) -> Path:
    return jsonl(
        tmp_path / "three.jsonl",
        event("x1", ts="2026-03-05T10:00:00Z"),
        event("x2", ts="2026-03-06T10:00:00Z"),
        event("x3", ts="2026-03-06T11:00:00Z"),
        event("x4", ts="2026-03-07T10:00:00Z"),
    )


def assert_readable(data_dir: Path) -> None:
    for path in schema.events_dir(data_dir).glob("*/*.parquet"):
        pq.read_table(path)  # raises on a partial or corrupt file


def test_a_failure_between_partitions_leaves_each_partition_whole(org_dir, tmp_path, monkeypatch):
    original = storage._draft_partition_file
    calls = []

    def fail_on_second(folder, table):
        calls.append(folder.name)
        if len(calls) >= 2:  # not == : a third date may begin before this writer looks
            raise OSError("disk full")
        return original(folder, table)

    monkeypatch.setattr(storage, "_draft_partition_file", fail_on_second)
    with pytest.raises(OSError, match="disk full"):
        run(org_dir, three_days(tmp_path))
    assert_readable(org_dir)
    # every date is written hidden before any is renamed in: one failed, so none is there, and no draft is left
    kept = _whole_dates(org_dir)
    assert kept == []
    assert not list(schema.events_dir(org_dir).glob("*/.*.tmp"))
    monkeypatch.setattr(storage, "_draft_partition_file", original)
    rerun = run(org_dir, three_days(tmp_path))
    already = sum(len(ids) for ids in kept)
    assert (rerun.written, rerun.duplicates) == (4 - already, already)
    assert events(org_dir).height == len(org.EVENTS) + 4 and events(org_dir)["event_id"].is_unique().all()


def _whole_dates(data_dir: Path) -> list[list[str]]:
    """The three_days events on disk, per date; each date is all of its events or none of them."""
    found = events(data_dir).filter(pl.col("event_id").str.starts_with("x"))
    per_date = {"x1": "05", "x2": "06", "x3": "06", "x4": "07"}
    dates: dict[str, list[str]] = {}
    for event_id in sorted(found["event_id"]):
        dates.setdefault(per_date[event_id], []).append(event_id)
    assert dates.get("06", ["x2", "x3"]) == ["x2", "x3"]
    return [dates[day] for day in sorted(dates)]


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {project!r})
    import datetime as dt
    from data import ingest
    from data.ingest import storage
    import threading
    real = storage.pq.write_table
    written, lock = [], threading.Lock()

    def write_then_die(table, where, **options):
        real(table, where, **options)
        # once two files are whole on disk, not yet renamed into place: counted after the write, so that
        # with two writers neither may still be opening its file (a third date may have begun meanwhile)
        with lock:
            written.append(where)
            if len(written) >= 2:
                os.kill(os.getpid(), signal.SIGKILL)

    storage.pq.write_table = write_then_die
    ingest.ingest_files({data!r}, [{path!r}], "jsonl", now=dt.datetime(2026, 3, 10, tzinfo=dt.UTC))
    """
)


def test_an_import_killed_midway_leaves_readable_consistent_data(org_dir, tmp_path):
    path = three_days(tmp_path)
    script = KILLER.format(project=str(PROJECT), data=str(org_dir), path=str(path))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == -9, done.stderr.decode()
    # the dates' files are written hidden, all of them before any is renamed into place: the killed
    # import leaves two or three temp files (one may be half written), invisible to the *.parquet glob
    leftovers = list(schema.events_dir(org_dir).glob("*/.*.tmp"))
    assert 2 <= len(leftovers) <= 3
    assert_readable(org_dir)
    already = sum(len(ids) for ids in _whole_dates(org_dir))
    assert already == 0
    rerun = run(org_dir, path)
    assert (rerun.written, rerun.duplicates) == (4 - already, already)
    assert not list(schema.events_dir(org_dir).glob("*/.*.tmp"))
    assert events(org_dir).height == len(org.EVENTS) + 4 and events(org_dir)["event_id"].is_unique().all()


# --- Compaction -------------------------------------------------------------------------------------


def test_compaction_keeps_every_row_and_sorts_them(org_dir, tmp_path, monkeypatch):
    for n, hour in enumerate((18, 6, 12)):  # three files, out of order with each other
        run(org_dir, jsonl(tmp_path / f"f{n}.jsonl", event(f"f{n}", ts=f"2026-03-02T{hour:02}:00:00Z")))
    folder = schema.partition_dir(org_dir, "2026-03-02")
    assert len(list(folder.glob("*.parquet"))) == 4
    before = events(org_dir).sort("event_id")
    [done] = compact(org_dir)
    assert (done.utc_date, done.files_before, done.files_after, done.rows) == ("2026-03-02", 4, 1, 5)
    [merged] = folder.glob("*.parquet")
    table = pl.read_parquet(merged)
    assert table["ts"].is_sorted()
    assert table["event_id"].to_list() == ["f1", "e1", "f2", "e2", "f0"]  # 06:00, 10:00, 12:00, 15:30, 18:00
    assert events(org_dir).sort("event_id").equals(before)
    # the old files wait a while in the staging folder (readers may still list them), then a writer deletes them
    [retired] = (org_dir / ".staging").iterdir()
    assert retired.name.startswith(storage.RETIRED) and len(list(retired.glob("*.parquet"))) == 4
    assert compact(org_dir) == [] and retired.exists()
    monkeypatch.setattr(storage, "RETIRE_SECONDS", 0)
    compact(org_dir)
    assert not any((org_dir / ".staging").iterdir())


def test_automatic_compaction_after_too_many_files(org_dir, tmp_path):
    folder = schema.partition_dir(org_dir, "2026-03-02")
    for n in range(3):
        summary = run(org_dir, jsonl(tmp_path / f"a{n}.jsonl", event(f"a{n}")), compact_after_files=3)
        # the tiny org's file plus 1, 2, then 3 new ones: only the third import goes over 3 files
        assert summary.compacted == (("2026-03-02",) if n == 2 else ())
        if n == 1:
            assert len(list(folder.glob("*.parquet"))) == 3
    assert len(list(folder.glob("*.parquet"))) == 1  # after the third: all small files merged
    assert events(org_dir).filter(pl.col("utc_date") == dt.date(2026, 3, 2)).height == 5


def test_readers_never_see_both_file_sets_during_compaction(org_dir, tmp_path):
    for n in range(6):
        run(org_dir, jsonl(tmp_path / f"r{n}.jsonl", event(f"r{n}")))
    glob = schema.events_dir(org_dir) / "*" / "*.parquet"
    counts, failures, stop = [], [], threading.Event()

    def read() -> None:
        with duckdb.connect() as con:
            count = lambda: con.sql(f"select count(*) from read_parquet('{glob}')").fetchall()[0][0]  # noqa: E731, S608
            while not stop.is_set():
                try:  # as the app reads: again when a swap happened meanwhile (listed before, looked after)
                    counts.append(schema.read_consistently(org_dir, count))
                except duckdb.Error as error:
                    failures.append(str(error))

    reader = threading.Thread(target=read)
    reader.start()
    swaps = 0
    while swaps < 15 or (len(counts) < 20 and swaps < 500):
        run(org_dir, jsonl(tmp_path / "one_more.jsonl", event("r0")))  # a duplicate: writes nothing
        compact(org_dir, ["2026-03-02"])  # one file, rewritten and swapped in all the same
        swaps += 1
    stop.set()
    reader.join()
    assert len(counts) >= 20 and set(counts) == {len(org.EVENTS) + 6}
    assert failures == []


def test_a_crash_inside_the_fallback_swap_is_repaired(org_dir):
    folder = schema.partition_dir(org_dir, "2026-03-02")
    staging = org_dir / ".staging"
    staging.mkdir()
    folder.rename(staging / f"old-{folder.name}-abcd1234")  # crashed after moving the old folder out
    (staging / "compact-utc_date=2026-03-02-ffff0000").mkdir()  # ... and before moving the new one in
    assert events(org_dir).height == len(org.EVENTS) - 2
    compact(org_dir)  # any writer repairs first
    assert events(org_dir).height == len(org.EVENTS) and not any(staging.iterdir())


def test_the_fallback_swap_gives_the_same_result(org_dir, tmp_path, monkeypatch):
    run(org_dir, jsonl(tmp_path / "s.jsonl", event("s1")))
    monkeypatch.setattr(storage.sys, "platform", "darwin")
    [done] = compact(org_dir)
    assert (done.files_before, done.files_after, done.rows) == (2, 1, 3)
    assert events(org_dir).height == len(org.EVENTS) + 1


# --- Directory import -------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_import_directory_replaces_files_with_the_contract_types(org_dir, tmp_path):
    teams = write(tmp_path / "teams.csv", "team_id,name\nt_eng,Engineering\nt_sales,Sales\nt_legal,Legal\nt_ops,Ops\n")
    users = write(
        tmp_path / "users.csv",
        """
        user_id,name,email,team_id,role,created_at,active
        u1,Ada Admin,admin@test.example,t_eng,admin,2026-01-05T09:00:00Z,true
        u2,Max Manager,manager@test.example,t_eng,manager,2026-01-05T09:00:00Z,true
        u3,Lee Legal,legal.manager@test.example,t_legal,manager,2026-01-05T09:00:00Z,true
        u4,Mia Member,member@test.example,t_eng,member,2026-01-05T09:00:00Z,true
        u5,Sam Sales,sam@test.example,t_sales,member,2026-01-05T09:00:00Z,false
        u6,Noa Never,noa@test.example,t_legal,member,2026-01-05T09:00:00Z,true
        u7,Ivy Idle,ivy@test.example,t_eng,manager,2026-01-05T09:00:00Z,true
        u8,Olu Ops,olu@test.example,t_ops,member,2026-03-01T10:00:00+01:00,1
        """,
    )
    prices = write(
        tmp_path / "prices.csv",
        """
        model,input_usd_per_mtok,output_usd_per_mtok,valid_from,valid_to
        claude-sonnet-4.5,3,15,2025-01-01,2026-02-28
        claude-sonnet-4.5,2.5,12.5,2026-03-01,
        tiny,0.000001,0.1,2025-01-01,
        """,
    )
    assert import_directory(org_dir, [teams, users, prices]) == {"teams": 4, "users": 8, "prices": 3}
    folder = schema.directory_dir(org_dir)
    read = {name: pl.read_parquet(folder / f"{name}.parquet") for name in ("teams", "users", "prices")}
    for name, frame in read.items():
        assert frame.schema == schema.DIRECTORY[name], name
    olu = read["users"].filter(pl.col("user_id") == "u8").row(0, named=True)
    assert olu["created_at"] == dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC) and olu["active"] is True
    assert read["prices"]["input_usd_per_mtok"].to_list() == [Decimal("3"), Decimal("2.5"), Decimal("0.000001")]
    assert read["prices"]["valid_to"].to_list() == [dt.date(2026, 2, 28), None, None]
    assert not list(folder.glob(".*"))  # no temp files left


def test_import_directory_takes_prices_of_a_decimal_wider_than_38_digits(org_dir, tmp_path):
    """Prices written as DECIMAL(76, 6): taken exactly where they fit, refused with the value where not (Polars
    does not read such a column: its reader refuses the file)."""
    kind = pa.decimal256(76, 6)
    prices = pa.table({
        "model": ["m", "n"],
        "input_usd_per_mtok": pa.array([Decimal("2.5"), Decimal(10) ** 60], kind),
        "output_usd_per_mtok": pa.array([Decimal("12.500001"), Decimal("1")], kind),
        "valid_from": [dt.date(2025, 1, 1)] * 2,
        "valid_to": pa.array([None, None], pa.date32()),
    })  # fmt: skip
    pq.write_table(prices, tmp_path / "prices.parquet")
    with pytest.raises(DirectoryImportError) as refused:
        import_directory(org_dir, [tmp_path / "prices.parquet"])
    assert refused.value.problems == [
        f"prices.parquet row 2: input_usd_per_mtok is too large for DECIMAL(18,6) (1{'0' * 60}.000000)"
    ]
    pq.write_table(prices.slice(0, 1), tmp_path / "prices.parquet")
    assert import_directory(org_dir, [tmp_path / "prices.parquet"]) == {"prices": 1}
    stored = pl.read_parquet(schema.directory_dir(org_dir) / "prices.parquet")
    assert stored.select("input_usd_per_mtok", "output_usd_per_mtok").rows() == [(Decimal("2.5"), Decimal("12.500001"))]


def test_import_directory_refuses_bad_files_and_changes_nothing(org_dir, tmp_path):
    folder = schema.directory_dir(org_dir)
    before = {p.name: p.read_bytes() for p in folder.glob("*.parquet")}
    users = write(
        tmp_path / "users.csv",
        """
        user_id,name,email,team_id,role,created_at,active
        u1,Ada,admin@test.example,t_eng,owner,2026-01-05T09:00:00Z,true
        u2,Max,MANAGER@test.example,t_eng,manager,2026-01-05 09:00:00,true
        u3,Lee,manager@test.example,t_nowhere,manager,2026-01-05T09:00:00Z,maybe
        """,
    )
    with pytest.raises(DirectoryImportError) as refused:
        import_directory(org_dir, [users])
    assert refused.value.problems == [
        "users.csv line 2: role must be one of admin, manager, member, got 'owner'",
        "users.csv line 3: created_at has no time zone (naive timestamp 2026-01-05T09:00:00); add Z or an offset",
        "users.csv line 4: active must be true or false, got 'maybe'",
    ]
    fixed = write(
        tmp_path / "users.csv",
        """
        user_id,name,email,team_id,role,created_at,active
        u1,Ada,admin@test.example,t_eng,admin,2026-01-05T09:00:00Z,true
        u2,Max,MANAGER@test.example,t_eng,manager,2026-01-05T09:00:00Z,true
        u3,Lee,manager@test.example,t_nowhere,manager,2026-01-05T09:00:00Z,true
        """,
    )
    with pytest.raises(DirectoryImportError) as refused:
        import_directory(org_dir, [fixed])
    assert refused.value.problems == [
        "users: email (case-insensitive) 'manager@test.example' appears more than once",
        "users: team_id not in teams.team_id: 't_nowhere'",
    ]
    prices = write(
        tmp_path / "prices.csv",
        """
        model,input_usd_per_mtok,output_usd_per_mtok,valid_from,valid_to
        m,0.0000001,1,2025-01-01,
        m,1,1,2025-01-01,2025-06-30
        m,1,1,2025-06-01,
        """,
    )
    with pytest.raises(DirectoryImportError) as refused:
        import_directory(org_dir, [prices])
    assert refused.value.problems == [
        "prices.csv line 2: input_usd_per_mtok has more than 6 decimal places (0.0000001)",
    ]
    wrong_columns = write(tmp_path / "teams.csv", "team_id,title\nt_eng,Engineering\n")
    with pytest.raises(DirectoryImportError, match=r"teams.csv: columns must be \['team_id', 'name'\]"):
        import_directory(org_dir, [wrong_columns])
    assert {p.name: p.read_bytes() for p in folder.glob("*.parquet")} == before


def test_overlapping_price_ranges_are_refused(org_dir, tmp_path):
    prices = write(
        tmp_path / "prices.csv",
        """
        model,input_usd_per_mtok,output_usd_per_mtok,valid_from,valid_to
        m,1,1,2025-01-01,2025-06-30
        m,2,2,2025-06-30,
        m,3,3,2025-03-01,2025-02-01
        """,
    )
    with pytest.raises(DirectoryImportError) as refused:
        import_directory(org_dir, [prices])
    assert refused.value.problems == [
        "prices: 'm' valid_to 2025-02-01 is before valid_from 2025-03-01",
        "prices: 'm' has overlapping validity ranges (from 2025-03-01)",
        "prices: 'm' has overlapping validity ranges (from 2025-06-30)",
    ]


def test_cli_import_directory(runner, org_dir, tmp_path):
    teams = write(tmp_path / "teams.csv", "team_id,name\nt_eng,Engineering\nt_sales,Sales\nt_legal,Legal & Co\n")
    result = runner.invoke(args=["import-directory", str(teams)])
    assert result.exit_code == 0 and result.output == "teams: 3 rows\n"
    bad = write(tmp_path / "teams.csv", "team_id,name\nt_eng,Engineering\n")
    result = runner.invoke(args=["import-directory", str(bad)])
    assert result.exit_code == 1
    assert "users: team_id not in teams.team_id: 't_legal', 't_sales'" in result.output
    assert "Nothing was imported." in result.output
