"""Rebalance runs (the history), their proposals' life cycle (transitions with who and when) and refusals.

A run with trades stores its plan as a ``rebalance_proposals`` row (body = canonical JSON of the plan,
``status`` = life-cycle state) and points at it; a run without trades has no proposal.
"""

from __future__ import annotations

import builtins
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import UnknownProposalError
from app.db.models import (
    ApprovalRefusalRow,
    PricingPackRow,
    ProposalTransitionRow,
    RebalanceProposalRow,
    RebalanceRunRow,
    utcnow,
)
from app.domain.canonical import canonical_json
from app.domain.rebalancing import (
    HistoryEntry,
    Outcome,
    ProposalStatus,
    RebalancePlan,
    StoredProposal,
    TransitionRecord,
    TriggerReason,
)


def aware(at: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC): make them aware, like PostgreSQL's."""
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


def _transition(row: ProposalTransitionRow) -> TransitionRecord:
    return TransitionRecord(proposal_id=row.proposal_id,
                            from_status=ProposalStatus(row.from_status) if row.from_status else None,
                            to_status=ProposalStatus(row.to_status), actor=row.actor, reason=row.reason, at=aware(row.at))


class RebalanceRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save_run(self, plan: RebalancePlan, *, run_id: str, actor: str, request_id: str | None) -> str | None:
        """Store the run; with trades also the proposal (status ``plan.status``) and its first transition.
        Returns the proposal id (the plan id) or None. Re-proposing the same plan keeps the stored proposal."""
        proposal_id: str | None = None
        outcome = Outcome.NO_TRADE
        now = utcnow()
        if plan.trades:
            proposal_id = plan.plan_id
            existing = await self.session.get(RebalanceProposalRow, proposal_id)
            if existing is None:
                self.session.add(RebalanceProposalRow(
                    proposal_id=proposal_id, portfolio_id=plan.portfolio_id, policy_id=plan.target_id[:64],
                    policy_version=1, pricing_pack_id=plan.pricing_pack_id, asof_date=plan.asof_date,
                    body=canonical_json(plan.body()), status=plan.status.value, created_at=now))
                await self.session.flush()
                self.session.add(ProposalTransitionRow(proposal_id=proposal_id, from_status=None,
                                                       to_status=plan.status.value, actor=actor,
                                                       reason="proposed by the rebalancing engine",
                                                       request_id=request_id, at=now))
                outcome = Outcome(plan.status.value)
            else:
                outcome = Outcome(existing.status)
        self.session.add(RebalanceRunRow(
            run_id=run_id, portfolio_id=plan.portfolio_id, proposal_id=proposal_id, pricing_pack_id=plan.pricing_pack_id,
            asof_date=plan.asof_date, triggers=[t.model_dump(mode="json") for t in plan.triggers],
            before_alloc={k: str(v) for k, v in plan.before_pct.items()},
            after_alloc={k: str(v) for k, v in plan.after_pct.items()}, n_trades=len(plan.trades),
            total_trade_value=plan.total_trade_value, total_cost=plan.total_cost,
            realised_short=plan.realised.short_term, realised_long=plan.realised.long_term,
            estimated_tax=plan.realised.tax_total, outcome=outcome.value, request_id=request_id, created_at=now))
        await self.session.flush()
        return proposal_id

    async def _proposal_row(self, proposal_id: str) -> RebalanceProposalRow:
        row = await self.session.get(RebalanceProposalRow, proposal_id)
        is_rebalance = row is not None and await self.session.scalar(
            select(RebalanceRunRow.run_id).where(RebalanceRunRow.proposal_id == proposal_id).limit(1)) is not None
        if not is_rebalance:
            raise UnknownProposalError(proposal_id, hint="list rebalance proposals with `dawsos proposals list`")
        return row

    async def resolve_id(self, prefix: str) -> str:
        """The full proposal id for an id or a unique prefix of at least 6 characters."""
        if len(prefix) >= 64:
            return prefix
        ids = list(await self.session.scalars(
            select(RebalanceRunRow.proposal_id).where(RebalanceRunRow.proposal_id.like(f"{prefix}%")).distinct()))
        ids = [i for i in ids if i]
        if len(prefix) < 6 or len(ids) != 1:
            raise UnknownProposalError(prefix, hint="give the full id or a unique prefix of 6+ characters")
        return ids[0]

    async def get(self, proposal_id: str) -> StoredProposal:
        row = await self._proposal_row(proposal_id)
        return StoredProposal(proposal_id=row.proposal_id, portfolio_id=row.portfolio_id, status=ProposalStatus(row.status),
                              pricing_pack_id=row.pricing_pack_id, created_at=aware(row.created_at),
                              plan=RebalancePlan.model_validate_json(row.body),
                              transitions=tuple(await self.transitions(proposal_id)))

    async def list(self, portfolio_id: str | None = None, status: ProposalStatus | None = None) -> builtins.list[StoredProposal]:
        stmt = (select(RebalanceProposalRow.proposal_id)
                .join(RebalanceRunRow, RebalanceRunRow.proposal_id == RebalanceProposalRow.proposal_id).distinct())
        if portfolio_id is not None:
            stmt = stmt.where(RebalanceProposalRow.portfolio_id == portfolio_id)
        if status is not None:
            stmt = stmt.where(RebalanceProposalRow.status == status.value)
        found = [await self.get(pid) for pid in await self.session.scalars(stmt)]
        return sorted(found, key=lambda p: (p.created_at, p.proposal_id), reverse=True)

    async def set_status(self, proposal_id: str, to: ProposalStatus, *, actor: str, reason: str = "",
                         request_id: str | None = None) -> TransitionRecord:
        """Move the proposal to ``to`` (the caller checked the transition) and record who and when."""
        row = await self._proposal_row(proposal_id)
        now = utcnow()
        record = ProposalTransitionRow(proposal_id=proposal_id, from_status=row.status, to_status=to.value, actor=actor,
                                       reason=reason, request_id=request_id, at=now)
        row.status = to.value
        self.session.add(record)
        await self.session.execute(
            RebalanceRunRow.__table__.update().where(RebalanceRunRow.proposal_id == proposal_id).values(outcome=to.value))
        await self.session.flush()
        return _transition(record)

    async def transitions(self, proposal_id: str) -> builtins.list[TransitionRecord]:
        stmt = (select(ProposalTransitionRow).where(ProposalTransitionRow.proposal_id == proposal_id)
                .order_by(ProposalTransitionRow.id))
        return [_transition(r) for r in await self.session.scalars(stmt)]

    async def record_refusal(self, proposal_id: str, *, user: str, action: str, reason: str,
                             request_id: str | None) -> None:
        self.session.add(ApprovalRefusalRow(proposal_id=proposal_id, user_id=user, action=action, reason=reason,
                                            request_id=request_id, at=utcnow()))
        await self.session.flush()

    async def refusals(self, proposal_id: str) -> builtins.list[dict]:
        stmt = select(ApprovalRefusalRow).where(ApprovalRefusalRow.proposal_id == proposal_id).order_by(ApprovalRefusalRow.id)
        return [{"user": r.user_id, "action": r.action, "reason": r.reason, "at": aware(r.at)}
                for r in await self.session.scalars(stmt)]

    async def superseded_open_proposals(self) -> builtins.list[tuple[str, str]]:
        """``(proposal_id, newer pack id)`` for open rebalance proposals whose pack has a newer sealed pack."""
        packs = list(await self.session.execute(select(PricingPackRow.id, PricingPackRow.asof_date, PricingPackRow.sealed)))
        sealed = sorted((d, i) for i, d, s in packs if s)
        stmt = (select(RebalanceProposalRow.proposal_id, RebalanceProposalRow.pricing_pack_id)
                .join(RebalanceRunRow, RebalanceRunRow.proposal_id == RebalanceProposalRow.proposal_id)
                .where(RebalanceProposalRow.status.in_([ProposalStatus.PROPOSED.value,
                                                        ProposalStatus.PENDING_APPROVAL.value])).distinct())
        asof = {i: d for i, d, _ in packs}
        out = []
        for pid, pack_id in await self.session.execute(stmt):
            newer = [i for d, i in sealed if (d, i) > (asof.get(pack_id, date.min), pack_id)]
            if newer:
                out.append((pid, newer[-1]))
        return sorted(out)

    async def last_rebalance_date(self, portfolio_id: str) -> date | None:
        """As-of date of the newest run that traded (its proposal not rejected or expired)."""
        stmt = (select(RebalanceRunRow.asof_date).where(
            RebalanceRunRow.portfolio_id == portfolio_id,
            RebalanceRunRow.outcome.in_([Outcome.PROPOSED.value, Outcome.PENDING_APPROVAL.value, Outcome.APPROVED.value]))
            .order_by(RebalanceRunRow.asof_date.desc()).limit(1))
        return await self.session.scalar(stmt)

    async def history(self, portfolio_id: str) -> builtins.list[HistoryEntry]:
        """Every run of the portfolio, oldest first, with its proposal's approvals."""
        stmt = (select(RebalanceRunRow).where(RebalanceRunRow.portfolio_id == portfolio_id)
                .order_by(RebalanceRunRow.created_at, RebalanceRunRow.run_id))
        entries = []
        for r in await self.session.scalars(stmt):
            approvals = tuple(await self.transitions(r.proposal_id)) if r.proposal_id else ()
            entries.append(HistoryEntry(
                run_id=r.run_id, portfolio_id=r.portfolio_id, pricing_pack_id=r.pricing_pack_id, asof_date=r.asof_date,
                created_at=aware(r.created_at), triggers=tuple(TriggerReason.model_validate(t) for t in r.triggers),
                before_pct=r.before_alloc, after_pct=r.after_alloc, n_trades=r.n_trades,
                total_trade_value=r.total_trade_value, total_cost=r.total_cost, realised_short_term=r.realised_short,
                realised_long_term=r.realised_long, estimated_tax=r.estimated_tax, proposal_id=r.proposal_id,
                outcome=Outcome(r.outcome), approvals=approvals))
        return entries


def created(at: datetime) -> str:  # pragma: no cover - formatting helper for renderers
    return at.isoformat(timespec="seconds")
