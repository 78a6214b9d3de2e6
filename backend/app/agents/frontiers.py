"""FrontierAgent: a portfolio's efficient frontier as seed 003 shows it, recorded in its CQRS tables.

* ``frontiers.generate`` — ``optimizer.efficient_frontier`` on the context's pack with the portfolio's current
  point; seed 003's ``current_portfolio``, ``optimal_portfolio`` (max Sharpe), ``min_risk_portfolio`` and
  ``max_return_portfolio``; ``min_return`` / ``max_risk`` keep the frontier points that satisfy them (the special
  points are always shown). A frontier is deterministic for its request and pack: the same request on the
  same pack is answered from the read model ``efficient_frontiers``.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import structlog
from pydantic import Field

from app.agents.base import Agent, CapabilityArgs, capability
from app.core.context import RequestCtx, utcnow
from app.core.errors import DawsosError, one_line
from app.domain import sha256_hex
from app.domain.identity import Access, Role
from app.domain.service import (
    FrontierView,
    OptimizationConstraints,
    RiskMeasureName,
    fraction,
    frontier_point,
)

log = structlog.get_logger()


class FrontierArgs(CapabilityArgs):
    portfolio_id: str = Field(min_length=1, max_length=64)
    points: int = Field(default=20, ge=2, le=200, description="points on the frontier")
    min_return: float | None = Field(default=None, ge=-10, le=10, description="annual fraction; keeps points above")
    max_risk: float | None = Field(default=None, gt=0, le=10, description="annual fraction; keeps points below")
    risk_measure: RiskMeasureName = RiskMeasureName.VOLATILITY
    constraints: OptimizationConstraints = Field(default_factory=OptimizationConstraints)
    lookback_days: int = Field(default=756, ge=20, le=10_000)


class FrontierAgent(Agent):
    """Frontiers; concurrent identical requests in this process share one computation (single flight)."""

    name = "frontiers"

    def __init__(self, session_factory: Any) -> None:
        super().__init__(session_factory)
        self._inflight: dict[str, asyncio.Future[FrontierView]] = {}

    @capability("frontiers.generate", args=FrontierArgs, needs_pack=True, result=FrontierView,
                access=Access.portfolio(Role.VIEWER))
    async def generate(self, ctx: RequestCtx, args: FrontierArgs) -> FrontierView:
        """The portfolio's efficient frontier with its current, optimal, min-risk and max-return points."""
        from app.db.repositories.service_records import FrontierRepository

        doc = args.model_dump(mode="json")
        digest = sha256_hex({"args": doc, "pricing_pack_id": ctx.pricing_pack_id})
        async with self.session_factory() as session, session.begin():
            cached = await FrontierRepository(session).cached(digest)
        if cached is not None:
            return cached
        if digest in self._inflight:  # the same frontier is being computed: wait for it
            return await asyncio.shield(self._inflight[digest])
        future: asyncio.Future[FrontierView] = asyncio.get_running_loop().create_future()
        self._inflight[digest] = future
        try:
            view = await self._generate(ctx, args, doc, digest)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        else:
            future.set_result(view)
        finally:
            self._inflight.pop(digest, None)
        return view

    async def _generate(self, ctx: RequestCtx, args: FrontierArgs, doc: dict[str, Any], digest: str) -> FrontierView:
        from app.db.repositories.service_records import FrontierRepository, FrontierRequest

        request = FrontierRequest(
            id=f"ef-{uuid.uuid4().hex}", portfolio_id=args.portfolio_id, risk_measure=args.risk_measure.value,
            points=args.points, min_return=_dec(args.min_return), max_risk=_dec(args.max_risk),
            constraints=doc["constraints"], pricing_pack_id=ctx.pricing_pack_id or "",
            requested_by=ctx.user_id or "", request_id=ctx.request_id, request_hash=digest)
        try:
            view = await self._compute(ctx, args, request.id)
        except DawsosError as exc:
            await self._record_failure(request, exc)
            raise
        async with self.session_factory() as session, session.begin():
            await FrontierRepository(session).record(request, view)
        log.info("frontiers.generated", frontier_id=view.frontier_id, n_points=len(view.efficient_frontier))
        return view

    async def _compute(self, ctx: RequestCtx, args: FrontierArgs, frontier_id: str) -> FrontierView:
        c = args.constraints
        given = {k: v for k, v in (("max_weight", c.max_position_size), ("min_position", c.min_position_size),
                                   ("max_sector_weight", c.max_sector_exposure),
                                   ("max_asset_class_weight", c.max_asset_class_exposure)) if v is not None}
        frontier = await self.call_capability(
            "optimizer.efficient_frontier", ctx, points=args.points, risk_measure=args.risk_measure.risk_measure.value,
            portfolio_id=args.portfolio_id, lookback_days=args.lookback_days, **given)
        kept = [p for p in frontier.points
                if (args.min_return is None or p.return_ >= args.min_return)
                and (args.max_risk is None or p.risk <= args.max_risk)]
        return FrontierView(
            frontier_id=frontier_id, portfolio_id=args.portfolio_id, risk_measure=args.risk_measure.value,
            pricing_pack_id=frontier.pricing_pack_id, created_at=utcnow(), points=args.points,
            efficient_frontier=tuple(frontier_point(p, with_weights=True) for p in kept),
            current_portfolio=frontier_point(frontier.current, with_weights=True),
            optimal_portfolio=frontier_point(frontier.max_sharpe, with_weights=True),
            min_risk_portfolio=frontier_point(frontier.min_risk, with_weights=True),
            max_return_portfolio=frontier_point(frontier.max_return, with_weights=True))

    async def _record_failure(self, request: object, exc: DawsosError) -> None:
        from app.db.repositories.service_records import FrontierRepository

        try:
            async with self.session_factory() as session, session.begin():
                await FrontierRepository(session).record_failure(request, one_line(exc))  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - e.g. an unknown portfolio cannot be referenced: the refusal stands
            log.info("frontiers.failure_not_recorded", reason=one_line(exc))


def _dec(value: float | None) -> Decimal | None:
    return fraction(value) if value is not None else None
