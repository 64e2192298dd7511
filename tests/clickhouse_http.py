"""ClickHouse's HTTP interface, the part clickhouse-connect uses, for the tests: answered from chDB, forwarded to a
real server while recording, or replayed from a recording (tests/fixtures/clickhouse_http.json). Test tooling
only: the product reaches a real server through data/clickhouse/http.py.

Record again after changing the DDL or a question the recorded exchange asks: `make clickhouse-fixture`
(`CLICKHOUSE_HTTP_UPSTREAM=URL` to record from a real server). `python -m tests.clickhouse_http [PORT]` serves chDB
over HTTP on a port of its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import http.server
import ipaddress
import json
import re
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

FIXTURE = Path(__file__).parent / "fixtures" / "clickhouse_http.json"
USER, PASSWORD = "telemetry", "s3cret-for-the-recording"
# what identifies a request besides its URL and body (the rest, e.g. User-Agent with versions, may change)
HEADERS = ("authorization", "content-type", "x-clickhouse-user", "x-clickhouse-key")
ANSWER_HEADERS = ("content-type", "x-clickhouse-format", "x-clickhouse-timezone", "x-clickhouse-exception-code")
# URL parameters that are ClickHouse's HTTP interface's own, not settings
HTTP_OWN = {
    *("query", "database", "default_format", "query_id", "session_id", "user", "password", "client_protocol_version"),
    *("compress", "decompress", "enable_http_compression", "wait_end_of_query"),
}
_INSERT = re.compile(r"\s*insert\s+into\s+(\S+)\s*\(([^)]*)\)\s*format\s+(\w+)\s*$", re.IGNORECASE | re.DOTALL)
_FORMAT = re.compile(r"\sformat\s+(\w+)\s*$", re.IGNORECASE)


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]  # the URL's query, one value a name
    headers: dict[str, str]  # HEADERS only
    body: bytes = b""  # as sent, less its content encoding

    def inserted(self) -> tuple[str, list[str], str, pa.Table] | None:
        """An insert's table, columns, format and rows (None for any other request)."""
        found = _INSERT.match(self.params.get("query", ""))
        if not found:
            return None
        table, columns, fmt = found.group(1), [c.strip(" `") for c in found.group(2).split(",")], found.group(3)
        return table, columns, fmt, _read_arrow(self.body, fmt)

    def sql(self) -> str:
        """The statement: the `query` parameter, or the body when there is none."""
        return self.params["query"] if "query" in self.params else self.body.decode()

    def key(self) -> dict:
        """What a replay compares: everything, an insert's body as its rows (Arrow's buffer compression may differ
        from one pyarrow to the next)."""
        found = self.inserted()
        # an insert's rows in any order: a MergeTree keeps them in its own (and load.py's unique() keeps none)
        body = {"rows": sorted(found[3].to_pylist(), key=repr)} if found else self.body.decode()
        return {"method": self.method, "path": self.path, "params": self.params, "headers": self.headers,
                "body": body}  # fmt: skip


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _read_arrow(body: bytes, fmt: str) -> pa.Table:
    reader = ipc.open_stream if fmt == "ArrowStream" else ipc.open_file
    return reader(pa.BufferReader(body)).read_all()


def _decoded(body: bytes, encoding: str | None) -> bytes:
    if not encoding:
        return body
    if encoding == "lz4":
        import lz4.frame

        return lz4.frame.decompress(body)
    if encoding == "zstd":
        from backports import zstd

        return zstd.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    raise ValueError(f"content encoding {encoding} not served here")


def error(code: int, name: str, message: str, status: int = 500) -> Response:
    """An error as ClickHouse's HTTP interface answers one."""
    named = message if message.rstrip(". ").endswith(")") else f"{message}. ({name})"
    body = f"Code: {code}. DB::Exception: {named} (version 26.9.2.1)\n".encode()
    return Response(
        status, {"Content-Type": "text/plain; charset=UTF-8", "X-ClickHouse-Exception-Code": str(code)}, body
    )


def from_chdb(connection, user: str = USER, password: str = PASSWORD) -> Callable[[Request], Response]:
    """Answers from chDB as a server would: its user and password checked, inserts of Arrow, queries in the format
    and with the settings asked."""
    session = connection._session  # the engine's session: raw answers in any format (tests only)

    def answer(request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return error(516, "AUTHENTICATION_FAILED", f"{user}: Authentication failed: password is incorrect, or "
                         "there is no user with such name", status=401)  # fmt: skip
        try:
            inserting = request.inserted()
            if inserting:
                table, columns, _, rows = inserting
                connection.insert_arrow(table, rows.select(columns))
                return Response(200, {"X-ClickHouse-Summary": "{}"})
            return _query(session, request)
        except RuntimeError as failed:  # chDB's errors and the connection's
            text = str(failed)
            code = re.search(r"Code: (\d+)", text)
            return error(int(code.group(1)) if code else 1000, "CHDB", text.split("DB::Exception: ")[-1])

    return answer


def _query(session, request: Request) -> Response:
    sql = request.sql().strip().rstrip(";")
    fmt = request.params.get("default_format", "TabSeparated")
    found = re.search(r"\sformat\s+(\w+)\s*$", sql, re.IGNORECASE)
    fmt = found.group(1) if found else fmt
    settings = {k: v for k, v in request.params.items() if k not in HTTP_OWN and not k.startswith("param_")}
    if not all(re.fullmatch(r"\w+", name) for name in settings):
        raise ValueError(f"not a setting's name: {sorted(settings)}")
    if settings and re.match(r"\s*(select|with)\b", sql, re.IGNORECASE):
        sql = (
            (sql if found else f"{sql} FORMAT {fmt}")
            + " SETTINGS "
            + ", ".join(f"{k} = {v!r}" for k, v in settings.items())
        )
    params = {k.removeprefix("param_"): v for k, v in request.params.items() if k.startswith("param_")}
    answer = session.query(sql, fmt, params=params or None)
    headers = {"Content-Type": "application/octet-stream", "X-ClickHouse-Format": fmt, "X-ClickHouse-Timezone": "UTC",
               "X-ClickHouse-Summary": "{}"}  # fmt: skip
    return Response(200, headers, answer.bytes())


def forwarding(url: str) -> Callable[[Request], Response]:
    """Answers from a real server at `url` (the recording's upstream, http(s)://USER:PASSWORD@HOST:PORT), as the
    server's own user: the recording keeps only its own user and password."""
    import urllib3

    from data.clickhouse.http import server

    upstream = server(url)
    pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED" if upstream.verify else "CERT_NONE", ca_certs=upstream.ca_file)
    login = "Basic " + base64.b64encode(f"{upstream.username}:{upstream.password}".encode()).decode()

    def answer(request: Request) -> Response:
        query = urllib.parse.urlencode(request.params)
        target = f"{upstream.interface}://{upstream.host}:{upstream.port}{request.path}?{query}"
        headers = {**request.headers, "authorization": login}
        got = pool.request(request.method, target, body=request.body or None, headers=headers)
        return Response(got.status, {k: v for k, v in got.headers.items() if k.lower() in ANSWER_HEADERS}, got.data)

    return answer


class Recording:
    """The exchanges answered so far, and the answerer that records them."""

    def __init__(self, upstream: Callable[[Request], Response]) -> None:
        self.upstream = upstream
        self.exchanges: list[tuple[Request, Response]] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        response = self.upstream(request)
        with self._lock:
            self.exchanges.append((request, response))
        return response

    def save(self, path: Path = FIXTURE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [{"request": _stored(asdict(q)), "response": _stored(asdict(a))} for q, a in self.exchanges]
        path.write_text(json.dumps(rows, indent=1) + "\n")


def _stored(exchange: dict) -> dict:
    """A request or answer as the fixture keeps it: a text body as text, any other gzipped in base64."""
    body = exchange.pop("body")
    try:
        return {**exchange, "body": body.decode()} if b"\x00" not in body else _packed(exchange, body)
    except UnicodeDecodeError:
        return _packed(exchange, body)


def _packed(exchange: dict, body: bytes) -> dict:
    return {**exchange, "body_gzip": base64.b64encode(gzip.compress(body, mtime=0)).decode()}


def _unstored(exchange: dict) -> dict:
    packed = exchange.pop("body_gzip", None)
    body = gzip.decompress(base64.b64decode(packed)) if packed is not None else exchange.pop("body").encode()
    return {**exchange, "body": body}


def recorded(path: Path = FIXTURE) -> list[tuple[Request, Response]]:
    rows = json.loads(path.read_text())
    return [(Request(**_unstored(row["request"])), Response(**_unstored(row["response"]))) for row in rows]


class Replay:
    """Answers each request with the recorded answer to the same request, in the recorded order; a request that
    differs from the recording's next is answered with an error and kept in `differences`."""

    def __init__(self, exchanges: list[tuple[Request, Response]]) -> None:
        self.pending = list(exchanges)
        self.differences: list[tuple[dict, dict | None]] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self._lock:
            if not self.pending:
                self.differences.append((request.key(), None))
                message = "the recording has no more requests: record it again (make clickhouse-fixture)"
                return error(1000, "NOT_RECORDED", message, status=500)
            expected, response = self.pending.pop(0)
            sent, recorded = request.key(), expected.key()
            if sent != recorded:
                self.differences.append((sent, recorded))
                parts = ", ".join(part for part in sent if sent[part] != recorded[part])
                message = (f"this request differs from the recording's next ({parts}): record the exchange again "
                           "(make clickhouse-fixture) if the DDL or a question changed")  # fmt: skip
                return error(1000, "NOT_RECORDED", message, status=500)
            return response


class _Handler(http.server.BaseHTTPRequestHandler):
    answer: Callable[[Request], Response]

    def do_GET(self) -> None:  # noqa: N802 (http.server's names)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while size := int(self.rfile.readline().strip(), 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() in HEADERS}
        body = _decoded(self._body(), self.headers.get("Content-Encoding"))
        response = self.answer(Request(self.command, url.path, params, headers, body))
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, *args) -> None:  # quiet: pytest shows what failed
        pass


@contextmanager
def serving(answer: Callable[[Request], Response], tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """A ClickHouse-like HTTP interface on a free loopback port, answering with `answer` (over TLS with `tls`, a
    certificate and its key); yields its base URL."""
    handler = type("Handler", (_Handler,), {"answer": staticmethod(answer)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that signs itself (its own CA), and its key, as PEM files in `folder`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "telemetry test ClickHouse")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "clickhouse.pem", folder / "clickhouse.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


if __name__ == "__main__":  # python -m tests.clickhouse_http [PORT]: chDB served over HTTP, for make test-clickhouse
    import sys
    import tempfile

    from data.clickhouse import chdb_connection

    folder = Path(tempfile.mkdtemp(prefix="chdb-served-"))
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8123
    handler = type("Handler", (_Handler,), {"answer": staticmethod(from_chdb(chdb_connection(folder)))})
    print(f"chDB at {folder} on http://{USER}:{PASSWORD}@127.0.0.1:{port}", flush=True)
    http.server.ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()
