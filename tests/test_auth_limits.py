"""Login throttling that cannot be raced, and nothing a stranger sends can fill the disk."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest

from auth.session import address_key
from tests import dash_payloads as dp
from tests.conftest import ACCOUNTS, ORIGIN, AuthActions, make_app

WRONG = "wrong password here"
WEEK = {"dashboard-query.data": {"start": "2026-03-02", "end": "2026-03-08"}}


def store(app):
    return app.extensions["telemetry_store"]


def actions(app) -> list[str]:
    return [e["action"] for e in store(app).audit_entries(10_000)]


def failure_rows(app) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(store(app).path)) as db:
        return db.execute("select key, at from login_failures order by at").fetchall()


def test_concurrent_wrong_passwords_cannot_outrun_the_throttle(app):
    attempts = 20
    limit = app.config["LOGIN_MAX_FAILURES"]
    clients = [app.test_client() for _ in range(attempts)]
    tokens = [AuthActions(c).csrf_token() for c in clients]
    start = threading.Barrier(attempts)
    email = ACCOUNTS["manager"][0]

    def attempt(i: int) -> int:
        start.wait()
        form = {"email": email, "password": WRONG, "csrf_token": tokens[i]}
        return clients[i].post("/login", data=form, headers={"Origin": ORIGIN}).status_code

    with ThreadPoolExecutor(attempts) as pool:
        statuses = list(pool.map(attempt, range(attempts)))
    assert statuses.count(401) == limit
    assert statuses.count(429) == attempts - limit
    assert AuthActions(app.test_client()).login("manager").status_code == 429


def test_a_success_forgets_its_attempt_and_the_accounts_failures(app, client, auth):
    for _ in range(4):
        assert auth.login("manager", password=WRONG).status_code == 401
    assert auth.login("manager").status_code == 302
    assert [key for key, _at in failure_rows(app)] == ["address:127.0.0.1"] * 4


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("not an address", "not an address"),
        (None, "?"),
    ],
)
def test_address_keys(address, key):
    assert address_key(address) == key


def test_ipv6_clients_are_throttled_per_64(client, auth):
    for i in range(20):
        client.environ_base["REMOTE_ADDR"] = f"2001:db8:5:6::{i + 1:x}"
        assert auth.login(f"guess{i}@test.example", password=WRONG).status_code == 401
    client.environ_base["REMOTE_ADDR"] = "2001:db8:5:6:ffff:ffff:ffff:fffe"
    assert auth.login("admin").status_code == 429
    client.environ_base["REMOTE_ADDR"] = "2001:db8:5:7::1"
    assert auth.login("admin").status_code == 302


def test_a_huge_email_is_neither_audited_nor_throttled_on(data_dir, password_hash):
    app = make_app(data_dir, password_hash, LOGIN_MAX_FAILURES=1)  # four failures lock an address
    client = app.test_client()
    auth = AuthActions(client)
    for i in range(4):
        assert auth.login(f"guess{i}@test.example", password=WRONG).status_code == 401
    assert auth.login("admin").status_code == 429
    huge = "x" * 400_000 + "@test.example"
    for form in (
        {"email": huge, "password": WRONG},
        {"email": huge, "password": WRONG, "csrf_token": auth.csrf_token()},
    ):
        assert client.post("/login", data=form, headers={"Origin": ORIGIN}).status_code in (400, 429)
    entries = store(app).audit_entries(1000)
    assert max(len(e["actor"]) for e in entries) <= 320
    assert all(len(key) <= 400 for key, _at in failure_rows(app))


def test_bodies_over_a_mebibyte_are_refused(client, auth):
    auth.login("admin")
    body = dp.payload(dp.find(client.get("/_dash-dependencies").get_json(), "dashboard-kpis"), WEEK)
    assert dp.post(client, {**body, "padding": "x" * (1024 * 1024)}).status_code == 413
    assert dp.post(client, body).status_code == 200


def test_the_otlp_receiver_keeps_its_own_larger_limit(data_dir, password_hash):
    token = "ingest-token-for-tests-0123456789"
    app = make_app(data_dir, password_hash, INGEST_TOKEN=token)
    body = b'{"resourceSpans": []}' + b" " * (2 * 1024 * 1024)  # valid JSON, over the app-wide limit
    answer = app.test_client().post(
        "/v1/traces", data=body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200


def test_repeated_throttles_and_token_rejections_are_audited_once_a_minute(app, client, auth, monkeypatch):
    for _ in range(5):
        assert auth.login("manager", password=WRONG).status_code == 401
    for _ in range(10):
        assert auth.login("manager", password=WRONG).status_code == 429
    for i in range(10):
        assert client.get("/api/v1/summary", headers={"Authorization": f"Bearer tlm_junk{i}"}).status_code == 401
    assert actions(app).count("login_throttled") == 1
    assert actions(app).count("token_rejected") == 1
    client.environ_base["REMOTE_ADDR"] = "192.0.2.50"  # another address is another key
    client.get("/api/v1/summary", headers={"Authorization": "Bearer tlm_junk"})
    assert actions(app).count("token_rejected") == 2
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)
    monkeypatch.setattr("auth.store.utcnow", lambda: later)
    client.get("/api/v1/summary", headers={"Authorization": "Bearer tlm_junk"})
    assert actions(app).count("token_rejected") == 3
    rejected = [e for e in store(app).audit_entries(3) if e["action"] == "token_rejected"][0]
    assert rejected["remote_addr"] == "192.0.2.50" and rejected["detail"]["path"] == "/api/v1/summary"


def test_old_failures_are_deleted_when_an_attempt_is_recorded(app, auth):
    window = app.config["LOGIN_LOCK_SECONDS"]
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=window + 60)).isoformat()
    with closing(sqlite3.connect(store(app).path)) as db, db:
        db.executemany(
            "insert into login_failures (key, at) values (?, ?)", [(f"address:198.51.100.{i}", old) for i in range(100)]
        )
    assert auth.login("admin", password=WRONG).status_code == 401
    assert sorted(key for key, _at in failure_rows(app)) == [
        "account:admin@test.example|address:127.0.0.1",
        "address:127.0.0.1",
    ]


def test_throttle_audit_entries_say_which_key_was_hit(app, auth):
    for _ in range(6):
        auth.login("manager", password=WRONG)
    [entry] = [e for e in store(app).audit_entries(20) if e["action"] == "login_throttled"]
    assert entry["actor"] == ACCOUNTS["manager"][0]
    assert json.dumps(entry["detail"]) == json.dumps({"key": "account:manager@test.example|address:127.0.0.1"})


OWNER_ADDRESS = "198.51.100.10"
ATTACKER_ADDRESS = "203.0.113.66"


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client, AuthActions(client)


def test_a_stranger_cannot_lock_the_owner_out(app):
    _attacker, attacker = client_at(app, ATTACKER_ADDRESS)
    limit = app.config["LOGIN_MAX_FAILURES"]
    statuses = [attacker.login("admin", password=WRONG).status_code for _ in range(50)]
    assert statuses == [401] * limit + [429] * (50 - limit)
    _owner, owner = client_at(app, OWNER_ADDRESS)
    assert owner.login("admin").status_code == 302
    assert attacker.login("admin").status_code == 429  # the right password does not open a throttled pair


def test_an_address_stays_throttled_across_accounts(app):
    _attacker, attacker = client_at(app, ATTACKER_ADDRESS)
    per_address = app.config["LOGIN_MAX_FAILURES"] * 4
    for i in range(per_address):
        assert attacker.login(f"guess{i}@test.example", password=WRONG).status_code == 401
    assert attacker.login("manager").status_code == 429
    _owner, owner = client_at(app, OWNER_ADDRESS)
    assert owner.login("manager").status_code == 302


def test_a_success_clears_only_its_own_address_failures_on_the_account(app):
    _elsewhere, elsewhere = client_at(app, ATTACKER_ADDRESS)
    for _ in range(2):
        assert elsewhere.login("admin", password=WRONG).status_code == 401
    _owner, owner = client_at(app, OWNER_ADDRESS)
    assert owner.login("admin", password=WRONG).status_code == 401
    assert owner.login("admin").status_code == 302
    left = [f"account:admin@test.example|address:{ATTACKER_ADDRESS}"] * 2 + [f"address:{ATTACKER_ADDRESS}"] * 2
    assert sorted(key for key, _at in failure_rows(app)) == sorted([*left, f"address:{OWNER_ADDRESS}"])


@pytest.mark.parametrize(
    "header", [{"X-Forwarded-For": "192.0.2.1"}, {"Forwarded": "for=192.0.2.1"}, {"X-Real-IP": "192.0.2.1"}]
)
def test_forwarded_headers_without_trusted_proxies_are_warned_about_once(app, client, caplog, header):
    client.get("/login")
    assert not [r for r in caplog.records if "TELEMETRY_TRUSTED_PROXIES" in r.getMessage()]
    for _ in range(3):
        client.get("/login", headers=header)
    client.get("/telemetry", headers=header)
    [warning] = [r for r in caplog.records if "TELEMETRY_TRUSTED_PROXIES" in r.getMessage()]
    assert warning.levelname == "WARNING" and warning.name == app.logger.name
    assert next(iter(header)) in warning.getMessage() and "127.0.0.1" in warning.getMessage()
    assert "192.0.2.1" not in warning.getMessage()  # a header's value is the sender's to choose: not logged


def test_forwarded_headers_from_a_trusted_proxy_are_not_warned_about(data_dir, password_hash, caplog):
    app = make_app(data_dir, password_hash, TRUSTED_PROXIES=1)
    app.test_client().get("/login", headers={"X-Forwarded-For": "192.0.2.1"})
    assert not [r for r in caplog.records if "TELEMETRY_TRUSTED_PROXIES" in r.getMessage()]


def test_the_forwarded_header_warning_is_logged_once_by_concurrent_requests(app, caplog):
    clients = [app.test_client() for _ in range(8)]
    start = threading.Barrier(len(clients))

    def get(client) -> int:
        start.wait()
        return client.get("/login", headers={"X-Forwarded-For": "192.0.2.1"}).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        assert set(pool.map(get, clients)) == {200}
    assert len([r for r in caplog.records if "TELEMETRY_TRUSTED_PROXIES" in r.getMessage()]) == 1
