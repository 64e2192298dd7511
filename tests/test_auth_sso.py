"""Single sign-on through a real OpenID provider on loopback (tests/oidc_provider.py): the provider proves who
signs in, the directory decides whether they may and with which role; sessions, CSRF, audit and throttling as
for a password."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
import requests

from app import ConfigError, create_app
from data import schema
from tests import org
from tests.conftest import ACCOUNTS, ORIGIN, AuthActions, make_app, sso_config
from tests.oidc_provider import CLIENT_ID, free_port

WEEK = "start=2026-03-02&end=2026-03-08"


@pytest.fixture
def sso_app(data_dir, password_hash, provider):
    return make_app(data_dir, password_hash, **sso_config(provider.url))


@pytest.fixture
def sso_client(sso_app):
    return sso_app.test_client()


def store(app):
    return app.extensions["telemetry_store"]


def last_audit(app, action: str | None = None) -> dict:
    entries = store(app).audit_entries(50)
    return next(entry for entry in entries if action is None or entry["action"] == action)


def start(client, next_url: str = "") -> str:
    """Press "Sign in with …": the provider's authorization URL we are sent to."""
    token = AuthActions(client).csrf_token()
    target = f"/login/sso?next={next_url}" if next_url else "/login/sso"
    answer = client.post(target, data={"csrf_token": token}, headers={"Origin": ORIGIN})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer.headers["Location"]


def sso_sign_in(client, provider, email: str, next_url: str = ""):
    """The whole round: our button, the provider's form approved as `email`, the callback."""
    callback = provider.authorize(start(client, next_url), email)
    return client.get(callback)


def signed_in(client) -> bool:
    return client.get("/telemetry/dashboard").status_code == 200


def refused(answer, status: int, text: str) -> None:
    assert answer.status_code == status
    assert text in answer.get_data(as_text=True)


# --- The login page ---------------------------------------------------------------------------------------


def test_the_login_page_offers_the_provider_beside_the_password(sso_client):
    page = sso_client.get("/login").get_data(as_text=True)
    assert "Sign in with Acme ID" in page and 'id="sso-submit"' in page
    assert 'name="password"' in page


def test_without_a_provider_the_login_page_is_the_password_form(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with" not in page and 'name="password"' in page
    assert client.post("/login/sso", headers={"Origin": ORIGIN}).status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404


# --- Signing in ---------------------------------------------------------------------------------------------


def test_an_admin_signs_in_through_the_provider_with_pkce_state_and_nonce(sso_app, sso_client, provider):
    provider.set_user(ACCOUNTS["admin"][0], email_verified=True)
    location = start(sso_client, "/telemetry/users")
    asked = parse_qs(urlsplit(location).query)
    assert location.startswith(f"{provider.url}/oauth2/authorize?")
    assert asked["response_type"] == ["code"] and asked["client_id"] == [CLIENT_ID]
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
    assert asked["state"][0] and asked["nonce"][0] and set(asked["scope"][0].split()) >= {"openid", "email"}
    answer = sso_client.get(provider.authorize(location, ACCOUNTS["admin"][0]))
    assert answer.status_code == 302 and answer.headers["Location"] == "/telemetry/users"
    assert signed_in(sso_client)
    entry = last_audit(sso_app, "login")
    assert entry["actor"] == ACCOUNTS["admin"][0] and entry["detail"] == {"role": "admin", "via": "sso"}


def test_the_directory_decides_the_role_not_the_providers_claims(sso_app, sso_client, provider):
    """The manager's provider says admin, in every way it could: the directory says manager, of two teams."""
    email = ACCOUNTS["manager"][0]
    provider.set_user(email, email_verified=True, role="admin", groups=["admins"], roles=["admin"])
    assert sso_sign_in(sso_client, provider, email).status_code == 302
    assert last_audit(sso_app, "login")["detail"]["role"] == "manager"
    rows = sso_client.get(f"/api/v1/breakdown?by=team&{WEEK}").get_json()["rows"]
    assert [row["key"] for row in rows] == ["t_eng", "t_sales"]


def test_a_person_without_an_account_gets_one_from_the_directory(sso_app, sso_client, provider):
    """Sam is in the directory (a member) with no login account: the first sign-in makes one, with no password."""
    provider.set_user("sam@test.example", email_verified=True)
    assert sso_sign_in(sso_client, provider, "sam@test.example").status_code == 302
    account = store(sso_app).account_by_email("sam@test.example")
    assert (account.user_id, account.role) == ("u5", "member")
    assert sso_client.get("/telemetry/dashboard").status_code == 403  # a member: the access notice, as by password
    sso_client.post("/logout", headers={"Origin": ORIGIN})
    assert AuthActions(sso_client).login("sam@test.example", password="!sso").status_code == 401


# --- The provider's answer, checked ---------------------------------------------------------------------------


def test_a_wrong_state_is_refused(sso_app, sso_client, provider):
    provider.set_user(ACCOUNTS["admin"][0], email_verified=True)
    callback = provider.authorize(start(sso_client), ACCOUNTS["admin"][0])
    state = parse_qs(urlsplit(callback).query)["state"][0]
    refused(sso_client.get(callback.replace(state, "forged-state")), 400, "not started here")
    assert not signed_in(sso_client)
    assert last_audit(sso_app, "login_refused")["detail"] == {"via": "sso", "reason": "state"}


def test_a_callback_this_browser_did_not_start_is_refused(sso_app, provider, sso_client):
    """Login CSRF: another browser's (an attacker's) code and state, delivered to ours."""
    provider.set_user(ACCOUNTS["admin"][0], email_verified=True)
    callback = provider.authorize(start(sso_app.test_client()), ACCOUNTS["admin"][0])
    refused(sso_client.get(callback), 400, "not started here")
    assert not signed_in(sso_client)


def test_a_replayed_code_is_refused(sso_app, sso_client, provider):
    email = ACCOUNTS["admin"][0]
    provider.set_user(email, email_verified=True)
    callback = provider.authorize(start(sso_client), email)
    assert sso_client.get(callback).status_code == 302
    sso_client.post("/logout", headers={"Origin": ORIGIN})
    # The same callback again: its state was used up.
    refused(sso_client.get(callback), 400, "not started here")
    # The used code with a fresh state of this browser: the provider refuses to exchange it again.
    code = parse_qs(urlsplit(callback).query)["code"][0]
    fresh = parse_qs(urlsplit(start(sso_client)).query)["state"][0]
    refused(sso_client.get(f"/login/sso/callback?code={code}&state={fresh}"), 400, "refused the sign-in")
    assert not signed_in(sso_client)
    assert last_audit(sso_app, "login_refused")["detail"] == {"via": "sso", "reason": "token:invalid_grant"}


@pytest.mark.parametrize(
    ("changes", "foreign_key"),
    [
        pytest.param({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, False, id="expired"),
        pytest.param({}, True, id="signed-by-another-key"),
        pytest.param({"aud": "another-client"}, False, id="another-audience"),
        pytest.param({"iss": "https://impostor.example"}, False, id="another-issuer"),
        pytest.param({"nonce": "not-our-nonce"}, False, id="another-nonce"),
    ],
)
def test_an_id_token_that_does_not_verify_is_refused(sso_app, sso_client, provider, changes, foreign_key):
    provider.set_user(ACCOUNTS["admin"][0], email_verified=True)
    provider.id_token_changes, provider.foreign_key = changes, foreign_key
    refused(sso_sign_in(sso_client, provider, ACCOUNTS["admin"][0]), 400, "could not be verified")
    assert not signed_in(sso_client)
    assert last_audit(sso_app, "login_refused")["detail"]["reason"].startswith("id_token:")


def test_a_person_who_denies_at_the_provider_is_told_so(sso_app, sso_client, provider):
    answer = requests.post(start(sso_client), data={"action": "deny"}, allow_redirects=False, timeout=10)
    refused(sso_client.get(answer.headers["Location"]), 400, "Acme ID did not sign you in (access_denied)")
    assert not signed_in(sso_client)
    assert last_audit(sso_app, "login_refused")["detail"] == {"via": "sso", "reason": "provider:access_denied"}


def test_an_unknown_email_is_refused(sso_app, sso_client, provider):
    provider.set_user("stranger@test.example", email_verified=True)
    refused(sso_sign_in(sso_client, provider, "stranger@test.example"), 403, "not in the organization")
    assert not signed_in(sso_client) and store(sso_app).account_by_email("stranger@test.example") is None
    entry = last_audit(sso_app, "login_refused")
    assert entry["actor"] == "stranger@test.example"
    assert entry["detail"] == {"via": "sso", "reason": "not_in_directory"}


@pytest.mark.parametrize("verified", [False, None, "false"])
def test_an_unverified_email_is_refused(sso_app, sso_client, provider, verified):
    claims = {} if verified is None else {"email_verified": verified}
    provider.set_user(ACCOUNTS["admin"][0], **claims)
    refused(sso_sign_in(sso_client, provider, ACCOUNTS["admin"][0]), 403, "has not verified")
    assert not signed_in(sso_client)
    assert last_audit(sso_app, "login_refused")["detail"] == {"via": "sso", "reason": "email_not_verified"}


def test_only_the_allowed_domains_sign_in(data_dir, password_hash, provider):
    app = make_app(data_dir, password_hash, **sso_config(provider.url, OIDC_ALLOWED_DOMAINS="acme.example, @x.example"))
    client = app.test_client()
    provider.set_user(ACCOUNTS["admin"][0], email_verified=True)
    refused(sso_sign_in(client, provider, ACCOUNTS["admin"][0]), 403, "not in a domain allowed")
    assert last_audit(app, "login_refused")["detail"] == {"via": "sso", "reason": "domain"}


# --- Disabled and left: refused with a valid token, their sessions end at the next request ---------------------


def set_active(data_dir, user_id: str, active: bool) -> None:
    path = schema.directory_dir(data_dir) / "users.parquet"
    people = pl.read_parquet(path)
    people = people.with_columns(
        pl.when(pl.col("user_id") == user_id).then(active).otherwise(pl.col("active")).alias("active")
    )
    people.write_parquet(path)


def test_a_disabled_account_is_refused(sso_app, sso_client, provider):
    email = ACCOUNTS["manager"][0]
    store(sso_app).set_disabled(store(sso_app).account_by_email(email).id)
    provider.set_user(email, email_verified=True)
    refused(sso_sign_in(sso_client, provider, email), 403, "disabled")
    assert not signed_in(sso_client)
    assert last_audit(sso_app, "login_refused")["detail"] == {"via": "sso", "reason": "disabled"}


def test_a_person_who_left_is_refused(sso_app, sso_client, provider, data_dir):
    email = ACCOUNTS["manager"][0]
    set_active(data_dir, "u2", False)
    provider.set_user(email, email_verified=True)
    refused(sso_sign_in(sso_client, provider, email), 403, "no longer active")
    assert not signed_in(sso_client)
    assert last_audit(sso_app, "login_refused")["detail"] == {"via": "sso", "reason": "left"}


@pytest.mark.parametrize("how", ["sso", "password"])
def test_the_session_of_a_person_who_leaves_ends_at_the_next_request(sso_app, sso_client, provider, data_dir, how):
    email = ACCOUNTS["manager"][0]
    provider.set_user(email, email_verified=True)
    if how == "sso":
        sso_sign_in(sso_client, provider, email)
    else:
        AuthActions(sso_client).login("manager")
    assert signed_in(sso_client)
    set_active(data_dir, "u2", False)
    answer = sso_client.get("/telemetry/dashboard")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    set_active(data_dir, "u2", True)  # back: the session stays ended, a new sign-in is needed
    assert not signed_in(sso_client)


def test_the_sso_session_of_a_person_taken_out_of_the_directory_ends(sso_client, provider, data_dir):
    """A password account needs no directory row (before the directory is imported); a sign-in by SSO does."""
    email = ACCOUNTS["manager"][0]
    provider.set_user(email, email_verified=True)
    sso_sign_in(sso_client, provider, email)
    assert signed_in(sso_client)
    path = schema.directory_dir(data_dir) / "users.parquet"
    pl.read_parquet(path).filter(pl.col("user_id") != "u2").write_parquet(path)
    assert not signed_in(sso_client)


def test_the_api_token_of_a_person_who_left_stops_working(sso_app, sso_client, data_dir):
    store_ = store(sso_app)
    token = store_.create_token(store_.account_by_email(ACCOUNTS["manager"][0]).id)
    headers = {"Authorization": f"Bearer {token}"}
    assert sso_client.get(f"/api/v1/summary?{WEEK}", headers=headers).status_code == 200
    set_active(data_dir, "u2", False)
    assert sso_client.get(f"/api/v1/summary?{WEEK}", headers=headers).status_code == 401


def test_a_disabled_persons_sso_session_ends_at_the_next_request(sso_app, sso_client, provider):
    email = ACCOUNTS["manager"][0]
    provider.set_user(email, email_verified=True)
    sso_sign_in(sso_client, provider, email)
    assert signed_in(sso_client)
    store(sso_app).set_disabled(store(sso_app).account_by_email(email).id)
    assert not signed_in(sso_client)


# --- The provider down -------------------------------------------------------------------------------------


@pytest.mark.parametrize("password_login", [True, False])
def test_a_provider_that_is_down_gets_a_clear_message(data_dir, password_hash, password_login):
    down = f"http://127.0.0.1:{free_port()}"
    config = sso_config(down, PASSWORD_LOGIN=password_login, BREAK_GLASS_ADMIN=ACCOUNTS["admin"][0])
    app = make_app(data_dir, password_hash, **config)
    client = app.test_client()
    token = AuthActions(client).csrf_token()
    answer = client.post("/login/sso", data={"csrf_token": token}, headers={"Origin": ORIGIN})
    refused(answer, 503, "Acme ID cannot be reached just now")
    page = answer.get_data(as_text=True)
    assert ("sign in with your password" in page) is password_login
    assert ('name="password"' in page) is password_login
    assert last_audit(app, "login_refused")["detail"] == {"via": "sso", "reason": "provider_unavailable"}
    if password_login:  # the password still signs in
        assert AuthActions(client).login("manager").status_code == 302 and signed_in(client)


# --- Group-claim mapping: only when an admin sets it --------------------------------------------------------


@pytest.fixture
def mapped_app(data_dir, password_hash, provider):
    mapping = {
        "OIDC_GROUPS_CLAIM": "groups",
        "OIDC_ADMIN_GROUPS": "telemetry-admins",
        "OIDC_MANAGER_GROUPS": "telemetry-managers, eng-leads",
    }
    return make_app(data_dir, password_hash, **sso_config(provider.url, **mapping))


def test_a_mapped_group_claim_gives_the_role(mapped_app, provider):
    client = mapped_app.test_client()
    provider.set_user(ACCOUNTS["member"][0], email_verified=True, groups=["staff", "telemetry-admins"])
    assert sso_sign_in(client, provider, ACCOUNTS["member"][0]).status_code == 302
    assert last_audit(mapped_app, "login")["detail"] == {"role": "admin", "via": "sso"}
    rows = client.get(f"/api/v1/breakdown?by=team&{WEEK}").get_json()["rows"]
    assert [row["key"] for row in rows] == ["t_eng", "t_legal", "t_sales"]


def test_a_mapped_manager_still_sees_only_the_teams_the_directory_gives(mapped_app, provider):
    client = mapped_app.test_client()
    provider.set_user(ACCOUNTS["manager"][0], email_verified=True, groups="eng-leads")
    sso_sign_in(client, provider, ACCOUNTS["manager"][0])
    assert last_audit(mapped_app, "login")["detail"]["role"] == "manager"
    rows = client.get(f"/api/v1/breakdown?by=team&{WEEK}").get_json()["rows"]
    assert [row["key"] for row in rows] == ["t_eng", "t_sales"]


def test_with_a_mapping_no_mapped_group_means_no_access(mapped_app, provider):
    """The directory says admin, the mapping (the admin's explicit choice) says nothing: no access."""
    client = mapped_app.test_client()
    provider.set_user(ACCOUNTS["admin"][0], email_verified=True, groups=["staff"])
    sso_sign_in(client, provider, ACCOUNTS["admin"][0])
    assert last_audit(mapped_app, "login")["detail"]["role"] == "member"
    assert client.get("/telemetry/dashboard").status_code == 403


def test_a_mapping_never_lets_in_someone_outside_the_directory(mapped_app, provider):
    client = mapped_app.test_client()
    provider.set_user("stranger@test.example", email_verified=True, groups=["telemetry-admins"])
    refused(sso_sign_in(client, provider, "stranger@test.example"), 403, "not in the organization")


def test_without_a_mapping_groups_change_nothing(sso_app, sso_client, provider):
    provider.set_user(ACCOUNTS["member"][0], email_verified=True, groups=["telemetry-admins"])
    sso_sign_in(sso_client, provider, ACCOUNTS["member"][0])
    assert last_audit(sso_app, "login")["detail"]["role"] == "member"
    assert sso_client.get("/telemetry/dashboard").status_code == 403


# --- Password login off, but for the break-glass admin ---------------------------------------------------------


@pytest.fixture
def sso_only(data_dir, password_hash, provider):
    config = sso_config(provider.url, PASSWORD_LOGIN=False, BREAK_GLASS_ADMIN=ACCOUNTS["admin"][0])
    return make_app(data_dir, password_hash, **config)


def test_with_password_login_off_the_page_offers_only_the_provider(sso_only):
    client = sso_only.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with Acme ID" in page and 'name="password"' not in page
    assert 'name="password"' in client.get("/login?break-glass=1").get_data(as_text=True)


def test_with_password_login_off_a_right_password_is_refused(sso_only):
    client = sso_only.test_client()
    refused(AuthActions(client).login("manager"), 401, "Invalid email or password")
    assert not signed_in(client)
    assert last_audit(sso_only, "login_refused")["detail"] == {"via": "password", "reason": "password_login_off"}


def test_the_break_glass_admin_signs_in_with_a_password(sso_only):
    client = sso_only.test_client()
    assert AuthActions(client).login("admin").status_code == 302 and signed_in(client)
    assert last_audit(sso_only, "login")["detail"] == {"role": "admin"}


def test_a_break_glass_account_that_is_no_admin_is_refused(data_dir, password_hash, provider):
    config = sso_config(provider.url, PASSWORD_LOGIN=False, BREAK_GLASS_ADMIN=ACCOUNTS["manager"][0])
    client = make_app(data_dir, password_hash, **config).test_client()
    assert AuthActions(client).login("manager").status_code == 401 and not signed_in(client)


# --- Sessions, CSRF, throttling and logout as for a password -------------------------------------------------


def test_the_button_needs_the_forms_csrf_token_and_our_origin(sso_client):
    token = AuthActions(sso_client).csrf_token()
    assert sso_client.post("/login/sso", headers={"Origin": ORIGIN}).status_code == 400
    refused_elsewhere = sso_client.post(
        "/login/sso", data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert refused_elsewhere.status_code == 403
    assert sso_client.get("/login/sso?next=/telemetry/users").headers["Location"] == "/login?next=/telemetry/users"


def test_the_session_is_fresh_and_pinned_like_a_password_sessions(sso_app, sso_client, provider):
    """A new session id at sign-in (nothing carried over), and the cookie works from this client only."""
    provider.set_user(ACCOUNTS["admin"][0], email_verified=True)
    location = start(sso_client)
    before = sso_client.get_cookie("telemetry_session").value
    sso_client.get(provider.authorize(location, ACCOUNTS["admin"][0]))
    after = sso_client.get_cookie("telemetry_session").value
    assert after != before and signed_in(sso_client)
    other = sso_app.test_client()
    other.set_cookie("telemetry_session", after)
    assert other.get("/telemetry/dashboard", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 302


def test_failed_sso_callbacks_are_throttled_per_client_as_password_failures(data_dir, password_hash, provider):
    app = make_app(data_dir, password_hash, LOGIN_MAX_FAILURES=1, **sso_config(provider.url))
    client = app.test_client()
    for _ in range(3):  # one client's limit is 4 × LOGIN_MAX_FAILURES, password and SSO failures together
        assert client.get("/login/sso/callback?code=x&state=y").status_code == 400
    assert AuthActions(client).login("admin", password="wrong password!").status_code == 401
    answer = client.get("/login/sso/callback?code=x&state=y")
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    assert last_audit(app, "login_throttled")


def test_signing_out_ends_the_providers_session_too(sso_app, sso_client, provider):
    provider.set_user(ACCOUNTS["admin"][0], email_verified=True)
    sso_sign_in(sso_client, provider, ACCOUNTS["admin"][0])
    answer = sso_client.post("/logout", headers={"Origin": ORIGIN})
    location = answer.headers["Location"]
    asked = parse_qs(urlsplit(location).query)
    assert answer.status_code == 302 and location.startswith(f"{provider.url}/oauth2/end_session?")
    assert asked["post_logout_redirect_uri"] == ["http://localhost/login"] and asked["client_id"] == [CLIENT_ID]
    assert asked["id_token_hint"][0].count(".") == 2
    assert not signed_in(sso_client)
    assert last_audit(sso_app)["action"] == "logout"


def test_a_password_sign_out_stays_here(sso_client):
    AuthActions(sso_client).login("admin")
    answer = sso_client.post("/logout", headers={"Origin": ORIGIN})
    assert answer.status_code == 302 and answer.headers["Location"] == "/login"


def test_forms_may_be_sent_on_to_the_provider_and_nowhere_else(sso_app, sso_client, provider):
    policy = sso_client.get("/login").headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.url};" in policy


# --- Settings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"OIDC_ISSUER": "https://id.example"}, "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET not"),
        ({"OIDC_ISSUER": "http://id.example", "OIDC_CLIENT_ID": "a", "OIDC_CLIENT_SECRET": "b"}, "not an HTTPS URL"),
        ({"PASSWORD_LOGIN": "0"}, "PASSWORD_LOGIN=0 needs single sign-on"),
        ({"OIDC_ADMIN_GROUPS": "admins"}, "OIDC_GROUPS_CLAIM and OIDC_ADMIN_GROUPS"),
    ],
)
def test_settings_that_do_not_go_together_stop_the_app(tmp_path, config, message):
    with pytest.raises(ConfigError, match=message):
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "var"), "SECRET_KEY": "x", **config})


def test_the_demo_password_still_works_beside_sso(sso_client):
    assert AuthActions(sso_client).login("admin", password=org.PASSWORD).status_code == 302
