"""Proposals, the requests that produced them, their transitions, refused approvals and rebalance runs.

Money ``(20, 4)``. JSON columns hold canonical JSON-ready data (Decimals as strings).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, DecimalType, utcnow


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
