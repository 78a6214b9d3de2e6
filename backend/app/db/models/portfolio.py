"""Portfolios and their holdings. Cash ``(20, 4)``; shares ``(24, 8)``.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, DecimalType


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
