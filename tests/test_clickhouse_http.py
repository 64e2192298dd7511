"""The ClickHouse backend over HTTP (data/clickhouse/http.py): CLICKHOUSE_URL read and checked, the requests the
client sends replayed against a recorded exchange (tests/fixtures/clickhouse_http.json) and its answers made into
the chDB backend's frames, and clear errors when the server does not answer, refuses the user or its certificate.

Recording (after a change to the DDL or to a question): `make clickhouse-fixture`, which runs the exchange against
chDB served over HTTP by tests/clickhouse_http.py; `CLICKHOUSE_HTTP_UPSTREAM=http(s)://USER:PASSWORD@HOST:PORT`
records it from a real server instead (the fixture keeps only the recording's own user and password).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import socket
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("chdb", reason="chDB is in requirements.txt: `make test` installs it")
pytest.importorskip("clickhouse_connect", reason="clickhouse-connect is in requirements.txt: `make test` installs it")

from app import ConfigError, create_app  # noqa: E402
from data.clickhouse import ClickHouseError, connect  # noqa: E402
from data.clickhouse.http import HttpConnection, server  # noqa: E402
from data.clickhouse.load import load  # noqa: E402
from data.clickhouse.schema import init  # noqa: E402
from queries import clickhouse  # noqa: E402
from tests import clickhouse_http as fake  # noqa: E402
from tests import org  # noqa: E402
from tests.conftest import clickhouse_engine, make_app  # noqa: E402
from tests.test_api import bearer, token_for  # noqa: E402

RECORD = os.environ.get("CLICKHOUSE_HTTP_RECORD") == "1"
A_FILE = __file__  # a file that exists, where CLICKHOUSE_URL's ca_file is only read for its path
UPSTREAM = os.environ.get("CLICKHOUSE_HTTP_UPSTREAM")
TZ = "America/New_York"
RECORDED_DB, TWIN_DB = "telemetry_recorded", "telemetry_recorded_twin"
# one period and scope for every question: the hand-made org's whole February and March, every team and agent
PARAMS = {
    "start_date": dt.date(2026, 2, 1),
    "end_date": dt.date(2026, 3, 31),
    "judged_end": dt.date(2026, 3, 31),
    "today": dt.date(2026, 3, 31),
    "window_start": dt.date(2026, 3, 2),
    "to_ts": dt.datetime(2026, 4, 1, 4, tzinfo=dt.UTC),
    "tz": TZ,
    "team_ids": None,
    "agent_ids": None,
    "user_ids": None,
    "by": "team",
    "grain": "week",
    "top_n": 5,
    "days": 30,
    "user_id": "u5",
    "email": "manager@test.example",
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return clickhouse_engine(tmp_path_factory)


@pytest.fixture(scope="module")
def org_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("http-org") / "data"
    org.write_org(folder)
    return folder


def _url(base: str, user: str = fake.USER, password: str = fake.PASSWORD, path: str = "") -> str:
    return base.replace("://", f"://{user}:{password}@", 1) + path


def exchange(connection: HttpConnection, folder: Path) -> dict:
    """What the recording holds: the organization's database made and loaded, then every question asked once."""
    connection.command(f"drop database if exists {RECORDED_DB}")
    init(connection, RECORDED_DB, TZ)
    load(connection, RECORDED_DB, folder)
    return {name: clickhouse.execute(connection, RECORDED_DB, name, PARAMS) for name in sorted(clickhouse.translated())}


def test_the_client_sends_the_recorded_requests_and_answers_as_chdb(engine, org_folder) -> None:
    """Replayed: every request is the recording's, in order, and every question's frame is the one chDB answers
    directly over the same data (types included; rows in any order)."""
    if RECORD:
        answer = fake.Recording(fake.forwarding(UPSTREAM) if UPSTREAM else fake.from_chdb(engine))
    else:
        answer = fake.Replay(fake.recorded())
    with fake.serving(answer) as base:
        connection = HttpConnection(server(_url(base)))
        try:
            frames = exchange(connection, org_folder)
        finally:
            connection.close()
    if RECORD:
        answer.save()
    else:
        hint = "the client's requests differ from tests/fixtures/clickhouse_http.json: `make clickhouse-fixture`"
        assert answer.differences == [], hint
        assert answer.pending == [], hint
    init(engine, TWIN_DB, TZ)
    load(engine, TWIN_DB, org_folder)
    for name, frame in frames.items():
        # rows in any order: the questions' SQL leaves ties unordered (queries/*.py order what they show)
        on_chdb = clickhouse.execute(engine, TWIN_DB, name, PARAMS)
        try:
            assert_frame_equal(_sorted(frame), _sorted(on_chdb))
        except AssertionError as differs:
            raise AssertionError(f"{name}: {differs}") from None


def _sorted(frame):
    return frame.sort(frame.columns, nulls_last=True)


def _requests() -> list[fake.Request]:
    return [request for request, _ in fake.recorded()]


def test_every_recorded_request_authenticates_by_header_and_shows_the_password_nowhere_else() -> None:
    basic = "Basic " + base64.b64encode(f"{fake.USER}:{fake.PASSWORD}".encode()).decode()
    requests = _requests()
    assert requests
    for request in requests:
        assert request.headers["authorization"] == basic
        rest = json.dumps({**request.key(), "headers": {}}, default=str)
        assert fake.PASSWORD not in rest
        assert "session_id" not in request.params  # no HTTP session: the app's threads would wait on each other
        assert request.path == "/"


def test_a_recorded_question_binds_its_parameters_on_the_server() -> None:
    """The question's SQL goes as written, `{name:Type}` and all; the values go beside it as param_<name>."""
    sql = clickhouse.sql_text("cost_by_key").replace("$database", RECORDED_DB)
    asked = [request for request in _requests() if request.body.decode(errors="replace").startswith(sql)]
    assert len(asked) == 1
    assert asked[0].body.decode() == sql + "\n FORMAT Arrow"
    params = {k: v for k, v in asked[0].params.items() if k.startswith("param_")}
    assert params == {
        "param_agent_ids": "[]",
        "param_by": "team",
        "param_end_date": "2026-03-31",
        "param_every_agent": "True",
        "param_every_team": "True",
        "param_start_date": "2026-02-01",
        "param_team_ids": "[]",
    }


def test_the_recorded_load_inserts_arrow_blocks() -> None:
    """clickhouse-load over HTTP: the hand-made org's 9 events in one Arrow insert into the organization's events,
    each directory table into its loading copy, and before the users the codes of its 7 people (the ids in the
    insert's body)."""
    inserts = {found[0]: found for request in _requests() if (found := request.inserted())}
    table, columns, fmt, rows = inserts[f"{RECORDED_DB}.events"]
    assert fmt == "Arrow"
    assert rows.num_rows == 9
    assert sorted(rows.column("event_id").to_pylist()) == ["e0", *(f"e{i}" for i in range(1, 9))]
    assert columns == rows.column_names
    _table, _columns, _fmt, coded = inserts[f"{RECORDED_DB}.user_codes"]
    # by team, then id: Engineering's u1, u2, u4, u7, Legal's u3, u6, Sales' u5
    assert list(zip(coded.column("user_id").to_pylist(), coded.column("code").to_pylist(), strict=True)) == [
        ("u1", 1), ("u2", 2), ("u4", 3), ("u7", 4), ("u3", 5), ("u6", 6), ("u5", 7)
    ]  # fmt: skip
    loads = {f"{RECORDED_DB}.{name}_load" for name in ("users", "teams", "team_managers", "agents")}
    assert set(inserts) == loads | {f"{RECORDED_DB}.events", f"{RECORDED_DB}.user_codes"}


@pytest.mark.parametrize(
    ("url", "password", "expected"),
    [
        ("http://ch.example", None, ("http", "ch.example", 8123, "default", "", None, True, None)),
        ("https://ana:p%40ss@ch.example/org_a", None, ("https", "ch.example", 8443, "ana", "p@ss", "org_a", True,
                                                        None)),
        (f"https://ana@ch.example:9443/org_a?ca_file={A_FILE}", "pw", ("https", "ch.example", 9443, "ana", "pw",
                                                                       "org_a", True, A_FILE)),
        ("https://ana@ch.example?verify=false", None, ("https", "ch.example", 8443, "ana", "", None, False, None)),
    ],
)  # fmt: skip
def test_clickhouse_url_gives_the_server_user_password_database_and_tls(url, password, expected) -> None:
    found = server(url, password)
    fields = ("interface", "host", "port", "username", "password", "database", "verify", "ca_file")
    assert tuple(getattr(found, name) for name in fields) == expected
    assert "p@ss" not in repr(found) and "p@ss" not in found.shown()


@pytest.mark.parametrize(
    ("url", "password", "message"),
    [
        ("ch.example:8123", None, r"must be http\(s\)://"),
        ("ftp://ch.example", None, r"must be http\(s\)://"),
        ("http://ch.example:port", None, "is not a URL"),
        ("http://ana:secret@ch.example", "other", "not both"),
        ("http://ch.example/1org", None, "is not a database name"),
        ("http://ch.example/?secure=1", None, "takes only ca_file and verify"),
        ("http://ch.example/?verify=no", None, "verify is true or false"),
        ("https://ana:12#34@ch.example/org", None, "has a #: percent-encode it"),
        (f"http://ch.example/?ca_file={A_FILE}", None, "are for https"),
        ("http://ch.example/?verify=false", None, "are for https"),
        ("https://ch.example/?ca_file=/no/such/ca.pem", None, "ca_file /no/such/ca.pem is not a file"),
    ],
)
def test_a_bad_clickhouse_url_is_refused_without_repeating_it(url, password, message) -> None:
    with pytest.raises(ClickHouseError, match=message) as refused:
        server(url, password)
    assert "secret" not in str(refused.value)


def test_telemetry_backend_clickhouse_needs_a_good_url(monkeypatch, data_dir) -> None:
    base = {"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "t"}
    monkeypatch.setenv("TELEMETRY_BACKEND", "clickhouse")
    with pytest.raises(ConfigError, match="TELEMETRY_BACKEND=clickhouse needs CLICKHOUSE_URL"):
        create_app(base, with_dash=False)
    monkeypatch.setenv("CLICKHOUSE_URL", "http://ana:hunter2@ch.example/1org")
    with pytest.raises(ConfigError, match="is not a database name") as refused:
        create_app(base, with_dash=False)
    assert "hunter2" not in str(refused.value)
    monkeypatch.setenv("CLICKHOUSE_URL", "https://ana@ch.example/org_a")
    monkeypatch.setenv("CLICKHOUSE_PASSWORD", "hunter2")
    app = create_app(base, with_dash=False)
    assert (app.config["BACKEND"], app.config["CLICKHOUSE_PASSWORD"]) == ("clickhouse", "hunter2")


def test_connect_chooses_the_server_by_configuration(engine) -> None:
    """The one place that chooses: a server for TELEMETRY_BACKEND=clickhouse, its database from the URL's path
    (else CLICKHOUSE_DATABASE); chDB for TELEMETRY_BACKEND=chdb, whatever else is set."""
    with fake.serving(fake.from_chdb(engine)) as base:
        config = {"BACKEND": "clickhouse", "CLICKHOUSE_URL": _url(base, path="/org_a"), "CLICKHOUSE_DATABASE": "x"}
        connection, database = connect(config)
        assert (type(connection), database) == (HttpConnection, "org_a")
        assert connect(config)[0] is connection  # one client per server, shared by the threads
        assert connection.arrow("select {n:Int64} + 1 as n", {"n": 41}).to_pylist() == [{"n": 42}]
        assert connect({**config, "CLICKHOUSE_URL": _url(base)})[1] == "x"
        on_chdb = {**config, "BACKEND": "chdb", "CHDB_PATH": str(engine.path)}
        assert connect(on_chdb) == (engine, "x")


def test_a_wrong_password_says_what_to_check_and_never_shows_it(engine) -> None:
    with fake.serving(fake.from_chdb(engine)) as base, pytest.raises(ClickHouseError) as refused:
        HttpConnection(server(_url(base, password="n0t-the-password")))
    message = str(refused.value)
    assert f"ClickHouse at http://{fake.USER}@127.0.0.1:" in message
    assert "refused user 'telemetry': check the user and password (CLICKHOUSE_URL, CLICKHOUSE_PASSWORD)" in message
    assert "n0t-the-password" not in message


def test_a_server_that_does_not_answer_says_what_to_check() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))  # bound, never listening: a connection there is refused, and no one else takes it
        with pytest.raises(ClickHouseError) as unreachable:
            HttpConnection(server(_url(f"http://127.0.0.1:{held.getsockname()[1]}")))
    message = str(unreachable.value)
    assert "did not answer" in message and "Connection refused" in message
    assert "Check CLICKHOUSE_URL's host and port" in message
    assert fake.PASSWORD not in message


def test_a_statement_the_server_refuses_gives_its_message(engine) -> None:
    with fake.serving(fake.from_chdb(engine)) as base:
        connection = HttpConnection(server(_url(base)))
        with pytest.raises(ClickHouseError, match="UNKNOWN_TABLE|UNKNOWN_DATABASE"):
            connection.arrow("select * from telemetry_nowhere.events")
        connection.close()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # verify=false, asked for
def test_tls_verifies_the_server_certificate_against_the_ca_file(engine, tmp_path) -> None:
    """https: a certificate the system does not trust is refused with what to do; with its CA as ca_file, or with
    verify=false, the same server answers."""
    cert = fake.self_signed(tmp_path)
    with fake.serving(fake.from_chdb(engine), tls=cert) as base:
        with pytest.raises(ClickHouseError) as refused:
            HttpConnection(server(_url(base)))
        assert "TLS connection failed" in str(refused.value) and "?ca_file=PATH" in str(refused.value)
        for option in (f"?ca_file={cert[0]}", "?verify=false"):
            connection = HttpConnection(server(_url(base, path=f"/{option}")))
            assert connection.arrow("select 1 as one").to_pylist() == [{"one": 1}]
            connection.close()


def test_the_app_answers_its_api_from_a_server_over_http(engine, data_dir, password_hash) -> None:
    """TELEMETRY_BACKEND=clickhouse end to end: the app reads the hand-made org through the HTTP client (chDB
    served over HTTP), and its API gives the figures worked out by hand in tests/test_api.py."""
    init(engine, "telemetry_http_api", "UTC")
    load(engine, "telemetry_http_api", data_dir)
    served = fake.Recording(fake.from_chdb(engine))
    with fake.serving(served) as base:
        config = {"BACKEND": "clickhouse", "CLICKHOUSE_URL": _url(base, path="/telemetry_http_api")}
        app = make_app(data_dir, password_hash, **config)
        summary = app.test_client().get(
            "/api/v1/summary?start=2026-03-02&end=2026-03-08", headers=bearer(token_for(app, "admin"))
        )
    assert summary.status_code == 200
    assert any("from telemetry_http_api." in request.sql() for request, _ in served.exchanges)
    assert summary.get_json() == {
        "interactions": 6, "active_users": 4, "cost_usd": "3.723334", "start": "2026-03-02", "end": "2026-03-08"
    }  # fmt: skip


def test_a_server_writer_elsewhere_is_seen_by_its_token(engine, data_dir, password_hash, results) -> None:
    """On a server, another process (or machine) may write: the app keeps its answers until the database's data
    version changes, read once per request; an event written with a new token is counted by the next request,
    one written without a token (by hand) is not."""
    init(engine, "telemetry_http_kept", "UTC")
    load(engine, "telemetry_http_kept", data_dir)
    with fake.serving(fake.Recording(fake.from_chdb(engine))) as base:
        config = {"BACKEND": "clickhouse", "CLICKHOUSE_URL": _url(base, path="/telemetry_http_kept")}
        app = make_app(data_dir, password_hash, **config)
        token = bearer(token_for(app, "admin"))

        def interactions() -> int:
            answer = app.test_client().get("/api/v1/summary?start=2026-03-02&end=2026-03-08", headers=token)
            return answer.get_json()["interactions"]

        assert interactions() == 6  # tests/test_api.py's figure
        engine.command(
            "insert into telemetry_http_kept.events (event_id, ts, user_id, team_id, agent_id, model, status) "
            "values ('elsewhere', '2026-03-06 12:00:00', 'u5', 't_sales', 'a_code', 'x', 'ok')"
        )
        assert interactions() == 6  # no new token: the kept answer stands
        engine.command("insert into telemetry_http_kept.telemetry_meta (key, value) values ('data_version', 'other')")
        assert interactions() == 7
