"""The service's CQRS tables (seed 003): write side (requests and results of optimizations, efficient frontiers
and rebalances) and read side (``portfolio_optimizations``, ``efficient_frontiers``, ``rebalance_plans``).

``optimization_requests`` is also the job queue: ``status`` (pending → processing → completed | failed |
cancelled), the lease (``lease_owner``, ``lease_expires_at``, ``heartbeat_at``), ``attempts``, ``deadline_at``,
``cancel_requested`` and the one-line ``error``. JSON columns are ``JSONB`` on PostgreSQL and JSON text on SQLite;
they hold JSON-ready data (fractions as Decimal strings). Factor-analysis tables wait for factor analytics.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, DecimalType, json_column, utcnow


def _fk(target: str, name: str) -> ForeignKey:
    """A foreign key named as seed 003 names them (``<table>_<what>_fk``; the convention's would pass 63)."""
    return ForeignKey(target, name=name)


def _tz() -> DateTime:
    return DateTime(timezone=True)


class OptimizationRequestRow(Base):
    """A requested optimization, and the job that runs it."""

    __tablename__ = "optimization_requests"
    __table_args__ = (
        Index("optimization_requests_portfolio_idx", "portfolio_id"),
        Index("optimization_requests_status_idx", "status", "created_at"),
        UniqueConstraint("requested_by", "idempotency_key", name="uq_optimization_requests_idempotency"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    portfolio_id: Mapped[str] = mapped_column(_fk("portfolios.id", "optimization_requests_portfolio_fk"))
    optimization_type: Mapped[str] = mapped_column(String(30))
    objective: Mapped[str] = mapped_column(String(30))
    risk_measure: Mapped[str] = mapped_column(String(20))
    constraints: Mapped[dict[str, Any]] = mapped_column(json_column())
    preferences: Mapped[dict[str, Any]] = mapped_column(json_column())
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(_tz(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(_tz(), default=utcnow)
    # the job
    pricing_pack_id: Mapped[str] = mapped_column(_fk("pricing_packs.id", "optimization_requests_pack_fk"))
    requested_by: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(_tz())
    heartbeat_at: Mapped[datetime | None] = mapped_column(_tz())
    started_at: Mapped[datetime | None] = mapped_column(_tz())
    deadline_at: Mapped[datetime] = mapped_column(_tz())
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)


class OptimizationResultRow(Base):
    __tablename__ = "optimization_results"

    optimization_id: Mapped[str] = mapped_column(
        _fk("optimization_requests.id", "optimization_results_optimization_fk"), primary_key=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(json_column())
    current_allocation: Mapped[dict[str, Any]] = mapped_column(json_column())
    target_allocation: Mapped[dict[str, Any]] = mapped_column(json_column())
    trades: Mapped[list[Any]] = mapped_column(json_column())
    efficient_frontier: Mapped[list[Any] | None] = mapped_column(json_column())
    completed_at: Mapped[datetime] = mapped_column(_tz(), default=utcnow)


class EfficientFrontierRequestRow(Base):
    __tablename__ = "efficient_frontier_requests"
    __table_args__ = (
        Index("efficient_frontier_requests_portfolio_idx", "portfolio_id"),
        Index("efficient_frontier_requests_status_idx", "status"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    portfolio_id: Mapped[str] = mapped_column(_fk("portfolios.id", "efficient_frontier_requests_portfolio_fk"))
    risk_measure: Mapped[str] = mapped_column(String(20))
    points: Mapped[int] = mapped_column(Integer)
    min_return: Mapped[Decimal | None] = mapped_column(DecimalType(10, 8))
    max_risk: Mapped[Decimal | None] = mapped_column(DecimalType(10, 8))
    constraints: Mapped[dict[str, Any]] = mapped_column(json_column())
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(_tz(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(_tz(), default=utcnow)
    pricing_pack_id: Mapped[str] = mapped_column(_fk("pricing_packs.id", "efficient_frontier_requests_pack_fk"))
    requested_by: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)


class EfficientFrontierResultRow(Base):
    __tablename__ = "efficient_frontier_results"

    frontier_id: Mapped[str] = mapped_column(
        _fk("efficient_frontier_requests.id", "efficient_frontier_results_frontier_fk"), primary_key=True)
    frontier_points: Mapped[list[Any]] = mapped_column(json_column())
    current_portfolio: Mapped[dict[str, Any]] = mapped_column(json_column())
    optimal_portfolio: Mapped[dict[str, Any]] = mapped_column(json_column())
    min_risk_portfolio: Mapped[dict[str, Any]] = mapped_column(json_column())
    max_return_portfolio: Mapped[dict[str, Any]] = mapped_column(json_column())
    completed_at: Mapped[datetime] = mapped_column(_tz(), default=utcnow)


class RebalanceRequestRow(Base):
    __tablename__ = "rebalance_requests"
    __table_args__ = (
        Index("rebalance_requests_portfolio_idx", "portfolio_id"),
        Index("rebalance_requests_status_idx", "status"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    portfolio_id: Mapped[str] = mapped_column(_fk("portfolios.id", "rebalance_requests_portfolio_fk"))
    target_type: Mapped[str] = mapped_column(String(20))
    constraints: Mapped[dict[str, Any]] = mapped_column(json_column())
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(_tz(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(_tz(), default=utcnow)
    policy_id: Mapped[str] = mapped_column(String(64))
    pricing_pack_id: Mapped[str] = mapped_column(_fk("pricing_packs.id", "rebalance_requests_pack_fk"))
    requested_by: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(64))
    proposal_id: Mapped[str | None] = mapped_column(
        _fk("rebalance_proposals.proposal_id", "rebalance_requests_proposal_fk"))
    error: Mapped[str | None] = mapped_column(Text)


class RebalanceResultRow(Base):
    __tablename__ = "rebalance_results"

    rebalance_id: Mapped[str] = mapped_column(
        _fk("rebalance_requests.id", "rebalance_results_rebalance_fk"), primary_key=True)
    current_allocation: Mapped[dict[str, Any]] = mapped_column(json_column())
    target_allocation: Mapped[dict[str, Any]] = mapped_column(json_column())
    trades: Mapped[list[Any]] = mapped_column(json_column())
    metrics: Mapped[dict[str, Any]] = mapped_column(json_column())
    completed_at: Mapped[datetime] = mapped_column(_tz(), default=utcnow)


# ---- read side (query models, written with the write side in the same transaction) -----------------
class PortfolioOptimizationRow(Base):
    __tablename__ = "portfolio_optimizations"
    __table_args__ = (
        Index("portfolio_optimizations_portfolio_idx", "portfolio_id"),
        Index("portfolio_optimizations_created_idx", "created_at"),
    )

    optimization_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    portfolio_id: Mapped[str] = mapped_column(_fk("portfolios.id", "portfolio_optimizations_portfolio_fk"))
    optimization_type: Mapped[str] = mapped_column(String(30))
    objective: Mapped[str] = mapped_column(String(30))
    risk_measure: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    metrics: Mapped[dict[str, Any] | None] = mapped_column(json_column())
    current_allocation: Mapped[dict[str, Any] | None] = mapped_column(json_column())
    target_allocation: Mapped[dict[str, Any] | None] = mapped_column(json_column())
    trades: Mapped[list[Any] | None] = mapped_column(json_column())
    created_at: Mapped[datetime] = mapped_column(_tz())
    completed_at: Mapped[datetime | None] = mapped_column(_tz())
    efficient_frontier: Mapped[list[Any] | None] = mapped_column(json_column())
    pricing_pack_id: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(64), default="")
    constraints: Mapped[dict[str, Any]] = mapped_column(json_column())
    preferences: Mapped[dict[str, Any]] = mapped_column(json_column())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    deadline_at: Mapped[datetime] = mapped_column(_tz())
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(json_column())


class EfficientFrontierRow(Base):
    __tablename__ = "efficient_frontiers"
    __table_args__ = (
        Index("efficient_frontiers_portfolio_idx", "portfolio_id"),
        Index("efficient_frontiers_created_idx", "created_at"),
        Index("efficient_frontiers_request_hash_idx", "request_hash"),
    )

    frontier_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    portfolio_id: Mapped[str] = mapped_column(_fk("portfolios.id", "efficient_frontiers_portfolio_fk"))
    risk_measure: Mapped[str] = mapped_column(String(20))
    frontier_points: Mapped[list[Any]] = mapped_column(json_column())
    current_portfolio: Mapped[dict[str, Any]] = mapped_column(json_column())
    optimal_portfolio: Mapped[dict[str, Any]] = mapped_column(json_column())
    min_risk_portfolio: Mapped[dict[str, Any]] = mapped_column(json_column())
    max_return_portfolio: Mapped[dict[str, Any]] = mapped_column(json_column())
    created_at: Mapped[datetime] = mapped_column(_tz())
    pricing_pack_id: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(Integer)


class RebalancePlanRow(Base):
    __tablename__ = "rebalance_plans"
    __table_args__ = (
        Index("rebalance_plans_portfolio_idx", "portfolio_id"),
        Index("rebalance_plans_created_idx", "created_at"),
    )

    rebalance_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    portfolio_id: Mapped[str] = mapped_column(_fk("portfolios.id", "rebalance_plans_portfolio_fk"))
    target_type: Mapped[str] = mapped_column(String(20))
    current_allocation: Mapped[dict[str, Any]] = mapped_column(json_column())
    target_allocation: Mapped[dict[str, Any]] = mapped_column(json_column())
    trades: Mapped[list[Any]] = mapped_column(json_column())
    metrics: Mapped[dict[str, Any]] = mapped_column(json_column())
    created_at: Mapped[datetime] = mapped_column(_tz())
    proposal_id: Mapped[str] = mapped_column(String(64))
    pricing_pack_id: Mapped[str] = mapped_column(String(64))
    policy_id: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(64), default="")
