"""OptimizerAgent: policy-constrained trade proposals on a sealed pricing pack.

The agent owns the unit of work (one session per call, rolled back on any failure); the maths is in
:mod:`app.analytics`. Nothing here sends an order anywhere: proposals are proposals.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from app.analytics.inputs import RebalanceInputs, RebalanceOptions
from app.core.context import RequestCtx
from app.core.errors import PricingPackError
from app.domain.proposal import RebalanceProposal

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger()


class OptimizerAgent:
    """Capabilities of the optimizer; each call is one transaction on its own session."""

    name = "optimizer"

    def __init__(self, session_factory: "async_sessionmaker[AsyncSession]") -> None:
        self._session_factory = session_factory

    async def resolve_pack_id(self, ctx: RequestCtx) -> str:
        """The pack named by ``ctx``, else the newest sealed pack (by as-of date, then id)."""
        from app.db.repositories import PricingPackRepository

        if ctx.pricing_pack_id:
            return ctx.pricing_pack_id
        async with self._session_factory() as session:
            packs = [p for p in await PricingPackRepository(session).list() if p.sealed]
        if not packs:
            raise PricingPackError("no sealed pricing pack exists; run `dawsos seed` or `dawsos packs import`")
        return max(packs, key=lambda p: (p.asof_date, p.id)).id

    async def gather_inputs(
        self,
        session: "AsyncSession",
        ctx: RequestCtx,
        *,
        portfolio_id: str,
        policy_id: str,
        policy_version: int | None = None,
        options: RebalanceOptions | None = None,
        strict: bool = False,
    ) -> RebalanceInputs:
        """Load policy, pack, holdings, securities, quality and benchmark for one rebalance."""
        from app.db.repositories import (
            BenchmarkRepository,
            ConstraintDefaultsRepository,
            PricingPackRepository,
            PolicyRepository,
            PortfolioRepository,
            SecurityRepository,
        )

        if not ctx.pricing_pack_id:
            raise PricingPackError("the request context names no pricing pack")
        packs = PricingPackRepository(session)
        pack = await packs.get(ctx.pricing_pack_id)
        if ctx.require_sealed_pack and not pack.sealed:
            raise PricingPackError(f"pricing pack {pack.id!r} is not sealed; seal it before proposing trades")
        policy = await PolicyRepository(session).get(policy_id, version=policy_version)
        portfolio = await PortfolioRepository(session).get(portfolio_id)
        if not portfolio.benchmark_id:
            raise PricingPackError(f"portfolio {portfolio.id!r} has no benchmark; tracking error needs one")
        benchmark = await BenchmarkRepository(session).get(portfolio.benchmark_id)
        universe = sorted(set(benchmark.weights) | {h.symbol for h in portfolio.holdings})
        securities_repo = SecurityRepository(session)
        securities = await securities_repo.get_many(universe)
        quality = await securities_repo.quality_scores(universe)
        history = await packs.history(pack.id, symbols=universe)
        asof_prices = await packs.asof_prices(pack.id)
        defaults = await ConstraintDefaultsRepository(session).get()
        log.info(
            "optimizer.inputs.loaded",
            n_universe=len(universe),
            n_holdings=len(portfolio.holdings),
            n_dates=len(history.index),
            policy_version=policy.version,
        )
        return RebalanceInputs(
            portfolio_id=portfolio.id,
            pack=pack,
            history=history,
            asof_prices={s: asof_prices[s] for s in universe if s in asof_prices},
            securities=securities,
            quality=quality,
            benchmark={s: float(w) for s, w in benchmark.weights.items()},
            holdings={h.symbol: h.shares for h in portfolio.holdings},
            cash=portfolio.cash,
            policy=policy,
            defaults=defaults,
            options=options or RebalanceOptions(),
            strict=strict,
        )

    async def propose_trades(
        self,
        ctx: RequestCtx,
        *,
        portfolio_id: str,
        policy_id: str,
        policy_version: int | None = None,
        strict: bool = False,
        options: RebalanceOptions | None = None,
        persist: bool = True,
    ) -> RebalanceProposal:
        """Propose whole-share Decimal trades for ``portfolio_id`` under ``policy_id`` on ``ctx``'s pack.

        Raises UnknownPortfolioError / UnknownPolicyError / UnknownPricingPackError, PricingPackError
        (unsealed or missing pack), InfeasiblePolicyError (``strict`` and a limit cannot hold).
        The proposal is persisted in the same transaction; any failure leaves the database unchanged.
        """
        with structlog.contextvars.bound_contextvars(
            portfolio_id=portfolio_id, pricing_pack_id=ctx.pricing_pack_id, request_id=ctx.request_id
        ):
            return await self._propose(
                ctx, portfolio_id=portfolio_id, policy_id=policy_id, policy_version=policy_version,
                strict=strict, options=options, persist=persist,
            )

    async def _propose(
        self,
        ctx: RequestCtx,
        *,
        portfolio_id: str,
        policy_id: str,
        policy_version: int | None,
        strict: bool,
        options: RebalanceOptions | None,
        persist: bool,
    ) -> RebalanceProposal:
        from app.analytics.propose import build_proposal
        from app.db.repositories import ProposalRepository

        async with self._session_factory() as session:
            async with session.begin():
                inputs = await self.gather_inputs(
                    session,
                    ctx,
                    portfolio_id=portfolio_id,
                    policy_id=policy_id,
                    policy_version=policy_version,
                    options=options,
                    strict=strict,
                )
                # CPU-bound solve off the event loop; contextvars are copied into the thread.
                proposal = await asyncio.to_thread(build_proposal, inputs, request_id=ctx.request_id)
                if persist:
                    await ProposalRepository(session).save(
                        proposal.body(),
                        proposal_id=proposal.proposal_id,
                        portfolio_id=proposal.portfolio_id,
                        policy_id=proposal.policy_id,
                        policy_version=proposal.policy_version,
                        pricing_pack_id=proposal.pricing_pack_id,
                        asof_date=proposal.asof_date,
                        request_id=ctx.request_id,
                    )
        log.info(
            "optimizer.proposal.ready",
            proposal_id=proposal.proposal_id,
            n_trades=len(proposal.trades),
            all_satisfied=proposal.summary.all_constraints_satisfied,
            persisted=persist,
        )
        return proposal
