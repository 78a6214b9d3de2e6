"""The one proposal lifecycle, shared by every agent that makes or moves proposals (a library, not an agent).

* :func:`record_optimizer_proposal` / :func:`record_new_proposal` — store a proposal (``proposed``;
  ``pending_approval`` when it needs approval), supersede the older live proposals of the same portfolio and
  pack, queue the notifications; all in the caller's transaction;
* :func:`move` — one checked, recorded status change;
* :func:`expire_superseded_packs` — live proposals whose pack has a newer sealed pack expire;
* :func:`queue_notification` — one outbox row per (proposal, user, status), rendered from the proposal.

Every status change is a row of ``proposal_transitions`` (who, when, why).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import structlog

from app.agents.proposal_records import DEFAULT_APPROVAL_THRESHOLD
from app.core.context import RequestCtx
from app.core.errors import ProposalStateError
from app.domain.identity import LOCAL_USER, Role
from app.domain.lifecycle import ProposalRecord, StoredProposal, TransitionRecord
from app.domain.rebalancing import ProposalStatus
from app.notifications.render import Message, NotificationKind, render
from app.rebalancing.approvals import check_transition

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from app.analytics.inputs import RebalanceInputs
    from app.domain.proposal import RebalanceProposal

log = structlog.get_logger()
SYSTEM = "system"


@dataclass(frozen=True)
class Recorded:
    """What :func:`record_new_proposal` did."""

    proposal_id: str
    created: bool
    status: ProposalStatus
    superseded: tuple[str, ...]
    notifications: int


async def approval_threshold(session: AsyncSession, portfolio_id: str) -> Decimal:
    """The account's approval threshold (currency): its rebalancing settings', else the default $10,000."""
    from app.db.repositories.rebalance_config import RebalanceConfigRepository

    config = RebalanceConfigRepository(session)
    if await config.has_settings(portfolio_id):
        return (await config.get_settings(portfolio_id)).approval_threshold
    return DEFAULT_APPROVAL_THRESHOLD


async def move(session: AsyncSession, proposal_id: str, to: ProposalStatus, *, actor: str, reason: str,
               request_id: str | None, superseded_by: str | None = None) -> TransitionRecord:
    """Change the proposal's status after checking the lifecycle allows it (ProposalStateError otherwise)."""
    from app.db.repositories import ProposalRepository

    repo = ProposalRepository(session)
    current = (await repo.get(proposal_id)).status
    check_transition(proposal_id, current, to)
    return await repo.set_status(proposal_id, to, actor=actor, reason=reason, request_id=request_id,
                                 superseded_by=superseded_by)


async def record_new_proposal(session: AsyncSession, record: ProposalRecord, ctx: RequestCtx) -> Recorded:
    """Store ``record`` and, when it is new, its first transitions, the superseding of the older live proposals
    of its portfolio and pack, and its notifications (owners; approvers too when it needs approval)."""
    from app.db.repositories import ProposalRepository

    repo = ProposalRepository(session)
    pid = record.proposal_id
    if not await repo.save(record, ctx.request_id, ctx.user_id):
        return Recorded(proposal_id=pid, created=False, status=(await repo.get(pid)).status, superseded=(),
                        notifications=0)
    actor = ctx.user_id or SYSTEM
    await repo.record_first_status(pid, actor=actor, reason=f"proposed by {record.source.value}",
                                   request_id=ctx.request_id)
    status = ProposalStatus.PROPOSED
    if record.requires_approval:
        status = ProposalStatus.PENDING_APPROVAL
        await repo.set_status(pid, status, actor=SYSTEM, request_id=ctx.request_id,
                              reason=f"total trade value {record.total_trade_value} is over the approval threshold")
    superseded = []
    for older, _ in await repo.live(record.portfolio_id, record.pricing_pack_id):
        if older != pid:
            await move(session, older, ProposalStatus.SUPERSEDED, actor=SYSTEM, request_id=ctx.request_id,
                       reason=f"superseded by the newer proposal {pid[:12]} (same portfolio and pack)",
                       superseded_by=pid)
            superseded.append(older)
            log.info("proposals.superseded", proposal_id=older, by=pid)
    queued = await notify_status(session, await repo.get(pid))
    return Recorded(proposal_id=pid, created=True, status=status, superseded=tuple(superseded), notifications=queued)


async def record_optimizer_proposal(session: AsyncSession, ctx: RequestCtx, proposal: RebalanceProposal,
                                    inputs: RebalanceInputs) -> Recorded:
    """An analytics proposal (``optimizer.propose_trades``) into the one lifecycle, in the caller's transaction."""
    from app.agents.proposal_records import record_of_proposal

    threshold = await approval_threshold(session, proposal.portfolio_id)
    record = record_of_proposal(proposal, holdings=inputs.holdings, prices=inputs.asof_prices, threshold=threshold)
    return await record_new_proposal(session, record, ctx)


def notification_id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


async def queue_notification(session: AsyncSession, proposal: StoredProposal, user: str, kind: NotificationKind,
                             about: ProposalStatus) -> bool:
    """One outbox row for ``user`` about ``proposal`` being (or having become) ``about``; False when queued
    before. The text is rendered now for the record and again from the proposal's state when it is sent."""
    from app.db.repositories.outbox import OutboxRepository

    message = render(kind, about, proposal, user)
    if not isinstance(message, Message):  # the proposal already moved on: nothing true to announce
        return False
    return await OutboxRepository(session).add(
        notification_id=notification_id(proposal.proposal_id, user, about.value), proposal_id=proposal.proposal_id,
        recipient=user, subject=message.subject, body=message.body, kind=kind.value, about_status=about.value)


async def recipients(session: AsyncSession, portfolio_id: str, roles: set[Role]) -> list[str]:
    """The users holding one of ``roles`` on the portfolio, sorted. The command line's built-in identity
    ``local`` is one only once it has an e-mail address (it is the person at this machine's shell, not a
    mailbox: without an address, every proposal would leave an undeliverable message)."""
    from app.db.repositories.identity import IdentityRepository
    from app.db.repositories.users import UserRepository

    holders = await IdentityRepository(session).holders(portfolio_id)
    users = sorted(u for u, r in holders.items() if r in roles)
    if LOCAL_USER in users and await UserRepository(session).email(LOCAL_USER) is None:
        users.remove(LOCAL_USER)
    return users


async def notify_status(session: AsyncSession, proposal: StoredProposal) -> int:
    """Tell the owners (and, when it waits for approval, the approvers) the proposal's status."""
    wanted = {Role.OWNER} | ({Role.APPROVER} if proposal.status is ProposalStatus.PENDING_APPROVAL else set())
    users = await recipients(session, proposal.portfolio_id, wanted)
    return sum([await queue_notification(session, proposal, u, NotificationKind.STATUS, proposal.status)
                for u in users])


async def notify_decided(session: AsyncSession, proposal: StoredProposal, about: ProposalStatus) -> int:
    """Tell the owners that the proposal became ``about`` (approved, rejected, executed), by whom."""
    owners = await recipients(session, proposal.portfolio_id, {Role.OWNER})
    return sum([await queue_notification(session, proposal, u, NotificationKind.DECIDED, about) for u in owners])


async def expire_superseded_packs(session_factory: async_sessionmaker[AsyncSession],
                                  ctx: RequestCtx) -> tuple[TransitionRecord, ...]:
    """Live proposals whose pricing pack has a newer sealed pack become ``expired`` (one transaction)."""
    from app.db.repositories import ProposalRepository

    async with session_factory() as session, session.begin():
        done = []
        for proposal_id, newer in await ProposalRepository(session).live_on_superseded_packs():
            done.append(await move(session, proposal_id, ProposalStatus.EXPIRED, actor=SYSTEM,
                                   reason=f"pricing pack superseded by {newer}", request_id=ctx.request_id))
            log.info("proposals.expired", proposal_id=proposal_id, newer_pack=newer)
    return tuple(done)


async def refuse_second_approval(session: AsyncSession, proposal: StoredProposal) -> None:
    """ProposalStateError when another proposal of the same portfolio and pack is already approved (at most one
    live approved proposal per portfolio and pack; the partial unique index holds it under races too)."""
    from app.db.repositories import ProposalRepository

    others = [pid for pid, status in await ProposalRepository(session).live(proposal.portfolio_id,
                                                                            proposal.pricing_pack_id)
              if status is ProposalStatus.APPROVED and pid != proposal.proposal_id]
    if others:
        raise ProposalStateError(proposal.proposal_id, proposal.status.value,
                                 f"approved while proposal {others[0][:12]} is the approved one for "
                                 f"{proposal.portfolio_id} on {proposal.pricing_pack_id}")
