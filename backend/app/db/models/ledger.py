"""Tax lots, the transaction ledger and cash flows.

Money ``(20, 4)``, shares ``(24, 8)``, cost bases ``(20, 6)``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, DecimalType


class TaxLotRow(Base):
    __tablename__ = "tax_lots"
    __table_args__ = (Index(None, "portfolio_id", "symbol"),)

    lot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id"))
    symbol: Mapped[str] = mapped_column(ForeignKey("securities.symbol"))
    quantity: Mapped[Decimal] = mapped_column(DecimalType(24, 8))
    cost_basis: Mapped[Decimal] = mapped_column(DecimalType(20, 6))
    acquired: Mapped[date] = mapped_column(Date)


class PortfolioTransactionRow(Base):
    __tablename__ = "portfolio_transactions"
    __table_args__ = (Index(None, "portfolio_id", "trade_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id"))
    symbol: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(DecimalType(24, 8))
    trade_date: Mapped[date] = mapped_column(Date)
    realised_gain: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    price: Mapped[Decimal | None] = mapped_column(DecimalType(20, 6))
    proposal_id: Mapped[str | None] = mapped_column(String(64))


class CashFlowRow(Base):
    __tablename__ = "cash_flows"
    __table_args__ = (Index(None, "portfolio_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id"))
    amount: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    flow_date: Mapped[date] = mapped_column(Date)
    run_id: Mapped[str | None] = mapped_column(String(64))
