"""What may be a budget or an alert channel: amounts, scopes, email addresses and webhook URLs, checked
before anything is stored. Each check raises ValueError with a message for the person who typed it."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

MAX_BUDGET = Decimal("1000000000000")  # $1 trillion: beyond, a typo
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+")  # a dotted domain: no local hosts
WEBHOOK_FORMATS = ("slack", "teams", "generic")


def parse_amount(text: str) -> Decimal:
    """A budget in USD: exact, positive, at most cents."""
    try:
        amount = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise ValueError(f"The budget {text!r} is not an amount; use a number of dollars like 1500 or 99.50.") from None
    if not amount.is_finite():
        raise ValueError(f"The budget {text!r} is not an amount; use a number of dollars like 1500 or 99.50.")
    if amount <= 0:
        raise ValueError(f"The budget must be more than $0 (got {text}).")
    if amount > MAX_BUDGET:
        raise ValueError(f"The budget {text} is more than ${MAX_BUDGET:,}; check the amount.")
    if amount.as_tuple().exponent < -2:
        raise ValueError(f"The budget {text} has fractions of a cent; use at most two decimals.")
    return amount


def parse_scope(text: str) -> tuple[str, str]:
    """`org`, `team:ID` or `agent:ID` as (kind, id); the id is "" for the organization."""
    text = (text or "").strip()
    if text == "org":
        return "org", ""
    kind, _, ident = text.partition(":")
    if kind in ("team", "agent") and ident.strip():
        return kind, ident.strip()
    raise ValueError(f"Unknown scope {text!r}; use org, team:ID or agent:ID.")


def check_email(text: str) -> str:
    address = (text or "").strip()
    if len(address) > 254 or not EMAIL.fullmatch(address):
        raise ValueError(f"{text!r} is not an email address; use one like finance@example.com.")
    return address


def webhook_format(url: str) -> str:
    """Slack's and Teams' incoming webhooks by their hosts; anything else gets the generic JSON."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "hooks.slack.com":
        return "slack"
    if host.endswith(".webhook.office.com") or host.endswith(".logic.azure.com"):
        return "teams"
    return "generic"


def check_webhook_url(text: str, allow_local: bool) -> str:
    """An http(s) URL with a host; not one reaching this machine or a link-local address unless `allow_local`."""
    url = (text or "").strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises for a port that is not a number)
    except ValueError:
        raise ValueError(f"{shown_url(url)!r} is not a URL; use one like https://hooks.example.com/….") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise ValueError(f"{shown_url(url)!r} is not an http(s) URL; use one like https://hooks.example.com/….")
    if not allow_local:
        refuse_local(parts.hostname)
    return url


def refuse_local(host: str) -> None:
    """ValueError if `host` is, or resolves to, a loopback, link-local, unspecified or multicast address.

    Checked when a channel is added and again before each send (a name can be pointed elsewhere meanwhile).
    A name that does not resolve now is let through: the send fails and says so.
    """
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        addresses = set()
    with contextlib.suppress(ValueError):  # a literal address (getaddrinfo may not answer for it)
        addresses.add(str(ipaddress.ip_address(host.strip("[]"))))
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
            raise ValueError(
                f"A webhook cannot reach {host} ({ip}): loopback and link-local addresses are refused "
                "(TELEMETRY_WEBHOOK_ALLOW_LOCAL=1 allows them, for tests)."
            )


def shown_url(url: str) -> str:
    """A webhook URL as shown back: scheme and host only, the path (which holds the secret) elided."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "…"
    return f"{parts.scheme}://{host}/…" if host else "…"
