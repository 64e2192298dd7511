"""One kind of credential per request, and a session cookie that only works from where it was issued."""

from __future__ import annotations

from tests import dash_payloads as dp
from tests.conftest import ACCOUNTS, AuthActions, make_app

WEEK = {"dashboard-query.data": {"start": "2026-03-02", "end": "2026-03-08"}}
SUMMARY = "/api/v1/summary?start=2026-03-02&end=2026-03-08"
EVIL = "https://evil.example"
VICTIM = "198.51.100.7"
ATTACKER = "203.0.113.66"


def kpis_body(client) -> dict:
    """The Dashboard's KPI callback as the browser posts it (read while signed in as admin)."""
    return dp.payload(dp.find(client.get("/_dash-dependencies").get_json(), "dashboard-kpis"), WEEK)


def token_for(app, who: str) -> str:
    store = app.extensions["telemetry_store"]
    return store.create_token(store.account_by_email(ACCOUNTS[who][0]).id)


def test_a_junk_token_does_not_let_a_cookie_skip_the_origin_check(client, auth):
    auth.login("admin")
    body = kpis_body(client)
    forged = client.post(dp.CALLBACK_URL, json=body, headers={"Origin": EVIL, "Authorization": "Bearer junk"})
    assert forged.status_code in (401, 403)
    assert "$3.72" not in forged.get_data(as_text=True)
    no_origin = client.post(dp.CALLBACK_URL, json=body, headers={"Authorization": "Bearer junk"})
    assert no_origin.status_code in (401, 403)
    assert dp.post(client, body).status_code == 200  # the same cookie from our own page still works


def test_with_a_bearer_header_only_the_token_counts(client, auth):
    auth.login("admin")
    for header in ("Bearer tlm_junk", "Bearer ", "bearer tlm_junk"):
        assert client.get(SUMMARY, headers={"Authorization": header}).status_code == 401, header
        assert client.get("/_dash-layout", headers={"Authorization": header}).status_code == 401, header
    assert client.get(SUMMARY).status_code == 200


def test_a_valid_token_needs_no_origin_and_no_cookie(app, client, auth):
    auth.login("admin")
    body = kpis_body(client)
    fresh = app.test_client()
    answer = fresh.post(dp.CALLBACK_URL, json=body, headers={"Authorization": f"Bearer {token_for(app, 'admin')}"})
    assert answer.status_code == 200 and "$3.72" in answer.get_data(as_text=True)


def test_a_members_cookie_does_not_lend_its_session_to_an_admin_token_request(app, client, auth):
    auth.login("member")
    assert client.get(SUMMARY).status_code == 403
    assert client.get(SUMMARY, headers={"Authorization": f"Bearer {token_for(app, 'admin')}"}).status_code == 200


def test_a_cookie_replayed_from_another_address_is_signed_out(app):
    victim = app.test_client()
    victim.environ_base["REMOTE_ADDR"] = VICTIM
    assert AuthActions(victim).login("admin").status_code == 302
    captured = victim.get_cookie("telemetry_session").value
    assert victim.get("/_dash-layout").status_code == 200
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = ATTACKER
    attacker.set_cookie("telemetry_session", captured)
    assert attacker.get("/_dash-layout", headers={"X-Forwarded-For": VICTIM}).status_code == 401
    assert attacker.get("/telemetry", headers={"X-Forwarded-For": VICTIM}).status_code == 302
    assert victim.get("/_dash-layout").status_code == 200


def test_behind_a_trusted_proxy_the_proxys_address_for_the_client_counts(data_dir, password_hash):
    app = make_app(data_dir, password_hash, TRUSTED_PROXIES=1)
    proxy = "10.0.0.2"
    victim = app.test_client()
    victim.environ_base.update(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=VICTIM)
    assert AuthActions(victim).login("admin").status_code == 302
    captured = victim.get_cookie("telemetry_session").value
    assert victim.get("/_dash-layout").status_code == 200
    attacker = app.test_client()
    attacker.set_cookie("telemetry_session", captured)
    # The attacker claims the victim's address; the proxy appends the one it really saw.
    spoofed = {"REMOTE_ADDR": proxy, "HTTP_X_FORWARDED_FOR": f"{VICTIM}, {ATTACKER}"}
    assert attacker.get("/_dash-layout", environ_overrides=spoofed).status_code == 401
