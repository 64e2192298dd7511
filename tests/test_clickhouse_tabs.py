"""Every tab, API answer and report is the same on both backends for the demo org (issue 24's must-show): the app
served with TELEMETRY_BACKEND=duckdb over the demo org's data folder and with TELEMETRY_BACKEND=chdb over its
ClickHouse database answers each tab's data callback (every figure, table and card), the people grid's rows, a
person's panel and the exports, the API routes and a report's files (CSV and Excel) alike.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import time
import zipfile

import openpyxl
import pytest

pytest.importorskip("chdb", reason="chDB is in requirements.txt: `make test` installs it")

from callbacks._tab import _TABS  # noqa: E402
from data.clickhouse.load import load  # noqa: E402
from data.clickhouse.schema import init  # noqa: E402
from layouts import ids  # noqa: E402
from queries.scope import Scope  # noqa: E402
from reports.build import build_report  # noqa: E402
from reports.request import ReportRequest  # noqa: E402
from tests import dash_payloads as dp  # noqa: E402
from tests import org  # noqa: E402
from tests.conftest import make_app  # noqa: E402
from tests.test_access import dependencies  # noqa: E402
from tests.test_api import bearer, token_for  # noqa: E402
from tests.test_callbacks_memo import signed_in_client  # noqa: E402
from tests.test_reports import ALL_POINTS  # noqa: E402
from tests.test_rollups import END, TZ, write_demo_org  # noqa: E402

# The demo's days run to END (2026-04-20, 120 days, across the DST change of 8 March); "today" is later.
EVERYTHING = {"start": "2025-12-22", "end": END.isoformat()}
THIRTY_DAYS = {"start": "2026-02-24", "end": "2026-03-25"}
LONG_QUERIES = [{**THIRTY_DAYS, "grain": "day"}, {"start": "2026-03-08", "end": "2026-03-08"},
                {"start": "2026-04-01", "end": "2026-04-30", "grain": "month"}]  # fmt: skip
ROUTES = ["summary", *(f"breakdown?by={by}" for by in ("team", "agent", "user", "day", "week", "month")),
          "adoption?by=team", "adoption?by=agent", "cohorts"]  # fmt: skip
API = [
    f"{route}{'&' if '?' in route else '?'}start={period['start']}&end={period['end']}"
    for period in (EVERYTHING, THIRTY_DAYS)
    for route in ROUTES
] + ["reclaim?days=30", "reclaim?days=90"]


@pytest.fixture(scope="module")
def backends(chdb, tmp_path_factory, password_hash):
    """The demo org of tests/test_clickhouse.py served by the full app (Dash included) on each backend, database
    `demo_tabs`; ClickHouse's data folder holds no events (the accounts only), so nothing it answers can come from
    the Parquet files."""
    folder = tmp_path_factory.mktemp("demo") / "data"
    org.write_rolled_up(folder, write_demo_org, tz=TZ)  # as tests/test_rollups.py's, built once per process
    init(chdb, "demo_tabs", TZ)
    load(chdb, "demo_tabs", folder)
    accounts = tmp_path_factory.mktemp("accounts") / "telemetry.sqlite"
    on_duckdb = make_app(folder, password_hash, ORG_TIMEZONE=TZ, ACCOUNTS_DB=str(accounts))
    ch = {"BACKEND": "chdb", "CHDB_PATH": str(chdb.path), "CLICKHOUSE_DATABASE": "demo_tabs", "ORG_TIMEZONE": TZ}
    on_clickhouse = make_app(tmp_path_factory.mktemp("clickhouse"), password_hash, **ch)
    return on_duckdb, on_clickhouse


def _teams(app) -> list[str]:
    response = app.test_client().get("/api/v1/breakdown?by=team&start=2025-12-22&end=2026-04-20",
                                     headers=bearer(token_for(app, "admin")))  # fmt: skip
    return sorted(row["key"] for row in response.get_json()["rows"])


def _tab_callbacks(app) -> dict[str, dict]:
    """Each tab's data callback (its query store's one input), by its store's id."""
    found = {}
    for dependency in dependencies(app):
        inputs = dependency["inputs"]
        if dependency.get("clientside_function"):
            continue  # the browser's own (a grid told to forget its rows)
        if len(inputs) == 1 and inputs[0]["property"] == "data" and inputs[0]["id"] in app.extensions[_TABS]:
            found[inputs[0]["id"]] = dependency
    return found


def _answers(app, queries: list[dict]) -> dict:
    """Every tab's outputs for each query, the people grid's first rows, the top person's panel and the exports,
    as the browser gets them."""
    client = signed_in_client(app, "admin")
    deps = dependencies(app)
    tabs = _tab_callbacks(app)
    assert set(tabs) == {ids.DASHBOARD_QUERY, ids.ANALYTICS_QUERY, ids.BILLING_QUERY, ids.USERS_QUERY,
                         ids.ADOPTION_QUERY}  # fmt: skip
    grid = dp.find(deps, rf"{ids.USERS_GRID}\.getRowsResponse")
    seats = dp.find(deps, rf"{ids.ADOPTION_RECLAIM}\.getRowsResponse")
    detail = dp.find(deps, rf"{ids.USERS_DETAIL}\.is_open")
    exports = [dp.find(deps, rf"^{ids.USERS_DOWNLOAD}\.data$"), dp.find(deps, rf"^{ids.ADOPTION_RECLAIM_DOWNLOAD}\.")]
    found = {}
    for n, query in enumerate(queries):
        for store, dependency in tabs.items():
            found[n, store] = _posted(client, dependency, {f"{store}.data": query})
        rows = {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "cost_usd", "sort": "desc"}], "filterModel": {}}
        found[n, "grid"] = _posted(client, grid, {f"{ids.USERS_GRID}.getRowsRequest": rows,
                                                 f"{ids.USERS_QUERY}.data": query})  # fmt: skip
        seats_block = {"startRow": 0, "endRow": 1000, "sortModel": [], "filterModel": {}}
        found[n, "seats"] = _posted(client, seats, {f"{ids.ADOPTION_RECLAIM}.getRowsRequest": seats_block,
                                                   f"{ids.ADOPTION_QUERY}.data": query})  # fmt: skip
        first = found[n, "grid"]["response"][ids.USERS_GRID]["getRowsResponse"]["rowData"][:1]
        found[n, "person"] = _posted(client, detail, {f"{ids.USERS_GRID}.selectedRows": first,
                                                     f"{ids.USERS_QUERY}.data": query})  # fmt: skip
        for export in exports:
            values = {f"{item['id']}.{item['property']}": 1 for item in export["inputs"]}
            values |= {f"{ids.USERS_QUERY}.data": query, f"{ids.ADOPTION_QUERY}.data": query}
            found[n, export["output"]] = _posted(client, export, values)
    return found


def _posted(client, dependency: dict, values: dict) -> object:
    response = dp.post(client, dp.payload(dependency, values))
    assert response.status_code in (200, 204), response.get_data(as_text=True)[:500]
    return response.get_json() if response.status_code == 200 else None


def _compare_tabs(backends, queries: list[dict]) -> None:
    on_duckdb, on_clickhouse = (_answers(app, queries) for app in backends)
    assert on_clickhouse.keys() == on_duckdb.keys()
    for key, answer in on_duckdb.items():
        assert answer is not None, key  # every part answered: nothing left out as "no update"
        assert on_clickhouse[key] == answer, key


def test_every_tab_answers_alike_on_both_backends(backends) -> None:
    teams = _teams(backends[0])
    assert len(teams) > 2
    _compare_tabs(backends, [EVERYTHING, {**THIRTY_DAYS, "grain": "week", "teams": teams[:2]}])


@pytest.mark.long
def test_every_tab_in_more_periods_and_scopes_answers_alike(backends) -> None:
    teams = _teams(backends[0])
    more = [{**THIRTY_DAYS, "grain": "week"}, {**THIRTY_DAYS, "teams": teams[:2]}, {**EVERYTHING, "teams": teams[1:2]}]
    _compare_tabs(backends, [*LONG_QUERIES, *more])


# A manager's answers on both backends are compared in `make test`, over the hand-made org (tests/test_clickhouse.py).
@pytest.mark.parametrize("who", ["admin", pytest.param("manager", marks=pytest.mark.long)])
def test_every_api_answer_is_the_same_on_both_backends(backends, who) -> None:
    tokens = [bearer(token_for(app, who)) for app in backends]
    for query in API:
        on_duckdb, on_clickhouse = (
            app.test_client().get(f"/api/v1/{query}", headers=token)
            for app, token in zip(backends, tokens, strict=True)
        )
        assert on_duckdb.status_code == on_clickhouse.status_code == 200, (who, query)
        assert on_clickhouse.get_json() == on_duckdb.get_json(), (who, query)


def _report(app, fmt: str, **period) -> bytes:
    ask = ReportRequest(points=ALL_POINTS, format=fmt, grain="week", **period)
    with app.test_request_context():
        return build_report(ask, Scope.organization(), "tests").content


def _cells(content: bytes) -> dict[str, list[list]]:
    """Each sheet's values; the summary's generation time left out (the two reports are made a moment apart)."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {
        sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows() if row[0].value != "Generated at"]
        for sheet in book.worksheets
    }


REPORT_PERIOD = {"start": dt.date(2026, 2, 24), "end": dt.date(2026, 3, 25)}


def test_a_report_of_every_point_is_the_same_on_both_backends(backends) -> None:
    """Every data point as CSV files (a zip), over 30 days of the demo org."""
    csv_duckdb, csv_clickhouse = (zipfile.ZipFile(io.BytesIO(_report(app, "csv", **REPORT_PERIOD))) for app in backends)
    assert csv_clickhouse.namelist() == csv_duckdb.namelist() and len(csv_duckdb.namelist()) == len(ALL_POINTS)
    for name in csv_duckdb.namelist():
        assert csv_clickhouse.read(name) == csv_duckdb.read(name), name


@pytest.mark.long
def test_an_excel_report_of_every_point_is_the_same_on_both_backends(backends) -> None:
    """The same report as an Excel workbook (the same tables: `make test-long` only)."""
    sheets_duckdb, sheets_clickhouse = (_cells(_report(app, "xlsx", **REPORT_PERIOD)) for app in backends)
    assert list(sheets_clickhouse) == list(sheets_duckdb) and len(sheets_duckdb) == len(ALL_POINTS)
    assert sheets_clickhouse == sheets_duckdb


def _from_the_dialog(app, fmt: str, search: str) -> bytes:
    """A report of every point made through the dialog's routes, as the browser asks for it: the choices become a
    ticket, Generate starts the job, and the page polls until the file comes."""
    client, deps = signed_in_client(app, "admin"), dependencies(app)
    ticket = _posted(client, dp.find(deps, rf"{ids.REPORT_TICKET}\.data"), {
        f"{ids.REPORT_POINTS}.value": list(ALL_POINTS), f"{ids.REPORT_PERIOD}.value": "shown",
        f"{ids.REPORT_GRAIN}.value": "week", f"{ids.REPORT_FORMAT}.value": fmt,
        f"{ids.SHELL_LOCATION}.search": search, f"{ids.SHELL_LOCATION}.pathname": "/telemetry",
    })["response"][ids.REPORT_TICKET]["data"]  # fmt: skip
    generate = dp.payload(dp.find(deps, rf"{ids.REPORT_DOWNLOAD}\.data"),
                          {f"{ids.REPORT_GENERATE}.n_clicks": 1, f"{ids.REPORT_TICKET}.data": ticket})  # fmt: skip
    started = dp.post(client, generate).get_json()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # the page's polling, until the job's answer is there
        answer = client.post(f"{dp.CALLBACK_URL}?cacheKey={started['cacheKey']}&job={started['job']}",
                             json=generate, headers={"Origin": dp.ORIGIN})  # fmt: skip
        assert answer.status_code == 200
        if "response" in answer.get_json():
            download = answer.get_json()["response"][ids.REPORT_DOWNLOAD]["data"]
            return base64.b64decode(download["content"])
        time.sleep(0.1)
    raise AssertionError("the report job did not finish")


def test_the_report_dialog_makes_the_same_file_on_chdb(backends) -> None:
    """On chDB the dialog's job runs on a thread of the server (no second process can open the engine): its file
    holds the same numbers as the DuckDB backend's report of the same period."""
    on_duckdb, on_clickhouse = backends
    period = {"start": dt.date(2026, 2, 24), "end": dt.date(2026, 3, 25)}
    search = "?start=2026-02-24&end=2026-03-25"
    from_dialog = zipfile.ZipFile(io.BytesIO(_from_the_dialog(on_clickhouse, "csv", search)))
    expected = zipfile.ZipFile(io.BytesIO(_report(on_duckdb, "csv", **period)))
    assert from_dialog.namelist() == expected.namelist() and len(expected.namelist()) == len(ALL_POINTS)
    for name in expected.namelist():
        assert from_dialog.read(name) == expected.read(name), name


def test_statements_run_from_threads_at_once_keep_their_own_parameters(chdb) -> None:
    """A tab's parts ask side by side (callbacks/_tab.py): each statement answers with the values it bound."""
    from concurrent.futures import ThreadPoolExecutor

    def ask(n: int) -> tuple:
        answer = chdb.arrow("select {text:String} as text, {n:UInt32} as n", {"text": f"part {n}", "n": n})
        return tuple(answer.to_pylist()[0].values())

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(ask, range(40))) == [(f"part {n}", n) for n in range(40)]


def test_a_write_from_one_thread_is_read_at_once_by_another(chdb) -> None:
    """Each thread asks on a session of its own (a tab's parts run at once): what one thread's insert wrote is in
    the answer of a statement another thread asks as soon as the insert returns, and the engine stays open when a
    thread that used it ends."""
    import threading

    import pyarrow as pa

    chdb.command("create database if not exists threads_test")
    chdb.command("create or replace table threads_test.seen (n UInt32) engine = MergeTree order by n")
    try:
        for n in range(1, 4):
            writer = threading.Thread(target=chdb.insert_arrow, args=("threads_test.seen", pa.table({"n": [n]})))
            writer.start()
            writer.join()
            answer = chdb.arrow("select groupArray(n) as ns from (select n from threads_test.seen order by n)")
            assert answer.to_pylist() == [{"ns": list(range(1, n + 1))}]
    finally:
        chdb.command("drop database threads_test")
