"""Policy template versions and the seeded constraint defaults.

Money constants ``(20, 4)``; ``risk_free_rate`` ``(12, 8)`` (annual fraction); ``market_impact_bps`` ``(12, 4)``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, DecimalType, utcnow


class OptimizerPolicyRow(Base):
    """One immutable version of a policy template; a changed template is stored as version N+1."""

    __tablename__ = "optimizer_policies"
    __table_args__ = (UniqueConstraint("policy_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    policy_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    method_version: Mapped[str] = mapped_column(String(32))
    constraints: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConstraintDefaultsRow(Base):
    __tablename__ = "constraint_defaults"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    commission_per_trade: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    market_impact_bps: Mapped[Decimal] = mapped_column(DecimalType(12, 4))
    min_trade_value: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    risk_free_rate: Mapped[Decimal] = mapped_column(DecimalType(12, 8))
    annualization_factor: Mapped[int] = mapped_column(Integer)
