"""Writes on the ClickHouse backend (data/clickhouse/writes.py): `flask ingest`, `import-directory`, `purge` and the
OTLP receiver with TELEMETRY_BACKEND=chdb write the organization's ClickHouse database, with the same readers,
validation and quarantine as on Parquet; each test does the same write on both backends over the hand-made org
(tests/org.py) and requires the same command output, the same quarantine records and the same API answers, and
rollups that are what the events make (the materialized views' rows, and a purge's correction of them).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("chdb", reason="chDB is in requirements.txt: `make test` installs it")

from data.clickhouse.load import load  # noqa: E402
from data.clickhouse.schema import ROLLUPS, init, rollup_select  # noqa: E402
from data.ingest.quarantine import QUARANTINE  # noqa: E402
from tests import org  # noqa: E402
from tests.conftest import make_app  # noqa: E402
from tests.test_api import bearer, token_for  # noqa: E402
from tests.test_ingest import event, jsonl, with_prices  # noqa: E402

SETS = ("user_sets", "user_weeks")  # rollups of exact sets: compared by their people

TOKEN = "ingest-token-for-tests-0123456789"
WEEKS = "start=2026-02-20&end=2026-03-31"
ANSWERS = [f"summary?{WEEKS}", *(f"breakdown?by={by}&{WEEKS}" for by in ("team", "agent", "user", "day")),
           f"adoption?by=team&{WEEKS}"]  # fmt: skip


class Twins:
    """The hand-made org (with prices) on both backends: DuckDB over a data folder, and ClickHouse (database
    `database` of the shared chDB engine) with a data folder of its own that holds no events (the lock, the
    quarantine and the accounts only)."""

    def __init__(self, tmp_path: Path, password_hash: str, chdb, database: str) -> None:
        self.chdb, self.database = chdb, database
        self.parquet_dir, self.clickhouse_dir = tmp_path / "parquet", tmp_path / "clickhouse"
        org.write_org_rolled_up(self.parquet_dir)
        with_prices(self.parquet_dir)
        self.clickhouse_dir.mkdir()
        init(chdb, database, "UTC")
        load(chdb, database, self.parquet_dir)
        more = {"INGEST_TOKEN": TOKEN}
        self.duckdb = make_app(self.parquet_dir, password_hash, **more)
        ch = {"BACKEND": "chdb", "CHDB_PATH": str(chdb.path), "CLICKHOUSE_DATABASE": database}
        self.clickhouse = make_app(self.clickhouse_dir, password_hash, **more, **ch)

    def both(self, *args: str) -> tuple[str, str]:
        """A command run on each backend: their outputs, timings and the rollups' lines left out."""
        outputs = []
        for app in (self.duckdb, self.clickhouse):
            done = app.test_cli_runner().invoke(args=list(args))
            outputs.append(_steady(done.output))
        return outputs[0], outputs[1]

    def assert_same_answers(self, who: str = "admin") -> None:
        """The API's answers over the org's weeks (totals; by team, agent, person and day; adoption) are the same
        on both (tests/test_clickhouse.py compares them all, for every role)."""
        tokens = [bearer(token_for(app, who)) for app in (self.duckdb, self.clickhouse)]
        for query in ANSWERS:
            on_duckdb = self.duckdb.test_client().get(f"/api/v1/{query}", headers=tokens[0])
            on_clickhouse = self.clickhouse.test_client().get(f"/api/v1/{query}", headers=tokens[1])
            assert on_duckdb.status_code == on_clickhouse.status_code == 200, (who, query)
            assert on_clickhouse.get_json() == on_duckdb.get_json(), (who, query)

    def summary(self, app, period: str = "start=2026-02-01&end=2026-03-31") -> dict:
        answer = app.test_client().get(f"/api/v1/summary?{period}", headers=bearer(token_for(app, "admin")))
        return answer.get_json()

    def count(self, sql: str) -> int:
        return self.chdb.arrow(sql.replace("$db", self.database)).column(0)[0].as_py()

    def assert_rollups_are_the_events(self) -> None:
        """Each rollup table, its rows merged, holds what its select makes from the events now."""
        for table in ROLLUPS:
            self.chdb.command(f"optimize table {self.database}.{table} final")
            people = " except users, finalizeAggregation(users) as people" if table in SETS else ""
            kept, made = (
                self.chdb.arrow(f"select *{people} from ({source}) order by all").to_pylist()  # noqa: S608
                for source in (f"select * from {self.database}.{table}", rollup_select(table, self.database, "UTC"))  # noqa: S608
            )
            assert kept == made, table


def _steady(output: str) -> str:
    lines = [line for line in output.splitlines() if not line.startswith(("rollups:", "quarantine:"))]
    return re.sub(r" \(\d+\.\d s\)", "", "\n".join(lines))


def _quarantined(data_dir: Path) -> list[dict]:
    """The quarantine's records, each without the source file's folder."""
    found = []
    for path in sorted((data_dir / QUARANTINE).glob("*.jsonl")):
        found.extend(json.loads(line) for line in path.read_text().splitlines())
    return found


@pytest.fixture
def twins(tmp_path, password_hash, chdb, request) -> Twins:
    return Twins(tmp_path, password_hash, chdb, re.sub(r"\W", "_", request.node.name)[:60])


def test_ingest_writes_into_clickhouse_as_into_parquet_once(twins, tmp_path) -> None:
    """Two new events (one repeated in the file), e1 again (a duplicate), a record refused twice over: the same
    counts, quarantine and answers on both backends; the same file again writes nothing on ClickHouse."""
    source = jsonl(
        tmp_path / "more.jsonl",
        event("n1", ts="2026-03-05T12:00:00Z", user_id="u5", agent_id="a_code"),
        event("n2", ts="2026-03-10T09:00:00Z", user_id="u3", agent_id="a_draft", model="half-model"),
        event("n1", ts="2026-03-05T12:00:00Z", user_id="u5", agent_id="a_code"),
        event("e1", ts="2026-03-02T10:00:00Z"),
        event("bad", input_tokens=-1, agent_id="a_nobody"),
    )
    before = twins.count("select count() from $db.events")
    on_duckdb, on_clickhouse = twins.both("ingest", str(source))
    assert on_clickhouse == on_duckdb
    assert "read 5, written 2, duplicates 2, quarantined 1" in on_clickhouse
    assert _quarantined(twins.clickhouse_dir) == _quarantined(twins.parquet_dir) != []
    assert twins.count("select count() from $db.events") == before + 2
    twins.assert_same_answers()
    twins.assert_rollups_are_the_events()
    again = twins.clickhouse.test_cli_runner().invoke(args=["ingest", str(source)])
    assert "read 5, written 0, duplicates 4, quarantined 1" in again.output
    assert twins.count("select count() from $db.events") == before + 2
    twins.assert_rollups_are_the_events()


def _otlp_span(span_id: str, at_ns: int) -> dict:
    return {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": span_id,
        "name": "invoke_agent Code Helper",
        "startTimeUnixNano": str(at_ns),
        "endTimeUnixNano": str(at_ns + 1_500_000_000),
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}},
            {"key": "gen_ai.agent.id", "value": {"stringValue": "a_code"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": "claude-sonnet-4.5"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "200"}},
            {"key": "user.id", "value": {"stringValue": "u4"}},
        ],
    }


def test_the_otlp_receiver_writes_into_clickhouse_once(twins) -> None:
    """A span posted to /v1/traces is an interaction the API answers with at once, on both backends alike; posted
    again, it is not counted twice; a span for nobody known goes to the quarantine on both."""
    at = 1_772_618_400 * 10**9  # 2026-03-04 10:00 UTC
    unknown = {**_otlp_span("00f067aa0ba902b8", at), "attributes": [{"key": "gen_ai.agent.id",
               "value": {"stringValue": "a_nobody"}}]}  # fmt: skip
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [_otlp_span("00f067aa0ba902b7", at), unknown]}]}]}
    before = twins.summary(twins.clickhouse)
    for _ in range(2):
        for app in (twins.duckdb, twins.clickhouse):
            headers = {"Authorization": f"Bearer {TOKEN}"}
            answer = app.test_client().post("/v1/traces", json=body, headers=headers)
            assert answer.status_code == 200, answer.get_data(as_text=True)
            assert answer.get_json()["partialSuccess"]["rejectedSpans"] == "1"
    after = twins.summary(twins.clickhouse)
    assert after["interactions"] == before["interactions"] + 1
    assert after["cost_usd"] == "%.6f" % (float(before["cost_usd"]) + 0.005)  # 1000 × $2.5 + 200 × $12.5 per Mtok
    assert _quarantined(twins.clickhouse_dir) == _quarantined(twins.parquet_dir) != []
    twins.assert_same_answers()
    twins.assert_rollups_are_the_events()


@pytest.mark.parametrize(
    "selectors",
    [
        ["--user", "u5"],  # e3, e7, e8: three UTC dates of March
        ["--from", "2026-02-25", "--to", "2026-02-25"],  # e0: February left without events
        ["--event-id", "e4", "--event-id", "e6", "--from", "2026-03-03"],
    ],
    ids=["user", "a-month-emptied", "ids-and-dates"],
)
def test_purge_removes_from_clickhouse_as_from_parquet(twins, selectors) -> None:
    """The same dates, counts and costs removed, the same answers afterwards, rollups made again from the events
    (February's dropped when it has none left); a dry run first changes nothing."""
    before = twins.count("select count() from $db.events")
    dry_duckdb, dry_clickhouse = twins.both("purge", *selectors, "--dry-run")
    assert dry_clickhouse == dry_duckdb
    assert twins.count("select count() from $db.events") == before
    on_duckdb, on_clickhouse = twins.both("purge", *selectors)
    assert on_clickhouse == on_duckdb
    assert "Purged" in on_clickhouse
    twins.assert_same_answers()
    twins.assert_rollups_are_the_events()
    assert twins.count("select count() from system.tables where database = '$db' and name like '%_fix'") == 0
    assert twins.count("select count() from $db.events") < before
    assert twins.both("purge", *selectors)[1] == "Purged 0 interactions ($0.000000) from 0 UTC dates."


def test_purge_of_an_unknown_user_is_refused_on_clickhouse_too(twins) -> None:
    on_duckdb, on_clickhouse = twins.both("purge", "--user", "nobody")
    assert on_clickhouse == on_duckdb
    assert "unknown user 'nobody'" in on_clickhouse


def test_import_directory_replaces_clickhouse_tables_as_parquet_files(twins, tmp_path) -> None:
    """Sales renamed and Sam moved to Legal: the same answers on both backends; a file with a dangling team
    changes nothing on either, with the same messages."""
    teams = tmp_path / "teams.csv"
    teams.write_text("team_id,name\nt_eng,Engineering\nt_sales,Field Sales\nt_legal,Legal\n")
    users = tmp_path / "users.csv"
    users.write_text(
        "user_id,name,email,team_id,role,created_at,active\n"
        + "".join(
            f"{u},{name},{email},{'t_legal' if u == 'u5' else team},{role},2026-01-01T00:00:00Z,true\n"
            for u, name, email, team, role in org.USERS
        )
    )
    on_duckdb, on_clickhouse = twins.both("import-directory", str(teams), str(users))
    assert on_clickhouse == on_duckdb == "teams: 3 rows\nusers: 7 rows"
    twins.assert_same_answers()
    breakdown = "/api/v1/breakdown?by=team&start=2026-02-20&end=2026-03-10"
    answer = twins.clickhouse.test_client().get(breakdown, headers=bearer(token_for(twins.clickhouse, "admin")))
    assert "Field Sales" in answer.get_data(as_text=True)
    dangling = tmp_path / "bad" / "teams.csv"
    dangling.parent.mkdir()
    dangling.write_text("team_id,name\nt_eng,Engineering\n")
    refused = twins.both("import-directory", str(dangling))
    assert refused[1] == refused[0]
    assert "Nothing was imported." in refused[1]
    assert twins.count("select count() from $db.teams") == 3


def test_answers_on_clickhouse_are_kept_until_a_write_changes_the_data(twins, tmp_path, results) -> None:
    """ClickHouse's answers are kept as DuckDB's (queries/cache.py), keyed by the database's data version: asked
    again, the summary runs no question; an ingest that writes makes the next answer count its event; one that
    writes nothing keeps the answers (a server's writers elsewhere: tests/test_clickhouse_http.py)."""
    app = twins.clickhouse
    before = twins.summary(app)
    ran = results.misses["question"]
    assert ran > 0
    assert twins.summary(app) == before and results.misses["question"] == ran  # kept: nothing asked again
    source = jsonl(tmp_path / "one.jsonl", event("n1", ts="2026-03-05T12:00:00Z", user_id="u5"))
    assert "written 1" in app.test_cli_runner().invoke(args=["ingest", str(source)]).output
    after_ingest = twins.summary(app)
    assert after_ingest["interactions"] == before["interactions"] + 1
    ran = results.misses["question"]
    assert "written 0" in app.test_cli_runner().invoke(args=["ingest", str(source)]).output
    assert twins.summary(app) == after_ingest and results.misses["question"] == ran  # nothing written: still kept
