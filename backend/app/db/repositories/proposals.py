"""The one proposal table: proposals of every command, each request that asked for one, status changes (who,
when, why), refused decisions and fills.

A proposal is stored once per ``proposal_id`` (content-addressed): saving it again records the request only.
The repository stores and reads; which status change is allowed is the lifecycle's rule
(:mod:`app.rebalancing.approvals`), applied by the agents before they call :meth:`ProposalRepository.set_status`.
"""

from __future__ import annotations

import builtins
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ProposalConflictError, UnknownProposalError
from app.db.models import (
    ApprovalRefusalRow,
    PricingPackRow,
    ProposalFillRow,
    ProposalRequestRow,
    ProposalTransitionRow,
    RebalanceProposalRow,
    RebalanceRunRow,
    utcnow,
)
from app.domain import canonical_json
from app.domain.enums import TradeAction
from app.domain.lifecycle import (
    LIVE,
    FillRecord,
    ProposalRecord,
    ProposalSource,
    StoredProposal,
    TransitionRecord,
)
from app.domain.rebalancing import ProposalStatus, TriggerReason


def aware(at: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC): make them aware, like PostgreSQL's."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _insert(session: AsyncSession, model: type) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the session's dialect."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    if name == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing()
    raise NotImplementedError(f"proposals repository supports sqlite and postgresql, not {name}")


def _transition(row: ProposalTransitionRow) -> TransitionRecord:
    return TransitionRecord(proposal_id=row.proposal_id,
                            from_status=ProposalStatus(row.from_status) if row.from_status else None,
                            to_status=ProposalStatus(row.to_status), actor=row.actor, reason=row.reason,
                            at=aware(row.at))


def _fill(row: ProposalFillRow) -> FillRecord:
    return FillRecord(line=row.line, symbol=row.symbol, action=TradeAction(row.action),
                      proposed_shares=row.proposed_shares, shares=row.shares, price=row.price,
                      fill_date=row.fill_date, fees=row.fees, realised_gain=row.realised_gain)


class ProposalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(self, proposal: ProposalRecord, request_id: str, user_id: str | None = None) -> bool:
        """Store the proposal once (status ``proposed``) and record ``request_id`` (and who asked, ``user_id``;
        None for a trusted in-process call) beside it.

        Idempotent: saving the same proposal again keeps the one row and adds the request (the same request
        twice is recorded once). Returns True when the proposal row is new. Raises ProposalConflictError when
        ``proposal_id`` is stored with a different body.
        """
        text = canonical_json(proposal.body)
        now = utcnow()
        inserted = await self.session.execute(
            _insert(self.session, RebalanceProposalRow)
            .values(proposal_id=proposal.proposal_id, portfolio_id=proposal.portfolio_id,
                    policy_id=proposal.policy_id[:64], policy_version=proposal.policy_version,
                    pricing_pack_id=proposal.pricing_pack_id, asof_date=proposal.asof_date, body=text,
                    status=ProposalStatus.PROPOSED.value, created_at=now, updated_at=now,
                    source=proposal.source.value, requires_approval=proposal.requires_approval,
                    record=proposal.record_json())
            .returning(RebalanceProposalRow.proposal_id)
        )
        created = inserted.scalar_one_or_none() is not None  # no row back: it was already stored
        if not created and await self.get_text(proposal.proposal_id) != text:
            raise ProposalConflictError(proposal.proposal_id)
        await self.session.execute(
            _insert(self.session, ProposalRequestRow).values(
                proposal_id=proposal.proposal_id, request_id=request_id, created_at=now, user_id=user_id))
        return created

    async def get_body(self, proposal_id: str) -> dict[str, Any]:
        """The stored engine document (parsed canonical JSON); raises UnknownProposalError."""
        return json.loads(await self.get_text(proposal_id))

    async def get_text(self, proposal_id: str) -> str:
        """The stored body exactly as stored (canonical JSON text); raises UnknownProposalError."""
        text = await self.session.scalar(
            select(RebalanceProposalRow.body).where(RebalanceProposalRow.proposal_id == proposal_id))
        if text is None:
            raise UnknownProposalError(proposal_id, hint="list proposals with `dawsos proposals list`")
        return text

    async def _row(self, proposal_id: str) -> RebalanceProposalRow:
        row = await self.session.get(RebalanceProposalRow, proposal_id)
        if row is None:
            raise UnknownProposalError(proposal_id, hint="list proposals with `dawsos proposals list`")
        return row

    async def get(self, proposal_id: str) -> StoredProposal:
        """The stored proposal with its status, transitions, fills and (when a run made it) triggers."""
        row = await self._row(proposal_id)
        triggers = await self.session.scalar(
            select(RebalanceRunRow.triggers).where(RebalanceRunRow.proposal_id == proposal_id)
            .order_by(RebalanceRunRow.created_at).limit(1))
        return StoredProposal.model_validate({
            **row.record, "proposal_id": row.proposal_id, "portfolio_id": row.portfolio_id,
            "policy_id": row.policy_id, "policy_version": row.policy_version,
            "pricing_pack_id": row.pricing_pack_id, "asof_date": row.asof_date, "source": ProposalSource(row.source),
            "requires_approval": row.requires_approval, "body": json.loads(row.body),
            "status": ProposalStatus(row.status), "created_at": aware(row.created_at),
            "superseded_by": row.superseded_by, "triggers": [TriggerReason.model_validate(t) for t in triggers or ()],
            "transitions": await self.transitions(proposal_id), "fills": await self.fills(proposal_id)})

    async def resolve_id(self, prefix: str) -> str:
        """The full proposal id for an id or a unique prefix of at least 6 characters."""
        if len(prefix) >= 64:
            return prefix
        ids = list(await self.session.scalars(
            select(RebalanceProposalRow.proposal_id).where(RebalanceProposalRow.proposal_id.like(f"{prefix}%"))
            .limit(2)))
        if len(prefix) < 6 or len(ids) != 1:
            raise UnknownProposalError(prefix, hint="give the full id or a unique prefix of 6+ characters")
        return ids[0]

    async def list(self, portfolio_id: str | None = None,
                   status: ProposalStatus | None = None) -> builtins.list[StoredProposal]:
        """Stored proposals of every command, newest first (then by id), optionally one portfolio's or status."""
        stmt = select(RebalanceProposalRow.proposal_id)
        if portfolio_id is not None:
            stmt = stmt.where(RebalanceProposalRow.portfolio_id == portfolio_id)
        if status is not None:
            stmt = stmt.where(RebalanceProposalRow.status == status.value)
        stmt = stmt.order_by(RebalanceProposalRow.created_at.desc(), RebalanceProposalRow.proposal_id)
        return [await self.get(pid) for pid in await self.session.scalars(stmt)]

    async def request_ids(self, proposal_id: str) -> builtins.list[str]:
        """Every request recorded for a proposal, in the order they came."""
        stmt = (select(ProposalRequestRow.request_id).where(ProposalRequestRow.proposal_id == proposal_id)
                .order_by(ProposalRequestRow.id))
        return list(await self.session.scalars(stmt))

    async def requesters(self, proposal_id: str) -> builtins.list[str | None]:
        """Who asked for the proposal, one entry per request in the order they came (None: a trusted call)."""
        stmt = (select(ProposalRequestRow.user_id).where(ProposalRequestRow.proposal_id == proposal_id)
                .order_by(ProposalRequestRow.id))
        return list(await self.session.scalars(stmt))

    async def count_requests(self, proposal_id: str) -> int:
        return int(await self.session.scalar(
            select(func.count()).select_from(ProposalRequestRow).where(ProposalRequestRow.proposal_id == proposal_id))
            or 0)

    # ---- lifecycle ------------------------------------------------------------------------------------------
    async def set_status(self, proposal_id: str, to: ProposalStatus, *, actor: str, reason: str = "",
                         request_id: str | None = None, superseded_by: str | None = None) -> TransitionRecord:
        """Move the proposal to ``to`` (the caller checked the transition) and record who, when and why."""
        row = await self._row(proposal_id)
        now = utcnow()
        record = ProposalTransitionRow(proposal_id=proposal_id, from_status=row.status, to_status=to.value,
                                       actor=actor, reason=reason, request_id=request_id, at=now)
        row.status, row.updated_at = to.value, now
        if superseded_by is not None:
            row.superseded_by = superseded_by
        self.session.add(record)
        await self.session.execute(update(RebalanceRunRow).where(RebalanceRunRow.proposal_id == proposal_id)
                                   .values(outcome=to.value))
        await self.session.flush()
        return _transition(record)

    async def record_first_status(self, proposal_id: str, *, actor: str, reason: str,
                                  request_id: str | None) -> TransitionRecord:
        """The transition into the first status (``None -> proposed``)."""
        record = ProposalTransitionRow(proposal_id=proposal_id, from_status=None,
                                       to_status=ProposalStatus.PROPOSED.value, actor=actor, reason=reason,
                                       request_id=request_id, at=utcnow())
        self.session.add(record)
        await self.session.flush()
        return _transition(record)

    async def transitions(self, proposal_id: str) -> builtins.list[TransitionRecord]:
        stmt = (select(ProposalTransitionRow).where(ProposalTransitionRow.proposal_id == proposal_id)
                .order_by(ProposalTransitionRow.id))
        return [_transition(r) for r in await self.session.scalars(stmt)]

    async def live(self, portfolio_id: str, pricing_pack_id: str) -> builtins.list[tuple[str, ProposalStatus]]:
        """``(proposal_id, status)`` of the live proposals (proposed, pending, approved) of a portfolio and pack,
        oldest first."""
        stmt = (select(RebalanceProposalRow.proposal_id, RebalanceProposalRow.status)
                .where(RebalanceProposalRow.portfolio_id == portfolio_id,
                       RebalanceProposalRow.pricing_pack_id == pricing_pack_id,
                       RebalanceProposalRow.status.in_([s.value for s in LIVE]))
                .order_by(RebalanceProposalRow.created_at, RebalanceProposalRow.proposal_id))
        return [(pid, ProposalStatus(status)) for pid, status in await self.session.execute(stmt)]

    async def live_on_superseded_packs(self) -> builtins.list[tuple[str, str]]:
        """``(proposal_id, newer pack id)`` for live proposals whose pack has a newer sealed pack."""
        packs = list(await self.session.execute(
            select(PricingPackRow.id, PricingPackRow.asof_date, PricingPackRow.sealed)))
        sealed = sorted((d, i) for i, d, s in packs if s)
        asof = {i: d for i, d, _ in packs}
        stmt = (select(RebalanceProposalRow.proposal_id, RebalanceProposalRow.pricing_pack_id)
                .where(RebalanceProposalRow.status.in_([s.value for s in LIVE])))
        out = []
        for pid, pack_id in await self.session.execute(stmt):
            newer = [i for d, i in sealed if (d, i) > (asof.get(pack_id, date.min), pack_id)]
            if newer:
                out.append((pid, newer[-1]))
        return sorted(out)

    async def last_rebalance_date(self, portfolio_id: str) -> date | None:
        """As-of date of the newest proposal of the portfolio that is live or executed."""
        stmt = (select(RebalanceProposalRow.asof_date).where(
            RebalanceProposalRow.portfolio_id == portfolio_id,
            RebalanceProposalRow.status.in_([*(s.value for s in LIVE), ProposalStatus.EXECUTED.value]))
            .order_by(RebalanceProposalRow.asof_date.desc()).limit(1))
        return await self.session.scalar(stmt)

    async def record_refusal(self, proposal_id: str, *, user: str, action: str, reason: str,
                             request_id: str | None) -> None:
        self.session.add(ApprovalRefusalRow(proposal_id=proposal_id, user_id=user, action=action, reason=reason,
                                            request_id=request_id, at=utcnow()))
        await self.session.flush()

    async def refusals(self, proposal_id: str) -> builtins.list[dict[str, Any]]:
        stmt = (select(ApprovalRefusalRow).where(ApprovalRefusalRow.proposal_id == proposal_id)
                .order_by(ApprovalRefusalRow.id))
        return [{"user": r.user_id, "action": r.action, "reason": r.reason, "at": aware(r.at)}
                for r in await self.session.scalars(stmt)]

    # ---- fills ----------------------------------------------------------------------------------------------
    async def add_fills(self, proposal_id: str, fills: builtins.list[FillRecord], *, actor: str,
                        request_id: str | None) -> None:
        now = utcnow()
        for f in fills:
            self.session.add(ProposalFillRow(
                proposal_id=proposal_id, line=f.line, symbol=f.symbol, action=f.action.value,
                proposed_shares=f.proposed_shares, shares=f.shares, price=f.price, fill_date=f.fill_date,
                fees=f.fees, realised_gain=f.realised_gain, actor=actor, request_id=request_id, at=now))
        await self.session.flush()

    async def fills(self, proposal_id: str) -> builtins.list[FillRecord]:
        stmt = select(ProposalFillRow).where(ProposalFillRow.proposal_id == proposal_id).order_by(ProposalFillRow.id)
        return [_fill(r) for r in await self.session.scalars(stmt)]
