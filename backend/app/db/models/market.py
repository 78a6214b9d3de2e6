"""Securities, quality ratings, pricing packs and their prices, benchmarks.

Prices ``(20, 6)``; lot sizes ``(24, 8)``; benchmark weights ``(20, 12)`` (fractions of 1);
quality scores ``(6, 3)`` (0-10).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, DecimalType, utcnow


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
