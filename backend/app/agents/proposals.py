"""ProposalAgent: the one proposal lifecycle, whichever command made the proposal.

Capabilities (through the orchestrator; each call one session, its writes one transaction):

* ``proposals.list`` / ``proposals.show`` — the record (status, transitions, fills);
* ``proposals.approve`` / ``proposals.reject`` — by an approver (or owner) of the portfolio only: the
  orchestrator refuses anyone else (exit 3) and records the refusal against the proposal; the decision is
  recorded as the signed-in caller's; at most one live approved proposal per portfolio and pack;
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
from app.core.errors import ArgumentError, ProposalStateError
from app.domain.identity import Access, Role
from app.domain.lifecycle import HistoryEntry, StoredProposal, TransitionRecord
from app.domain.rebalancing import ProposalStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger()
#: approve, reject, execute: an approver (or owner) of the proposal's portfolio; refusals are recorded
DECIDE = Access.proposal(Role.APPROVER, record_refusal=True)


class ProposalIdArgs(CapabilityArgs):
    proposal_id: str = Field(min_length=6, description="full id or a unique prefix (6+ characters)")


class DecideArgs(ProposalIdArgs):
    user: str | None = Field(default=None, description="who decides: the context's user_id; only a trusted call "
                                                       "(no user in the context) names one here")
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


def acting_user(ctx: RequestCtx, named: str | None, action: str) -> str:
    """Who approves, rejects or executes: the signed-in caller (``named``, when given, must be that user:
    ArgumentError naming both), or for a trusted in-process call the user it names (ArgumentError without one:
    every decision records a person)."""
    if ctx.user_id is not None:
        if named is not None and named != ctx.user_id:
            raise ArgumentError(f"user: {named!r} is not the signed-in user {ctx.user_id!r}; "
                                f"the signed-in user is the one who may {action}")
        return ctx.user_id
    if not named:
        raise ArgumentError(f"proposals.{action}: no user: a trusted call names who decides (user=...)")
    return named


class ProposalAgent(Agent):
    name = "proposals"

    async def _stored(self, session: AsyncSession, proposal_id: str) -> StoredProposal:
        """The proposal named by an id or a unique prefix (the orchestrator checked the caller's role on its
        portfolio before the call started)."""
        from app.db.repositories import ProposalRepository

        async with session.begin():
            repo = ProposalRepository(session)
            return await repo.get(await repo.resolve_id(proposal_id))

    async def _decide(self, ctx: RequestCtx, args: DecideArgs, to: ProposalStatus, action: str) -> StoredProposal:
        from app.db.repositories import ProposalRepository

        user = acting_user(ctx, args.user, action)
        await expire_superseded_packs(self.session_factory, ctx)
        async with self.session_factory() as session:
            stored = await self._stored(session, args.proposal_id)
            try:
                async with session.begin():
                    if to is ProposalStatus.APPROVED:
                        await refuse_second_approval(session, stored)
                    await move(session, stored.proposal_id, to, actor=user, reason=args.reason,
                               request_id=ctx.request_id)
                    result = await ProposalRepository(session).get(stored.proposal_id)
                    await notify_decided(session, result, to)
            except IntegrityError:  # a concurrent approval won the partial unique index
                raise ProposalStateError(stored.proposal_id, stored.status.value,
                                         f"{to.value} (another proposal of {stored.portfolio_id} on "
                                         f"{stored.pricing_pack_id} was approved meanwhile)") from None
        log.info("proposals.decided", proposal_id=stored.proposal_id, status=to.value, user=user)
        return result

    @capability("proposals.approve", args=DecideArgs, result=StoredProposal, access=DECIDE)
    async def approve(self, ctx: RequestCtx, args: DecideArgs) -> StoredProposal:
        """Approve a proposal (owner or approver of its portfolio only); recorded with who, when and why."""
        return await self._decide(ctx, args, ProposalStatus.APPROVED, "approve")

    @capability("proposals.reject", args=DecideArgs, result=StoredProposal, access=DECIDE)
    async def reject(self, ctx: RequestCtx, args: DecideArgs) -> StoredProposal:
        """Reject a proposal (owner or approver of its portfolio only); recorded with who, when and why."""
        return await self._decide(ctx, args, ProposalStatus.REJECTED, "reject")

    @capability("proposals.execute", args=ExecuteArgs, result=ExecutionResult, access=DECIDE)
    async def execute(self, ctx: RequestCtx, args: ExecuteArgs) -> ExecutionResult:
        """Record an approved (or not-needing-approval) proposal's fills: holdings, cash after the actual fees,
        tax lots, the transaction ledger and the fills against the proposal, in one transaction."""
        user = acting_user(ctx, args.user, "execute")
        await expire_superseded_packs(self.session_factory, ctx)
        async with self.session_factory() as session:
            stored = await self._stored(session, args.proposal_id)
            async with session.begin():
                result = await record_execution(session, ctx, stored, args, actor=user)
        log.info("proposals.executed", proposal_id=stored.proposal_id, n_fills=len(result.proposal.fills), user=user)
        return result

    @capability("proposals.expire", args=CapabilityArgs, result=ExpiryResult, access=Access.admin_only())
    async def expire(self, ctx: RequestCtx, args: CapabilityArgs) -> ExpiryResult:
        """Expire live proposals whose pricing pack has been superseded by a newer sealed pack."""
        return ExpiryResult(expired=await expire_superseded_packs(self.session_factory, ctx))

    @capability("proposals.list", args=ListArgs, result=ProposalList, access=Access.portfolio(Role.VIEWER))
    async def list_proposals(self, ctx: RequestCtx, args: ListArgs) -> ProposalList:
        """Proposals of every command, newest first (optionally one portfolio's, or one status); a signed-in
        caller sees only the portfolios they hold a role on."""
        from app.db.repositories import ProposalRepository
        from app.db.repositories.identity import IdentityRepository

        async with self.session_factory() as session, session.begin():
            found = await ProposalRepository(session).list(args.portfolio_id, args.status)
            if ctx.user_id is not None and args.portfolio_id is None:
                visible = await IdentityRepository(session).portfolios_of(ctx.user_id)
                found = [p for p in found if p.portfolio_id in visible]
        return ProposalList(proposals=tuple(found))

    @capability("proposals.show", args=ProposalIdArgs, result=StoredProposal,
                access=Access.proposal(Role.VIEWER))
    async def show(self, ctx: RequestCtx, args: ProposalIdArgs) -> StoredProposal:
        """One proposal with its trades, status, transitions and fills."""
        from app.db.repositories import ProposalRepository

        async with self.session_factory() as session, session.begin():
            repo = ProposalRepository(session)
            return await repo.get(await repo.resolve_id(args.proposal_id))

    @capability("proposals.history", args=PortfolioArgs, result=History, access=Access.portfolio(Role.VIEWER))
    async def history(self, ctx: RequestCtx, args: PortfolioArgs) -> History:
        """Every proposal of a portfolio (any command): allocations before/after, trades, costs, taxes, approvals,
        fills, outcome; and the rebalancing runs that found nothing to trade."""
        from app.db.repositories import PortfolioRepository
        from app.db.repositories.rebalance_runs import RebalanceRunRepository

        async with self.session_factory() as session, session.begin():
            await PortfolioRepository(session).get(args.portfolio_id)
            entries = await RebalanceRunRepository(session).history(args.portfolio_id)
        return History(portfolio_id=args.portfolio_id, entries=tuple(entries))
