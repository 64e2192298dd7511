"""Webhooks: an alert POSTed as JSON that Slack's and Microsoft Teams' incoming webhooks accept, or the generic
body (documented in docs/schema.md), signed with HMAC-SHA256. Sent by the checker, never in a web request.

Headers: `X-Telemetry-Timestamp` (Unix seconds), `X-Telemetry-Signature: sha256=<hex>` of
`<timestamp>.<body>` keyed with the channel's secret, and `Idempotency-Key` (the same for every attempt at
one delivery, so a receiver can drop a copy sent again after a timeout or a crash).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from alerts.rules import refuse_local, shown_url

TIMEOUT_SECONDS = 10.0


class WebhookError(RuntimeError):
    """The receiver did not take the alert (refused, failed, timed out); the text says why."""


def body(fmt: str, detail: dict, key: str) -> dict:
    """The JSON for a channel's format: Slack's `text`, a Teams message with an Adaptive Card, or the generic."""
    text = f"{detail['subject']}\n{detail['text']}\n{detail['link']}"
    if fmt == "slack":
        return {"text": text}
    if fmt == "teams":
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "text": detail["subject"], "weight": "Bolder", "wrap": True},
                {"type": "TextBlock", "text": detail["text"], "wrap": True},
            ],
            "actions": [{"type": "Action.OpenUrl", "title": "Open in Telemetry", "url": detail["link"]}],
        }
        return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                    "content": card}]}  # fmt: skip
    return {"id": key, "text": text, "alert": {k: v for k, v in detail.items() if k != "html"}}


def signature(secret: str, timestamp: str, payload: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed: it could lead to an address the URL check refused."""

    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, payload: dict, secret: str, key: str, allow_local: bool, timeout: float = TIMEOUT_SECONDS) -> None:
    """One attempt; WebhookError unless the receiver answers 2xx within `timeout` seconds."""
    if not allow_local:
        try:
            refuse_local(urlsplit(url).hostname or "")
        except ValueError as error:
            raise WebhookError(str(error)) from None
    data = json.dumps(payload, default=str).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "Telemetry-alerts",
        "X-Telemetry-Timestamp": timestamp,
        "X-Telemetry-Signature": signature(secret, timestamp, data),
        "Idempotency-Key": key,
    })  # fmt: skip
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(65536)
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, ValueError) as error:  # refused, reset, timed out (TimeoutError is an OSError)
        raise WebhookError(f"{shown_url(url)}: {error}") from error
    if not 200 <= status < 300:
        raise WebhookError(f"{shown_url(url)} answered {status}")
