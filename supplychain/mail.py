"""Outgoing mail: SMTP when MAIL_SERVER is set, otherwise an outbox folder and the log."""

from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path

from supplychain.config import Settings

log = logging.getLogger(__name__)


def send_mail(settings: Settings, *, to: str, subject: str, body: str) -> Path | None:
    """Deliver one plain-text message; returns the outbox file when no SMTP server is set."""
    message = EmailMessage()
    message["From"] = settings.mail_sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4()}@supplychain>"
    message.set_content(body)
    if settings.mail_server:
        with smtplib.SMTP(settings.mail_server, settings.mail_port, timeout=30) as smtp:
            if settings.mail_use_tls:
                smtp.starttls()
            if settings.mail_username:
                smtp.login(settings.mail_username, settings.mail_password or "")
            smtp.send_message(message)
        log.info("mail sent to %s: %s", to, subject)
        return None
    settings.outbox_path.mkdir(parents=True, exist_ok=True)
    path = settings.outbox_path / f"{uuid.uuid4().hex}.eml"
    path.write_bytes(bytes(message))
    log.info("mail to %s written to outbox %s: %s", to, path, subject)
    return path


def read_outbox(settings: Settings) -> list[EmailMessage]:
    """Messages in the outbox, oldest first (used by operators and tests)."""
    from email import policy
    from email.parser import BytesParser

    if not settings.outbox_path.exists():
        return []
    files = sorted(settings.outbox_path.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in files]
