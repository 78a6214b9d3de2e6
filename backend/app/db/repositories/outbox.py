"""The notification outbox: written in the proposal's transaction, drained by the SMTP sender.

Statuses: ``pending`` (to send; a failed attempt stays pending with its error), ``sent``, ``skipped`` (the
proposal moved on, so the message would not be true), ``undeliverable`` (the user has no e-mail address).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import NotificationOutboxRow, utcnow
from app.db.repositories.proposals import aware
from app.domain.rebalancing import Notification

PENDING, SENT, SKIPPED, UNDELIVERABLE = "pending", "sent", "skipped", "undeliverable"


def _to(row: NotificationOutboxRow) -> Notification:
    return Notification(id=row.id, proposal_id=row.proposal_id, recipient=row.recipient, subject=row.subject,
                        body=row.body, status=row.status, attempts=row.attempts, last_error=row.last_error,
                        created_at=aware(row.created_at), sent_at=aware(row.sent_at) if row.sent_at else None,
                        kind=row.kind, about_status=row.about_status, address=row.address)


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, notification_id: str, proposal_id: str | None, recipient: str, subject: str, body: str,
                  kind: str = "status", about_status: str | None = None) -> bool:
        """Queue a notification once per id (the idempotency key); False when it was already queued.
        ``recipient`` is a user id; the address is looked up when it is sent."""
        if await self.session.get(NotificationOutboxRow, notification_id) is not None:
            return False
        self.session.add(NotificationOutboxRow(id=notification_id, proposal_id=proposal_id, recipient=recipient,
                                               subject=subject, body=body, status=PENDING, attempts=0,
                                               created_at=utcnow(), kind=kind, about_status=about_status))
        await self.session.flush()
        return True

    async def pending(self, limit: int = 100) -> list[Notification]:
        stmt = (select(NotificationOutboxRow).where(NotificationOutboxRow.status == PENDING)
                .order_by(NotificationOutboxRow.created_at, NotificationOutboxRow.id).limit(limit))
        return [_to(r) for r in await self.session.scalars(stmt)]

    async def all(self) -> list[Notification]:
        stmt = select(NotificationOutboxRow).order_by(NotificationOutboxRow.created_at, NotificationOutboxRow.id)
        return [_to(r) for r in await self.session.scalars(stmt)]

    async def attempt(self, notification_id: str) -> None:
        await self.session.execute(update(NotificationOutboxRow).where(NotificationOutboxRow.id == notification_id)
                                   .values(attempts=NotificationOutboxRow.attempts + 1))

    async def mark_sent(self, notification_id: str, *, address: str, subject: str, body: str) -> None:
        """Sent to ``address`` with the text rendered at send time."""
        await self.session.execute(update(NotificationOutboxRow).where(NotificationOutboxRow.id == notification_id)
                                   .values(status=SENT, sent_at=utcnow(), last_error=None, address=address,
                                           subject=subject[:300], body=body))

    async def mark_failed(self, notification_id: str, error: str) -> None:
        """A failed attempt: stays pending with its error, for the next run."""
        await self.session.execute(update(NotificationOutboxRow).where(NotificationOutboxRow.id == notification_id)
                                   .values(last_error=error[:2000]))

    async def mark_final(self, notification_id: str, status: str, reason: str) -> None:
        """Never to be sent: ``skipped`` or ``undeliverable``, with the reason."""
        await self.session.execute(update(NotificationOutboxRow).where(NotificationOutboxRow.id == notification_id)
                                   .values(status=status, last_error=reason[:2000]))
