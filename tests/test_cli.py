"""Account commands: passwords come from stdin or a prompt, never argv; bad input is explained."""

from __future__ import annotations

import json

from auth.cli import printable
from auth.passwords import verify_password
from tests import org

NEW_PASSWORD = "a brand new passphrase 42\n"


def store(app):
    return app.extensions["telemetry_store"]


def test_create_user_links_the_directory_person(app, runner):
    result = runner.invoke(args=["create-user", "--email", "sam@test.example", "--role", "manager"], input=NEW_PASSWORD)
    assert result.exit_code == 0, result.output
    row = store(app).account_by_email("sam@test.example")
    assert (row.user_id, row.role) == ("u5", "manager")
    assert row.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(row.password_hash, NEW_PASSWORD.strip())


def test_create_user_refuses_unknown_people_short_passwords_and_duplicates(runner):
    unknown = runner.invoke(
        args=["create-user", "--email", "ghost@test.example", "--role", "admin"], input=NEW_PASSWORD
    )
    assert unknown.exit_code != 0 and "No user with email 'ghost@test.example' in the directory" in unknown.output
    short = runner.invoke(args=["create-user", "--email", "sam@test.example", "--role", "admin"], input="short\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    again = runner.invoke(args=["create-user", "--email", "admin@test.example", "--role", "admin"], input=NEW_PASSWORD)
    assert again.exit_code != 0 and "exists already" in again.output
    bad_role = runner.invoke(args=["create-user", "--email", "sam@test.example", "--role", "owner"])
    assert bad_role.exit_code != 0


def test_set_password_and_disable_user(app, runner, client, auth):
    auth.login("manager")
    assert client.get("/_dash-layout").status_code == 200
    result = runner.invoke(args=["set-password", "--email", "manager@test.example"], input=NEW_PASSWORD)
    assert result.exit_code == 0, result.output
    assert client.get("/_dash-layout").status_code == 401
    assert auth.login("manager", password=org.PASSWORD).status_code == 401
    assert auth.login("manager", password=NEW_PASSWORD.strip()).status_code == 302
    assert runner.invoke(args=["disable-user", "--email", "manager@test.example"]).exit_code == 0
    assert client.get("/_dash-layout").status_code == 401
    assert runner.invoke(args=["disable-user", "--email", "nobody@test.example"]).exit_code != 0


def test_tokens_are_shown_once_and_work(runner, client):
    result = runner.invoke(args=["create-token", "--email", "admin@test.example"])
    token = result.output.strip()
    assert token.startswith("tlm_")
    response = client.get(
        "/api/v1/summary?start=2026-03-02&end=2026-03-08", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.get_json()["interactions"] == 6
    assert runner.invoke(args=["revoke-tokens", "--email", "admin@test.example"]).output.startswith("Revoked 1")


def test_audit_lists_logins(runner, auth):
    auth.login("admin", password="wrong password here")
    auth.login("admin")
    output = runner.invoke(args=["audit", "--limit", "5"]).output
    assert "login_failed" in output and "admin@test.example" in output


TERMINAL_CONTROLS = {*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0))} - {"\n"}


def test_audit_prints_control_characters_escaped(app, runner, auth):
    hostile = "\x1b]0;pwned\x07@x"
    auth.login(hostile, password="wrong password here")
    auth.login("\x9b2J\x7f\u202e@x", password="wrong password here")  # C1 CSI, DEL, a right-to-left override
    text = runner.invoke(args=["audit", "--limit", "5"]).output
    assert not TERMINAL_CONTROLS & set(text) and "\u202e" not in text
    assert r"\x1b]0;pwned\x07@x" in text and r"\x9b2J\x7f\u202e@x" in text
    lines = runner.invoke(args=["audit", "--limit", "5", "--json"]).output
    assert not TERMINAL_CONTROLS & set(lines)
    assert {hostile, "\x9b2J\x7f\u202e@x"} <= {json.loads(line)["actor"] for line in lines.splitlines()}


def test_escaped_text_cannot_be_spelt_and_leaves_letters_alone():
    assert printable("\x1b@x") == r"\x1b@x" and printable(r"\x1b@x") == r"\\x1b@x"
    assert printable("zoë.日本@x") == "zoë.日本@x"
