"""OpenTelemetry traces (GenAI semantic conventions) to interaction events.

Input is an OTLP `ExportTraceServiceRequest`: protobuf bytes (OTLP/HTTP `application/x-protobuf`),
or OTLP/JSON (the HTTP `application/json` body, or a file of such documents, one per line as the
Collector's file exporter writes them). OTLP/JSON differs from protobuf's own JSON mapping in one
way that matters: trace and span ids are hex, not base64.

Which spans become events (documented in docs/schema.md, "OpenTelemetry"):

- an `invoke_agent` span is one interaction, always (a sub-agent invoked by another agent is an
  interaction with that sub-agent);
- an inference span (`chat`, and `text_completion` / `generate_content`, the conventions' other
  names for the same call) is an interaction only when it has no `invoke_agent` ancestor among the
  spans of the same request (or file) and names an agent (`gen_ai.agent.id` or `gen_ai.agent.name`);
  one with an `invoke_agent` ancestor is part of that agent's work and is not counted again;
- every other span (HTTP, tools, embeddings, ...) is ignored.

The operation is `gen_ai.operation.name`, else the first word of the span name ("chat gpt-5").
An `invoke_agent` span without `gen_ai.usage.*` takes the sum of the inference spans under it in
the same request (not descending into nested agents), and their model when it has none.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

INVOKE_AGENT = "invoke_agent"
INFERENCE = ("chat", "text_completion", "generate_content")
USER_ATTRIBUTES = ("user.id", "enduser.id")
MODEL_ATTRIBUTES = ("gen_ai.request.model", "gen_ai.response.model")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ID_FIELDS = ("traceId", "spanId", "parentSpanId")
# Deeper nesting than Python's parsers can follow is a malformed body (400), not a server error.
TOO_DEEP = "nested too deeply to be an OTLP trace export"


class OtlpDecodeError(ValueError):
    """A body or file that is not an OTLP trace export; the message says why."""


# --- Decoding --------------------------------------------------------------------------------------


def decode_protobuf(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, ValueError) as error:
        raise OtlpDecodeError(f"not an OTLP protobuf ExportTraceServiceRequest: {error}") from None
    except RecursionError:
        raise OtlpDecodeError(TOO_DEEP) from None
    return request


def decode_json(body: bytes | str) -> ExportTraceServiceRequest:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise OtlpDecodeError(f"not JSON: {error}") from None
    except RecursionError:
        raise OtlpDecodeError(TOO_DEEP) from None
    return from_json_document(document)


def from_json_document(document: object) -> ExportTraceServiceRequest:
    """An OTLP/JSON document (hex ids, camelCase or snake_case keys) as a protobuf message."""
    if not isinstance(document, dict):
        raise OtlpDecodeError("an OTLP/JSON trace export is a JSON object with resourceSpans")
    try:
        _hex_ids_to_base64(document)
        return json_format.ParseDict(document, ExportTraceServiceRequest(), ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, AttributeError) as error:
        raise OtlpDecodeError(f"not an OTLP/JSON ExportTraceServiceRequest: {error}") from None
    except RecursionError:
        raise OtlpDecodeError(TOO_DEEP) from None


def read_json_file(path: Path) -> list[ExportTraceServiceRequest]:
    """One OTLP/JSON document, or one per line (the Collector's file exporter)."""
    content = Path(path).read_bytes()
    try:
        return [decode_json(content)]
    except OtlpDecodeError:
        pass
    requests = []
    for number, line in enumerate(content.splitlines(), start=1):
        if line.strip():
            try:
                requests.append(decode_json(line))
            except OtlpDecodeError as error:
                raise OtlpDecodeError(f"{path}, line {number}: {error}") from None
    return requests


def has_export_shape(path: Path) -> bool:
    """Whether the file's first document is an export request (has resourceSpans, even an empty list):
    other JSON, e.g. event records one per line, also decodes, as exports of nothing."""
    content = Path(path).read_bytes()
    first = next((line for line in content.splitlines() if line.strip()), b"")
    for text in (content, first):
        try:
            document = json.loads(text)
        except ValueError:  # RecursionError is one too
            continue
        return isinstance(document, dict) and any(key in document for key in ("resourceSpans", "resource_spans"))
    return False


def _hex_ids_to_base64(document: dict) -> None:
    for resource_spans in _list(document, "resourceSpans", "resource_spans"):
        for scope_spans in _list(resource_spans, "scopeSpans", "scope_spans"):
            for span in _list(scope_spans, "spans"):
                _fix_ids(span)
                for link in _list(span, "links"):
                    _fix_ids(link)


def _list(parent: object, *keys: str) -> list:
    if not isinstance(parent, dict):
        raise OtlpDecodeError(f"expected an object, got {type(parent).__name__}")
    for key in keys:
        value = parent.get(key)
        if value is not None:
            if not isinstance(value, list):
                raise OtlpDecodeError(f"{key} must be a list")
            return value
    return []


def _fix_ids(span: object) -> None:
    if not isinstance(span, dict):
        raise OtlpDecodeError("a span must be an object")
    for camel in _ID_FIELDS:
        snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
        for key in (camel, snake):
            value = span.get(key)
            if isinstance(value, str):
                try:
                    span[key] = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError:
                    raise OtlpDecodeError(f"{key} {value!r} is not hex") from None


def response(rejected: int, message: str) -> ExportTraceServiceResponse:
    answer = ExportTraceServiceResponse()
    if rejected:
        answer.partial_success.rejected_spans = rejected
        answer.partial_success.error_message = message
    return answer


# --- Spans to events -------------------------------------------------------------------------------


@dataclass
class Candidate:
    """One span that is an interaction: the event record, and how to show the span in quarantine."""

    record: dict
    original: Callable[[], dict]
    agent_name: str | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass
class _Span:
    span: Span
    resource: dict
    scope: str
    operation: str
    own: dict = field(default_factory=dict)

    def attribute(self, *names: str) -> object:
        """The first of these attributes found on the span, else on its resource."""
        for source in (self.own, self.resource):
            for name in names:
                if name in source:
                    return source[name]
        return None


def candidates(
    requests: Iterable[ExportTraceServiceRequest], team_attribute: str = "team.id"
) -> tuple[list[Candidate], int]:
    """The interactions among these requests' spans, and how many spans were ignored."""
    spans: list[_Span] = []
    for request in requests:
        for resource_spans in request.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    own = _attributes(span.attributes)
                    operation = str(own.get("gen_ai.operation.name") or span.name.split(" ", 1)[0])
                    spans.append(_Span(span, resource, scope_spans.scope.name, operation, own))
    by_id = {(s.span.trace_id, s.span.span_id): s for s in spans}
    children: dict[tuple[bytes, bytes], list[_Span]] = {}
    for s in spans:
        children.setdefault((s.span.trace_id, s.span.parent_span_id), []).append(s)
    found, ignored = [], 0
    for s in spans:
        counted = s.operation == INVOKE_AGENT or (
            s.operation in INFERENCE
            and not _under_agent(s, by_id)
            and s.attribute("gen_ai.agent.id", "gen_ai.agent.name") is not None
        )
        if counted:
            found.append(_candidate(s, children, team_attribute))
        else:
            ignored += 1
    return found, ignored


def _under_agent(s: _Span, by_id: dict) -> bool:
    seen = set()
    parent = by_id.get((s.span.trace_id, s.span.parent_span_id)) if s.span.parent_span_id else None
    while parent is not None and id(parent) not in seen:
        if parent.operation == INVOKE_AGENT:
            return True
        seen.add(id(parent))
        key = (parent.span.trace_id, parent.span.parent_span_id)
        parent = by_id.get(key) if parent.span.parent_span_id else None
    return False


def _inference_under(s: _Span, children: dict) -> Iterator[_Span]:
    """Inference spans below an agent span, not descending into nested agent spans."""
    stack = list(children.get((s.span.trace_id, s.span.span_id), ()))
    seen = set()
    while stack:
        child = stack.pop()
        if id(child) in seen or child.operation == INVOKE_AGENT:
            continue
        seen.add(id(child))
        if child.operation in INFERENCE:
            yield child
        stack.extend(children.get((child.span.trace_id, child.span.span_id), ()))


def _candidate(s: _Span, children: dict, team_attribute: str) -> Candidate:
    span = s.span
    reasons: list[str] = []
    model = s.attribute(*MODEL_ATTRIBUTES)
    input_tokens = _count(s.attribute("gen_ai.usage.input_tokens"))
    output_tokens = _count(s.attribute("gen_ai.usage.output_tokens"))
    if s.operation == INVOKE_AGENT and input_tokens is None and output_tokens is None:
        inner = list(_inference_under(s, children))
        if inner:
            input_tokens = sum(_count(c.attribute("gen_ai.usage.input_tokens")) or 0 for c in inner)
            output_tokens = sum(_count(c.attribute("gen_ai.usage.output_tokens")) or 0 for c in inner)
            models = sorted({str(m) for c in inner if (m := c.attribute(*MODEL_ATTRIBUTES))})
            if model is None and len(models) == 1:
                model = models[0]
            elif model is None and len(models) > 1:
                reasons.append(f"usage is spread over several models ({', '.join(models)}); cannot price it as one")
    agent_id = s.attribute("gen_ai.agent.id")
    agent_name = s.attribute("gen_ai.agent.name")
    failed = span.status.code == Status.STATUS_CODE_ERROR or s.attribute("error.type") is not None
    duration = span.end_time_unix_nano - span.start_time_unix_nano
    record = {
        "event_id": f"otel-{span.trace_id.hex()}-{span.span_id.hex()}",
        "ts": EPOCH + timedelta(microseconds=span.start_time_unix_nano // 1000),
        "user_id": _ident(s.attribute(*USER_ATTRIBUTES)),
        "team_id": _ident(s.attribute(team_attribute)),
        "agent_id": _ident(agent_id),
        "model": model,
        "conversation_id": _ident(s.attribute("gen_ai.conversation.id")),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "latency_ms": (duration + 500_000) // 1_000_000 if span.end_time_unix_nano else None,
        "status": "error" if failed else "ok",
    }
    if duration < 0:
        reasons.append("span ends before it starts")
    if not span.trace_id or not span.span_id:
        reasons.append("span has no trace_id or span_id")
    return Candidate(
        record,
        lambda: original(s),
        agent_name=str(agent_name) if agent_id is None and agent_name is not None else None,
        reasons=reasons,
    )


def original(s: _Span) -> dict:
    """The span as OTLP/JSON (hex ids) with its resource's attributes, for the quarantine file."""
    shown = json_format.MessageToDict(s.span)
    for key in _ID_FIELDS:
        if key in shown:
            shown[key] = base64.b64decode(shown[key]).hex()
    return {"resource": _jsonable(s.resource), "scope": s.scope, "span": shown}


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, object]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _value(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return getattr(value, kind) if kind else None


def _ident(value: object) -> object:
    """An id sent as an integer attribute is the same id as its decimal text."""
    return str(value) if type(value) is int else value


def _count(value: object) -> object:
    """Token counts: an integral double (some SDKs send every number as one) is a whole number."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _jsonable(value: object) -> object:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
