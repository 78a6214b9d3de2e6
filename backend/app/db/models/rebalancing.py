"""Per-portfolio rebalancing set-up: settings, restricted symbols, model portfolios (roles:
:mod:`.identity`).

Money ``(20, 4)``; weights ``(20, 12)``. ``config`` holds canonical JSON-ready data (Decimals as strings).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, DecimalType, utcnow


class RebalanceSettingsRow(Base):
    __tablename__ = "rebalance_settings"

    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id"), primary_key=True)
    approval_threshold: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class RestrictedSymbolRow(Base):
    __tablename__ = "restricted_symbols"

    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(Text, default="")


class ModelPortfolioRow(Base):
    __tablename__ = "model_portfolios"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    pricing_pack_id: Mapped[str] = mapped_column(ForeignKey("pricing_packs.id"))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))


class ModelWeightRow(Base):
    __tablename__ = "model_weights"

    model_portfolio_id: Mapped[str] = mapped_column(ForeignKey("model_portfolios.id"), primary_key=True)
    symbol: Mapped[str] = mapped_column(ForeignKey("securities.symbol"), primary_key=True)
    weight: Mapped[Decimal] = mapped_column(DecimalType(20, 12))
