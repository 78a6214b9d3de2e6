"""ORM rows (SQLAlchemy 2.0 typed mappings). Repositories turn them into ``app.domain`` models.

Column precisions (``DecimalType(precision, scale)``), all exact:

* prices ``(20, 6)``; shares and lot sizes ``(24, 8)``; cash and money constants ``(20, 4)``;
* benchmark weights ``(20, 12)`` (fractions of 1); quality scores ``(6, 3)`` (0-10);
* ``risk_free_rate`` ``(12, 8)`` (annual fraction), ``market_impact_bps`` ``(12, 4)``.

The schema itself is created by the Alembic migrations in ``app/db/migrations`` (never by
``create_all``); a test checks that migrations and these models agree.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, DecimalType


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SecurityRow(Base):
    __tablename__ = "securities"

    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(100))
    asset_class: Mapped[str] = mapped_column(String(50), default="Equity")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    lot_size: Mapped[Decimal] = mapped_column(DecimalType(24, 8), default=Decimal(1))
    status: Mapped[str] = mapped_column(String(16), default="active")


class QualityRatingRow(Base):
    """One score per symbol and as-of date (the primary key keeps them unique)."""

    __tablename__ = "quality_ratings"

    symbol: Mapped[str] = mapped_column(ForeignKey("securities.symbol"), primary_key=True)
    asof_date: Mapped[date] = mapped_column(Date, primary_key=True)
    score: Mapped[Decimal] = mapped_column(DecimalType(6, 3))
    source: Mapped[str] = mapped_column(String(200), default="")


class PricingPackRow(Base):
    __tablename__ = "pricing_packs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    asof_date: Mapped[date] = mapped_column(Date)
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sealed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PackPriceRow(Base):
    __tablename__ = "pack_prices"
    #: covering index for the one-row-per-date history read (migration 0003)
    __table_args__ = (Index("ix_pack_prices_by_date", "pack_id", "price_date", "symbol", "close"),)

    pack_id: Mapped[str] = mapped_column(ForeignKey("pricing_packs.id"), primary_key=True)
    symbol: Mapped[str] = mapped_column(ForeignKey("securities.symbol"), primary_key=True)
    price_date: Mapped[date] = mapped_column(Date, primary_key=True)
    close: Mapped[Decimal] = mapped_column(DecimalType(20, 6))


class BenchmarkRow(Base):
    __tablename__ = "benchmarks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")

    weights: Mapped[list[BenchmarkWeightRow]] = relationship(
        back_populates="benchmark", cascade="all, delete-orphan", order_by="BenchmarkWeightRow.symbol"
    )


class BenchmarkWeightRow(Base):
    __tablename__ = "benchmark_weights"

    benchmark_id: Mapped[str] = mapped_column(ForeignKey("benchmarks.id"), primary_key=True)
    symbol: Mapped[str] = mapped_column(ForeignKey("securities.symbol"), primary_key=True)
    weight: Mapped[Decimal] = mapped_column(DecimalType(20, 12))

    benchmark: Mapped[BenchmarkRow] = relationship(back_populates="weights")


class PortfolioRow(Base):
    __tablename__ = "portfolios"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    cash: Mapped[Decimal] = mapped_column(DecimalType(20, 4), default=Decimal(0))
    base_currency: Mapped[str] = mapped_column(String(3), default="USD")
    benchmark_id: Mapped[str | None] = mapped_column(ForeignKey("benchmarks.id"))

    holdings: Mapped[list[HoldingRow]] = relationship(
        back_populates="portfolio", cascade="all, delete-orphan", order_by="HoldingRow.symbol"
    )


class HoldingRow(Base):
    __tablename__ = "holdings"

    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id"), primary_key=True)
    symbol: Mapped[str] = mapped_column(ForeignKey("securities.symbol"), primary_key=True)
    shares: Mapped[Decimal] = mapped_column(DecimalType(24, 8))

    portfolio: Mapped[PortfolioRow] = relationship(back_populates="holdings")


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


class RebalanceProposalRow(Base):
    """A persisted proposal: ``body`` is the canonical JSON (``RebalanceProposal.body()``)."""

    __tablename__ = "rebalance_proposals"
    __table_args__ = (Index(None, "portfolio_id"),)

    proposal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    portfolio_id: Mapped[str] = mapped_column(String(64))
    policy_id: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[int] = mapped_column(Integer)
    pricing_pack_id: Mapped[str] = mapped_column(String(64))
    asof_date: Mapped[date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProposalRequestRow(Base):
    """Each request that produced (or re-produced) a proposal."""

    __tablename__ = "proposal_requests"
    __table_args__ = (UniqueConstraint("proposal_id", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("rebalance_proposals.proposal_id"))
    request_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# rebalancing rows live in their own module; imported here so Base.metadata always holds them
from app.db import models_rebalancing as _models_rebalancing  # noqa: E402,F401
