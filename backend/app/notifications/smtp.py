"""Deliver pending outbox notifications by SMTP, at most once each.

Each notification is claimed (``attempts + 1``, committed), rendered from its proposal's state at that moment
(a message about a status the proposal has left is skipped, never sent as if it were still true), addressed to
the recipient user's configured e-mail address (none: recorded undeliverable, never sent to a bare user name),
sent with ``Message-ID: <id@dawsos>`` (the
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
from app.notifications.render import Message, NotificationKind, Skip, render

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
    skipped: tuple[tuple[str, str], ...] = ()
    undeliverable: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Outgoing:
    """A notification ready to go: the address and the text rendered from the proposal's state now."""

    address: str
    message: Message


def message_id(notification_id: str) -> str:
    return f"<{notification_id}@dawsos>"


def _send(smtp: SmtpSettings, n: Notification, out: Outgoing) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = smtp.sender, out.address, out.message.subject
    msg["Message-ID"] = message_id(n.id)
    msg.set_content(out.message.body)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
        client.send_message(msg)


async def _prepare(session: AsyncSession, n: Notification) -> Outgoing | tuple[str, str]:
    """The message as it is true now and where it goes, or ``(final status, reason)`` when it is not to be sent:
    ``skipped`` when the proposal moved on, ``undeliverable`` when the user has no e-mail address."""
    from app.core.errors import UnknownProposalError
    from app.db.repositories import ProposalRepository
    from app.db.repositories.outbox import SKIPPED, UNDELIVERABLE
    from app.db.repositories.users import UserRepository
    from app.domain.rebalancing import ProposalStatus

    message: Message | Skip = Message(subject=n.subject, body=n.body)
    if n.proposal_id is not None and n.about_status is not None:
        try:
            proposal = await ProposalRepository(session).get(n.proposal_id)
        except UnknownProposalError:
            return SKIPPED, f"proposal {n.proposal_id[:12]} is not stored"
        message = render(NotificationKind(n.kind), ProposalStatus(n.about_status), proposal, n.recipient)
    if isinstance(message, Skip):
        return SKIPPED, message.reason
    address = await UserRepository(session).email(n.recipient)
    if address is None:
        return UNDELIVERABLE, (f"user {n.recipient!r} has no e-mail address; set one with "
                               f"`dawsos users set {n.recipient} --email ADDRESS`")
    return Outgoing(address=address, message=message)


async def deliver_pending(
    session_factory: async_sessionmaker[AsyncSession], smtp: SmtpSettings, *, limit: int = 100
) -> DeliveryReport:
    """Send every pending notification once, rendered from its proposal's state now, to the user's address;
    failures stay pending for the next run; skipped and undeliverable ones are recorded with their reason."""
    from app.db.repositories.outbox import SKIPPED, OutboxRepository

    async with session_factory() as session:
        pending = await OutboxRepository(session).pending(limit)
    sent: list[str] = []
    failed: list[tuple[str, str]] = []
    final: dict[str, list[tuple[str, str]]] = {SKIPPED: [], "undeliverable": []}
    for n in pending:
        async with session_factory() as session, session.begin():
            await OutboxRepository(session).attempt(n.id)
            out = await _prepare(session, n)
            if not isinstance(out, Outgoing):
                await OutboxRepository(session).mark_final(n.id, *out)
        if not isinstance(out, Outgoing):
            log.info("notifications.not_sent", notification_id=n.id, status=out[0], reason=out[1])
            final[out[0]].append((n.id, out[1]))
            continue
        try:
            await asyncio.to_thread(_send, smtp, n, out)
        except (smtplib.SMTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            async with session_factory() as session, session.begin():
                await OutboxRepository(session).mark_failed(n.id, error)
            log.warning("notifications.smtp.failed", notification_id=n.id, error=error)
            failed.append((n.id, error))
            continue
        async with session_factory() as session, session.begin():
            await OutboxRepository(session).mark_sent(n.id, address=out.address, subject=out.message.subject,
                                                      body=out.message.body)
        log.info("notifications.smtp.sent", notification_id=n.id, recipient=n.recipient)
        sent.append(n.id)
    return DeliveryReport(sent=tuple(sent), failed=tuple(failed), skipped=tuple(final[SKIPPED]),
                          undeliverable=tuple(final["undeliverable"]))
