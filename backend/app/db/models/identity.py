"""Users, their API tokens (hashed) and their roles per portfolio (DESIGN.md "Identity").

* ``users``: one row per user id; ``is_admin`` (users, tokens, pricing packs, grants anywhere) and the e-mail
  address notifications go to.
* ``api_tokens``: ``token_id`` is the public id a token is looked up by; ``token_hash`` the Argon2id hash of the
  whole token (the token itself is never stored); a revoked token keeps its row (``revoked_at``).
* ``portfolio_roles``: at most one role per (portfolio, user): viewer, manager, approver or owner.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow


class UserRow(Base):
    """A user known to the product and where their mail goes."""

    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (Index(None, "user_id"),)

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"))
    token_hash: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PortfolioRoleRow(Base):
    __tablename__ = "portfolio_roles"
    __table_args__ = (Index(None, "user_id"),)

    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[str | None] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
