"""OptimizationAgent: optimization requests as persisted jobs (seed 003's ``optimization_requests``).

Capabilities (through the orchestrator):

* ``optimizations.submit`` — record a request (``pending``) on the context's pricing pack; a repeated
  ``idempotency_key`` of the same user returns the job it made (a different body under that key is refused);
* ``optimizations.get`` / ``optimizations.list`` — the read model (status, and results once completed);
* ``optimizations.cancel`` — a pending job is cancelled now, a processing one at its worker's next heartbeat;
* ``optimizations.run`` — compute a job's result (the worker calls it): the target of the allocation model
  (``optimizer.optimize``, the same call as ``dawsos optimize``), its ex-post drawdown and information ratio
  (``optimizer.evaluate_weights``), the efficient frontier (``optimizer.efficient_frontier``) and the
  whole-share trades that reach the target (``optimizer.propose_trades``, the one trade engine, not stored).

The job-queue side (claim, heartbeat, complete, fail) is :class:`~app.orchestrator.jobs.JobStore`, which this
agent implements for :class:`~app.orchestrator.jobs.JobRunner`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from app.agents.base import Agent, CapabilityArgs, capability
from app.core.context import RequestCtx, utcnow
from app.core.errors import IdempotencyConflictError
from app.domain import sha256_hex
from app.domain.enums import Model
from app.domain.identity import Access, Role
from app.domain.service import (
    FrontierPoint,
    JobStatus,
    ObjectiveName,
    OptimizationConstraints,
    OptimizationMetrics,
    OptimizationPreferences,
    OptimizationResult,
    OptimizationType,
    OptimizationView,
    RiskMeasureName,
    fraction,
    from_pct,
    frontier_point,
    plan_trades,
)

log = structlog.get_logger()

#: models the efficient frontier can trace; other models' frontiers are the mean-risk (Classic) one
FRONTIER_MODELS = (Model.CLASSIC, Model.BL)
#: who may read a job / cancel or run it: a role on the job's portfolio (the worker runs it as its requester, so
#: a role revoked meanwhile fails the job "not permitted")
ON_JOB_VIEWER = Access.resource(Role.VIEWER, "optimization", on="optimization_id")
ON_JOB_MANAGER = Access.resource(Role.MANAGER, "optimization", on="optimization_id")
#: the deadline of a job without one (seconds from its submission)
DEFAULT_TIMEOUT_S = 900.0


class SubmitArgs(CapabilityArgs):
    """An optimization request (seed 003's body, plus ``frontier_points``, ``lookback_days``,
    ``timeout_seconds`` and the idempotency key)."""

    portfolio_id: str = Field(min_length=1, max_length=64)
    optimization_type: OptimizationType = OptimizationType.MEAN_VARIANCE
    objective: ObjectiveName = ObjectiveName.MAXIMIZE_SHARPE
    risk_measure: RiskMeasureName = RiskMeasureName.VOLATILITY
    constraints: OptimizationConstraints = Field(default_factory=OptimizationConstraints)
    preferences: OptimizationPreferences = Field(default_factory=OptimizationPreferences)
    frontier_points: int = Field(default=10, ge=0, le=50, description="points of the result's frontier; 0: none")
    lookback_days: int = Field(default=756, ge=20, le=10_000, description="daily returns used")
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_S, gt=0, le=86_400,
                                   description="deadline from submission; past it the job fails with the reason")
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)

    def spec(self) -> dict[str, Any]:
        """What the job computes (hashed for the idempotency check; stored as preferences/constraints)."""
        return self.model_dump(mode="json", exclude={"idempotency_key"})


class JobIdArgs(CapabilityArgs):
    optimization_id: str = Field(min_length=1, max_length=64)


class CancelArgs(JobIdArgs):
    reason: str = Field(default="", max_length=500)


class ListArgs(CapabilityArgs):
    portfolio_id: str | None = Field(default=None, min_length=1, max_length=64,
                                     description="None: every portfolio the caller may read")
    status: JobStatus | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class OptimizationList(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    optimizations: tuple[OptimizationView, ...]


def allocation_args(spec: dict[str, Any]) -> dict[str, Any]:
    """The allocation-model arguments of a stored request (only those given: the rest keep the defaults,
    exactly as ``dawsos optimize`` passes its options)."""
    kind = OptimizationType(spec["optimization_type"])
    cons = spec["constraints"]
    args: dict[str, Any] = {
        "model": kind.model.value,
        "objective": ObjectiveName(spec["objective"]).objective.value,
        "risk_measure": RiskMeasureName(spec["risk_measure"]).risk_measure.value,
        "risk_aversion": spec["preferences"]["risk_aversion"],
        "lookback_days": spec["lookback_days"],
    }
    for ours, theirs in (("max_weight", "max_position_size"), ("min_position", "min_position_size"),
                         ("max_sector_weight", "max_sector_exposure"),
                         ("max_asset_class_weight", "max_asset_class_exposure")):
        if cons.get(theirs) is not None:
            args[ours] = cons[theirs]
    return args


class OptimizationAgent(Agent):
    """Optimization jobs: requests, results, read model; the job store of the worker pool."""

    name = "optimizations"

    # ---- capabilities -----------------------------------------------------------------------------
    @capability("optimizations.submit", args=SubmitArgs, needs_pack=True, result=OptimizationView,
                access=Access.portfolio(Role.MANAGER))
    async def submit(self, ctx: RequestCtx, args: SubmitArgs) -> OptimizationView:
        """Record an optimization request as a pending job on the context's pack (idempotent per key)."""
        from app.db.repositories import PortfolioRepository
        from app.db.repositories.optimizations import NewOptimization, OptimizationRepository

        user = ctx.user_id or ""
        spec = args.spec()
        digest = sha256_hex({"spec": spec, "pricing_pack_id": ctx.pricing_pack_id})
        new = NewOptimization(
            id=f"opt-{uuid.uuid4().hex}", portfolio_id=args.portfolio_id,
            optimization_type=args.optimization_type.value, objective=args.objective.value,
            risk_measure=args.risk_measure.value, constraints=spec["constraints"],
            preferences={**spec["preferences"], "frontier_points": args.frontier_points,
                         "lookback_days": args.lookback_days, "timeout_seconds": args.timeout_seconds},
            pricing_pack_id=ctx.pricing_pack_id or "", requested_by=user, request_id=ctx.request_id,
            idempotency_key=args.idempotency_key, request_hash=digest,
            deadline_at=utcnow() + timedelta(seconds=args.timeout_seconds))
        try:
            async with self.session_factory() as session, session.begin():
                repo = OptimizationRepository(session)
                if args.idempotency_key is not None:
                    again = await self._repeated(repo, user, args.idempotency_key, digest)
                    if again is not None:
                        return again
                await PortfolioRepository(session).get(args.portfolio_id)
                view = await _estimated(repo, await repo.create(new))
        except IntegrityError:  # a concurrent request with the same key won: return its job
            async with self.session_factory() as session, session.begin():
                again = await self._repeated(OptimizationRepository(session), user, args.idempotency_key or "", digest)
            if again is None:
                raise
            return again
        log.info("optimizations.submitted", optimization_id=view.optimization_id, user=user)
        return view

    @staticmethod
    async def _repeated(repo: Any, user: str, key: str, digest: str) -> OptimizationView | None:
        row = await repo.find_by_key(user, key)
        if row is None:
            return None
        if row.request_hash != digest:
            raise IdempotencyConflictError(key, row.id)
        log.info("optimizations.idempotent_repeat", optimization_id=row.id, user=user)
        return await repo.get(row.id)

    @capability("optimizations.get", args=JobIdArgs, result=OptimizationView, access=ON_JOB_VIEWER)
    async def get(self, ctx: RequestCtx, args: JobIdArgs) -> OptimizationView:
        """One optimization: status, and results when completed (the reason when failed)."""
        from app.db.repositories.optimizations import OptimizationRepository

        async with self.session_factory() as session, session.begin():
            repo = OptimizationRepository(session)
            return await _estimated(repo, await repo.get(args.optimization_id))

    @capability("optimizations.list", args=ListArgs, result=OptimizationList, access=Access.portfolio(Role.VIEWER))
    async def list_jobs(self, ctx: RequestCtx, args: ListArgs) -> OptimizationList:
        """Optimizations, newest first (of one portfolio, or of every portfolio the caller may read; of one
        status)."""
        from app.db.repositories.identity import IdentityRepository
        from app.db.repositories.optimizations import OptimizationRepository

        async with self.session_factory() as session, session.begin():
            portfolios = [args.portfolio_id] if args.portfolio_id is not None else None
            if portfolios is None and ctx.user_id is not None:
                portfolios = sorted(await IdentityRepository(session).portfolios_of(ctx.user_id))
            found = await OptimizationRepository(session).list(
                portfolio_ids=portfolios,
                status=args.status.value if args.status else None, limit=args.limit)
        return OptimizationList(optimizations=tuple(found))

    @capability("optimizations.cancel", args=CancelArgs, result=OptimizationView, access=ON_JOB_MANAGER)
    async def cancel(self, ctx: RequestCtx, args: CancelArgs) -> OptimizationView:
        """Cancel a job: pending now, processing at its worker's next heartbeat; a finished one is refused."""
        from app.core.errors import JobStateError
        from app.db.repositories.optimizations import OptimizationRepository

        reason = f"cancelled by {ctx.user_id or 'a caller'}" + (f": {args.reason}" if args.reason else "")
        async with self.session_factory() as session, session.begin():
            repo = OptimizationRepository(session)
            row = await repo.request(args.optimization_id)
            if JobStatus(row.status).final:
                raise JobStateError(row.id, row.status, "cancelled")
            await repo.request_cancel(row.id, reason=reason)
            view = await repo.get(row.id)
        log.info("optimizations.cancel_requested", optimization_id=row.id, status=view.status.value)
        return view

    @capability("optimizations.run", args=JobIdArgs, needs_pack=True, result=OptimizationResult, access=ON_JOB_MANAGER)
    async def run(self, ctx: RequestCtx, args: JobIdArgs) -> OptimizationResult:
        """Compute a job's result through the optimizer's capabilities (nothing stored here: the worker
        stores it while it holds the job's lease)."""
        from app.db.repositories.optimizations import OptimizationRepository

        async with self.session_factory() as session, session.begin():
            row = await OptimizationRepository(session).request(args.optimization_id)
            spec = {"optimization_type": row.optimization_type, "objective": row.objective,
                    "risk_measure": row.risk_measure, "constraints": dict(row.constraints),
                    "preferences": dict(row.preferences), "lookback_days": row.preferences["lookback_days"]}
            portfolio_id = row.portfolio_id
        return await self._compute(ctx, row.id, portfolio_id, spec)

    async def _compute(self, ctx: RequestCtx, job_id: str, portfolio_id: str,
                       spec: dict[str, Any]) -> OptimizationResult:
        alloc = allocation_args(spec)
        target = await self.call_capability("optimizer.optimize", ctx, **alloc)
        evaluation = await self.call_capability(
            "optimizer.evaluate_weights", ctx, weights=target.weights, portfolio_id=portfolio_id,
            lookback_days=alloc["lookback_days"])
        proposal = await self._trades(ctx, job_id, portfolio_id, spec, target.weights)
        frontier = await self._frontier(ctx, portfolio_id, spec, alloc)
        m = target.metrics
        metrics = OptimizationMetrics(
            expected_return=fraction(m["expected_return"]), expected_volatility=fraction(m["volatility"]),
            sharpe_ratio=fraction(m["sharpe"]), max_drawdown=fraction(evaluation.max_drawdown),
            turnover=from_pct(proposal.summary.turnover_pct),
            information_ratio=_maybe(evaluation.information_ratio), tracking_error=_maybe(evaluation.tracking_error))
        current = {s: fraction(w) for s, w in sorted((evaluation.current_weights or {}).items()) if w > 0}
        summary = proposal.summary
        cash = summary.cash_before / summary.portfolio_value if summary.portfolio_value else 0
        if cash:
            current["CASH"] = fraction(cash)
        return OptimizationResult(
            metrics=metrics, current_allocation=current,
            target_allocation={s: fraction(w) for s, w in target.weights.items()},
            trades=plan_trades(proposal), efficient_frontier=frontier,
            details={"model": target.model, "objective": target.objective, "risk_measure": target.risk_measure,
                     "pricing_pack_id": target.pricing_pack_id, "solver": target.solver, "status": target.status,
                     "constraints_satisfied": target.constraints_satisfied,
                     "warnings": [*target.warnings, *proposal.warnings],
                     "trade_proposal_id": proposal.proposal_id,
                     "weight_turnover": _maybe(evaluation.weight_turnover)})

    async def _trades(self, ctx: RequestCtx, job_id: str, portfolio_id: str, spec: dict[str, Any],
                      weights: dict[str, float]) -> Any:
        """The one trade engine's whole-share trades toward the target (not stored: a job is not a proposal)."""
        from app.agents.optimizer import MODEL_POLICY
        from app.analytics.inputs import RebalanceOptions
        from app.domain.account import AccountRules, GivenTarget
        from app.domain.enums import ObjectiveMode

        prefs = spec["preferences"]
        options = RebalanceOptions(lookback_days=spec["lookback_days"], objective_mode=(
            ObjectiveMode.COST_AWARE if prefs["include_transaction_costs"] else ObjectiveMode.CLOSEST))
        account: dict[str, Any] = {}
        if prefs["consider_tax_implications"]:
            lots = await self.call_capability("rebalance.lots", ctx, portfolio_id=portfolio_id)
            account["lots"] = lots.lots
        if prefs.get("transaction_cost_model") is not None:
            account["market_impact_bps"] = Decimal(repr(prefs["transaction_cost_model"]))
        given = GivenTarget(id=job_id, weights=_target_decimals(weights))
        return await self.call_capability(
            "optimizer.propose_trades", ctx, portfolio_id=portfolio_id, policy_id=MODEL_POLICY.id, target=given,
            options=options, persist=False, account=AccountRules(**account) if account else None)

    async def _frontier(self, ctx: RequestCtx, portfolio_id: str, spec: dict[str, Any],
                        alloc: dict[str, Any]) -> tuple[FrontierPoint, ...] | None:
        points = int(spec["preferences"].get("frontier_points", 0))
        if points < 2:
            return None
        model = alloc["model"] if Model(alloc["model"]) in FRONTIER_MODELS else Model.CLASSIC.value
        kept = {k: v for k, v in alloc.items() if k not in ("objective", "model")}
        frontier = await self.call_capability("optimizer.efficient_frontier", ctx, **kept, model=model, points=points)
        return tuple(frontier_point(p, with_weights=False) for p in frontier.points)

    # ---- the job store (JobRunner) ----------------------------------------------------------------
    async def claim(self, *, owner: str, lease_seconds: float, max_attempts: int) -> Any:
        from app.db.repositories.optimizations import OptimizationRepository

        async with self.session_factory() as session, session.begin():
            return await OptimizationRepository(session).claim(owner=owner, lease_seconds=lease_seconds,
                                                               max_attempts=max_attempts)

    async def heartbeat(self, job_id: str, *, owner: str, lease_seconds: float) -> bool | None:
        from app.db.repositories.optimizations import OptimizationRepository

        async with self.session_factory() as session, session.begin():
            return await OptimizationRepository(session).heartbeat(job_id, owner=owner, lease_seconds=lease_seconds)

    async def complete(self, job_id: str, *, owner: str, result: OptimizationResult) -> bool:
        from app.db.repositories.optimizations import OptimizationRepository

        async with self.session_factory() as session, session.begin():
            return await OptimizationRepository(session).complete(job_id, owner=owner, result=result)

    async def finish(self, job_id: str, *, owner: str | None, status: JobStatus, reason: str) -> bool:
        from app.db.repositories.optimizations import OptimizationRepository

        async with self.session_factory() as session, session.begin():
            return await OptimizationRepository(session).finish(job_id, owner=owner, status=status, reason=reason)

    async def release(self, job_id: str, *, owner: str) -> bool:
        from app.db.repositories.optimizations import OptimizationRepository

        async with self.session_factory() as session, session.begin():
            return await OptimizationRepository(session).release(job_id, owner=owner)

    async def fail_overdue(self) -> list[str]:
        from app.db.repositories.optimizations import OptimizationRepository

        async with self.session_factory() as session, session.begin():
            return await OptimizationRepository(session).fail_overdue()

    async def recover_orphans(self, *, owner: str) -> list[str]:
        """At start-up on SQLite (one server process per database): jobs left ``processing`` belong to a
        process that is gone, so their leases end now and they are resumed (or failed) by the next claim. On
        PostgreSQL another live server may hold them: their leases expire on their own."""
        from app.db.repositories.optimizations import OptimizationRepository

        async with self.session_factory() as session, session.begin():
            if session.get_bind().dialect.name != "sqlite":
                return []
            return await OptimizationRepository(session).expire_leases(except_owner=owner)

    async def counts(self) -> dict[str, int]:
        from app.db.repositories.optimizations import OptimizationRepository

        async with self.session_factory() as session, session.begin():
            return await OptimizationRepository(session).counts()


async def _estimated(repo: Any, view: OptimizationView) -> OptimizationView:
    """``estimated_completion_time`` of an unfinished job: its submission plus the median submission-to-completion
    time of recent jobs (none without history)."""
    if view.status.final:
        return view
    typical = await repo.typical_latency()
    if typical is None:
        return view
    return view.model_copy(update={"estimated_completion_time": view.created_at + typical})


def _maybe(value: float | None) -> Decimal | None:
    return fraction(value) if value is not None else None


def _target_decimals(weights: dict[str, float]) -> dict[str, Decimal]:
    """Allocation weights as Decimal fractions (8 places) that sum to at most 1 (a rounding excess is taken
    from the largest weight)."""
    out = {s: fraction(w) for s, w in weights.items() if w > 0}
    excess = sum(out.values(), Decimal(0)) - 1
    if excess > 0 and out:
        top = max(out, key=lambda s: (out[s], s))
        out[top] -= excess
    return out
