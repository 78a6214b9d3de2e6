"""The notification outbox: written in the proposal's transaction, drained by the SMTP sender."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import NotificationOutboxRow, utcnow
from app.db.repositories.rebalance_runs import aware
from app.domain.rebalancing import Notification

PENDING, SENT = "pending", "sent"


def _to(row: NotificationOutboxRow) -> Notification:
    return Notification(id=row.id, proposal_id=row.proposal_id, recipient=row.recipient, subject=row.subject,
                        body=row.body, status=row.status, attempts=row.attempts, last_error=row.last_error,
                        created_at=aware(row.created_at), sent_at=aware(row.sent_at) if row.sent_at else None)


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, notification_id: str, proposal_id: str | None, recipient: str, subject: str, body: str) -> bool:
        """Queue a notification once per id (the idempotency key); False when it was already queued."""
        if await self.session.get(NotificationOutboxRow, notification_id) is not None:
            return False
        self.session.add(NotificationOutboxRow(id=notification_id, proposal_id=proposal_id, recipient=recipient,
                                               subject=subject, body=body, status=PENDING, attempts=0,
                                               created_at=utcnow()))
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

    async def mark_sent(self, notification_id: str) -> None:
        await self.session.execute(update(NotificationOutboxRow).where(NotificationOutboxRow.id == notification_id)
                                   .values(status=SENT, sent_at=utcnow(), last_error=None))

    async def mark_failed(self, notification_id: str, error: str) -> None:
        await self.session.execute(update(NotificationOutboxRow).where(NotificationOutboxRow.id == notification_id)
                                   .values(last_error=error[:2000]))
