"""OptimizerAgent: policy-constrained trade proposals on a sealed pricing pack.

Capabilities (called through the orchestrator, see :mod:`app.agents.base`):

* ``optimizer.propose_trades`` — :class:`ProposeTradesArgs` → :class:`~app.domain.RebalanceProposal`
  (persisted: one row per ``proposal_id``, each request recorded beside it);
* ``optimizer.analyze_impact`` — :class:`AnalyzeImpactArgs` → :class:`~app.domain.impact.ImpactAnalysis`
  (before/after metrics of a given list of trades; nothing written);
* ``optimizer.optimize`` — :class:`~app.agents.allocation.OptimizeArgs` →
  :class:`~app.domain.allocation.OptimizationOutput` (target weights of an allocation model; no holdings);
* ``optimizer.efficient_frontier`` — :class:`~app.agents.allocation.FrontierArgs` →
  :class:`~app.domain.allocation.FrontierOutput` (nothing written);
* ``optimizer.evaluate_weights`` — :class:`~app.agents.allocation.EvaluateArgs` →
  :class:`~app.domain.allocation.EvaluationOutput` (ex-post drawdown, information ratio; nothing written).

The agent owns the unit of work (one session per call; every write in one transaction, rolled back on any
failure or cancellation); the
maths is in :mod:`app.analytics`. Nothing here sends an order anywhere: proposals are proposals.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog
from pydantic import Field

from app.agents.allocation import EvaluateArgs, FrontierArgs, OptimizeArgs
from app.agents.base import Agent, CapabilityArgs, capability, context_pack
from app.analytics.inputs import RebalanceInputs, RebalanceOptions
from app.core.context import RequestCtx
from app.core.errors import DomainRefusal
from app.domain.account import AccountRules, GivenTarget
from app.domain.allocation import EvaluationOutput, FrontierOutput, OptimizationOutput
from app.domain.identity import Access, Role
from app.domain.impact import ImpactAnalysis, TradeInput
from app.domain.models import Policy
from app.domain.proposal import RebalanceProposal

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger()

#: the policy of a run toward a given target without one: no quality rule (unrated names are held as rated 0),
#: no binding cap, TE or turnover limit; the structural rules and the account's rules still hold
MODEL_POLICY = Policy(id="model_target", name="given target, no policy limits", min_quality_score=0.0,
                      max_single_position_pct=1.0, max_sector_pct=1.0, max_tracking_error_pct=1.0,
                      max_turnover_pct=2.0)


class ProposeTradesArgs(CapabilityArgs):
    """Arguments of ``optimizer.propose_trades``."""

    portfolio_id: str = Field(min_length=1, description="portfolio id (e.g. P1)")
    policy_id: str = Field(min_length=1, description="policy template id (e.g. quality_focused); with a given target "
                                                    "and no policy: MODEL_POLICY.id (no policy limit binds)")
    policy_version: int | None = Field(default=None, ge=1, description="default: the latest version")
    strict: bool = Field(default=False, description="refuse (InfeasiblePolicyError) when a limit cannot hold")
    options: RebalanceOptions = Field(default_factory=RebalanceOptions, description="engine options (hashed)")
    persist: bool = Field(default=True, description="store the proposal and record the request")
    account: AccountRules | None = Field(default=None, description="the account's rules (lots, restrictions, ...)")
    target: GivenTarget | None = Field(default=None, description="a given target; None: solved from the policy")


class AnalyzeImpactArgs(CapabilityArgs):
    """Arguments of ``optimizer.analyze_impact``: the trades are signed share changes (+ buy, − sell)."""

    portfolio_id: str = Field(min_length=1)
    policy_id: str = Field(min_length=1, description="the limits the after-trade portfolio is checked against")
    policy_version: int | None = Field(default=None, ge=1)
    trades: tuple[TradeInput, ...] = Field(description="e.g. a proposal's trades, as they are")
    options: RebalanceOptions = Field(default_factory=RebalanceOptions, description="risk-model options")


class OptimizerAgent(Agent):
    """Capabilities of the optimizer; each call is one transaction on its own session."""

    name = "optimizer"

    async def gather_inputs(
        self,
        session: AsyncSession,
        ctx: RequestCtx,
        *,
        portfolio_id: str,
        policy_id: str,
        policy_version: int | None = None,
        options: RebalanceOptions | None = None,
        strict: bool = False,
        account: AccountRules | None = None,
        target: GivenTarget | None = None,
    ) -> RebalanceInputs:
        """Load policy, pack, holdings, securities, quality and benchmark for one rebalance (and, with a given
        target or account rules, the target's names and harvest substitutes; the account's cost settings)."""
        from app.db.repositories import ConstraintDefaultsRepository, PolicyRepository, PortfolioRepository

        packs, pack = await context_pack(session, ctx)
        policy = (MODEL_POLICY if policy_id == MODEL_POLICY.id and target is not None
                  else await PolicyRepository(session).get(policy_id, version=policy_version))
        portfolio = await PortfolioRepository(session).get(portfolio_id)
        benchmark = await _benchmark_of(session, portfolio, target)
        extra = set(target.weights if target is not None else ()) | set(account.substitutes.values() if account else ())
        universe = sorted(set(benchmark) | {h.symbol for h in portfolio.holdings} | extra)
        securities, quality = await _reference_data(session, universe, rate_unrated=policy is MODEL_POLICY)
        history = await packs.history(pack.id, symbols=universe)
        asof_prices = await packs.asof_prices(pack.id)
        defaults = await ConstraintDefaultsRepository(session).get()
        log.info("optimizer.inputs.loaded", n_universe=len(universe), n_holdings=len(portfolio.holdings),
                 n_dates=len(history.index), policy_version=policy.version)
        return RebalanceInputs(
            portfolio_id=portfolio.id, pack=pack, history=history,
            asof_prices={s: asof_prices[s] for s in universe if s in asof_prices}, securities=securities,
            quality=quality, benchmark=benchmark, holdings={h.symbol: h.shares for h in portfolio.holdings},
            cash=portfolio.cash, policy=policy, defaults=account.costs_over(defaults) if account else defaults,
            options=options or RebalanceOptions(), strict=strict, account=account, target=target,
        )

    @capability("optimizer.propose_trades", args=ProposeTradesArgs, needs_pack=True, result=RebalanceProposal,
                access=Access.portfolio(Role.MANAGER, read_unless="persist"))
    async def propose_trades(self, ctx: RequestCtx, args: ProposeTradesArgs) -> RebalanceProposal:
        """Propose whole-share Decimal trades for a portfolio under a policy on the context's pack.

        Raises UnknownPortfolioError / UnknownPolicyError / UnknownPricingPackError, PricingPackError
        (unsealed or missing pack), DomainRefusal (the portfolio has no benchmark), InfeasiblePolicyError (``strict``
        and a limit cannot hold).
        One session; inputs are read in one transaction and the proposal written in another (all or nothing):
        any failure or cancellation leaves the database unchanged.
        """
        from app.agents.proposal_lifecycle import record_optimizer_proposal
        from app.analytics.propose import build_proposal

        async with self.session_factory() as session:
            async with session.begin():
                inputs = await self.gather_inputs(
                    session, ctx, portfolio_id=args.portfolio_id, policy_id=args.policy_id,
                    policy_version=args.policy_version, options=args.options, strict=args.strict,
                    account=args.account, target=args.target,
                )
            # The solve runs between the read and the write transaction: no connection or lock is held
            # while the CPU works (SQLite cannot upgrade a read lock that another writer waits on, and a
            # PostgreSQL pool is not pinned by solves). The proposal is content-addressed by the inputs
            # read, so the write stays correct if they change meanwhile. CPU work runs off the event loop;
            # contextvars (the log binding) are copied into the thread.
            proposal = await asyncio.to_thread(build_proposal, inputs, request_id=ctx.request_id)
            if args.persist:
                async with session.begin():
                    await record_optimizer_proposal(session, ctx, proposal, inputs)
        log.info(
            "optimizer.proposal.ready",
            proposal_id=proposal.proposal_id,
            n_trades=len(proposal.trades),
            all_satisfied=proposal.summary.all_constraints_satisfied,
            persisted=args.persist,
        )
        return proposal

    @capability("optimizer.analyze_impact", args=AnalyzeImpactArgs, needs_pack=True, result=ImpactAnalysis,
                access=Access.portfolio(Role.VIEWER))
    async def analyze_impact(self, ctx: RequestCtx, args: AnalyzeImpactArgs) -> ImpactAnalysis:
        """Before/after metrics (TE, volatility, return, Sharpe, weights, costs, policy limits) of given trades."""
        from app.agents.impact import impact_of_trades

        async with self.session_factory() as session:
            async with session.begin():
                inputs = await self.gather_inputs(
                    session, ctx, portfolio_id=args.portfolio_id, policy_id=args.policy_id,
                    policy_version=args.policy_version, options=args.options,
                )
        analysis = await asyncio.to_thread(impact_of_trades, inputs, args.trades)
        log.info("optimizer.impact.ready", n_trades=len(analysis.trades), turnover_pct=str(analysis.turnover_pct),
                 te_after_pct=str(analysis.after.te_pct))
        return analysis

    @capability("optimizer.optimize", args=OptimizeArgs, needs_pack=True, result=OptimizationOutput,
                access=Access.signed_in())
    async def optimize(self, ctx: RequestCtx, args: OptimizeArgs) -> OptimizationOutput:
        """Target weights of an allocation model (mean-risk, BL, RP, HRP, ...) on the context's pack."""
        from app.agents.allocation import gather_allocation_inputs, run_optimize

        async with self.session_factory() as session:
            async with session.begin():
                inputs = await gather_allocation_inputs(session, ctx, args)
        result = await asyncio.to_thread(run_optimize, inputs, args)
        log.info("optimizer.optimize.ready", model=result.model, n_holdings=len(result.weights),
                 satisfied=result.constraints_satisfied)
        return result

    @capability("optimizer.efficient_frontier", args=FrontierArgs, needs_pack=True, result=FrontierOutput,
                access=Access.portfolio(Role.VIEWER))
    async def efficient_frontier(self, ctx: RequestCtx, args: FrontierArgs) -> FrontierOutput:
        """Efficient frontier (ordered by risk) with min-risk, max-Sharpe, max-return and current points."""
        from app.agents.allocation import gather_allocation_inputs, run_frontier

        async with self.session_factory() as session:
            async with session.begin():
                inputs = await gather_allocation_inputs(session, ctx, args, portfolio_id=args.portfolio_id)
        result = await asyncio.to_thread(run_frontier, inputs, args)
        log.info("optimizer.frontier.ready", n_points=len(result.points), risk_measure=result.risk_measure)
        return result

    @capability("optimizer.evaluate_weights", args=EvaluateArgs, needs_pack=True, result=EvaluationOutput,
                access=Access.portfolio(Role.VIEWER))
    async def evaluate_weights(self, ctx: RequestCtx, args: EvaluateArgs) -> EvaluationOutput:
        """Ex-post max drawdown, information ratio, tracking error of given weights (and turnover from a
        portfolio's current weights) over the pack's history."""
        from app.agents.allocation import gather_allocation_inputs, run_evaluate

        async with self.session_factory() as session:
            async with session.begin():
                inputs = await gather_allocation_inputs(session, ctx, args, portfolio_id=args.portfolio_id)
        return await asyncio.to_thread(run_evaluate, inputs, args)


async def _benchmark_of(session: AsyncSession, portfolio, target: GivenTarget | None) -> dict[str, float]:  # noqa: ANN001
    """The portfolio's benchmark weights (fractions); without one, a given target normalised (TE to it)."""
    from app.db.repositories import BenchmarkRepository

    if portfolio.benchmark_id:
        benchmark = await BenchmarkRepository(session).get(portfolio.benchmark_id)
        return {s: float(w) for s, w in benchmark.weights.items()}
    total = float(sum(target.weights.values())) if target is not None else 0.0
    if total <= 0:
        raise DomainRefusal(f"portfolio {portfolio.id!r} has no benchmark; tracking error needs one")
    return {s: float(w) / total for s, w in target.weights.items() if w > 0}


async def _reference_data(session: AsyncSession, symbols: list[str], *,
                          rate_unrated: bool) -> tuple[dict, dict[str, float]]:
    """Securities and quality scores of ``symbols``; ``rate_unrated``: unrated names count as 0.0 (a given
    target without a policy has no quality rule, so they are not forced exits)."""
    from app.db.repositories import SecurityRepository

    repo = SecurityRepository(session)
    securities = await repo.get_many(symbols)
    quality = await repo.quality_scores(symbols)
    if rate_unrated:
        quality = {s: quality.get(s, 0.0) for s in symbols}
    return securities, quality
