"""Proposals, the requests that produced them, their transitions, refused approvals and rebalance runs.

Money ``(20, 4)``. JSON columns hold canonical JSON-ready data (Decimals as strings).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, DecimalType, utcnow

#: at most one live approved proposal per portfolio and pack (migration 0004; partial on both dialects)
APPROVED_ONLY = text("status = 'approved'")


class RebalanceProposalRow(Base):
    """THE proposal table (every command's proposals, one state machine): ``body`` is the engine's canonical
    JSON, ``record`` the uniform fields (trades, allocations, cash, totals) of
    :class:`app.domain.lifecycle.ProposalRecord`, ``status`` the lifecycle state."""

    __tablename__ = "rebalance_proposals"
    __table_args__ = (
        Index(None, "portfolio_id"),
        Index("uq_rebalance_proposals_live_approved", "portfolio_id", "pricing_pack_id", unique=True,
              sqlite_where=APPROVED_ONLY, postgresql_where=APPROVED_ONLY),
    )

    proposal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    portfolio_id: Mapped[str] = mapped_column(String(64))
    policy_id: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[int] = mapped_column(Integer)
    pricing_pack_id: Mapped[str] = mapped_column(String(64))
    asof_date: Mapped[date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    source: Mapped[str] = mapped_column(String(16))
    requires_approval: Mapped[bool] = mapped_column(Boolean)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    superseded_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProposalRequestRow(Base):
    """Each request that produced (or re-produced) a proposal."""

    __tablename__ = "proposal_requests"
    __table_args__ = (UniqueConstraint("proposal_id", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("rebalance_proposals.proposal_id"))
    request_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[str | None] = mapped_column(String(64))


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
    user_id: Mapped[str | None] = mapped_column(String(64))


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


class ProposalFillRow(Base):
    """What filled against what was proposed (``dawsos proposals execute``); one row per fill line."""

    __tablename__ = "proposal_fills"
    __table_args__ = (Index(None, "proposal_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("rebalance_proposals.proposal_id"))
    line: Mapped[int | None] = mapped_column(Integer)
    symbol: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8))
    proposed_shares: Mapped[Decimal] = mapped_column(DecimalType(24, 8))
    shares: Mapped[Decimal] = mapped_column(DecimalType(24, 8))
    price: Mapped[Decimal] = mapped_column(DecimalType(20, 6))
    fill_date: Mapped[date] = mapped_column(Date)
    fees: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    realised_gain: Mapped[Decimal] = mapped_column(DecimalType(20, 4))
    actor: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
