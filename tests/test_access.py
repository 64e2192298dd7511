"""Access control over HTTP: every route, every role, and the forged requests that must fail."""

from __future__ import annotations

import re

import pytest

from auth.gate import is_public
from tests import dash_payloads as dp
from tests.conftest import ACCOUNTS, ORIGIN

PAGES = [
    "/telemetry",
    "/telemetry/analytics",
    "/telemetry/users",
    "/telemetry/adoption",
    "/telemetry/billing",
    "/telemetry/schedules",
]
NOTICE = "This section is available only to Admin and Manager roles."
WEEK_QUERY = {"start": "2026-03-02", "end": "2026-03-08"}
WEEK = {"dashboard-query.data": WEEK_QUERY}


def week_for_teams(*teams: str) -> dict:
    return {"dashboard-query.data": {**WEEK_QUERY, "teams": ",".join(teams)}}


def dependencies(app) -> list[dict]:
    """The callback list, read as an admin (members and strangers may not read it)."""
    client = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(client).login("admin")
    return client.get("/_dash-dependencies").get_json()


def kpi_text(response) -> str:
    return response.get_data(as_text=True)


def concrete_urls(app) -> list[tuple[str, str]]:
    """Every rule in the url_map with its placeholders filled, and a method it answers."""
    urls = []
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: f"x{m.group(1)}", rule.rule)
        method = "GET" if "GET" in rule.methods else "POST"
        urls.append((url, method))
    return urls


def test_pages_redirect_strangers_to_login(client):
    for page in PAGES:
        response = client.get(page + "?start=2026-03-02")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=" + page)
    assert client.get("/").headers["Location"] == "/telemetry"


def test_every_other_route_answers_401_without_a_session(app, client):
    opened = []
    for url, method in concrete_urls(app):
        if is_public(url):
            continue
        response = client.open(url, method=method, headers={"Origin": ORIGIN}, json={})
        if url == "/logout":  # nothing to end: back to the login page
            assert (response.status_code, response.headers["Location"]) == (302, "/login")
            continue
        if response.status_code == 302:
            assert url == "/" or url.startswith("/telemetry"), url
            continue
        opened.append(url)
        assert response.status_code == 401, url
        assert response.get_json() == {"error": "authentication required"}, url
    assert {"/_dash-layout", "/_dash-dependencies", "/_dash-update-component", "/api/v1/summary"} <= set(opened)


def test_a_real_callback_without_a_session_gets_401(app, client):
    body = dp.payload(dp.find(dependencies(app), "dashboard-kpis"), WEEK)
    response = dp.post(client, body)
    assert response.status_code == 401
    assert "interactions" not in kpi_text(response).lower()


def test_members_see_the_access_notice_and_no_data(app, client, auth):
    deps = dependencies(app)
    auth.login("member")
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 403
        assert NOTICE in response.get_data(as_text=True)
        assert "contact your organization administrator" in response.get_data(as_text=True)
    for url in ("/_dash-layout", "/_dash-dependencies", "/api/v1/summary?start=2026-03-02&end=2026-03-08"):
        assert client.get(url).status_code == 403, url
    for dependency in deps:
        response = dp.post(client, dp.payload(dependency, WEEK))
        assert response.status_code == 403, dependency["output"]
        assert response.get_json() == {"error": "forbidden"}


def test_admin_gets_the_organizations_numbers(app, client, auth):
    deps = dependencies(app)
    auth.login("admin")
    response = dp.post(client, dp.payload(dp.find(deps, "dashboard-kpis"), WEEK))
    assert response.status_code == 200
    text = kpi_text(response)
    assert '"6"' in text and "$3.72" in text


def test_manager_cannot_widen_scope_with_a_forged_team_filter(app, client, auth):
    deps = dependencies(app)
    auth.login("manager")
    kpis = dp.find(deps, "dashboard-kpis")
    own = kpi_text(dp.post(client, dp.payload(kpis, WEEK)))
    assert '"5"' in own and "$1.72" in own  # Engineering and Sales only
    forged = kpi_text(dp.post(client, dp.payload(kpis, week_for_teams("t_legal"))))
    assert "$0.00" in forged and "$2.00" not in forged
    mixed = kpi_text(dp.post(client, dp.payload(kpis, week_for_teams("t_eng", "t_legal"))))
    assert '"4"' in mixed and "$0.72" in mixed  # t_eng alone; Legal dropped


def test_team_options_list_only_the_managers_teams(app, client, auth):
    deps = dependencies(app)
    auth.login("manager")
    body = dp.payload(dp.find(deps, "filter-teams.options"), {"shell-location.pathname": "/telemetry"})
    options = dp.post(client, body).get_json()["response"]["filter-teams"]["options"]
    assert [o["value"] for o in options] == ["t_eng", "t_sales"]
    assert "Legal" not in str(options)


def test_a_manager_with_no_team_sees_zero(app, client, auth):
    deps = dependencies(app)
    auth.login("idle_manager")
    text = kpi_text(dp.post(client, dp.payload(dp.find(deps, "dashboard-kpis"), WEEK)))
    assert "$0.00" in text and "No interactions in this period" in text


def test_cross_site_callback_posts_are_refused(app, client, auth):
    deps = dependencies(app)
    auth.login("admin")
    body = dp.payload(dp.find(deps, "dashboard-kpis"), WEEK)
    assert dp.post(client, body, origin="https://evil.example").status_code == 403
    no_origin = client.post(dp.CALLBACK_URL, json=body)
    assert no_origin.status_code == 403
    referer_only = client.post(dp.CALLBACK_URL, json=body, headers={"Referer": ORIGIN + "/telemetry"})
    assert referer_only.status_code == 200


def test_tampered_cookie_is_a_stranger(client, auth):
    auth.login("admin")
    cookie = client.get_cookie("telemetry_session")
    client.set_cookie("telemetry_session", cookie.value[:-3] + "abc")
    assert client.get("/telemetry").status_code == 302
    assert client.get("/_dash-layout").status_code == 401


def _replay(client, cookie_value: str, path: str = "/_dash-layout") -> int:
    client.set_cookie("telemetry_session", cookie_value)
    return client.get(path).status_code


def _sign_out(client):
    """As the pages' sign-out buttons do: a POST from our own origin (GET /logout only asks)."""
    response = client.post("/logout", headers={"Origin": ORIGIN})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    return response


def test_a_cookie_captured_before_logout_stops_working(client, auth):
    auth.login("admin")
    captured = client.get_cookie("telemetry_session").value
    assert _replay(client, captured) == 200
    _sign_out(client)
    assert _replay(client, captured) == 401


def test_password_change_and_disabling_end_sessions(app, client, auth):
    store = app.extensions["telemetry_store"]
    auth.login("manager")
    captured = client.get_cookie("telemetry_session").value
    row = store.account_by_email(ACCOUNTS["manager"][0])
    store.set_password_hash(row.id, row.password_hash)
    assert _replay(client, captured) == 401
    auth.login("legal_manager")
    captured = client.get_cookie("telemetry_session").value
    store.set_disabled(store.account_by_email(ACCOUNTS["legal_manager"][0]).id)
    assert _replay(client, captured) == 401


def test_each_login_gets_a_new_session_id(client, auth):
    auth.login("admin")
    first = client.get_cookie("telemetry_session").value
    _sign_out(client)
    auth.login("admin")
    assert client.get_cookie("telemetry_session").value != first
    assert _replay(client, first) == 401


def test_idle_sessions_expire(data_dir, password_hash):
    from tests.conftest import AuthActions, make_app

    app = make_app(data_dir, password_hash, SESSION_IDLE_MINUTES=-1)
    client = app.test_client()
    assert AuthActions(client).login("admin").status_code == 302
    assert client.get("/_dash-layout").status_code == 401


def test_session_cookie_flags(client, auth):
    response = auth.login("admin")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_returns_to_the_page_first_asked_for(client, auth):
    response = auth.login("admin", next_url="/telemetry/billing?start=2026-03-01")
    assert response.headers["Location"] == "/telemetry/billing?start=2026-03-01"


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "http:/x"]
)
def test_no_open_redirect(client, auth, target):
    assert auth.login("admin", next_url=target).headers["Location"] == "/telemetry"


def test_wrong_password_and_unknown_account_read_the_same(client, auth):
    wrong = auth.login("admin", password="not the password at all")
    unknown = auth.login("nobody@test.example")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "Invalid email or password." in response.get_data(as_text=True)


def test_login_form_needs_its_csrf_token(client):
    email, _user, _role = ACCOUNTS["admin"]
    response = client.post("/login", data={"email": email, "password": "x" * 20}, headers={"Origin": ORIGIN})
    assert response.status_code == 400


def test_login_throttling_per_account_survives_a_spoofed_forwarded_for(client, auth):
    for _ in range(5):
        assert auth.login("manager", password="wrong password here").status_code == 401
    email, _user, _role = ACCOUNTS["manager"]
    response = client.post(
        "/login",
        data={"email": email, "password": "correct horse battery staple", "csrf_token": auth.csrf_token()},
        headers={"Origin": ORIGIN, "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert auth.login("admin").status_code == 302  # another account from the same address still works


def test_login_throttling_per_address(client, auth):
    for i in range(20):
        auth.login(f"guess{i}@test.example", password="wrong password here")
    assert auth.login("admin").status_code == 429


def test_logins_and_failures_are_audited(app, auth):
    auth.login("admin", password="wrong password here")
    auth.login("admin")
    actions = [(e["actor"], e["action"]) for e in app.extensions["telemetry_store"].audit_entries(10)]
    assert ("admin@test.example", "login") in actions
    assert ("admin@test.example", "login_failed") in actions


def test_security_headers(client, auth):
    for response in (client.get("/login"), client.get("/_dash-layout")):
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
        assert "script-src 'self' 'sha256-" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    auth.login("admin")
    assert client.get("/_dash-layout").headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/summary?start=2026-03-02&end=2026-03-08").headers["Cache-Control"] == "no-store"


def test_errors_never_show_a_traceback(app, client, auth):
    @app.route("/telemetry/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.testing = False
    auth.login("admin")
    response = client.get("/telemetry/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
