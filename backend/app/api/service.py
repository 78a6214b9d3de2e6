"""The service's operations, the same for REST and gRPC: each takes the authenticated :class:`Principal` and a
validated request, and makes one ``orchestrator.call`` under a context carrying the principal's user id (the
orchestrator checks the caller's role on the portfolio before any work). Request models use seed 003's field
names; responses are the domain's views (:mod:`app.domain.service`) and the proposal lifecycle's records.

:class:`Service` also owns the server's :class:`~app.orchestrator.jobs.JobRunner` (the bounded worker pool) and
wakes it when an optimization is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from app.agents.optimizations import DEFAULT_TIMEOUT_S
from app.agents.rebalance_plans import RebalanceConstraints
from app.agents.rebalancing_setup import ConfigureArgs, SetRestrictedArgs
from app.core.context import RequestCtx
from app.domain.enums import Model
from app.domain.service import (
    JobStatus,
    ObjectiveName,
    OptimizationConstraints,
    OptimizationPreferences,
    OptimizationType,
    RiskMeasureName,
    TargetType,
)

if TYPE_CHECKING:
    from app.bootstrap import App
    from app.domain.identity import Principal
    from app.orchestrator.jobs import JobRunner


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CreateOptimizationRequest(_Request):
    """``POST /optimizations`` (seed 003), plus ``pricing_pack_id`` (default the newest sealed pack),
    ``frontier_points``, ``lookback_days`` and ``timeout_seconds`` (the job's deadline from now)."""

    portfolio_id: str = Field(min_length=1, max_length=64, examples=["P1"])
    optimization_type: OptimizationType = OptimizationType.MEAN_VARIANCE
    objective: ObjectiveName = ObjectiveName.MAXIMIZE_SHARPE
    risk_measure: RiskMeasureName = RiskMeasureName.VOLATILITY
    constraints: OptimizationConstraints = Field(default_factory=OptimizationConstraints)
    preferences: OptimizationPreferences = Field(default_factory=OptimizationPreferences)
    pricing_pack_id: str | None = Field(default=None, min_length=1, max_length=64)
    frontier_points: int = Field(default=10, ge=0, le=50, description="points of the result's frontier; 0: none")
    lookback_days: int = Field(default=756, ge=20, le=10_000)
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_S, gt=0, le=86_400)


class RebalanceRequest(_Request):
    """``POST /portfolios/{id}/rebalance`` (seed 003), plus the policy (required for ``optimal``), the pack, the
    target model, ``strict`` and, for ``model`` targets, the model portfolio."""

    target_type: TargetType = TargetType.OPTIMAL
    constraints: RebalanceConstraints = Field(default_factory=RebalanceConstraints)
    policy_id: str | None = Field(default=None, min_length=1, max_length=64, examples=["quality_focused"])
    pricing_pack_id: str | None = Field(default=None, min_length=1, max_length=64)
    strict: bool = False
    model: Model | None = None
    lookback_days: int | None = Field(default=None, ge=20, le=10_000)
    model_portfolio_id: str | None = Field(default=None, min_length=1, max_length=64)


class FrontierQuery(_Request):
    """``GET /portfolios/{id}/efficient-frontier`` (seed 003's query), plus the pack and the constraints."""

    points: int = Field(default=20, ge=2, le=50, description="points on the frontier (a synchronous request)")
    min_return: float | None = Field(default=None, ge=-10, le=10, description="annual fraction: keep points above")
    max_risk: float | None = Field(default=None, gt=0, le=10, description="annual fraction: keep points below")
    risk_measure: RiskMeasureName = RiskMeasureName.VOLATILITY
    pricing_pack_id: str | None = Field(default=None, min_length=1, max_length=64)
    max_position_size: float | None = Field(default=None, gt=0, le=1)
    min_position_size: float | None = Field(default=None, ge=0, le=1)
    max_sector_exposure: float | None = Field(default=None, gt=0, le=1)
    max_asset_class_exposure: float | None = Field(default=None, gt=0, le=1)

    def constraints(self) -> OptimizationConstraints:
        return OptimizationConstraints(**self.model_dump(include=set(CONSTRAINT_FIELDS)))


CONSTRAINT_FIELDS = ("max_position_size", "min_position_size", "max_sector_exposure", "max_asset_class_exposure")


class DecisionRequest(_Request):
    reason: str = Field(default="", max_length=2000)


class CancelRequest(_Request):
    reason: str = Field(default="", max_length=500)


class TaxPreviewRequest(_Request):
    """``POST /portfolios/{id}/tax-preview``: the pack (default the newest sealed pack); nothing is stored."""

    pricing_pack_id: str | None = Field(default=None, min_length=1, max_length=64)


class PackImportRequest(_Request):
    """A new pricing pack: ``prices_csv`` is the CSV text (first column ``Date``, one column per symbol)."""

    pack_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    prices_csv: str = Field(min_length=1, max_length=50_000_000)
    asof: date | None = None
    create_securities: bool = False


@dataclass
class Service:
    """The transport-neutral operations over one running application."""

    app: App
    runner: JobRunner | None = None

    @property
    def orchestrator(self) -> Any:
        return self.app.orchestrator

    async def authenticate(self, token: str | None) -> Principal:
        """The principal of an API token (NotAuthenticatedError when missing, malformed, unknown, revoked)."""
        from app.orchestrator.identity import authenticate

        return await authenticate(self.app.session_factory, token)

    async def _ctx(self, who: Principal, request_id: str | None, pack: str | None = None,
                   needs_pack: bool = False) -> RequestCtx:
        fields: dict[str, Any] = {"user_id": who.user_id}
        if request_id:
            fields["request_id"] = request_id
        if needs_pack:
            return await self.orchestrator.new_context(pricing_pack_id=pack, **fields)
        return RequestCtx(**fields)

    async def _data(self, capability: str, ctx: RequestCtx, **args: Any) -> Any:
        return (await self.orchestrator.call(capability, ctx, **args)).data

    # ---- optimizations ----------------------------------------------------------------------------
    async def create_optimization(self, who: Principal, req: CreateOptimizationRequest, *,
                                  idempotency_key: str | None = None, request_id: str | None = None) -> Any:
        args = req.model_dump(exclude={"pricing_pack_id"})
        ctx = await self._ctx(who, request_id, req.pricing_pack_id, needs_pack=True)
        view = await self._data("optimizations.submit", ctx, idempotency_key=idempotency_key, **args)
        if self.runner is not None:
            self.runner.wake()
        return view

    async def get_optimization(self, who: Principal, optimization_id: str, *, request_id: str | None = None) -> Any:
        return await self._data("optimizations.get", await self._ctx(who, request_id), optimization_id=optimization_id)

    async def list_optimizations(self, who: Principal, *, portfolio_id: str | None, status: JobStatus | None,
                                 limit: int, request_id: str | None = None) -> Any:
        ctx = await self._ctx(who, request_id)
        return await self._data("optimizations.list", ctx, portfolio_id=portfolio_id, status=status, limit=limit)

    async def cancel_optimization(self, who: Principal, optimization_id: str, reason: str = "", *,
                                  request_id: str | None = None) -> Any:
        return await self._data("optimizations.cancel", await self._ctx(who, request_id),
                                optimization_id=optimization_id, reason=reason)

    # ---- frontiers and rebalance plans ------------------------------------------------------------
    async def efficient_frontier(self, who: Principal, portfolio_id: str, query: FrontierQuery, *,
                                 request_id: str | None = None) -> Any:
        ctx = await self._ctx(who, request_id, query.pricing_pack_id, needs_pack=True)
        return await self._data("frontiers.generate", ctx, portfolio_id=portfolio_id,
                                constraints=query.constraints(),
                                **query.model_dump(exclude={"pricing_pack_id", *CONSTRAINT_FIELDS}))

    async def rebalance(self, who: Principal, portfolio_id: str, req: RebalanceRequest, *,
                        request_id: str | None = None) -> Any:
        ctx = await self._ctx(who, request_id, req.pricing_pack_id, needs_pack=True)
        return await self._data("plans.create", ctx, portfolio_id=portfolio_id,
                                **req.model_dump(exclude={"pricing_pack_id"}))

    async def get_plan(self, who: Principal, rebalance_id: str, *, request_id: str | None = None) -> Any:
        return await self._data("plans.get", await self._ctx(who, request_id), rebalance_id=rebalance_id)

    # ---- proposals and history --------------------------------------------------------------------
    async def list_proposals(self, who: Principal, *, portfolio_id: str | None, status: str | None,
                             request_id: str | None = None) -> Any:
        return await self._data("proposals.list", await self._ctx(who, request_id), portfolio_id=portfolio_id,
                                status=status)

    async def show_proposal(self, who: Principal, proposal_id: str, *, request_id: str | None = None) -> Any:
        return await self._data("proposals.show", await self._ctx(who, request_id), proposal_id=proposal_id)

    async def decide(self, who: Principal, proposal_id: str, decision: str, req: DecisionRequest, *,
                     request_id: str | None = None) -> Any:
        """``decision``: approve | reject (the approver or owner of the proposal's portfolio)."""
        return await self._data(f"proposals.{decision}", await self._ctx(who, request_id), proposal_id=proposal_id,
                                reason=req.reason)

    async def history(self, who: Principal, portfolio_id: str, *, request_id: str | None = None) -> Any:
        return await self._data("proposals.history", await self._ctx(who, request_id), portfolio_id=portfolio_id)

    # ---- portfolios (the dashboard's pages; also /api/v1/portfolios) ------------------------------
    async def list_portfolios(self, who: Principal, *, request_id: str | None = None) -> Any:
        """The portfolios ``who`` holds a role on, with the role."""
        return await self._data("portfolios.list", await self._ctx(who, request_id))

    async def portfolio_overview(self, who: Principal, portfolio_id: str, *, pricing_pack_id: str | None = None,
                                 request_id: str | None = None) -> Any:
        """Current vs target allocation by security and by sector (the default pack: the newest sealed)."""
        ctx = await self._ctx(who, request_id, pricing_pack_id, needs_pack=True)
        return await self._data("portfolios.overview", ctx, portfolio_id=portfolio_id)

    async def portfolio_roles(self, who: Principal, portfolio_id: str, *, request_id: str | None = None) -> Any:
        """Everyone holding a role on the portfolio (``rebalance.approvers``)."""
        return await self._data("rebalance.approvers", await self._ctx(who, request_id), portfolio_id=portfolio_id)

    async def rebalance_settings(self, who: Principal, portfolio_id: str, *, request_id: str | None = None) -> Any:
        return await self._data("rebalance.settings", await self._ctx(who, request_id), portfolio_id=portfolio_id)

    async def restricted(self, who: Principal, portfolio_id: str, *, request_id: str | None = None) -> Any:
        return await self._data("rebalance.restricted", await self._ctx(who, request_id), portfolio_id=portfolio_id)

    async def lots(self, who: Principal, portfolio_id: str, *, request_id: str | None = None) -> Any:
        return await self._data("rebalance.lots", await self._ctx(who, request_id), portfolio_id=portfolio_id)

    async def tax_preview(self, who: Principal, portfolio_id: str, req: TaxPreviewRequest, *,
                          request_id: str | None = None) -> Any:
        """The trades ``rebalance.propose`` would make and their realised gains and tax by lot (nothing stored)."""
        ctx = await self._ctx(who, request_id, req.pricing_pack_id, needs_pack=True)
        return await self._data("rebalance.tax_preview", ctx, portfolio_id=portfolio_id)

    async def configure(self, who: Principal, args: ConfigureArgs, *, request_id: str | None = None) -> Any:
        """Store a portfolio's rebalancing settings, replacing them (``rebalance.configure``, as the CLI)."""
        return await self._data("rebalance.configure", await self._ctx(who, request_id), **args.model_dump())

    async def set_restricted(self, who: Principal, args: SetRestrictedArgs, *, request_id: str | None = None) -> Any:
        """Add restricted symbols, or with ``replace`` make the list exactly these (``rebalance.set_restricted``)."""
        return await self._data("rebalance.set_restricted", await self._ctx(who, request_id), **args.model_dump())

    # ---- reference data ---------------------------------------------------------------------------
    async def list_packs(self, who: Principal, *, request_id: str | None = None) -> Any:
        return await self._data("packs.list", await self._ctx(who, request_id))

    async def show_pack(self, who: Principal, pack_id: str, *, request_id: str | None = None) -> Any:
        return await self._data("packs.show", await self._ctx(who, request_id), pack_id=pack_id)

    async def import_pack(self, who: Principal, req: PackImportRequest, *, request_id: str | None = None) -> Any:
        return await self._data("packs.import", await self._ctx(who, request_id), pack_id=req.pack_id,
                                prices_csv=req.prices_csv, asof=req.asof, create_securities=req.create_securities,
                                source_name=f"{req.pack_id}.csv (upload by {who.user_id})")

    async def list_policies(self, who: Principal, *, request_id: str | None = None) -> Any:
        return await self._data("policies.list", await self._ctx(who, request_id))

    async def show_policy(self, who: Principal, policy_id: str, version: int | None = None, *,
                          request_id: str | None = None) -> Any:
        return await self._data("policies.get", await self._ctx(who, request_id), policy_id=policy_id,
                                version=version)

    # ---- health -----------------------------------------------------------------------------------
    async def ready(self) -> dict[str, Any]:
        """Readiness: the database answers, a sealed pack exists, the workers run. Raises when not ready."""
        pack = await self.orchestrator.new_context()
        jobs = self.runner
        return {"database": "ok", "default_pricing_pack": pack.pricing_pack_id,
                "workers": jobs.settings.workers if jobs else 0, "running_jobs": jobs.running if jobs else 0,
                "owner": jobs.owner if jobs else None}
