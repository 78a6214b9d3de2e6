"""RebalancingAgent: when to trade, how (cost- and tax-aware), who approves, and the record.

Capabilities (through the orchestrator; each call is one session and one transaction, rolled back on failure):

* ``rebalance.check`` — is a rebalance due for a portfolio on the context's pack, and why;
* ``rebalance.propose`` — check, then (when due, or ``force``) build the plan, store the run, the proposal
  (``proposed`` or ``pending_approval``) and its notifications in ONE transaction;
* ``rebalance.approve`` / ``rebalance.reject`` — by the portfolio's owner or an approver only; anyone else
  is refused (exit 3), and the refusal is recorded and logged;
* ``rebalance.expire`` — proposals whose pricing pack is superseded by a newer sealed pack expire;
* ``rebalance.scheduled`` — expire, then check every configured portfolio and propose where due;
* ``rebalance.list`` / ``rebalance.show`` / ``rebalance.history`` — read the record;
* set-up (settings, approvers, restricted symbols, model portfolios, tax lots): see
  :mod:`app.agents.rebalancing_setup`.

The trades come from the one trade engine (:mod:`app.agents.rebalance_engine` reads the account's rules and
calls ``optimizer.propose_trades`` through the orchestrator); nothing here sends an order anywhere.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING

import structlog
from pydantic import BaseModel, ConfigDict, Field

from app.agents.base import CapabilityArgs, capability
from app.agents.rebalancing_setup import PortfolioArgs, RebalanceSetupCapabilities
from app.core.context import RequestCtx
from app.core.errors import ApprovalRefusedError, PricingPackError
from app.domain.proposal import RebalanceProposal
from app.domain.rebalancing import (
    ApproverRole,
    HistoryEntry,
    ModelPortfolio,
    ProposalStatus,
    RebalancePlan,
    StoredProposal,
    TargetSource,
    TransitionRecord,
    TriggerCheck,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.agents.rebalance_engine import RebalanceRead

log = structlog.get_logger()
SYSTEM = "system"


# ---- arguments and results ------------------------------------------------------------------------
class ProposeArgs(CapabilityArgs):
    portfolio_id: str = Field(min_length=1)
    force: bool = Field(default=False, description="propose even when no trigger fires (trigger 'manual')")


class DecideArgs(CapabilityArgs):
    proposal_id: str = Field(min_length=6, description="full id or a unique prefix")
    user: str | None = Field(default=None, description="who decides (default: the context's user_id)")
    reason: str = ""


class ShowArgs(CapabilityArgs):
    proposal_id: str = Field(min_length=6)


class ListArgs(CapabilityArgs):
    portfolio_id: str | None = None
    status: ProposalStatus | None = None


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


class ProposalList(_Result):
    proposals: tuple[StoredProposal, ...]


class History(_Result):
    portfolio_id: str
    entries: tuple[HistoryEntry, ...]


class ExpiryResult(_Result):
    expired: tuple[TransitionRecord, ...]


class ScheduledResult(_Result):
    expired: tuple[TransitionRecord, ...]
    results: tuple[ProposeResult, ...]


def _notification_id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


class RebalancingAgent(RebalanceSetupCapabilities):
    name = "rebalance"

    # ---- the trades: read the account, then the one engine through the orchestrator -----------------
    async def _read(self, ctx: RequestCtx, portfolio_id: str) -> RebalanceRead:
        from app.agents.rebalance_engine import read_rebalance
        from app.db.repositories.rebalance_runs import RebalanceRunRepository

        if not ctx.pricing_pack_id:
            raise PricingPackError("rebalancing needs a pricing pack in the request context")
        async with self.session_factory() as session, session.begin():
            return await read_rebalance(session, ctx.pricing_pack_id, portfolio_id,
                                        last_rebalance_date=RebalanceRunRepository(session).last_rebalance_date)

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
    @capability("rebalance.check", args=PortfolioArgs, needs_pack=True, result=TriggerCheck)
    async def check(self, ctx: RequestCtx, args: PortfolioArgs) -> TriggerCheck:
        """Whether a rebalance is due for the portfolio on the context's pack, and every reason why."""
        read = await self._read(ctx, args.portfolio_id)
        check = (read.check(read.model.weights) if read.model is not None
                 else read.check((await self._engine(ctx, read))[1].weights))
        log.info("rebalance.check.done", due=check.due, n_reasons=len(check.reasons))
        return check

    @capability("rebalance.propose", args=ProposeArgs, needs_pack=True, result=ProposeResult)
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
        triggers = check.reasons if check.due else (TriggerReason(kind=TriggerKind.MANUAL, detail="forced by the caller"),)
        plan = plan_from_proposal(proposal, settings=read.settings, target_id=model.id, triggers=triggers,
                                  holdings=read.holdings, prices=read.prices)
        async with self.session_factory() as session, session.begin():
            await serialize_writes(session)  # concurrent proposes of the same plan: one stores it, the rest see it
            if read.model is None:  # the optimizer's target on this pack, kept with the record
                await ModelPortfolioRepository(session).save(model)
            result = await self._persist(session, ctx, check, plan)
        return result.model_copy(update={"proposal": proposal})

    async def _persist(self, session: AsyncSession, ctx: RequestCtx, check: TriggerCheck,
                       plan: RebalancePlan) -> ProposeResult:
        from app.db.repositories.ledger import LedgerRepository
        from app.db.repositories.outbox import OutboxRepository
        from app.db.repositories.rebalance_config import RebalanceConfigRepository
        from app.db.repositories.rebalance_runs import RebalanceRunRepository

        portfolio_id = plan.portfolio_id
        run_id = uuid.uuid4().hex
        runs = RebalanceRunRepository(session)
        proposal_id = await runs.save_run(plan, run_id=run_id, actor=ctx.user_id or SYSTEM, request_id=ctx.request_id)
        await LedgerRepository(session).settle_cash_flows(portfolio_id, run_id)
        queued = 0
        status = None
        if proposal_id is not None:
            status = (await runs.get(proposal_id)).status
            roles = await RebalanceConfigRepository(session).roles(portfolio_id)
            wanted = {ApproverRole.OWNER, ApproverRole.APPROVER} if status is ProposalStatus.PENDING_APPROVAL else {ApproverRole.OWNER}
            outbox = OutboxRepository(session)
            for user in sorted(u for u, r in roles.items() if r in wanted):
                subject = f"[dawsos] {portfolio_id}: rebalance proposal {proposal_id[:12]} is {status.value}"
                body = (f"Portfolio {portfolio_id}, pricing pack {plan.pricing_pack_id}, trades for {plan.execute_on}.\n"
                        f"{len(plan.trades)} trades worth {plan.total_trade_value}, estimated cost {plan.total_cost}, "
                        f"estimated tax {plan.realised.tax_total}.\nStatus: {status.value}.\n"
                        f"Approve: dawsos proposals approve {proposal_id[:12]} --user {user}\n")
                queued += await outbox.add(notification_id=_notification_id(proposal_id, user, status.value),
                                           proposal_id=proposal_id, recipient=user, subject=subject, body=body)
        log.info("rebalance.propose.done", proposal_id=proposal_id, n_trades=len(plan.trades),
                 status=status.value if status else None, notifications=queued)
        return ProposeResult(check=check, plan=plan, proposal_id=proposal_id, status=status, run_id=run_id,
                             notifications=queued, warnings=plan.warnings)

    async def _decide(self, ctx: RequestCtx, args: DecideArgs, to: ProposalStatus, action: str) -> StoredProposal:
        from app.db.repositories.outbox import OutboxRepository
        from app.db.repositories.rebalance_config import RebalanceConfigRepository
        from app.db.repositories.rebalance_runs import RebalanceRunRepository
        from app.rebalancing.approvals import authorise, check_transition

        user = args.user or ctx.user_id
        await self._expire(ctx)
        async with self.session_factory() as session:
            async with session.begin():
                runs = RebalanceRunRepository(session)
                proposal_id = await runs.resolve_id(args.proposal_id)
                stored = await runs.get(proposal_id)
                roles = await RebalanceConfigRepository(session).roles(stored.portfolio_id)
            try:
                authorise(user=user, action=action, proposal_id=proposal_id, portfolio_id=stored.portfolio_id, roles=roles)
            except ApprovalRefusedError as exc:
                async with session.begin():  # the refusal is recorded even though the call fails
                    await RebalanceRunRepository(session).record_refusal(
                        proposal_id, user=user or "(anonymous)", action=action, reason=str(exc), request_id=ctx.request_id)
                log.warning("rebalance.approval.refused", proposal_id=proposal_id, user=user, action=action,
                            portfolio_id=stored.portfolio_id)
                raise
            async with session.begin():
                runs = RebalanceRunRepository(session)
                stored = await runs.get(proposal_id)
                check_transition(proposal_id, stored.status, to)
                await runs.set_status(proposal_id, to, actor=user, reason=args.reason, request_id=ctx.request_id)
                owners = sorted(u for u, r in roles.items() if r is ApproverRole.OWNER)
                for owner in owners:
                    await OutboxRepository(session).add(
                        notification_id=_notification_id(proposal_id, owner, to.value), proposal_id=proposal_id,
                        recipient=owner, subject=f"[dawsos] {stored.portfolio_id}: proposal {proposal_id[:12]} {to.value} by {user}",
                        body=f"Proposal {proposal_id} was {to.value} by {user}. {args.reason}".strip() + "\n")
                result = await runs.get(proposal_id)
        log.info("rebalance.proposal.decided", proposal_id=proposal_id, status=to.value, user=user)
        return result

    @capability("rebalance.approve", args=DecideArgs, result=StoredProposal)
    async def approve(self, ctx: RequestCtx, args: DecideArgs) -> StoredProposal:
        """Approve a proposal (owner or approver of its portfolio only); recorded with who and when."""
        return await self._decide(ctx, args, ProposalStatus.APPROVED, "approve")

    @capability("rebalance.reject", args=DecideArgs, result=StoredProposal)
    async def reject(self, ctx: RequestCtx, args: DecideArgs) -> StoredProposal:
        """Reject a proposal (owner or approver of its portfolio only); recorded with who, when and why."""
        return await self._decide(ctx, args, ProposalStatus.REJECTED, "reject")

    async def _expire(self, ctx: RequestCtx) -> tuple[TransitionRecord, ...]:
        from app.db.repositories.rebalance_runs import RebalanceRunRepository

        async with self.session_factory() as session, session.begin():
            runs = RebalanceRunRepository(session)
            done = []
            for proposal_id, newer in await runs.superseded_open_proposals():
                done.append(await runs.set_status(proposal_id, ProposalStatus.EXPIRED, actor=SYSTEM,
                                                  reason=f"pricing pack superseded by {newer}", request_id=ctx.request_id))
                log.info("rebalance.proposal.expired", proposal_id=proposal_id, newer_pack=newer)
        return tuple(done)

    @capability("rebalance.expire", args=CapabilityArgs, result=ExpiryResult)
    async def expire(self, ctx: RequestCtx, args: CapabilityArgs) -> ExpiryResult:
        """Expire open proposals whose pricing pack has been superseded by a newer sealed pack."""
        return ExpiryResult(expired=await self._expire(ctx))

    @capability("rebalance.scheduled", args=ScheduledArgs, needs_pack=True, result=ScheduledResult)
    async def scheduled(self, ctx: RequestCtx, args: ScheduledArgs) -> ScheduledResult:
        """Expire superseded proposals, then check every configured portfolio and propose where due."""
        from app.db.repositories.rebalance_config import RebalanceConfigRepository

        expired = await self._expire(ctx)
        async with self.session_factory() as session:
            ids = list(args.portfolio_ids) if args.portfolio_ids is not None else await RebalanceConfigRepository(session).portfolios()
        results = []
        for portfolio_id in ids:
            with structlog.contextvars.bound_contextvars(portfolio_id=portfolio_id):
                results.append(await self._propose(ctx, portfolio_id, force=False))
        return ScheduledResult(expired=expired, results=tuple(results))

    @capability("rebalance.list", args=ListArgs, result=ProposalList)
    async def list_proposals(self, ctx: RequestCtx, args: ListArgs) -> ProposalList:
        """Rebalance proposals, newest first (optionally one portfolio's, or one status)."""
        from app.db.repositories.rebalance_runs import RebalanceRunRepository

        async with self.session_factory() as session, session.begin():
            return ProposalList(proposals=tuple(await RebalanceRunRepository(session).list(args.portfolio_id, args.status)))

    @capability("rebalance.show", args=ShowArgs, result=StoredProposal)
    async def show(self, ctx: RequestCtx, args: ShowArgs) -> StoredProposal:
        """One rebalance proposal with its plan and transitions."""
        from app.db.repositories.rebalance_runs import RebalanceRunRepository

        async with self.session_factory() as session, session.begin():
            runs = RebalanceRunRepository(session)
            return await runs.get(await runs.resolve_id(args.proposal_id))

    @capability("rebalance.history", args=PortfolioArgs, result=History)
    async def history(self, ctx: RequestCtx, args: PortfolioArgs) -> History:
        """Every rebalance of a portfolio: trigger, allocations before/after, trades, costs, taxes, approvals, outcome."""
        from app.db.repositories import PortfolioRepository
        from app.db.repositories.rebalance_runs import RebalanceRunRepository

        async with self.session_factory() as session, session.begin():
            await PortfolioRepository(session).get(args.portfolio_id)
            entries = await RebalanceRunRepository(session).history(args.portfolio_id)
        return History(portfolio_id=args.portfolio_id, entries=tuple(entries))
