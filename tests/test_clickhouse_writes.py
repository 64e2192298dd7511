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

import polars as pl
import pytest

pytest.importorskip("chdb", reason="chDB is in requirements.txt: `make test` installs it")

from data import schema  # noqa: E402
from data.clickhouse.codes import Codes, forget, given  # noqa: E402
from data.clickhouse.load import load, replace_table  # noqa: E402
from data.clickhouse.schema import CODED, ROLLUPS, WINDOWS, init, rollup_select  # noqa: E402
from data.clickhouse.writes import ClickHouseStore  # noqa: E402
from data.ingest import writer  # noqa: E402
from data.ingest.otlp import decode_json  # noqa: E402
from data.ingest.quarantine import QUARANTINE  # noqa: E402
from data.ingest.validate import Directory  # noqa: E402
from data.ingest.writer import ingest_files, ingest_otlp  # noqa: E402
from tests import org  # noqa: E402
from tests.conftest import make_app  # noqa: E402
from tests.test_api import bearer, token_for  # noqa: E402
from tests.test_ingest import event, jsonl, with_prices  # noqa: E402

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
            # the bitmaps' members, the codes themselves
            people = " except users, arraySort(bitmapToArray(users)) as people" if table in CODED else ""
            if table in WINDOWS:
                members = (f"arraySort(bitmapToArray({b})) as {b}_people" for b in ("dau", "wau", "mau"))
                people = " except (dau, wau, mau), " + ", ".join(members)
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


def test_an_import_in_rounds_keeps_the_first_of_an_id_on_clickhouse_too(twins, tmp_path, monkeypatch) -> None:
    """Rounds of two rows: an id of the first round again on another date in the second is a duplicate on both
    backends, as in one round."""
    monkeypatch.setattr(writer, "MAX_ROWS_IN_MEMORY", 2)
    source = jsonl(
        tmp_path / "rounds.jsonl",
        event("n1", ts="2026-03-05T12:00:00Z", user_id="u5"),
        event("n2", ts="2026-03-06T12:00:00Z"),
        event("n1", ts="2026-03-07T12:00:00Z", user_id="u5"),
        event("n3", ts="2026-03-07T13:00:00Z"),
    )
    before = twins.count("select count() from $db.events")
    on_duckdb, on_clickhouse = twins.both("ingest", str(source))
    assert on_clickhouse == on_duckdb
    assert "read 4, written 3, duplicates 1, quarantined 0" in on_clickhouse
    assert twins.count("select count() from $db.events where event_id = 'n1'") == 1
    assert twins.count("select count() from $db.events") == before + 3
    twins.assert_same_answers()
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


def _code(twins: Twins, user_id: str) -> list[int]:
    """The codes user_codes holds for a person (one, or none)."""
    found = twins.chdb.arrow(
        f"select code from {twins.database}.user_codes where user_id = {{u:String}}",  # noqa: S608
        {"u": user_id},
    )
    return found.column("code").to_pylist()


def _people_of(twins: Twins, day: str) -> list[int]:
    """The codes in the people bitmaps of a UTC day (the twins' zone), over every team and agent."""
    found = twins.chdb.arrow(
        f"select bitmapToArray(groupBitmapMergeState(users)) as codes from {twins.database}.people_days "  # noqa: S608
        "where day = {day:Date}",
        {"day": day},
    )
    return sorted(found.column("codes").to_pylist()[0])


def test_an_unknown_persons_events_are_quarantined_until_the_directory_gives_them_a_code(twins, tmp_path) -> None:
    """Nia (u9) is in no directory: her event, from a file and from the receiver, is quarantined on both backends,
    gets her no code and reaches no rollup. Once import-directory adds her she has the next code (8: the org's 7
    people have 1-7, by team then id) and the same file writes her event, counted in the bitmaps by that code. A
    person written into `users` by hand, without a code, is unknown to validation on ClickHouse."""
    source = jsonl(
        tmp_path / "nia.jsonl",
        event("n9", ts="2026-03-05T12:00:00Z", user_id="u9"),
        event("n1", ts="2026-03-05T13:00:00Z", user_id="u5"),
    )
    on_duckdb, on_clickhouse = twins.both("ingest", str(source))
    assert on_clickhouse == on_duckdb
    assert "read 2, written 1, duplicates 0, quarantined 1" in on_clickhouse
    span = _otlp_span("00f067aa0ba902b9", 1_772_712_000 * 10**9)  # 2026-03-05 12:00 UTC
    span["attributes"] = [*span["attributes"][:-1], {"key": "user.id", "value": {"stringValue": "u9"}}]
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    for app in (twins.duckdb, twins.clickhouse):
        answer = app.test_client().post("/v1/traces", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.get_json()["partialSuccess"]["rejectedSpans"] == "1"
    refused = _quarantined(twins.clickhouse_dir)
    assert refused == _quarantined(twins.parquet_dir)
    assert len(refused) == 2 and all("unknown user 'u9'" in json.dumps(record) for record in refused)
    assert twins.count("select count() from $db.events where user_id = 'u9'") == 0
    assert _code(twins, "u9") == []
    assert _people_of(twins, "2026-03-05") == [7]  # Sam (u5) only
    twins.assert_rollups_are_the_events()

    users = tmp_path / "users.csv"
    rows = [*org.USERS, ("u9", "Nia New", "nia@test.example", "t_sales", "member")]
    users.write_text(
        "user_id,name,email,team_id,role,created_at,active\n"
        + "".join(f"{u},{n},{e},{team},{role},2026-01-01T00:00:00Z,true\n" for u, n, e, team, role in rows)
    )
    on_duckdb, on_clickhouse = twins.both("import-directory", str(users))
    assert on_clickhouse == on_duckdb == "users: 8 rows"
    assert _code(twins, "u9") == [8]
    assert twins.count("select max(code) from $db.user_codes") == 8  # the others' codes unchanged
    on_duckdb, on_clickhouse = twins.both("ingest", str(source))
    assert on_clickhouse == on_duckdb
    assert "read 2, written 1, duplicates 1, quarantined 0" in on_clickhouse
    assert _people_of(twins, "2026-03-05") == [7, 8]
    twins.assert_same_answers()
    twins.assert_rollups_are_the_events()

    twins.chdb.command(
        f"insert into {twins.database}.users (user_id, name, email, team_id, role, created_at, active) values "  # noqa: S608
        "('u10', 'Hand Written', 'hand@test.example', 't_eng', 'member', '2026-01-01 00:00:00', true)"
    )
    by_hand = jsonl(tmp_path / "hand.jsonl", event("h1", ts="2026-03-06T12:00:00Z", user_id="u10"))
    done = twins.clickhouse.test_cli_runner().invoke(args=["ingest", str(by_hand)])
    assert "read 1, written 0, duplicates 0, quarantined 1" in done.output
    assert "unknown user 'u10'" in json.dumps(_quarantined(twins.clickhouse_dir))
    assert twins.count("select count() from $db.events where user_id = 'u10'") == 0


def test_clickhouse_load_codes_the_people_of_its_events_not_in_its_directory(tmp_path, chdb) -> None:
    """A folder whose events include Sam's (u5), removed from its directory since: clickhouse-load gives him a code
    as it loads them (after the directory's 6 people, by team then id), and the bitmaps count him as DuckDB does."""
    folder = tmp_path / "data"
    org.write_org(folder, org.EVENTS)
    users = pl.read_parquet(schema.directory_dir(folder) / "users.parquet")
    users.filter(pl.col("user_id") != "u5").write_parquet(schema.directory_dir(folder) / "users.parquet")
    name = "test_load_codes"
    chdb.command(f"drop database if exists {name}")
    init(chdb, name, "UTC")
    load(chdb, name, folder)
    coded = chdb.arrow(f"select user_id, code from {name}.user_codes order by code").to_pylist()  # noqa: S608
    # the directory's: Engineering's u1, u2, u4, u7, Legal's u3, u6; then Sam of the events
    assert [tuple(row.values()) for row in coded] == [
        ("u1", 1), ("u2", 2), ("u4", 3), ("u7", 4), ("u3", 5), ("u6", 6), ("u5", 7)
    ]  # fmt: skip
    people = chdb.arrow(f"select toInt64(groupBitmapMerge(users)) as n from {name}.people_months").column("n")  # noqa: S608
    assert people.to_pylist() == [4]  # Mia, Sam, Max, Lee (tests/org.py)
    load(chdb, name, folder)  # again: no code given twice
    assert chdb.arrow(f"select count() as n from {name}.user_codes").column("n").to_pylist() == [7]  # noqa: S608
    chdb.command(f"drop database {name}")


def _users_file(path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    path.write_text(
        "user_id,name,email,team_id,role,created_at,active\n"
        + "".join(f"{u},{n},{e},{team},{role},2026-01-01T00:00:00Z,true\n" for u, n, e, team, role in rows)
    )
    return path


def _rows_holding(twins: Twins, text: str) -> dict[str, int]:
    """Per table of the database, the rows with `text` in a text column (the id a person is known by)."""
    columns = twins.chdb.arrow(
        "select c.table as t, groupArray(c.name) as names from system.columns as c join system.tables as s "
        "on s.database = c.database and s.name = c.table where c.database = {db:String} "
        "and s.engine not in ('View', 'MaterializedView') and c.type in {texts:Array(String)} group by c.table",
        {"db": twins.database, "texts": ["String", "Nullable(String)", "LowCardinality(String)"]},
    ).to_pylist()
    found = {}
    for row in columns:
        where = " or ".join(f"`{name}` = {{text:String}}" for name in row["names"])
        sql = f"select count() as n from {twins.database}.`{row['t']}` where {where}"  # noqa: S608
        found[row["t"]] = twins.chdb.arrow(sql, {"text": text}).column("n")[0].as_py()
    return {table: n for table, n in found.items() if n}


def test_an_erased_person_leaves_no_row_and_their_code_is_never_given_again(twins, tmp_path) -> None:
    """Sam (u5, code 7: the highest) removed from the directory, then purged: his events and rollup rows go on both
    backends with the same answers, and so does his code: no row of the ClickHouse database holds his id. Nia, who
    comes next, gets code 8, not Sam's 7."""
    others = [row for row in org.USERS if row[0] != "u5"]
    assert twins.both("import-directory", str(_users_file(tmp_path / "users.csv", others)))[1] == "users: 6 rows"
    assert _code(twins, "u5") == [7]  # his events are still there
    on_duckdb, on_clickhouse = twins.both("purge", "--user", "u5")
    assert on_clickhouse == on_duckdb
    assert "Purged 3 interactions" in on_clickhouse
    assert _rows_holding(twins, "u5") == {}
    assert "user_codes" in _rows_holding(twins, "u1")  # the check does see a kept person's rows
    twins.assert_same_answers()
    twins.assert_rollups_are_the_events()
    nia = ("u9", "Nia New", "nia@test.example", "t_sales", "member")
    twins.both("import-directory", str(_users_file(tmp_path / "users.csv", [*others, nia])))
    assert _code(twins, "u9") == [8]
    assert twins.count("select count() from $db.user_codes") == 7


def test_an_event_validated_before_its_persons_code_went_is_quarantined(twins, tmp_path) -> None:
    """Nia (u9) is added (code 8) and a validator reads the directory; import-directory drops her (no events: her
    code goes); then the validator's batch is written: under the lock her event is found to have no code and is
    quarantined as an unknown user's, as the file has it, with its line; Sam's is written; so is her span from the
    receiver. Uma, added next, gets code 9, not Nia's 8."""
    nia = ("u9", "Nia New", "nia@test.example", "t_sales", "member")
    cli = twins.clickhouse.test_cli_runner()

    def import_users(rows: list[tuple[str, str, str, str, str]]) -> None:
        done = cli.invoke(args=["import-directory", str(_users_file(tmp_path / "users.csv", rows))])
        assert done.exit_code == 0, done.output

    import_users([*org.USERS, nia])
    store = ClickHouseStore(twins.chdb, twins.database, twins.clickhouse_dir)
    read_before = store.directory()
    assert "u9" in read_before.user_teams
    import_users(org.USERS)
    assert _code(twins, "u9") == []

    class ReadBefore(ClickHouseStore):
        def directory(self) -> Directory:
            return read_before

    hers = event("n9", ts="2026-03-05T12:00:00Z", user_id="u9")
    source = jsonl(tmp_path / "late.jsonl", hers, event("n1", ts="2026-03-05T13:00:00Z", user_id="u5"))
    same_db = (twins.chdb, twins.database, twins.clickhouse_dir)
    done = ingest_files(twins.clickhouse_dir, [source], tz="UTC", store=ReadBefore(*same_db))
    assert (done.read, done.written, done.quarantined) == (2, 1, 1)
    assert done.reasons == (("unknown user 'u9'", 1),)
    refused = _quarantined(twins.clickhouse_dir)
    # as validation would have quarantined it: her record as the file has it (no team, no cost), and its line
    assert refused == [{"reason": "unknown user 'u9'", "source": "late.jsonl", "line": 1, "record": hers}]
    span = _otlp_span("00f067aa0ba902b9", 1_772_712_000 * 10**9)  # the receiver's way: the same check
    span["attributes"] = [*span["attributes"][:-1], {"key": "user.id", "value": {"stringValue": "u9"}}]
    request = decode_json(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}))
    done = ingest_otlp(twins.clickhouse_dir, [request], tz="UTC", store=ReadBefore(*same_db))
    assert (done.read, done.written, done.quarantined, done.reasons) == (1, 0, 1, (("unknown user 'u9'", 1),))
    assert twins.count("select count() from $db.events where user_id = 'u9'") == 0
    assert _rows_holding(twins, "u9") == {}
    twins.assert_rollups_are_the_events()
    uma = ("u10", "Uma Usher", "uma@test.example", "t_eng", "member")
    import_users([*org.USERS, uma])
    assert _code(twins, "u10") == [9]


def test_a_forgotten_top_code_is_not_given_again_after_the_rollups_are_remade(tmp_path, chdb) -> None:
    """Sam (u5) holds the highest code, 7, and is erased; `clickhouse-init` then remakes the people rollups (another
    zone), which numbers anyone without a code: the highest code given stays 7, so Nia gets 8, not Sam's 7."""
    folder = tmp_path / "data"
    org.write_org(folder, org.EVENTS)
    name = "test_top_code"
    chdb.command(f"drop database if exists {name}")
    init(chdb, name, "UTC")
    load(chdb, name, folder)
    assert chdb.arrow(f"select code from {name}.user_codes where user_id = 'u5'").to_pylist() == [{"code": 7}]  # noqa: S608
    chdb.command(f"delete from {name}.events where user_id = 'u5'")  # noqa: S608
    replace_table(chdb, name, "users", pl.from_arrow(chdb.arrow(f"select * from {name}.users where user_id != 'u5'")))  # noqa: S608
    assert forget(chdb, name) == 1
    init(chdb, name, "America/New_York")
    assert given(chdb, name) == 7
    Codes(chdb, name).give(pl.DataFrame({"user_id": ["u9"], "team_id": ["t_sales"]}))
    assert chdb.arrow(f"select code from {name}.user_codes where user_id = 'u9'").to_pylist() == [{"code": 8}]  # noqa: S608
