"""Users and where their mail goes (the ids given to ``--user`` and named as owners and approvers)."""

from __future__ import annotations

import builtins

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import UserRow, utcnow
from app.domain.lifecycle import UserContact


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def set_email(self, user_id: str, email: str | None) -> UserContact:
        """Store (or clear, with None) the user's e-mail address; creates the user when new."""
        row = await self.session.get(UserRow, user_id)
        if row is None:
            self.session.add(UserRow(user_id=user_id, email=email, updated_at=utcnow()))
        else:
            row.email, row.updated_at = email, utcnow()
        await self.session.flush()
        return UserContact(user_id=user_id, email=email)

    async def email(self, user_id: str) -> str | None:
        """The user's configured address, or None (unknown user, or none set)."""
        return await self.session.scalar(select(UserRow.email).where(UserRow.user_id == user_id))

    async def list(self) -> builtins.list[UserContact]:
        stmt = select(UserRow).order_by(UserRow.user_id)
        return [UserContact(user_id=r.user_id, email=r.email) for r in await self.session.scalars(stmt)]
