"""The ClickHouse backend's connection: chDB (in-process ClickHouse) at CHDB_PATH, or a ClickHouse server at
CLICKHOUSE_URL over HTTP (data/clickhouse/http.py), behind one thin interface (`Connection`), chosen in one place
(`connect`) (docs/clickhouse.md).

One chDB engine per process, at one data path (chDB refuses a second path in the same process): each
organization is a database in it (`CLICKHOUSE_DATABASE`), as on a server that hosts several.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.ipc as ipc

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_PARAMETER = re.compile(r"\{([a-z_][a-z0-9_]*):")
_opening = threading.Lock()
_engines: dict[str, ChdbConnection] = {}


BACKENDS = ("chdb", "clickhouse")  # TELEMETRY_BACKEND's values that answer from ClickHouse


class ClickHouseError(RuntimeError):
    """A statement the engine refused, or a setting it cannot run with; the message says which."""


class Connection(Protocol):
    """What the backend asks of ClickHouse: chDB's engine (ChdbConnection) or a server (http.HttpConnection)."""

    def command(self, sql: str, params: dict | None = None) -> None: ...

    def arrow(self, sql: str, params: dict | None = None) -> pa.Table: ...

    def insert_arrow(self, table: str, rows: pa.Table) -> int: ...


def database_name(name: str) -> str:
    """`name` if it is a plain identifier: database names come from configuration and go into DDL as they are."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ClickHouseError(f"{name!r} is not a database name (letters, digits and _, not starting with a digit).")
    return name


def parameters_of(sql: str) -> frozenset[str]:
    """The names of a statement's `{name:Type}` parameters."""
    return frozenset(_PARAMETER.findall(sql))


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def parameter_text(value: object) -> str | None:
    """A parameter's value as ClickHouse reads a `{name:Type}` value: its text form (None for NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC) if value.tzinfo else value
        return utc.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date | int | Decimal):
        return str(value)
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    if isinstance(value, list | tuple):
        if not all(isinstance(item, str) for item in value):
            raise ClickHouseError("Only lists of text are bound as parameters.")
        return "[" + ",".join(_quoted(item) for item in value) + "]"
    raise ClickHouseError(f"Cannot bind a {type(value).__name__} as a ClickHouse parameter.")


class ChdbConnection:
    """chDB's engine at a data path: statements, answers as Arrow tables, inserts of Arrow tables."""

    def __init__(self, path: Path) -> None:
        from chdb import session  # only a process that uses the backend loads the engine (180 MB)

        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._open = session.Session
        self._engine = self._open(str(self.path))  # opens the engine, and keeps it open for the process
        self._opened = threading.local()
        self._opened.session = self._engine

    @property
    def _session(self) -> object:
        """This thread's session on the engine. A session's bound parameters are its own: threads that bound
        theirs on one session at once ran with each other's, or with none ("Substitution … is not set"). With one
        session a thread, a tab's parts (asked side by side) run their statements at once, as a server's clients
        do; each session sees the others' writes once they end."""
        found = getattr(self._opened, "session", None)
        if found is None:
            found = self._opened.session = self._open(str(self.path))
        return found

    def command(self, sql: str, params: dict | None = None) -> None:
        """Run a statement that answers nothing (DDL, INSERT … SELECT)."""
        self._run(sql, "CSV", params)

    def arrow(self, sql: str, params: dict | None = None) -> pa.Table:
        """A query's whole answer as an Arrow table."""
        return self._run(sql, "ArrowTable", params)

    def insert_arrow(self, table: str, rows: pa.Table) -> int:
        """Insert `rows` into `table` (qualified name, from the schema) as one block; answers the rows written."""
        if rows.num_rows == 0:
            return 0
        sink = io.BytesIO()
        with ipc.new_stream(sink, rows.schema) as writer:
            writer.write_table(rows)
        names = ", ".join(rows.column_names)
        try:
            with self._session.send_insert(f"insert into {table} ({names})", "ArrowStream") as inserting:
                inserting.append(sink.getvalue())
                inserting.finish()
        except RuntimeError as error:
            raise ClickHouseError(str(error)) from None
        return rows.num_rows

    def _run(self, sql: str, fmt: str, params: dict | None) -> object:
        bound = {name: parameter_text((params or {})[name]) for name in parameters_of(sql)}
        try:
            return self._session.query(sql, fmt, params=bound or None)
        except RuntimeError as error:  # chDB's ChdbError is one
            raise ClickHouseError(str(error)) from None


def chdb_connection(path: Path | str) -> ChdbConnection:
    """This process's chDB engine at `path`, opened once; a second path in the same process is refused."""
    key = str(Path(path).resolve())
    with _opening:
        found = _engines.get(key)
        if found is None:
            if _engines:
                raise ClickHouseError(f"chDB runs at one data path per process, already {next(iter(_engines))}.")
            found = _engines[key] = ChdbConnection(Path(key))
    return found


def open_engine() -> ChdbConnection | None:
    """This process's chDB engine if one is open (the tests share it: chDB takes one data path per process)."""
    with _opening:
        return next(iter(_engines.values()), None)


def on_clickhouse(config: Mapping) -> bool:
    """Whether the app answers from ClickHouse (chDB or a server) rather than DuckDB over Parquet."""
    return config.get("BACKEND") in BACKENDS


def _on_server(config: Mapping) -> bool:
    """A server when TELEMETRY_BACKEND=clickhouse (or, for the clickhouse-* commands of an app still on DuckDB,
    when CLICKHOUSE_URL is set), else chDB."""
    backend = config.get("BACKEND")
    return backend == "clickhouse" or (bool(config.get("CLICKHOUSE_URL")) and backend != "chdb")


def database_of(config: Mapping) -> str:
    """The organization's database: the one CLICKHOUSE_URL names when the app talks to that server, else
    CLICKHOUSE_DATABASE (default `telemetry`)."""
    if _on_server(config) and config.get("CLICKHOUSE_URL"):
        from data.clickhouse.http import server

        named = server(config["CLICKHOUSE_URL"], config.get("CLICKHOUSE_PASSWORD")).database
        if named:
            return named
    return database_name(config.get("CLICKHOUSE_DATABASE") or "telemetry")


def connect(config: Mapping) -> tuple[Connection, str]:
    """The configured ClickHouse and the organization's database: the one place that chooses."""
    if _on_server(config):
        if not config.get("CLICKHOUSE_URL"):
            raise ClickHouseError(
                "TELEMETRY_BACKEND=clickhouse needs CLICKHOUSE_URL: http(s)://USER@HOST:PORT/DATABASE, the server's "
                "HTTP interface (docs/clickhouse.md)."
            )
        from data.clickhouse.http import http_connection, server

        to = server(config["CLICKHOUSE_URL"], config.get("CLICKHOUSE_PASSWORD"))
        return http_connection(to), database_of(config)
    if not config.get("CHDB_PATH"):
        raise ClickHouseError(
            "Set CHDB_PATH (the folder of the chDB engine's data) or CLICKHOUSE_URL (a ClickHouse server): "
            "the ClickHouse backend needs one (docs/clickhouse.md)."
        )
    return chdb_connection(config["CHDB_PATH"]), database_of(config)
