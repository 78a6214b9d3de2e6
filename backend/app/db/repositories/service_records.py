"""Efficient frontiers and rebalance plans: their requests and results (write side) and the read models
``efficient_frontiers`` and ``rebalance_plans``, written in the caller's transaction.

A request that fails is recorded too (status ``failed`` and its one-line reason), in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import UnknownRebalancePlanError
from app.db.models import (
    EfficientFrontierRequestRow,
    EfficientFrontierResultRow,
    EfficientFrontierRow,
    RebalancePlanRow,
    RebalanceRequestRow,
    RebalanceResultRow,
    utcnow,
)
from app.db.repositories.proposals import aware
from app.domain.service import FrontierView, RebalancePlanView


@dataclass(frozen=True)
class FrontierRequest:
    id: str
    portfolio_id: str
    risk_measure: str
    points: int
    min_return: Decimal | None
    max_risk: Decimal | None
    constraints: dict[str, Any]
    pricing_pack_id: str
    requested_by: str
    request_id: str
    request_hash: str


@dataclass(frozen=True)
class RebalanceRequest:
    id: str
    portfolio_id: str
    target_type: str
    constraints: dict[str, Any]
    policy_id: str
    pricing_pack_id: str
    requested_by: str
    request_id: str


def _frontier_view(row: EfficientFrontierRow) -> FrontierView:
    return FrontierView(
        frontier_id=row.frontier_id, portfolio_id=row.portfolio_id, risk_measure=row.risk_measure,
        pricing_pack_id=row.pricing_pack_id, created_at=aware(row.created_at), points=row.points,
        efficient_frontier=row.frontier_points, current_portfolio=row.current_portfolio,
        optimal_portfolio=row.optimal_portfolio, min_risk_portfolio=row.min_risk_portfolio,
        max_return_portfolio=row.max_return_portfolio)


class FrontierRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def cached(self, request_hash: str) -> FrontierView | None:
        """The newest frontier computed for the same request on the same pack (frontiers are deterministic)."""
        row = await self.session.scalar(select(EfficientFrontierRow)
                                        .where(EfficientFrontierRow.request_hash == request_hash)
                                        .order_by(EfficientFrontierRow.created_at.desc()).limit(1))
        return _frontier_view(row) if row is not None else None

    def _request_row(self, req: FrontierRequest, status: str, error: str | None = None) -> EfficientFrontierRequestRow:
        now = utcnow()
        fields = {k: getattr(req, k) for k in FrontierRequest.__dataclass_fields__}
        return EfficientFrontierRequestRow(**fields, status=status, error=error, created_at=now, updated_at=now)

    async def record(self, req: FrontierRequest, view: FrontierView) -> None:
        doc = view.model_dump(mode="json")
        self.session.add(self._request_row(req, "completed"))
        await self.session.flush()
        parts = {"current_portfolio": doc["current_portfolio"], "optimal_portfolio": doc["optimal_portfolio"],
                 "min_risk_portfolio": doc["min_risk_portfolio"], "max_return_portfolio": doc["max_return_portfolio"]}
        self.session.add(EfficientFrontierResultRow(frontier_id=req.id, frontier_points=doc["efficient_frontier"],
                                                    completed_at=view.created_at, **parts))
        self.session.add(EfficientFrontierRow(
            frontier_id=req.id, portfolio_id=req.portfolio_id, risk_measure=req.risk_measure,
            frontier_points=doc["efficient_frontier"], created_at=view.created_at,
            pricing_pack_id=req.pricing_pack_id, request_hash=req.request_hash, points=req.points, **parts))
        await self.session.flush()

    async def record_failure(self, req: FrontierRequest, reason: str) -> None:
        self.session.add(self._request_row(req, "failed", reason))
        await self.session.flush()


class RebalancePlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _request_row(self, req: RebalanceRequest, status: str, *, proposal_id: str | None = None,
                     error: str | None = None) -> RebalanceRequestRow:
        now = utcnow()
        fields = {k: getattr(req, k) for k in RebalanceRequest.__dataclass_fields__}
        return RebalanceRequestRow(**fields, status=status, proposal_id=proposal_id, error=error, created_at=now,
                                   updated_at=now)

    async def record(self, req: RebalanceRequest, plan: RebalancePlanView) -> None:
        doc = plan.model_dump(mode="json")
        self.session.add(self._request_row(req, "completed", proposal_id=plan.proposal_id))
        await self.session.flush()
        parts = {k: doc[k] for k in ("current_allocation", "target_allocation", "trades", "metrics")}
        self.session.add(RebalanceResultRow(rebalance_id=req.id, completed_at=plan.created_at, **parts))
        self.session.add(RebalancePlanRow(
            rebalance_id=req.id, portfolio_id=req.portfolio_id, target_type=req.target_type,
            created_at=plan.created_at, proposal_id=plan.proposal_id, pricing_pack_id=req.pricing_pack_id,
            policy_id=req.policy_id, requested_by=req.requested_by, **parts))
        await self.session.flush()

    async def record_failure(self, req: RebalanceRequest, reason: str) -> None:
        self.session.add(self._request_row(req, "failed", error=reason))
        await self.session.flush()

    async def portfolio_of(self, rebalance_id: str) -> str:
        """The portfolio a rebalance plan is about (UnknownRebalancePlanError when there is no such plan)."""
        return (await self.get(rebalance_id)).portfolio_id

    async def get(self, rebalance_id: str) -> RebalancePlanRow:
        row = await self.session.get(RebalancePlanRow, rebalance_id)
        if row is None:
            raise UnknownRebalancePlanError(rebalance_id)
        return row
