"""RebalancePlanAgent: seed 003's rebalance plan, which is a proposal in the one proposal lifecycle.

* ``plans.create`` — ``optimizer.propose_trades`` (the one trade engine; the proposal is stored in the one
  proposal table, exactly as ``dawsos rebalance`` stores it) toward the plan's target: ``optimal`` (the policy's
  solved target: the same call, and so the same proposal bytes, as ``dawsos rebalance --portfolio P --policy
  X``), ``model`` (the portfolio's model portfolio, or ``model_portfolio_id``) or ``benchmark`` (the portfolio's
  benchmark weights). Constraints: ``min_trade_size`` (currency) and ``max_trades`` are the account's rules,
  ``consider_tax_implications`` sells by the portfolio's tax lots; ``max_turnover`` is the policy's. The plan
  (allocations, trades with priority, metrics) is read from the stored proposal and recorded in
  ``rebalance_requests`` / ``rebalance_results`` / ``rebalance_plans``.
* ``plans.get`` — a recorded plan.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import structlog
from pydantic import Field, field_validator

from app.agents.base import Agent, CapabilityArgs, capability
from app.core.context import RequestCtx, utcnow
from app.core.errors import ArgumentError, DawsosError, RebalanceConfigError, one_line
from app.domain.enums import Model
from app.domain.identity import Access, Role
from app.domain.service import RebalancePlanView, TargetType, from_pct, plan_metrics, plan_trades

log = structlog.get_logger()


class RebalanceConstraints(CapabilityArgs):
    """Seed 003's rebalance constraints. ``max_turnover`` (fraction) is the policy's ``max_turnover_pct``:
    a different value is refused (choose the policy that says it), never silently ignored."""

    max_turnover: float | None = Field(default=None, gt=0, le=2)
    min_trade_size: Decimal | None = Field(default=None, ge=0, le=Decimal("1e12"), decimal_places=2,
                                           description="currency; smaller trades are dropped")
    max_trades: int | None = Field(default=None, ge=1, le=10_000)
    consider_tax_implications: bool = False


class CreatePlanArgs(CapabilityArgs):
    portfolio_id: str = Field(min_length=1, max_length=64)
    target_type: TargetType = TargetType.OPTIMAL
    policy_id: str | None = Field(default=None, min_length=1, max_length=64,
                                  description="required for target_type optimal; else optional limits")
    constraints: RebalanceConstraints = Field(default_factory=RebalanceConstraints)
    strict: bool = False
    model: Model | None = Field(default=None, description="the optimal target's model (default Classic)")
    lookback_days: int | None = Field(default=None, ge=20, le=10_000)
    model_portfolio_id: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("policy_id")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.strip() if value is not None else None


class PlanIdArgs(CapabilityArgs):
    rebalance_id: str = Field(min_length=1, max_length=64)


class RebalancePlanAgent(Agent):
    name = "plans"

    @capability("plans.create", args=CreatePlanArgs, needs_pack=True, result=RebalancePlanView,
                access=Access.portfolio(Role.MANAGER))
    async def create(self, ctx: RequestCtx, args: CreatePlanArgs) -> RebalancePlanView:
        """A rebalance plan: the one trade engine's proposal (stored in the lifecycle) in seed 003's form."""
        from app.db.repositories.service_records import RebalancePlanRepository, RebalanceRequest

        request = RebalanceRequest(
            id=f"reb-{uuid.uuid4().hex}", portfolio_id=args.portfolio_id, target_type=args.target_type.value,
            constraints=args.constraints.model_dump(mode="json"), policy_id=args.policy_id or "",
            pricing_pack_id=ctx.pricing_pack_id or "", requested_by=ctx.user_id or "", request_id=ctx.request_id)
        try:
            plan = await self._plan(ctx, args, request.id)
        except DawsosError as exc:
            await self._record_failure(request, exc)
            raise
        async with self.session_factory() as session, session.begin():
            await RebalancePlanRepository(session).record(request, plan)
        log.info("plans.created", rebalance_id=plan.rebalance_id, proposal_id=plan.proposal_id,
                 n_trades=len(plan.trades))
        return plan

    async def _plan(self, ctx: RequestCtx, args: CreatePlanArgs, rebalance_id: str) -> RebalancePlanView:
        call: dict[str, Any] = {"portfolio_id": args.portfolio_id, "strict": args.strict}
        policy = await self._policy(ctx, args)
        call["policy_id"] = policy
        options = {k: v for k, v in (("model", args.model), ("lookback_days", args.lookback_days)) if v is not None}
        if options:
            call["options"] = options
        if args.target_type is not TargetType.OPTIMAL:
            call["target"] = await self._given_target(ctx, args)
        account = await self._account(ctx, args)
        if account is not None:
            call["account"] = account
        proposal = await self.call_capability("optimizer.propose_trades", ctx, **call)
        stored = await self.call_capability("proposals.show", ctx, proposal_id=proposal.proposal_id)
        return RebalancePlanView(
            portfolio_id=args.portfolio_id, rebalance_id=rebalance_id, created_at=utcnow(),
            target_type=args.target_type, policy_id=proposal.policy_id, pricing_pack_id=proposal.pricing_pack_id,
            proposal_id=proposal.proposal_id, status=stored.status.value, requires_approval=stored.requires_approval,
            current_allocation={s: from_pct(v) for s, v in sorted(stored.before_pct.items())},
            target_allocation={s: from_pct(v) for s, v in sorted(stored.after_pct.items())},
            trades=plan_trades(proposal), metrics=plan_metrics(proposal),
            proposal=proposal.model_dump(mode="json"))

    async def _policy(self, ctx: RequestCtx, args: CreatePlanArgs) -> str:
        from app.agents.optimizer import MODEL_POLICY

        policy_id = args.policy_id
        if args.target_type is TargetType.OPTIMAL and not policy_id:
            policy_id = await self._configured_policy(ctx, args.portfolio_id)
        policy_id = policy_id or MODEL_POLICY.id
        if args.constraints.max_turnover is not None:
            limit = 2.0 if policy_id == MODEL_POLICY.id else float(
                (await self.call_capability("policies.get", ctx, policy_id=policy_id)).max_turnover_pct)
            if abs(limit - args.constraints.max_turnover) > 1e-12:
                raise ArgumentError(
                    f"constraints.max_turnover: {args.constraints.max_turnover:g} differs from policy "
                    f"{policy_id!r}'s max_turnover_pct {limit:g}; a rebalance's turnover limit is its policy's "
                    "(choose the policy that sets it, or leave max_turnover out)")
        return policy_id

    async def _configured_policy(self, ctx: RequestCtx, portfolio_id: str) -> str:
        """The policy of the portfolio's rebalancing settings; ArgumentError when it has none (an optimal
        target is solved under a policy)."""
        from app.core.errors import DomainRefusal

        try:
            settings = await self.call_capability("rebalance.settings", ctx, portfolio_id=portfolio_id)
        except DomainRefusal:
            settings = None
        if settings is None or not settings.policy_id:
            raise ArgumentError("policy_id: required when target_type is 'optimal' and the portfolio's rebalancing "
                                "settings name no policy (the policy the target is solved under, e.g. "
                                "quality_focused)")
        return settings.policy_id

    async def _given_target(self, ctx: RequestCtx, args: CreatePlanArgs) -> Any:
        from app.domain.account import GivenTarget

        if args.target_type is TargetType.MODEL:
            model_id = args.model_portfolio_id
            if model_id is None:
                settings = await self.call_capability("rebalance.settings", ctx, portfolio_id=args.portfolio_id)
                model_id = settings.model_portfolio_id
            if not model_id:
                raise RebalanceConfigError(f"portfolio {args.portfolio_id!r} has no model portfolio: give "
                                           "model_portfolio_id or set one with `dawsos rebalancing configure`")
            model = await self.call_capability("rebalance.model", ctx, model_portfolio_id=model_id)
            return GivenTarget(id=model.id, weights=dict(model.weights))
        return GivenTarget(id=f"benchmark:{await self._benchmark_id(args.portfolio_id)}",
                           weights=await self._benchmark_weights(args.portfolio_id))

    async def _benchmark_id(self, portfolio_id: str) -> str:
        from app.db.repositories import PortfolioRepository

        async with self.session_factory() as session, session.begin():
            portfolio = await PortfolioRepository(session).get(portfolio_id)
        if not portfolio.benchmark_id:
            raise RebalanceConfigError(f"portfolio {portfolio_id!r} has no benchmark: target_type 'benchmark' "
                                       "needs one")
        return portfolio.benchmark_id

    async def _benchmark_weights(self, portfolio_id: str) -> dict[str, Decimal]:
        from app.db.repositories import BenchmarkRepository

        benchmark_id = await self._benchmark_id(portfolio_id)
        async with self.session_factory() as session, session.begin():
            benchmark = await BenchmarkRepository(session).get(benchmark_id)
        return dict(benchmark.weights)

    async def _account(self, ctx: RequestCtx, args: CreatePlanArgs) -> Any:
        from app.domain.account import AccountRules

        c = args.constraints
        rules: dict[str, Any] = {}
        if c.min_trade_size is not None:
            rules["min_trade_value"] = c.min_trade_size
        if c.max_trades is not None:
            rules["max_trades"] = c.max_trades
        if c.consider_tax_implications:
            rules["lots"] = (await self.call_capability("rebalance.lots", ctx, portfolio_id=args.portfolio_id)).lots
        return AccountRules(**rules) if rules else None

    async def _record_failure(self, request: Any, exc: DawsosError) -> None:
        from app.db.repositories.service_records import RebalancePlanRepository

        try:
            async with self.session_factory() as session, session.begin():
                await RebalancePlanRepository(session).record_failure(request, one_line(exc))
        except Exception:  # noqa: BLE001 - e.g. an unknown portfolio cannot be referenced: the refusal stands
            log.info("plans.failure_not_recorded", reason=one_line(exc))

    @capability("plans.get", args=PlanIdArgs, result=RebalancePlanView,
                access=Access.resource(Role.VIEWER, "rebalance_plan", on="rebalance_id"))
    async def get(self, ctx: RequestCtx, args: PlanIdArgs) -> RebalancePlanView:
        """A recorded rebalance plan, with its proposal's current status."""
        from app.db.repositories.proposals import aware
        from app.db.repositories.service_records import RebalancePlanRepository

        async with self.session_factory() as session, session.begin():
            row = await RebalancePlanRepository(session).get(args.rebalance_id)
        stored = await self.call_capability("proposals.show", ctx, proposal_id=row.proposal_id)
        return RebalancePlanView(
            portfolio_id=row.portfolio_id, rebalance_id=row.rebalance_id, created_at=aware(row.created_at),
            target_type=TargetType(row.target_type), policy_id=row.policy_id, pricing_pack_id=row.pricing_pack_id,
            proposal_id=row.proposal_id, status=stored.status.value, requires_approval=stored.requires_approval,
            current_allocation=row.current_allocation, target_allocation=row.target_allocation, trades=row.trades,
            metrics=row.metrics, proposal=stored.body)
