"""POST /v1/traces: an OTLP/HTTP trace receiver, so instrumented applications export straight in.

Follows the OTLP/HTTP specification: `application/x-protobuf` or `application/json` bodies,
optionally gzip- or deflate-encoded; 200 with an `ExportTraceServiceResponse` (with
`partial_success` when some spans were quarantined) in the request's encoding; 400 for a body that
does not decode, 401 for a missing or wrong token, 413 over the size limit, 415 for another media
type, 503 with Retry-After while another import holds the data folder (the exporter retries).
Errors carry a `google.rpc.Status`.

Not a user route: the gate (auth/gate.py) lets this path through to the check below, which needs
`Authorization: Bearer $TELEMETRY_INGEST_TOKEN` (compared in constant time). With no token
configured the route is not even registered (404), so nothing is ever open.
"""

from __future__ import annotations

import hmac
import json
import zlib
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request
from google.protobuf import json_format

from data.clickhouse.writes import configured_store
from data.ingest import DEFAULT_COMPACT_AFTER_FILES, IngestBusy, ingest_otlp, otlp

bp = Blueprint("otlp", __name__)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
DEFAULT_MAX_BYTES = 16 * 1024 * 1024  # config OTLP_MAX_BYTES: the body, before and after decompression
LOCK_WAIT_SECONDS = 20.0
RETRY_AFTER_SECONDS = "5"
# google.rpc.Code values, for the Status body of an error answer
_RPC_CODES = {400: 3, 401: 16, 404: 5, 413: 8, 415: 3, 503: 14}


class _TooLarge(ValueError):
    pass


def init_app(app: Flask) -> None:
    """The receiver exists only when an ingest token is configured."""
    if app.config.get("INGEST_TOKEN"):
        app.register_blueprint(bp)


@bp.post("/v1/traces")
def traces() -> Response:
    kind = request.mimetype if request.mimetype in (PROTOBUF, JSON) else JSON
    token = current_app.config.get("INGEST_TOKEN") or ""
    if not token:
        return _status(404, "the OTLP receiver is off: set TELEMETRY_INGEST_TOKEN to turn it on", kind)
    if not _authorized(token):
        answer = _status(401, "missing or wrong ingest token (Authorization: Bearer …)", kind)
        answer.headers["WWW-Authenticate"] = 'Bearer realm="telemetry-ingest"'
        return answer
    if request.mimetype not in (PROTOBUF, JSON):
        return _status(415, f"send {PROTOBUF} or {JSON}, not {request.mimetype or 'no Content-Type'}", kind)
    limit = int(current_app.config.get("OTLP_MAX_BYTES", DEFAULT_MAX_BYTES))
    try:
        body = _body(limit)
    except _TooLarge:
        return _status(413, f"the request body is larger than {limit:,} bytes; send smaller batches", kind)
    except ValueError as error:
        return _status(400, str(error), kind)
    try:
        decoded = otlp.decode_protobuf(body) if kind == PROTOBUF else otlp.decode_json(body)
    except otlp.OtlpDecodeError as error:
        return _status(400, str(error), kind)
    config = current_app.config
    try:
        summary = ingest_otlp(
            Path(config["DATA_DIR"]),
            [decoded],
            team_attribute=config.get("TEAM_ATTRIBUTE", "team.id"),
            compact_after_files=int(config.get("COMPACT_AFTER_FILES", DEFAULT_COMPACT_AFTER_FILES)),
            lock_timeout=LOCK_WAIT_SECONDS,
            tz=config["ORG_TIMEZONE"],
            store=configured_store(Path(config["DATA_DIR"])),
        )
    except IngestBusy as error:
        answer = _status(503, str(error), kind)
        answer.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return answer
    message = ""
    if summary.quarantined:
        shown = "; ".join(f"{reason} (×{count})" for reason, count in summary.reasons[:5])
        message = f"{summary.quarantined} span(s) refused and kept in quarantine: {shown}"
        current_app.logger.warning("OTLP: %s", message)
    return _encode(otlp.response(summary.quarantined, message), 200, kind)


def _authorized(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _body(limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise _TooLarge
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise _TooLarge
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity", "none"):
        return raw
    if encoding == "gzip":
        return _inflate(raw, zlib.decompressobj(16 + zlib.MAX_WBITS), limit)
    if encoding == "deflate":
        try:
            return _inflate(raw, zlib.decompressobj(), limit)
        except _TooLarge:
            raise  # a zlib stream that inflates past the limit: not worth a second try as raw deflate
        except ValueError:
            return _inflate(raw, zlib.decompressobj(-zlib.MAX_WBITS), limit)  # raw deflate, as some send
    raise ValueError(f"unsupported Content-Encoding {encoding!r}; use gzip, deflate or none")


def _inflate(raw: bytes, inflater, limit: int) -> bytes:
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error as error:
        raise ValueError(f"body does not decompress: {error}") from None
    if len(body) > limit or inflater.unconsumed_tail:
        raise _TooLarge
    if not inflater.eof:
        raise ValueError("body does not decompress: truncated")
    return body


def _encode(message, status: int, kind: str) -> Response:
    if kind == PROTOBUF:
        return Response(message.SerializeToString(), status, mimetype=PROTOBUF)
    return Response(json_format.MessageToJson(message, indent=None), status, mimetype=JSON)


def _status(status: int, message: str, kind: str) -> Response:
    """A google.rpc.Status body (code, message), hand-encoded: two fields need no extra package."""
    code = _RPC_CODES.get(status, 2)
    if kind == PROTOBUF:
        text = message.encode()
        body = b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text
        return Response(body, status, mimetype=PROTOBUF)
    return Response(json.dumps({"code": code, "message": message}), status, mimetype=JSON)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
