"""The viewer's scope, decided on the server from the signed-in account and the directory."""

from __future__ import annotations

from auth.session import current_account
from queries import directory
from queries.scope import Scope


def scope_for(role: str, user_id: str) -> Scope:
    """Admins see the organization; managers their teams; everyone else nothing (deny by default)."""
    if role == "admin":
        return Scope.organization()
    if role == "manager":
        return Scope.teams(directory.managed_team_ids(user_id), "Your teams")
    return Scope.teams(())


def current_scope() -> Scope:
    account = current_account()
    if not account.may_view:
        return Scope.teams(())
    return scope_for(account.role, account.user_id)
