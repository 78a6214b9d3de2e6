"""ProposalAgent: the one proposal lifecycle, whichever command made the proposal.

Capabilities (through the orchestrator; each call one session, its writes one transaction):

* ``proposals.list`` / ``proposals.show`` — the record (status, transitions, fills);
* ``proposals.approve`` / ``proposals.reject`` — by the portfolio's owner or an approver only (anyone else is
  refused, exit 3, and the refusal recorded); at most one live approved proposal per portfolio and pack;
* ``proposals.execute`` — apply the fills (``as_proposed`` or given) of an approved (or not-needing-approval)
  proposal: holdings, cash, tax lots, the transaction ledger and the fills, in one transaction;
* ``proposals.expire`` — live proposals whose pricing pack is superseded by a newer sealed pack expire;
* ``proposals.history`` — every proposal of a portfolio from any command, and the runs that traded nothing.

The rules are :mod:`app.rebalancing.approvals` and :mod:`app.rebalancing.execution`; nothing here sends an order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from app.agents.base import Agent, CapabilityArgs, capability
from app.agents.proposal_execution import ExecuteArgs, ExecutionResult, record_execution
from app.agents.proposal_lifecycle import expire_superseded_packs, move, notify_decided, refuse_second_approval
from app.core.context import RequestCtx
from app.core.errors import PermissionDeniedError, ProposalStateError
from app.domain.lifecycle import HistoryEntry, StoredProposal, TransitionRecord
from app.domain.rebalancing import ProposalStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger()


class ProposalIdArgs(CapabilityArgs):
    proposal_id: str = Field(min_length=6, description="full id or a unique prefix (6+ characters)")


class DecideArgs(ProposalIdArgs):
    user: str | None = Field(default=None, description="who decides (default: the context's user_id)")
    reason: str = ""


class ListArgs(CapabilityArgs):
    portfolio_id: str | None = None
    status: ProposalStatus | None = None


class PortfolioArgs(CapabilityArgs):
    portfolio_id: str = Field(min_length=1)


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProposalList(_Result):
    proposals: tuple[StoredProposal, ...]


class History(_Result):
    portfolio_id: str
    entries: tuple[HistoryEntry, ...]


class ExpiryResult(_Result):
    expired: tuple[TransitionRecord, ...]


class ProposalAgent(Agent):
    name = "proposals"

    async def _authorised(self, session: AsyncSession, ctx: RequestCtx, proposal_id: str, user: str | None,
                          action: str) -> StoredProposal:
        """The proposal, once ``user`` is known to hold owner or approver on its portfolio; a refusal is
        recorded (in its own transaction, so it stays when the call fails) and raised."""
        from app.db.repositories import ProposalRepository
        from app.db.repositories.identity import IdentityRepository
        from app.rebalancing.approvals import authorise

        async with session.begin():
            repo = ProposalRepository(session)
            stored = await repo.get(await repo.resolve_id(proposal_id))
            roles = await IdentityRepository(session).holders(stored.portfolio_id)
        try:
            authorise(user=user, action=action, proposal_id=stored.proposal_id, portfolio_id=stored.portfolio_id,
                      roles=roles)
        except PermissionDeniedError as exc:
            async with session.begin():
                await ProposalRepository(session).record_refusal(
                    stored.proposal_id, user=user or "(anonymous)", action=action, reason=str(exc),
                    request_id=ctx.request_id)
            log.warning("proposals.decision.refused", proposal_id=stored.proposal_id, user=user, action=action,
                        portfolio_id=stored.portfolio_id)
            raise
        return stored

    async def _decide(self, ctx: RequestCtx, args: DecideArgs, to: ProposalStatus, action: str) -> StoredProposal:
        from app.db.repositories import ProposalRepository

        user = args.user or ctx.user_id
        await expire_superseded_packs(self.session_factory, ctx)
        async with self.session_factory() as session:
            stored = await self._authorised(session, ctx, args.proposal_id, user, action)
            try:
                async with session.begin():
                    if to is ProposalStatus.APPROVED:
                        await refuse_second_approval(session, stored)
                    await move(session, stored.proposal_id, to, actor=user or "", reason=args.reason,
                               request_id=ctx.request_id)
                    result = await ProposalRepository(session).get(stored.proposal_id)
                    await notify_decided(session, result, to)
            except IntegrityError:  # a concurrent approval won the partial unique index
                raise ProposalStateError(stored.proposal_id, stored.status.value,
                                         f"{to.value} (another proposal of {stored.portfolio_id} on "
                                         f"{stored.pricing_pack_id} was approved meanwhile)") from None
        log.info("proposals.decided", proposal_id=stored.proposal_id, status=to.value, user=user)
        return result

    @capability("proposals.approve", args=DecideArgs, result=StoredProposal)
    async def approve(self, ctx: RequestCtx, args: DecideArgs) -> StoredProposal:
        """Approve a proposal (owner or approver of its portfolio only); recorded with who, when and why."""
        return await self._decide(ctx, args, ProposalStatus.APPROVED, "approve")

    @capability("proposals.reject", args=DecideArgs, result=StoredProposal)
    async def reject(self, ctx: RequestCtx, args: DecideArgs) -> StoredProposal:
        """Reject a proposal (owner or approver of its portfolio only); recorded with who, when and why."""
        return await self._decide(ctx, args, ProposalStatus.REJECTED, "reject")

    @capability("proposals.execute", args=ExecuteArgs, result=ExecutionResult)
    async def execute(self, ctx: RequestCtx, args: ExecuteArgs) -> ExecutionResult:
        """Record an approved (or not-needing-approval) proposal's fills: holdings, cash after the actual fees,
        tax lots, the transaction ledger and the fills against the proposal, in one transaction."""
        user = args.user or ctx.user_id
        await expire_superseded_packs(self.session_factory, ctx)
        async with self.session_factory() as session:
            stored = await self._authorised(session, ctx, args.proposal_id, user, "execute")
            async with session.begin():
                result = await record_execution(session, ctx, stored, args, actor=user or "")
        log.info("proposals.executed", proposal_id=stored.proposal_id, n_fills=len(result.proposal.fills), user=user)
        return result

    @capability("proposals.expire", args=CapabilityArgs, result=ExpiryResult)
    async def expire(self, ctx: RequestCtx, args: CapabilityArgs) -> ExpiryResult:
        """Expire live proposals whose pricing pack has been superseded by a newer sealed pack."""
        return ExpiryResult(expired=await expire_superseded_packs(self.session_factory, ctx))

    @capability("proposals.list", args=ListArgs, result=ProposalList)
    async def list_proposals(self, ctx: RequestCtx, args: ListArgs) -> ProposalList:
        """Proposals of every command, newest first (optionally one portfolio's, or one status)."""
        from app.db.repositories import ProposalRepository

        async with self.session_factory() as session, session.begin():
            found = await ProposalRepository(session).list(args.portfolio_id, args.status)
        return ProposalList(proposals=tuple(found))

    @capability("proposals.show", args=ProposalIdArgs, result=StoredProposal)
    async def show(self, ctx: RequestCtx, args: ProposalIdArgs) -> StoredProposal:
        """One proposal with its trades, status, transitions and fills."""
        from app.db.repositories import ProposalRepository

        async with self.session_factory() as session, session.begin():
            repo = ProposalRepository(session)
            return await repo.get(await repo.resolve_id(args.proposal_id))

    @capability("proposals.history", args=PortfolioArgs, result=History)
    async def history(self, ctx: RequestCtx, args: PortfolioArgs) -> History:
        """Every proposal of a portfolio (any command): allocations before/after, trades, costs, taxes, approvals,
        fills, outcome; and the rebalancing runs that found nothing to trade."""
        from app.db.repositories import PortfolioRepository
        from app.db.repositories.rebalance_runs import RebalanceRunRepository

        async with self.session_factory() as session, session.begin():
            await PortfolioRepository(session).get(args.portfolio_id)
            entries = await RebalanceRunRepository(session).history(args.portfolio_id)
        return History(portfolio_id=args.portfolio_id, entries=tuple(entries))
