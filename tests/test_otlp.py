"""OTLP traces in: the real OpenTelemetry SDK exports GenAI spans over HTTP to the receiver on
loopback, and the dashboard's queries find the events. Every number is worked out by hand.

Prices (tests/test_ingest.py `with_prices`): claude-sonnet-4.5 costs 2.5 / 12.5 USD per million
input / output tokens from 1 March 2026. The tiny org has one event on 4 March UTC: e5 (u3, Drafting,
2.000000, ok).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
import threading
import time
import zlib
from decimal import Decimal

import polars as pl
import pytest
import requests
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode
from werkzeug.serving import make_server

from app import create_app
from data import schema
from data.ingest import ingest_files, ingest_otlp, otlp, storage, together, writer
from data.ingest.store import ParquetStore
from data.rollups import build as rollup_build
from data.rollups.manifest import read_manifest
from queries import usage
from queries.filters import Filters
from queries.period import Period
from queries.scope import Scope
from tests import org
from tests.conftest import make_app
from tests.test_ingest import event, events, quarantine_lines, with_prices

TOKEN = "ingest-token-for-tests-0123456789"
MARCH_4 = Period(dt.date(2026, 3, 4), dt.date(2026, 3, 4), "UTC")
SONNET = "claude-sonnet-4.5"


def ns(text: str) -> int:
    """Nanoseconds since the epoch of a UTC time like '2026-03-04 10:00:00'."""
    at = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    return int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1000


@pytest.fixture
def receiver(tmp_path, password_hash):
    """The app with an ingest token, served by a threaded Werkzeug server on a free loopback port."""
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    app = make_app(folder, password_hash, INGEST_TOKEN=TOKEN)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}/v1/traces", folder
    server.shutdown()


def exporter(url: str, token: str = TOKEN, compression=None) -> OTLPSpanExporter:
    headers = {"Authorization": f"Bearer {token}"}
    return OTLPSpanExporter(endpoint=url, headers=headers, timeout=120, compression=compression)


def emit_agent_work(provider: TracerProvider) -> None:
    """Five GenAI spans and one HTTP span, as an instrumented agent platform would emit them."""
    tracer = provider.get_tracer("agent-platform")
    # A: u4 asks Code Helper; usage on the agent span, its inner chat span is not counted again.
    a = tracer.start_span(
        "invoke_agent Code Helper",
        start_time=ns("2026-03-04 10:00:00"),
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.id": "a_code",
            "gen_ai.request.model": SONNET,
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.output_tokens": 200,
            "gen_ai.conversation.id": "conv-a",
            "user.id": "u4",
        },
    )
    inner = tracer.start_span(
        f"chat {SONNET}",
        context=trace.set_span_in_context(a),
        start_time=ns("2026-03-04 10:00:00.100"),
        attributes={
            "gen_ai.request.model": SONNET,
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.output_tokens": 200,
        },
    )
    inner.end(end_time=ns("2026-03-04 10:00:01.400"))
    a.end(end_time=ns("2026-03-04 10:00:01.500"))
    # B: Lee asks Drafting by name, no usage on the agent span: the sum of its two chat spans; fails.
    b = tracer.start_span(
        "invoke_agent Drafting",
        start_time=ns("2026-03-04 11:00:00"),
        attributes={"gen_ai.agent.name": "Drafting", "enduser.id": "u3", "team.id": "t_legal"},
    )
    for n, (tokens_in, tokens_out) in enumerate(((1000, 100), (2000, 300))):
        chat = tracer.start_span(
            f"chat {SONNET}",
            context=trace.set_span_in_context(b),
            start_time=ns(f"2026-03-04 11:00:0{n}"),
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": SONNET,
                "gen_ai.usage.input_tokens": tokens_in,
                "gen_ai.usage.output_tokens": tokens_out,
            },
        )
        chat.end(end_time=ns(f"2026-03-04 11:00:0{n}.500"))
    b.set_status(Status(StatusCode.ERROR, "tool failed"))
    b.end(end_time=ns("2026-03-04 11:00:02.250"))
    # C: a bare chat call that names its agent; Sam's team comes from the directory.
    c = tracer.start_span(
        f"chat {SONNET}",
        start_time=ns("2026-03-04 12:00:00"),
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.agent.id": "a_code",
            "gen_ai.response.model": SONNET,
            "gen_ai.usage.input_tokens": 2000,
            "gen_ai.usage.output_tokens": 100,
            "user.id": "u5",
        },
    )
    c.end(end_time=ns("2026-03-04 12:00:00.800"))
    # D: someone the directory does not know: quarantined, reported as a rejected span.
    d = tracer.start_span(
        "invoke_agent Code Helper",
        start_time=ns("2026-03-04 13:00:00"),
        attributes={
            "gen_ai.agent.id": "a_code",
            "gen_ai.request.model": SONNET,
            "gen_ai.usage.input_tokens": 1,
            "gen_ai.usage.output_tokens": 1,
            "user.id": "ghost",
        },
    )
    d.end(end_time=ns("2026-03-04 13:00:01"))
    http = tracer.start_span("GET /health", start_time=ns("2026-03-04 14:00:00"))
    http.end(end_time=ns("2026-03-04 14:00:00.010"))


def test_sdk_spans_become_events_the_dashboard_counts(receiver):
    app, url, folder = receiver
    with app.test_request_context():
        before = usage.summary(Filters.asking(MARCH_4, Scope.organization())).row(0, named=True)
    assert (before["interactions"], before["cost_usd"]) == (1, Decimal("2.000000"))
    provider = TracerProvider(resource=Resource.create({"service.name": "agent-platform"}))
    provider.add_span_processor(BatchSpanProcessor(exporter(url)))
    emit_agent_work(provider)
    assert provider.force_flush(10_000)
    provider.shutdown()

    new = events(folder).filter(pl_starts("otel-")).sort("ts")
    assert new.select("user_id", "team_id", "agent_id", "model", "conversation_id").rows() == [
        ("u4", "t_eng", "a_code", SONNET, "conv-a"),
        ("u3", "t_legal", "a_draft", SONNET, None),
        ("u5", "t_sales", "a_code", SONNET, None),
    ]
    # A: 1000 × 2.5 + 200 × 12.5 = 5000 → 0.005000; B: 3000 × 2.5 + 400 × 12.5 = 12500 → 0.012500;
    # C: 2000 × 2.5 + 100 × 12.5 = 6250 → 0.006250
    assert new.select("input_tokens", "output_tokens", "cost_usd", "latency_ms", "status").rows() == [
        (1000, 200, Decimal("0.005000"), 1500, "ok"),
        (3000, 400, Decimal("0.012500"), 2250, "error"),
        (2000, 100, Decimal("0.006250"), 800, "ok"),
    ]
    assert new["ts"].to_list()[0] == dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC)
    [quarantine] = (folder / "quarantine").glob("*-otlp-http.jsonl")
    assert re.fullmatch(r"20\d{6}-otlp-http\.jsonl", quarantine.name)  # one file per UTC day
    [refused] = quarantine_lines(quarantine)
    assert refused["reason"] == "unknown user 'ghost'"
    assert refused["record"]["span"]["name"] == "invoke_agent Code Helper"
    assert len(refused["record"]["span"]["traceId"]) == 32  # hex, as OTLP/JSON writes it

    with app.test_request_context():
        after = usage.summary(Filters.asking(MARCH_4, Scope.organization())).row(0, named=True)
        by_agent = usage.interactions_by_key(Filters.asking(MARCH_4, Scope.organization()), "agent")
    # e5 plus A, B, C: users u3 (e5, B), u4, u5; B is the one error; 2 + 0.005 + 0.0125 + 0.00625
    assert (after["interactions"], after["active_users"], after["errors"]) == (4, 3, 1)
    assert after["cost_usd"] == Decimal("2.023750")
    rows = {r["key"]: (r["interactions"], r["cost_usd"]) for r in by_agent.iter_rows(named=True)}
    assert rows == {"a_code": (2, Decimal("0.011250")), "a_draft": (2, Decimal("2.012500"))}


def pl_starts(prefix: str) -> pl.Expr:
    return pl.col("event_id").str.starts_with(prefix)


def captured_spans() -> list:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    emit_agent_work(provider)
    return list(memory.get_finished_spans())


def test_the_exporter_gets_partial_success_and_resending_adds_nothing(receiver):
    app, url, folder = receiver
    spans = captured_spans()
    assert exporter(url, compression=None).export(spans) == SpanExportResult.SUCCESS
    assert events(folder).filter(pl_starts("otel-")).height == 3
    # The same spans again, gzip-compressed this time (as a retrying exporter might send them)
    assert exporter(url, compression=Compression.Gzip).export(spans) == SpanExportResult.SUCCESS
    assert events(folder).filter(pl_starts("otel-")).height == 3


def test_a_wrong_token_is_refused_and_writes_nothing(receiver):
    app, url, folder = receiver
    assert exporter(url, token="not-the-token").export(captured_spans()) == SpanExportResult.FAILURE
    answer = requests.post(url, data=b"", headers={"Content-Type": "application/x-protobuf"}, timeout=120)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert events(folder).filter(pl_starts("otel-")).height == 0
    # the gate let the request through to the receiver's own check: no API-token lookups, no audit
    assert not [row for row in app.extensions["telemetry_store"].audit_entries(50) if "token" in row["action"]]


def otlp_json_span(span_id: str, user: str) -> dict:
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": span_id,
        "name": "invoke_agent Code Helper",
        "kind": 1,
        "startTimeUnixNano": str(ns("2026-03-04 15:00:00")),
        "endTimeUnixNano": str(ns("2026-03-04 15:00:00.250")),
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}},
            {"key": "gen_ai.agent.id", "value": {"stringValue": "a_code"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": SONNET}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "400"}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "80"}},
            {"key": "user.id", "value": {"stringValue": user}},
        ],
        "status": {},
    }


def otlp_json(*spans: dict) -> dict:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "x"}}]},
                "scopeSpans": [{"scope": {"name": "manual"}, "spans": list(spans)}],
            }
        ]
    }


def post(url: str, body: bytes, content_type: str = "application/json", **headers) -> requests.Response:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type, **headers}
    return requests.post(url, data=body, headers=headers, timeout=120)


def test_otlp_json_body_with_partial_success(receiver):
    app, url, folder = receiver
    body = json.dumps(otlp_json(otlp_json_span("eee19b7ec3c1b174", "u4"), otlp_json_span("eee19b7ec3c1b175", "nobody")))
    answer = post(url, body.encode())
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    partial = answer.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1"
    assert "unknown user 'nobody'" in partial["errorMessage"]
    [row] = events(folder).filter(pl_starts("otel-")).rows(named=True)
    # 400 × 2.5 + 80 × 12.5 = 2000 → 0.002000
    assert (row["event_id"], row["cost_usd"], row["latency_ms"]) == (
        "otel-5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174",
        Decimal("0.002000"),
        250,
    )
    again = post(url, gzip.compress(body.encode()), **{"Content-Encoding": "gzip"})
    assert again.status_code == 200 and events(folder).filter(pl_starts("otel-")).height == 1
    [quarantine] = (folder / "quarantine").glob("*-otlp-http.jsonl")  # both refusals, one file a day
    assert [q["record"]["span"]["spanId"] for q in quarantine_lines(quarantine)] == ["eee19b7ec3c1b175"] * 2


def test_protobuf_success_answer_and_error_statuses(receiver):
    app, url, folder = receiver
    ok = post(url, b"", "application/x-protobuf")  # an empty export request is valid protobuf
    assert ok.status_code == 200 and ok.headers["Content-Type"] == "application/x-protobuf"
    assert ExportTraceServiceResponse.FromString(ok.content) == ExportTraceServiceResponse()
    assert post(url, b"\xff\xff\xff garbage", "application/x-protobuf").status_code == 400
    assert post(url, b"{not json").status_code == 400
    not_hex = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}
    assert post(url, json.dumps(not_hex).encode()).status_code == 400
    assert post(url, b"x", "text/plain").status_code == 415
    assert post(url, b"x" * 10, **{"Content-Encoding": "gzip"}).status_code == 400
    config = {"TESTING": True, "DATA_DIR": str(folder), "SECRET_KEY": "test", "INGEST_TOKEN": TOKEN}
    small = create_app({**config, "OTLP_MAX_BYTES": 1000}).test_client()
    big = json.dumps(otlp_json(*[otlp_json_span(f"{n:016x}", "u4") for n in range(10)])).encode()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert small.post("/v1/traces", data=big, content_type="application/json", headers=headers).status_code == 413
    bomb = gzip.compress(b" " * 100_000)  # 100 kB of JSON whitespace in a few hundred bytes
    answer = small.post(
        "/v1/traces", data=bomb, content_type="application/json", headers={**headers, "Content-Encoding": "gzip"}
    )
    assert len(bomb) < 1000 and answer.status_code == 413
    assert events(folder).filter(pl_starts("otel-")).height == 0


def test_without_a_token_configured_the_receiver_is_closed(client):
    body = json.dumps(otlp_json(otlp_json_span("eee19b7ec3c1b174", "u4")))
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
        answer = client.post("/v1/traces", data=body, content_type="application/json", headers=headers)
        assert answer.status_code == 404
    assert client.get("/v1/traces").status_code == 404
    assert "/v1/traces" not in {rule.rule for rule in client.application.url_map.iter_rules()}


def test_otlp_json_files_import_with_the_cli_rules(tmp_path, data_dir):
    with_prices(data_dir)
    path = tmp_path / "traces.json"  # the Collector's file exporter: one export request per line
    path.write_text(
        json.dumps(otlp_json(otlp_json_span("0000000000000001", "u4")))
        + "\n"
        + json.dumps(otlp_json(otlp_json_span("0000000000000002", "u5")))
        + "\n"
    )
    summary = ingest_files(data_dir, [path], "otlp-json", now=dt.datetime(2026, 3, 10, tzinfo=dt.UTC))
    assert (summary.read, summary.written, summary.quarantined) == (2, 2, 0)
    rows = events(data_dir).filter(pl_starts("otel-")).sort("event_id").select("user_id", "team_id").rows()
    assert rows == [("u4", "t_eng"), ("u5", "t_sales")]
    assert schema.partition_dir(data_dir, "2026-03-04").is_dir()


@pytest.fixture
def token_client(data_dir, password_hash):
    """The test client of an app with the receiver on, and the headers that reach it."""
    return make_app(data_dir, password_hash, INGEST_TOKEN=TOKEN).test_client(), {"Authorization": f"Bearer {TOKEN}"}


def test_deeply_nested_json_is_a_bad_request(token_client):
    client, headers = token_client
    value = '{"intValue": 1}'
    for _ in range(400):  # 400 levels of kvlistValue: 1,600 of JSON, past what json.loads can follow
        value = '{"kvlistValue": {"values": [{"key": "k", "value": ' + value + "}]}}"
    span = '{"traceId": "' + "ab" * 16 + '", "spanId": "' + "cd" * 8 + '", "name": "chat"'
    body = '{"resourceSpans": [{"scopeSpans": [{"spans": [' + span + ', "attributes": [{"key": "a", "value": '
    body += value + "}]}]}]}]}"
    for document in (body, '{"resourceSpans": ' + "[" * 5000 + "]" * 5000 + "}"):
        answer = client.post("/v1/traces", data=document, content_type="application/json", headers=headers)
        assert answer.status_code == 400
        assert answer.get_json() == {"code": 3, "message": otlp.TOO_DEEP}


@pytest.mark.parametrize("wrap", [zlib.compress, lambda raw: zlib.compress(raw)[2:-4]], ids=["zlib", "raw"])
def test_a_deflate_bomb_is_too_large(data_dir, password_hash, wrap):
    client = make_app(data_dir, password_hash, INGEST_TOKEN=TOKEN, OTLP_MAX_BYTES=1000).test_client()
    bomb = wrap(b" " * 100_000)  # 100 kB of JSON whitespace in a few hundred bytes
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Encoding": "deflate"}
    answer = client.post("/v1/traces", data=bomb, content_type="application/json", headers=headers)
    assert len(bomb) < 1000 and answer.status_code == 413
    small = wrap(b'{"resourceSpans": []}')  # under the limit, both framings still read
    assert client.post("/v1/traces", data=small, content_type="application/json", headers=headers).status_code == 200


def test_only_a_post_with_the_token_reaches_the_receiver(token_client):
    client, headers = token_client
    for method in ("get", "put", "delete", "patch"):
        for sent in ({}, headers):
            answer = getattr(client, method)("/v1/traces", headers=sent)
            assert answer.status_code == 405 and answer.headers["Allow"] == "POST"
            assert b"<html" not in answer.data.lower() and b"dash" not in answer.data.lower()
    answer = client.post("/v1/traces", data='{"resourceSpans": []}', content_type="application/json")
    assert answer.status_code == 401
    ok = client.post("/v1/traces", data='{"resourceSpans": []}', content_type="application/json", headers=headers)
    assert ok.status_code == 200


def _wait_until(condition) -> None:
    """Wait for a condition another thread brings about (no guess of how long it takes)."""
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def test_requests_that_arrive_during_a_write_share_the_next_one(tmp_path, monkeypatch):
    """A group commit: one lock, one rollup update for the requests queued meanwhile; each request's
    counts its own, and each acknowledged only once its events are in the rollups."""
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    builds = []
    real = rollup_build.build
    monkeypatch.setattr(rollup_build, "build", lambda *args, **kw: builds.append(args) or real(*args, **kw))
    shared = together.group(folder)
    answers = {}

    def send(number: int, user: str) -> None:
        request = otlp.decode_json(json.dumps(otlp_json(otlp_json_span(f"{number:016x}", user))))
        answers[number] = ingest_otlp(folder, [request], tz="UTC")
        answers[number, "manifest"] = read_manifest(folder)["events_version"]

    with storage.locked(folder):  # another writer (the CLI, another worker) holds the data folder
        first = threading.Thread(target=send, args=(1, "u4"))
        first.start()
        _wait_until(lambda: shared.writing)  # the first request writes, waiting for the lock
        others = [threading.Thread(target=send, args=(n, user)) for n, user in ((2, "u5"), (3, "u6"))]
        for thread in others:
            thread.start()
        _wait_until(lambda: len(shared.waiting) == 2)
    for thread in [first, *others]:
        thread.join(timeout=120)
    assert [answers[n].written for n in (1, 2, 3)] == [1, 1, 1]
    assert len(builds) == 2  # the first request alone, then the two that waited, together
    assert answers[1, "manifest"] == 1 and answers[2, "manifest"] == answers[3, "manifest"] == 2
    assert not shared.writing and not shared.waiting


def test_a_request_queued_behind_a_write_gives_up_at_its_lock_timeout(tmp_path):
    """Waiting for the shared write counts against the request's lock timeout: a 503 (IngestBusy), not a
    wait as long as the write in progress, and the request is not written later behind its caller's back."""
    folder = tmp_path / "data"
    org.write_org(folder)
    shared = together.group(folder)
    ran = []
    with shared.turn:
        shared.writing = True  # a shared write under way in another thread
    try:
        with pytest.raises(storage.IngestBusy):
            together.run_together(ParquetStore(folder), ran.append, "UTC", lock_timeout=0)
    finally:
        with shared.turn:
            shared.writing = False
    assert ran == [] and shared.waiting == []


def test_a_file_import_lets_a_waiting_request_in_between_its_rounds(tmp_path, monkeypatch):
    """A large import holds the lock a round at a time while a request waits: after a round it ends its
    write (rollups and version included), the request writes, and the import goes on in a new write."""
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    monkeypatch.setattr(writer, "MAX_ROWS_IN_MEMORY", 2)  # 6 events: three rounds
    source = tmp_path / "six.jsonl"
    source.write_text("".join(json.dumps(event(f"r{n}", ts=f"2026-03-0{n}T12:00:00Z")) + "\n" for n in range(1, 7)))
    rounds = []
    real = writer._give_way

    def after_the_first_round_wait_for_the_request(target):
        rounds.append(target)
        if len(rounds) == 1:  # the import holds the lock until the request is waiting for it
            _wait_until(lambda: storage.writers_waiting(folder))
        real(target)

    monkeypatch.setattr(writer, "_give_way", after_the_first_round_wait_for_the_request)
    imported = {}
    thread = threading.Thread(target=lambda: imported.update(summary=ingest_files(folder, [source], tz="UTC")))
    thread.start()
    _wait_until(lambda: rounds)
    request = otlp.decode_json(json.dumps(otlp_json(otlp_json_span("00000000000000aa", "u4"))))
    answer = ingest_otlp(folder, [request], tz="UTC", lock_timeout=60)  # in, long before the import ends
    thread.join(timeout=120)
    assert answer.written == 1 and answer.rollups
    summary = imported["summary"]
    assert summary.written == 6 and len(summary.rollups) == 2  # two writes: the first round, then the rest
    assert not storage.writers_waiting(folder)
    assert events(folder).filter(pl_starts("r")).height == 6


def test_a_waiting_writer_that_died_does_not_hold_up_an_import(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    org.write_org(folder)
    with_prices(folder)
    left = folder / f"{storage.WAITING}12345-dead"
    left.touch()
    os.utime(left, (time.time() - 60, time.time() - 60))  # untouched for a minute: its writer is gone
    monkeypatch.setattr(writer, "MAX_ROWS_IN_MEMORY", 2)
    source = tmp_path / "six.jsonl"
    source.write_text("".join(json.dumps(event(f"d{n}", ts=f"2026-03-0{n}T12:00:00Z")) + "\n" for n in range(1, 7)))
    summary = ingest_files(folder, [source], tz="UTC")
    assert summary.written == 6 and len(summary.rollups) == 1  # one write: nobody was let in
    assert not left.exists()  # removed by the writer that took the lock
