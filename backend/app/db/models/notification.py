"""The notification outbox (one row per message to send); users and their addresses are in :mod:`.identity`.

A row names the proposal and the status it is about (``about_status``); the message is rendered from the
proposal's state when it is sent, to the recipient's configured address (``address`` records the one used).
Statuses: ``pending``, ``sent``, ``skipped`` (the proposal moved on), ``undeliverable`` (no address).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow


class NotificationOutboxRow(Base):
    __tablename__ = "notification_outbox"
    __table_args__ = (Index(None, "status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    proposal_id: Mapped[str | None] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16), default="status")
    about_status: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(320))
