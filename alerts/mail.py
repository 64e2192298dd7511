"""Email over SMTP with the standard library: settings from the app's config, a plain text and HTML message.

Kept apart from alerts so that other senders (scheduled reports) use the same settings and code.
SMTP_HOST, SMTP_PORT (587), SMTP_USER and SMTP_PASSWORD (both or neither), SMTP_STARTTLS (on unless
turned off; needs a server that offers it) and SMTP_FROM.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    user: str = ""
    password: str = ""
    starttls: bool = True
    sender: str = "telemetry@localhost"
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def from_config(cls, config) -> SmtpSettings:
        if not config.get("SMTP_HOST"):
            raise MailError("No SMTP server: set SMTP_HOST (and SMTP_PORT, SMTP_USER, SMTP_PASSWORD).")
        return cls(
            host=config["SMTP_HOST"],
            port=int(config.get("SMTP_PORT") or 587),
            user=config.get("SMTP_USER") or "",
            password=config.get("SMTP_PASSWORD") or "",
            starttls=bool(config.get("SMTP_STARTTLS", True)),
            sender=config.get("SMTP_FROM") or "telemetry@localhost",
            timeout=float(config.get("SMTP_TIMEOUT") or TIMEOUT_SECONDS),
        )


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server; the text says why."""


def message_id(key: str, sender: str) -> str:
    """The same Message-ID for every attempt at one delivery: a copy sent again after a crash is recognisably
    the same message (mail clients and archives show it once)."""
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def build_message(settings: SmtpSettings, to: str, subject: str, text: str, html: str, key: str) -> EmailMessage:
    """A multipart/alternative message: the plain text, and the same as HTML (escaped by the caller)."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(key, settings.sender)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Hand the message to the SMTP server (STARTTLS first unless turned off); MailError if it is not taken."""
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"SMTP {settings.host}:{settings.port}: {error}") from error
