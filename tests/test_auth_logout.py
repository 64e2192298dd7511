"""Signing out: any signed-in account can, only by a POST from our own pages; a link cannot."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import ORIGIN
from tests.test_browser_access import wait

EVIL = "https://evil.example"


def sign_out(client, origin: str | None = ORIGIN):
    return client.post("/logout", headers={"Origin": origin} if origin else {})


def cookie(client) -> str:
    return client.get_cookie("telemetry_session").value


def replay(client, value: str, path: str = "/_dash-layout") -> int:
    client.set_cookie("telemetry_session", value)
    return client.get(path).status_code


def components(node):
    """Every component in a Dash layout as JSON, depth first."""
    if isinstance(node, list):
        for item in node:
            yield from components(item)
    elif isinstance(node, dict) and "type" in node and "props" in node:
        yield node
        for value in node["props"].values():
            yield from components(value)


def test_a_member_can_sign_out(app, client, auth):
    auth.login("member")
    captured = cookie(client)
    confirm = client.get("/logout")
    assert confirm.status_code == 200
    assert '<form method="post" action="/logout"' in confirm.get_data(as_text=True)
    assert client.get("/telemetry").status_code == 403  # the confirm page alone signs nobody out
    answer = sign_out(client)
    assert answer.status_code == 302 and answer.headers["Location"] == "/login"
    assert client.get("/telemetry").status_code == 302
    assert replay(client, captured, "/telemetry") == 302
    actions = [(e["actor"], e["action"]) for e in app.extensions["telemetry_store"].audit_entries(5)]
    assert ("member@test.example", "logout") in actions


def test_a_link_from_another_site_signs_nobody_out(client, auth):
    auth.login("admin")
    assert client.get("/logout", headers={"Referer": EVIL + "/page"}).status_code == 200
    assert client.get("/_dash-layout").status_code == 200


@pytest.mark.parametrize("origin", [EVIL, "null", None])
def test_a_logout_post_from_elsewhere_is_refused(client, auth, origin):
    auth.login("admin")
    assert sign_out(client, origin).status_code == 403
    assert client.get("/_dash-layout").status_code == 200


def test_an_admin_signs_out_and_the_old_cookie_is_dead(client, auth):
    auth.login("admin")
    captured = cookie(client)
    assert sign_out(client).headers["Location"] == "/login"
    assert replay(client, captured) == 401


def test_strangers_are_sent_to_the_login_page(client):
    for answer in (client.get("/logout"), sign_out(client)):
        assert answer.status_code == 302 and answer.headers["Location"] == "/login"


def test_our_pages_sign_out_with_a_form_not_a_link(client, auth):
    auth.login("admin")
    layout = list(components(client.get("/_dash-layout").get_json()))
    forms = [c["props"] for c in layout if c["type"] == "Form" and c["props"].get("action") == "/logout"]
    assert [(f["method"], f["action"]) for f in forms] == [("post", "/logout")]
    assert not [c for c in layout if c["props"].get("href") == "/logout"]
    sign_out(client)
    auth.login("member")
    notice = client.get("/telemetry").get_data(as_text=True)
    assert '<form method="post" action="/logout"' in notice and 'href="/logout"' not in notice


# In a real browser: the buttons post the form with the page's own Origin.


def _sign_in(browser, base: str, email: str, password: str) -> None:
    browser.get(base + "/telemetry")
    wait(browser).until(lambda b: b.find_elements(By.NAME, "email"))
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.ID, "login-submit").click()


def _click_sign_out(browser) -> None:
    button = wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "form[action='/logout'] button") or None)[0]
    button.click()
    wait(browser).until(lambda b: "/login" in b.current_url and b.find_elements(By.NAME, "email"))


@pytest.mark.browser
@pytest.mark.parametrize("who", ["admin", "member"])
def test_the_sign_out_button_works_in_a_browser(browser, live_server, who):
    from tests import org
    from tests.conftest import ACCOUNTS

    _sign_in(browser, live_server, ACCOUNTS[who][0], org.PASSWORD)
    _click_sign_out(browser)
    browser.get(live_server + "/telemetry")
    wait(browser).until(lambda b: b.find_elements(By.NAME, "email"))
    assert "/login?next=/telemetry" in browser.current_url


def test_a_thread_that_read_a_session_sees_its_revocation_at_once(tmp_path):
    """Each thread keeps its reading connection (auth/store.py): a commit from elsewhere is still seen."""
    import threading

    from auth.store import Store

    store, other = Store(tmp_path / "accounts.sqlite"), Store(tmp_path / "accounts.sqlite")
    sid = store.open_session(store.create_account("a@x.example", "u1", "admin", "hash"))
    seen: list[bool] = []
    step = threading.Event()
    done = threading.Event()

    def reader() -> None:
        seen.append(store.session(sid).revoked)  # the thread's connection is opened and kept
        step.wait(10)
        seen.append(store.session(sid).revoked)
        done.set()

    threading.Thread(target=reader).start()
    while not seen:
        threading.Event().wait(0.01)
    other.revoke_session(sid)  # another process's connection, as another worker would
    step.set()
    assert done.wait(10) and seen == [False, True]
