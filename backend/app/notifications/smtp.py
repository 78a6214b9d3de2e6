"""Deliver pending outbox notifications by SMTP, at most once each.

Each notification is claimed (``attempts + 1``, committed), sent with ``Message-ID: <id@dawsos>`` (the
outbox id is the idempotency key, so a receiver can drop a duplicate), then marked sent. A failed send
(refused, connection error, timeout) leaves it pending with ``last_error``; the next run retries it. Only
pending rows are ever sent, so a delivered notification is never sent again.
"""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING

import structlog
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.domain.rebalancing import Notification

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger()


class SmtpSettings(BaseSettings):
    """``DAWSOS_SMTP_HOST``, ``DAWSOS_SMTP_PORT``, ``DAWSOS_SMTP_FROM``, ``DAWSOS_SMTP_TIMEOUT`` (seconds)."""

    model_config = SettingsConfigDict(env_prefix="DAWSOS_SMTP_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(default="dawsos@localhost", alias="DAWSOS_SMTP_FROM")
    timeout: float = Field(default=10.0, gt=0)


@dataclass(frozen=True)
class DeliveryReport:
    sent: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]


def message_id(notification_id: str) -> str:
    return f"<{notification_id}@dawsos>"


def _send(smtp: SmtpSettings, n: Notification) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = smtp.sender, n.recipient, n.subject
    msg["Message-ID"] = message_id(n.id)
    msg.set_content(n.body)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
        client.send_message(msg)


async def deliver_pending(
    session_factory: "async_sessionmaker[AsyncSession]", smtp: SmtpSettings, *, limit: int = 100
) -> DeliveryReport:
    """Send every pending notification once; failures stay pending for the next run."""
    from app.db.repositories.outbox import OutboxRepository

    async with session_factory() as session:
        pending = await OutboxRepository(session).pending(limit)
    sent: list[str] = []
    failed: list[tuple[str, str]] = []
    for n in pending:
        async with session_factory() as session, session.begin():
            await OutboxRepository(session).attempt(n.id)
        try:
            await asyncio.to_thread(_send, smtp, n)
        except (smtplib.SMTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            async with session_factory() as session, session.begin():
                await OutboxRepository(session).mark_failed(n.id, error)
            log.warning("notifications.smtp.failed", notification_id=n.id, error=error)
            failed.append((n.id, error))
            continue
        async with session_factory() as session, session.begin():
            await OutboxRepository(session).mark_sent(n.id)
        log.info("notifications.smtp.sent", notification_id=n.id, recipient=n.recipient)
        sent.append(n.id)
    return DeliveryReport(sent=tuple(sent), failed=tuple(failed))
