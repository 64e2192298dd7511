"""A ClickHouse server over its HTTP interface (`TELEMETRY_BACKEND=clickhouse`, `CLICKHOUSE_URL`), through
clickhouse-connect: the same three calls as the chDB connection, so every question, `clickhouse-init` and
`clickhouse-load` run on it unchanged (docs/clickhouse.md).

`CLICKHOUSE_URL` is `http(s)://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?ca_file=PATH|verify=false]`; the password
may instead come from `CLICKHOUSE_PASSWORD`, which keeps it out of the URL. It is never logged nor put in an error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa

from data.clickhouse import ClickHouseError, database_name, parameters_of

PORTS = {"http": 8123, "https": 8443}
OPTIONS = ("ca_file", "verify")
CONNECT_SECONDS = 5
ANSWER_SECONDS = 300  # a full import's insert … select may take minutes on a large organization
# ClickHouse's codes for a user it does not let in (UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD,
# AUTHENTICATION_FAILED) and for one it lets in but not to this (ACCESS_DENIED)
REFUSED = {192, 193, 194, 516}
DENIED = {497}
T = TypeVar("T")
_opening = threading.Lock()
_clients: dict[Server, HttpConnection] = {}


@dataclass(frozen=True)
class Server:
    """Where and how to reach the server: CLICKHOUSE_URL's parts."""

    interface: str
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    database: str | None
    verify: bool = True
    ca_file: str | None = None

    def shown(self) -> str:
        """The server as errors name it: never the password."""
        return f"{self.interface}://{self.username}@{self.host}:{self.port}"


def server(url: str, password: str | None = None) -> Server:
    """CLICKHOUSE_URL read and checked (CLICKHOUSE_PASSWORD as `password`, when the URL has none)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ClickHouseError("CLICKHOUSE_URL is not a URL: http(s)://USER@HOST:PORT/DATABASE.") from None
    if parts.scheme not in PORTS or not parts.hostname:
        raise ClickHouseError("CLICKHOUSE_URL must be http(s)://USER@HOST:PORT/DATABASE (ClickHouse's HTTP interface).")
    if parts.fragment or "#" in url:
        # an unencoded # in a password ends the URL's address there: the host, port and user would be misread
        raise ClickHouseError(
            "CLICKHOUSE_URL has a #: percent-encode it in the password (%23), or use CLICKHOUSE_PASSWORD."
        )
    if parts.password is not None and password:
        raise ClickHouseError("Give the ClickHouse password in CLICKHOUSE_URL or in CLICKHOUSE_PASSWORD, not both.")
    options = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ClickHouseError(f"CLICKHOUSE_URL takes only {' and '.join(OPTIONS)} after ?, not {', '.join(unknown)}.")
    if options.get("verify", "true") not in ("true", "false"):
        raise ClickHouseError("CLICKHOUSE_URL's verify is true or false.")
    if options and parts.scheme != "https":
        raise ClickHouseError("CLICKHOUSE_URL's ca_file and verify are for https: with http nothing is verified.")
    if options.get("ca_file") and not Path(options["ca_file"]).is_file():
        raise ClickHouseError(f"CLICKHOUSE_URL's ca_file {options['ca_file']} is not a file.")
    path = unquote(parts.path).strip("/")
    return Server(
        interface=parts.scheme,
        host=parts.hostname,
        port=port or PORTS[parts.scheme],
        username=unquote(parts.username or "default"),
        password=unquote(parts.password) if parts.password is not None else password or "",
        database=database_name(path) if path else None,
        verify=options.get("verify", "true") == "true",
        ca_file=options.get("ca_file") or None,
    )


class HttpConnection:
    """A ClickHouse server: statements, answers as Arrow tables, inserts of Arrow tables (as ChdbConnection)."""

    def __init__(self, to: Server) -> None:
        import clickhouse_connect  # only a process that uses this backend loads the client

        self.server = to
        self._client = self._call(
            clickhouse_connect.get_client,
            interface=to.interface,
            host=to.host,
            port=to.port,
            username=to.username,
            password=to.password,
            database=None,  # the user's own: every statement names the organization's database itself
            verify=to.verify,
            ca_cert=to.ca_file,
            # no HTTP session: one would serialize the app's threads (the server refuses a session in use)
            autogenerate_session_id=False,
            autogenerate_query_id=False,
            client_name="telemetry",
            # a server that does not answer fails each question in seconds, not the library's default wait
            connect_timeout=CONNECT_SECONDS,
            send_receive_timeout=ANSWER_SECONDS,
            show_clickhouse_errors="scrub",  # the server's message, without the URL and version
        )

    def command(self, sql: str, params: dict | None = None) -> None:
        """Run a statement that answers nothing (DDL, INSERT … SELECT)."""
        self._call(self._client.command, sql, parameters=self._bound(sql, params))

    def arrow(self, sql: str, params: dict | None = None) -> pa.Table:
        """A query's whole answer as an Arrow table."""
        return self._call(self._client.query_arrow, sql, parameters=self._bound(sql, params))

    def insert_arrow(self, table: str, rows: pa.Table) -> int:
        """Insert `rows` into `table` (qualified name, from the schema) as one block; answers the rows written."""
        if rows.num_rows == 0:
            return 0
        self._call(self._client.insert_arrow, table, rows)
        return rows.num_rows

    def close(self) -> None:
        self._client.close()

    @staticmethod
    def _bound(sql: str, params: dict | None) -> dict | None:
        """The parameters the statement names, given to the client as values: it sends each as `param_<name>`
        beside the `{name:Type}` text, and the server binds them (nothing is formatted into the SQL)."""
        return {name: (params or {})[name] for name in sorted(parameters_of(sql))} or None

    def _call(self, call: Callable[..., T], *args: object, **kwargs: object) -> T:
        from clickhouse_connect.driver import exceptions

        try:
            return call(*args, **kwargs)
        except exceptions.DatabaseError as error:
            if error.code is None and isinstance(error, exceptions.OperationalError):  # no answer at all
                raise ClickHouseError(self._unreachable(_first_cause(error))) from None
            raise ClickHouseError(self._refused(error)) from None

    def _unreachable(self, reason: str) -> str:
        where = self.server.shown()
        if "CERTIFICATE_VERIFY_FAILED" in reason or "SSL" in reason:
            return (
                f"ClickHouse at {where}: the TLS connection failed ({self._scrub(reason)}). Check that the server "
                "speaks TLS on that port and that its certificate is trusted: give its CA as ?ca_file=PATH in "
                "CLICKHOUSE_URL."
            )
        return (
            f"ClickHouse at {where} did not answer ({self._scrub(reason)}). Check CLICKHOUSE_URL's host and port "
            "(the HTTP interface: 8123, or 8443 with https), that the server is running, and that this machine "
            "can reach it."
        )

    def _refused(self, error) -> str:
        message = self._scrub(str(error))
        if error.code in REFUSED:
            return (
                f"ClickHouse at {self.server.shown()} refused user {self.server.username!r}: check the user and "
                "password (CLICKHOUSE_URL, CLICKHOUSE_PASSWORD)."
            )
        if error.code in DENIED:
            return f"ClickHouse at {self.server.shown()}: user {self.server.username!r} lacks a grant. {message}"
        return message

    def _scrub(self, text: str) -> str:
        """`text` without the password, should a message ever carry it."""
        return text.replace(self.server.password, "***") if self.server.password else text


def _first_cause(error: BaseException) -> str:
    """The message of what started a chain of exceptions (urllib3's "Connection refused", not "Error executing
    HTTP request")."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    return str(error)


def http_connection(to: Server) -> HttpConnection:
    """This process's connection to the server (one client per server: it pools its HTTP connections and is
    safe to share between threads)."""
    found = _clients.get(to)
    if found is None:
        # made outside the lock: while a server does not answer, other threads are not queued behind this one
        made = HttpConnection(to)
        with _opening:
            found = _clients.setdefault(to, made)
        if found is not made:
            made.close()
    return found
