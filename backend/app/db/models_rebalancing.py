"""ORM rows of the rebalancing engine (created by migration ``0002_rebalancing``).

Money ``(20, 4)``, shares ``(24, 8)``, prices and cost bases ``(20, 6)``, weights ``(20, 12)``.
JSON columns hold canonical JSON-ready data (Decimals as strings).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, DecimalType
from app.db.models import utcnow


class RebalanceSettingsRow(Base):
    __tablename__ = "rebalance_settings"

    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id"), primary_key=True)
    approval_threshold: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PortfolioApproverRow(Base):
    __tablename__ = "portfolio_approvers"

    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))


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


class ModelWeightRow(Base):
    __tablename__ = "model_weights"

    model_portfolio_id: Mapped[str] = mapped_column(ForeignKey("model_portfolios.id"), primary_key=True)
    symbol: Mapped[str] = mapped_column(ForeignKey("securities.symbol"), primary_key=True)
    weight: Mapped[Decimal] = mapped_column(DecimalType(20, 12))


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


class CashFlowRow(Base):
    __tablename__ = "cash_flows"
    __table_args__ = (Index(None, "portfolio_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id"))
    amount: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    flow_date: Mapped[date] = mapped_column(Date)
    run_id: Mapped[str | None] = mapped_column(String(64))


class RebalanceRunRow(Base):
    __tablename__ = "rebalance_runs"
    __table_args__ = (Index(None, "portfolio_id", "created_at"),)

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id"))
    proposal_id: Mapped[str | None] = mapped_column(ForeignKey("rebalance_proposals.proposal_id"))
    pricing_pack_id: Mapped[str] = mapped_column(ForeignKey("pricing_packs.id"))
    asof_date: Mapped[date] = mapped_column(Date)
    triggers: Mapped[list[Any]] = mapped_column(JSON)
    before_alloc: Mapped[dict[str, Any]] = mapped_column(JSON)
    after_alloc: Mapped[dict[str, Any]] = mapped_column(JSON)
    n_trades: Mapped[int] = mapped_column(Integer)
    total_trade_value: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    total_cost: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    realised_short: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    realised_long: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    estimated_tax: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    outcome: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProposalTransitionRow(Base):
    __tablename__ = "proposal_transitions"
    __table_args__ = (Index(None, "proposal_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("rebalance_proposals.proposal_id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    request_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApprovalRefusalRow(Base):
    __tablename__ = "approval_refusals"
    __table_args__ = (Index(None, "proposal_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
