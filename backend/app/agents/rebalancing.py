"""RebalancingAgent: when to trade, how (cost- and tax-aware), who approves, and the record.

Capabilities (through the orchestrator; each call is one session and one transaction, rolled back on failure):

* ``rebalance.check`` — is a rebalance due for a portfolio on the context's pack, and why;
* ``rebalance.propose`` — check, then (when due, or ``force``) make the proposal, store the run, the proposal
  (``proposed`` or ``pending_approval``, in the one proposal table; older live proposals of the portfolio and
  pack superseded) and its notifications in ONE transaction;
* ``rebalance.scheduled`` — expire, then check every configured portfolio and propose where due, each
  portfolio in its own transaction (one that fails writes nothing and is reported; the others proceed);
* approvals, execution, expiry, the record and history of every proposal: :mod:`app.agents.proposals` (one
  lifecycle whichever command made the proposal);
* set-up (settings, approvers, restricted symbols, model portfolios, tax lots): see
  :mod:`app.agents.rebalancing_setup`.

The trades come from the one trade engine (:mod:`app.agents.rebalance_engine` reads the account's rules and
calls ``optimizer.propose_trades`` through the orchestrator); nothing here sends an order anywhere.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import structlog
from pydantic import BaseModel, ConfigDict, Field

from app.agents.base import CapabilityArgs, capability
from app.agents.rebalancing_setup import PortfolioArgs, RebalanceSetupCapabilities
from app.core.context import RequestCtx
from app.core.errors import DawsosError, PricingPackError
from app.domain.identity import Access, Role
from app.domain.lifecycle import TransitionRecord
from app.domain.proposal import RebalanceProposal
from app.domain.rebalancing import (
    LotMethod,
    ModelPortfolio,
    Outcome,
    PlannedTrade,
    ProposalStatus,
    RealisedGains,
    RebalancePlan,
    TargetSource,
    TaxRates,
    TriggerCheck,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.agents.rebalance_engine import RebalanceRead

log = structlog.get_logger()


# ---- arguments and results ------------------------------------------------------------------------
class ProposeArgs(CapabilityArgs):
    portfolio_id: str = Field(min_length=1)
    force: bool = Field(default=False, description="propose even when no trigger fires (trigger 'manual')")


class ScheduledArgs(CapabilityArgs):
    portfolio_ids: tuple[str, ...] | None = Field(default=None, description="default: every configured portfolio")


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProposeResult(_Result):
    check: TriggerCheck
    plan: RebalancePlan | None = None
    proposal: RebalanceProposal | None = Field(
        default=None, description="the one engine's proposal (constraint report, engine version, lots, taxes)")
    proposal_id: str | None = None
    status: ProposalStatus | None = None
    run_id: str | None = None
    notifications: int = 0
    warnings: tuple[str, ...] = ()


class TaxPreview(_Result):
    """What ``rebalance.propose`` would trade now and the tax it would realise, by lot, under the account's lot
    method and tax rates; NOTHING is stored (``proposal_id`` is the id the proposal would get). Money in the
    portfolio's currency (Decimal), rates fractions of 1."""

    portfolio_id: str
    pricing_pack_id: str
    asof_date: date
    execute_on: date = Field(description="the exchange session the trades would be for")
    target_source: TargetSource
    target_id: str
    lot_method: LotMethod
    tax_rates: TaxRates
    proposal_id: str = Field(description="the content hash the proposal would have (not stored)")
    trades: tuple[PlannedTrade, ...] = Field(description="sells first; each sell with the lots it takes")
    realised: RealisedGains = Field(description="gains by term and the estimated tax after netting")
    total_trade_value: Decimal
    total_cost: Decimal
    portfolio_value: Decimal
    requires_approval: bool = Field(description="total trade value over the account's approval threshold")
    warnings: tuple[str, ...] = ()


class PortfolioFailure(_Result):
    """A portfolio whose scheduled run failed: nothing was written for it."""

    portfolio_id: str
    error: str = Field(description="the one-line error")
    exit_code: int = Field(description="what the error alone would exit with (2 input, 3 refusal, 4 solver)")


class ScheduledResult(_Result):
    expired: tuple[TransitionRecord, ...]
    results: tuple[ProposeResult, ...]
    failed: tuple[PortfolioFailure, ...] = Field(default=(), description="portfolios that failed, in order")

    @property
    def ok(self) -> bool:
        return not self.failed


class RebalancingAgent(RebalanceSetupCapabilities):
    name = "rebalance"

    # ---- the trades: read the account, then the one engine through the orchestrator -----------------
    async def _read(self, ctx: RequestCtx, portfolio_id: str) -> RebalanceRead:
        from app.agents.rebalance_engine import read_rebalance
        from app.db.repositories import ProposalRepository

        if not ctx.pricing_pack_id:
            raise PricingPackError("rebalancing needs a pricing pack in the request context")
        async with self.session_factory() as session, session.begin():
            return await read_rebalance(session, ctx.pricing_pack_id, portfolio_id,
                                        last_rebalance_date=ProposalRepository(session).last_rebalance_date)

    async def _engine(self, ctx: RequestCtx, read: RebalanceRead) -> tuple[RebalanceProposal, ModelPortfolio]:
        """The ONE trade engine (``optimizer.propose_trades``, as ``dawsos rebalance``) with this account's
        rules, toward the model target or the policy's; no transaction is held while it solves."""
        from app.agents.rebalance_engine import engine_arguments, optimizer_model

        settings = read.settings
        given = read.model if settings.target_source is TargetSource.MODEL else None
        proposal = await self.call_capability("optimizer.propose_trades", ctx, portfolio_id=settings.portfolio_id,
                                              **engine_arguments(settings, read.rules, given))
        return proposal, given or read.model or optimizer_model(proposal, settings)

    async def _checked(self, ctx: RequestCtx, read: RebalanceRead, *, force: bool):  # noqa: ANN202
        """``(check, proposal or None, model)``: the triggers on the known target first (no solve when nothing
        is due), else on the engine's."""
        if read.model is not None:
            check = read.check(read.model.weights)
            if not check.due and not force:
                return check, None, read.model
        proposal, model = await self._engine(ctx, read)
        return read.check(model.weights), proposal, model

    # ---- capabilities -----------------------------------------------------------------------------
    @capability("rebalance.check", args=PortfolioArgs, needs_pack=True, result=TriggerCheck,
                access=Access.portfolio(Role.VIEWER))
    async def check(self, ctx: RequestCtx, args: PortfolioArgs) -> TriggerCheck:
        """Whether a rebalance is due for the portfolio on the context's pack, and every reason why."""
        read = await self._read(ctx, args.portfolio_id)
        check = (read.check(read.model.weights) if read.model is not None
                 else read.check((await self._engine(ctx, read))[1].weights))
        log.info("rebalance.check.done", due=check.due, n_reasons=len(check.reasons))
        return check

    @capability("rebalance.propose", args=ProposeArgs, needs_pack=True, result=ProposeResult,
                access=Access.portfolio(Role.MANAGER))
    async def propose(self, ctx: RequestCtx, args: ProposeArgs) -> ProposeResult:
        """Check, and when due (or forced) propose cost- and tax-aware trades; run, proposal and notifications
        are stored in one transaction."""
        return await self._propose(ctx, args.portfolio_id, force=args.force)

    async def _propose(self, ctx: RequestCtx, portfolio_id: str, *, force: bool) -> ProposeResult:
        """Read (one transaction), solve through the one engine (no transaction or lock held), write run +
        proposal + outbox (one transaction): a failure leaves nothing behind."""
        from app.agents.rebalance_engine import plan_from_proposal
        from app.db.engine import serialize_writes
        from app.db.repositories.model_portfolios import ModelPortfolioRepository
        from app.domain.rebalancing import TriggerKind, TriggerReason

        read = await self._read(ctx, portfolio_id)
        check, proposal, model = await self._checked(ctx, read, force=force)
        if proposal is None or (not check.due and not force):
            log.info("rebalance.propose.not_due", portfolio_id=portfolio_id)
            return ProposeResult(check=check)
        forced = (TriggerReason(kind=TriggerKind.MANUAL, detail="forced by the caller"),)
        triggers = check.reasons if check.due else forced
        plan = plan_from_proposal(proposal, settings=read.settings, target_id=model.id, triggers=triggers,
                                  holdings=read.holdings, prices=read.prices)
        async with self.session_factory() as session, session.begin():
            await serialize_writes(session)  # concurrent proposes of the same plan: one stores it, the rest see it
            if read.model is None:  # the optimizer's target on this pack, kept with the record
                await ModelPortfolioRepository(session).save(model, created_by=ctx.user_id)
            result = await self._persist(session, ctx, check, plan, proposal, read)
        return result.model_copy(update={"proposal": proposal})

    async def _persist(self, session: AsyncSession, ctx: RequestCtx, check: TriggerCheck, plan: RebalancePlan,
                       proposal: RebalanceProposal, read: RebalanceRead) -> ProposeResult:
        """The run, and with trades the engine's proposal in the one lifecycle (older live ones of the portfolio
        and pack superseded, notifications queued), in the caller's transaction."""
        from app.agents.proposal_lifecycle import record_new_proposal
        from app.agents.proposal_records import record_of_proposal
        from app.db.repositories.ledger import LedgerRepository
        from app.db.repositories.rebalance_runs import RebalanceRunRepository
        from app.domain.lifecycle import ProposalSource

        run_id = uuid.uuid4().hex
        record = record_of_proposal(proposal, holdings=read.holdings, prices=read.prices,
                                    threshold=read.settings.approval_threshold, source=ProposalSource.REBALANCING,
                                    policy_id=plan.target_id)
        recorded = await record_new_proposal(session, record, ctx) if plan.trades else None
        await RebalanceRunRepository(session).save_run(
            record, run_id=run_id, triggers=plan.triggers, proposal_id=recorded.proposal_id if recorded else None,
            outcome=recorded.status.value if recorded else Outcome.NO_TRADE.value, request_id=ctx.request_id,
            user_id=ctx.user_id)
        await LedgerRepository(session).settle_cash_flows(plan.portfolio_id, run_id)
        status = recorded.status if recorded else None
        queued = recorded.notifications if recorded else 0
        log.info("rebalance.propose.done", proposal_id=recorded.proposal_id if recorded else None,
                 n_trades=len(plan.trades), status=status.value if status else None, notifications=queued)
        return ProposeResult(check=check, plan=plan, proposal_id=recorded.proposal_id if recorded else None,
                             status=status, run_id=run_id, notifications=queued, warnings=plan.warnings)

    @capability("rebalance.tax_preview", args=PortfolioArgs, needs_pack=True, result=TaxPreview,
                access=Access.portfolio(Role.VIEWER))
    async def tax_preview(self, ctx: RequestCtx, args: PortfolioArgs) -> TaxPreview:
        """The trades ``rebalance.propose`` would make now (whether or not a trigger fires) and their realised
        gains and estimated tax by lot, with the account's lot method and rates; nothing is written."""
        from app.agents.rebalance_engine import plan_from_proposal
        from app.domain.rebalancing import TriggerKind, TriggerReason

        read = await self._read(ctx, args.portfolio_id)
        proposal, model = await self._engine(ctx, read)
        why = (TriggerReason(kind=TriggerKind.MANUAL, detail="tax preview"),)
        plan = plan_from_proposal(proposal, settings=read.settings, target_id=model.id, triggers=why,
                                  holdings=read.holdings, prices=read.prices)
        log.info("rebalance.tax_preview.done", n_trades=len(plan.trades), tax=str(plan.realised.tax_total))
        return TaxPreview(
            portfolio_id=plan.portfolio_id, pricing_pack_id=plan.pricing_pack_id, asof_date=plan.asof_date,
            execute_on=plan.execute_on, target_source=plan.target_source, target_id=plan.target_id,
            lot_method=read.settings.lot_method, tax_rates=read.settings.tax_rates, proposal_id=plan.plan_id,
            trades=plan.trades, realised=plan.realised, total_trade_value=plan.total_trade_value,
            total_cost=plan.total_cost, portfolio_value=plan.portfolio_value,
            requires_approval=plan.status is ProposalStatus.PENDING_APPROVAL, warnings=plan.warnings)

    @capability("rebalance.scheduled", args=ScheduledArgs, needs_pack=True, result=ScheduledResult,
                access=Access.portfolio(Role.MANAGER, on="portfolio_ids"))
    async def scheduled(self, ctx: RequestCtx, args: ScheduledArgs) -> ScheduledResult:
        """Expire superseded proposals, then check every configured portfolio (a signed-in caller's: those they
        hold manager or higher on) and propose where due. Each
        portfolio is its own transaction: one that fails writes nothing, is reported in ``failed``, and the
        others proceed."""
        from app.agents.proposal_lifecycle import expire_superseded_packs
        from app.db.repositories.identity import IdentityRepository
        from app.db.repositories.rebalance_config import RebalanceConfigRepository

        expired = await expire_superseded_packs(self.session_factory, ctx)
        async with self.session_factory() as session:
            ids = (list(args.portfolio_ids) if args.portfolio_ids is not None
                   else await RebalanceConfigRepository(session).portfolios())
            if args.portfolio_ids is None and ctx.user_id is not None:  # a signed-in caller: the ones they manage
                managed = await IdentityRepository(session).portfolios_of(ctx.user_id, Role.MANAGER)
                ids = [p for p in ids if p in managed]
        results, failed = [], []
        for portfolio_id in ids:
            with structlog.contextvars.bound_contextvars(portfolio_id=portfolio_id):
                try:
                    results.append(await self._propose(ctx, portfolio_id, force=False))
                except Exception as exc:  # noqa: BLE001 - recorded and reported per portfolio; the others go on
                    known = isinstance(exc, DawsosError)
                    log.warning("rebalance.scheduled.portfolio_failed", error=type(exc).__name__, message=str(exc),
                                exc_info=not known)
                    failed.append(PortfolioFailure(portfolio_id=portfolio_id,
                                                   error=str(exc) if known else f"{type(exc).__name__}: {exc}",
                                                   exit_code=exc.exit_code if known else 1))
        return ScheduledResult(expired=expired, results=tuple(results), failed=tuple(failed))
