"""The plausible most for one interaction (data/schema.py, docs/schema.md): a record beyond it is
quarantined with the reason, from every input path (JSONL, CSV, Parquet, OTLP), and a price beyond it
is refused by `import-directory`. At the bound itself a record is valid.

Prices (tests/test_ingest.py `with_prices`, plus `gold-model` here): claude-sonnet-4.5 costs 2.5 / 12.5
USD per million tokens from 1 March 2026; gold-model 20,000 / 0, so 10,000,000 input tokens cost
200,000 USD, more than one interaction may.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from app import create_app
from data import ingest, schema
from data.ingest import DirectoryImportError, import_directory
from data.ingest import jsonl as jsonl_reader
from tests.test_ingest import event, events, jsonl, quarantine_lines, run, with_prices, write
from tests.test_otlp import TOKEN, otlp_json, otlp_json_span

TOO_MANY = 2**63 - 1  # the int64 most: two of these overflowed every sum before
# event id -> (the fields that differ from a plain record, the reason it is quarantined); None: valid
CASES = {
    "b_in_max": ({"input_tokens": TOO_MANY, "cost_usd": "1.000000"},
                 f"input_tokens is too large for one interaction ({TOO_MANY} > 10000000)"),
    "b_out": ({"output_tokens": 10_000_001, "cost_usd": "1.000000"},
              "output_tokens is too large for one interaction (10000001 > 10000000)"),
    "b_latency": ({"latency_ms": 86_400_001}, "latency_ms is too large for one interaction (86400001 > 86400000)"),
    "b_cost": ({"cost_usd": "100000.000001"}, "cost_usd is too large for one interaction (100000.000001 > 100000)"),
    "b_priced": ({"model": "gold-model", "input_tokens": 10_000_000, "output_tokens": 0},
                 "computed cost_usd is too large for one interaction (200000 > 100000)"),
    "b_at_bounds": ({"input_tokens": 10_000_000, "output_tokens": 10_000_000, "latency_ms": 86_400_000,
                     "cost_usd": "100000.000000"}, None),
}  # fmt: skip
REFUSED = {event_id: reason for event_id, (_fields, reason) in CASES.items() if reason}


@pytest.fixture
def bounds_dir(data_dir: Path) -> Path:
    with_prices(data_dir)
    path = schema.directory_dir(data_dir) / "prices.parquet"
    gold = pl.DataFrame(
        [("gold-model", Decimal("20000"), Decimal("0"), dt.date(2025, 1, 1), None)], schema=schema.PRICES, orient="row"
    )
    pl.concat([pl.read_parquet(path), gold]).write_parquet(path)
    return data_dir


def records() -> list[dict]:
    return [event(event_id, **fields) for event_id, (fields, _reason) in CASES.items()]


def assert_refused_with_reasons(data_dir: Path, summary: ingest.IngestSummary) -> None:
    assert (summary.read, summary.written, summary.quarantined) == (len(CASES), 1, len(REFUSED))
    lines = [q for path in summary.quarantine_files for q in quarantine_lines(path)]
    reasons = {q["record"]["event_id"]: q["reason"] for q in lines}
    assert reasons == REFUSED
    written = events(data_dir).filter(pl.col("event_id").str.starts_with("b_"))
    assert written.select("event_id", "input_tokens", "latency_ms", "cost_usd").rows() == [
        ("b_at_bounds", 10_000_000, 86_400_000, Decimal("100000.000000"))
    ]


@pytest.mark.parametrize("columns", [True, False], ids=["columns", "one_by_one"])
def test_jsonl_records_beyond_the_bounds_are_quarantined(bounds_dir, tmp_path, monkeypatch, columns):
    if not columns:  # the reference path: every line read by json and checked by `validate`
        monkeypatch.setattr(jsonl_reader, "_arrow_records", lambda text, expected: None)
    assert_refused_with_reasons(bounds_dir, run(bounds_dir, jsonl(tmp_path / "b.jsonl", *records())))


def test_csv_records_beyond_the_bounds_are_quarantined(bounds_dir, tmp_path):
    columns = list(schema.EVENTS.names())
    lines = [",".join(columns)] + [",".join(str(r.get(c, "")) for c in columns) for r in records()]
    path = tmp_path / "b.csv"
    path.write_text("\n".join(lines) + "\n")
    assert_refused_with_reasons(bounds_dir, run(bounds_dir, path))


def test_parquet_records_beyond_the_bounds_are_quarantined(bounds_dir, tmp_path):
    rows = []
    for record in records():
        row = {**record, "ts": dt.datetime.fromisoformat(record["ts"]), "team_id": None}
        row["cost_usd"] = Decimal(record["cost_usd"]) if "cost_usd" in record else None
        rows.append(row)
    path = tmp_path / "b.parquet"
    pl.DataFrame(rows, schema=schema.EVENTS).write_parquet(path)
    assert_refused_with_reasons(bounds_dir, run(bounds_dir, path))


def test_ten_otlp_spans_with_implausible_tokens_are_quarantined(bounds_dir, password_hash):
    spans = []
    for n in range(10):
        span = otlp_json_span(f"{n + 1:016x}", "u4")
        for attribute in span["attributes"]:
            if attribute["key"] == "gen_ai.usage.input_tokens":
                attribute["value"] = {"intValue": "999999999999999999"}
        spans.append(span)
    config = {"TESTING": True, "DATA_DIR": str(bounds_dir), "SECRET_KEY": "test", "INGEST_TOKEN": TOKEN}
    client = create_app(config).test_client()
    answer = client.post(
        "/v1/traces",
        data=json.dumps(otlp_json(*spans)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 200
    partial = answer.get_json()["partialSuccess"]
    reason = "input_tokens is too large for one interaction (999999999999999999 > 10000000)"
    assert partial["rejectedSpans"] == "10" and reason in partial["errorMessage"]
    [quarantine] = (bounds_dir / "quarantine").glob("*-otlp-http.jsonl")
    assert [q["reason"] for q in quarantine_lines(quarantine)] == [reason] * 10
    assert events(bounds_dir).filter(pl.col("event_id").str.starts_with("otel-")).height == 0


def test_a_price_beyond_the_bound_is_refused(bounds_dir, tmp_path):
    prices = write(
        tmp_path / "prices.csv",
        """
        model,input_usd_per_mtok,output_usd_per_mtok,valid_from,valid_to
        claude-sonnet-4.5,2.5,12.5,2026-03-01,
        broken,100000.000001,1,2026-03-01,
        """,
    )
    with pytest.raises(DirectoryImportError) as refused:
        import_directory(bounds_dir, [prices])
    assert refused.value.problems == [
        "prices.csv line 3: input_usd_per_mtok is too large for a price per million tokens (100000.000001 > 100000)"
    ]


def test_the_bounds_are_the_documented_ones():
    text = (Path(__file__).resolve().parents[1] / "docs" / "schema.md").read_text()
    assert (schema.MAX_TOKENS, schema.MAX_LATENCY_MS) == (10_000_000, 86_400_000)
    assert schema.MAX_COST_USD == schema.MAX_PRICE_USD_PER_MTOK == Decimal(100_000)
    for documented in ("≤ 10,000,000", "≤ 86,400,000", "≤ 100,000", "100,000 USD per million tokens"):
        assert documented in text, documented
