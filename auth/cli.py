"""Account commands: `flask --app app create-user|set-password|disable-user|create-token|audit`."""

from __future__ import annotations

import json
import secrets
import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from auth.passwords import hash_password
from auth.session import store
from auth.store import ROLES
from queries import directory

# What a terminal acts on rather than shows: C0 controls (ESC begins sequences that retitle the window,
# move the cursor or rewrite earlier lines), DEL and C1 controls (0x9B is a one-byte CSI), and the
# bidirectional marks that reorder a line as displayed. Shown as escapes; the backslash is doubled so
# an email cannot spell a fake escape.
_CONTROLS = (*range(0x20), 0x7F, *range(0x80, 0xA0))  # C0, DEL, C1
_BIDI_MARKS = (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_TERMINAL_ESCAPES = {code: f"\\x{code:02x}" for code in _CONTROLS} | {code: f"\\u{code:04x}" for code in _BIDI_MARKS}
_TERMINAL_ESCAPES[ord("\\")] = "\\\\"


def printable(value: object) -> str:
    """Text safe to print on a terminal: control characters escaped (ESC as \\x1b)."""
    return str(value).translate(_TERMINAL_ESCAPES)


def _read_password(confirm: bool = True) -> str:
    """From a prompt on a terminal, else the first line of stdin; never from argv."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return sys.stdin.readline().rstrip("\n")


def _account_or_fail(email: str):
    row = store().account_by_email(email)
    if row is None:
        raise click.ClickException(f"No account with email {email!r}.")
    return row


def create_account(email: str, role: str, password: str) -> int:
    """An account for a person in the directory; the password is hashed, never stored."""
    person = directory.user_by_email(email)
    if person is None:
        raise click.ClickException(
            f"No user with email {email!r} in the directory (directory/users.parquet); add them there first."
        )
    if store().account_by_email(email) is not None:
        raise click.ClickException(f"An account for {email!r} exists already; use set-password.")
    try:
        password_hash = hash_password(password)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    return store().create_account(person["email"], person["user_id"], role, password_hash)


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
def create_user_command(email: str, role: str) -> None:
    """Give a directory user a login with a role (password from a prompt or stdin)."""
    create_account(email, role, _read_password())
    store().audit("cli", "create_user", {"email": email, "role": role}, None)
    click.echo(f"Created {role} account for {email}.")


@click.command("set-password")
@with_appcontext
@click.option("--email", required=True)
def set_password_command(email: str) -> None:
    """Change a password; every session of the account ends."""
    row = _account_or_fail(email)
    try:
        store().set_password_hash(row.id, hash_password(_read_password()))
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    store().audit("cli", "set_password", {"email": email}, None)
    click.echo(f"Password changed for {email}; their sessions are signed out.")


@click.command("disable-user")
@with_appcontext
@click.option("--email", required=True)
def disable_user_command(email: str) -> None:
    """Disable an account: its sessions and API tokens stop working at once."""
    row = _account_or_fail(email)
    store().set_disabled(row.id)
    store().audit("cli", "disable_user", {"email": email}, None)
    click.echo(f"Disabled {email}; sessions and tokens revoked.")


@click.command("create-token")
@with_appcontext
@click.option("--email", required=True)
def create_token_command(email: str) -> None:
    """An API token with the owner's role and scope; shown once, stored hashed."""
    row = _account_or_fail(email)
    token = store().create_token(row.id)
    store().audit("cli", "create_token", {"email": email}, None)
    click.echo(token)


@click.command("revoke-tokens")
@with_appcontext
@click.option("--email", required=True)
def revoke_tokens_command(email: str) -> None:
    row = _account_or_fail(email)
    count = store().revoke_tokens(row.id)
    store().audit("cli", "revoke_tokens", {"email": email, "count": count}, None)
    click.echo(f"Revoked {count} token(s) of {email}.")


@click.command("audit")
@with_appcontext
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def audit_command(limit: int, as_json: bool) -> None:
    """The newest audit entries: logins, exports and token use (control characters shown as \\xNN)."""
    for entry in store().audit_entries(limit):
        if as_json:
            click.echo(json.dumps(entry))  # ensure_ascii: every control character is a \uXXXX escape
        else:
            # Emails, paths and addresses come from strangers (a failed login is audited as typed).
            actor, address = printable(entry["actor"]), printable(entry["remote_addr"] or "-")
            detail = " ".join(f"{printable(k)}={printable(v)}" for k, v in entry["detail"].items())
            click.echo(f"{entry['at']}  {actor:<28} {printable(entry['action']):<16} {address:<15} {detail}")


@click.command("create-demo-accounts")
@with_appcontext
def create_demo_accounts_command() -> None:
    """On a new install: one admin and one manager of the demo org, passwords printed once."""
    from data.demo.cast import DEMO_ADMIN_EMAIL, DEMO_MANAGER_EMAIL

    if store().count_accounts():
        click.echo("Accounts exist already; sign in with yours (set-password to reset one).")
        return
    click.echo("Demo accounts (shown once; change with `flask --app app set-password --email …`):")
    for email, role in ((DEMO_ADMIN_EMAIL, "admin"), (DEMO_MANAGER_EMAIL, "manager")):
        password = secrets.token_urlsafe(12)
        create_account(email, role, password)
        click.echo(f"  {role:<8} {email:<28} {password}")


COMMANDS = (
    create_user_command,
    set_password_command,
    disable_user_command,
    create_token_command,
    revoke_tokens_command,
    audit_command,
    create_demo_accounts_command,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
