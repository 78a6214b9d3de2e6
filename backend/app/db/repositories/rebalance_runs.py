"""Rebalance runs (each check that proposed, or found nothing to trade) and a portfolio's history.

A run with trades points at its proposal in the one proposal table; a run without trades has none. The
history lists every proposal of a portfolio, whichever command made it, and the runs that traded nothing.
"""

from __future__ import annotations

import builtins
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import RebalanceProposalRow, RebalanceRunRow, utcnow
from app.db.repositories.proposals import ProposalRepository, aware
from app.domain.lifecycle import HistoryEntry, ProposalRecord, ProposalSource
from app.domain.rebalancing import Outcome, TriggerReason


class RebalanceRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save_run(self, record: ProposalRecord, *, run_id: str, triggers: tuple[TriggerReason, ...],
                       proposal_id: str | None, outcome: str, request_id: str | None,
                       user_id: str | None = None) -> None:
        """Store one run: the record's allocations and totals, its triggers, the proposal it made (if any) and who
        asked (``user_id``; None for a trusted in-process call)."""
        realised = (record.body.get("account") or {}).get("realised") or record.body.get("realised") or {}
        self.session.add(RebalanceRunRow(
            run_id=run_id, portfolio_id=record.portfolio_id, proposal_id=proposal_id,
            pricing_pack_id=record.pricing_pack_id, asof_date=record.asof_date,
            triggers=[t.model_dump(mode="json") for t in triggers],
            before_alloc={k: str(v) for k, v in record.before_pct.items()},
            after_alloc={k: str(v) for k, v in record.after_pct.items()}, n_trades=len(record.trades),
            total_trade_value=record.total_trade_value, total_cost=record.total_cost,
            realised_short=Decimal(realised.get("short_term", "0")),
            realised_long=Decimal(realised.get("long_term", "0")),
            estimated_tax=record.estimated_tax, outcome=outcome, request_id=request_id, created_at=utcnow(),
            user_id=user_id))
        await self.session.flush()

    async def history(self, portfolio_id: str) -> builtins.list[HistoryEntry]:
        """Every proposal of the portfolio (any command) and every run without trades, oldest first."""
        proposals = ProposalRepository(self.session)
        ids = await self.session.scalars(
            select(RebalanceProposalRow.proposal_id).where(RebalanceProposalRow.portfolio_id == portfolio_id))
        entries = [_from_proposal(await proposals.get(pid)) for pid in ids]
        empty_runs = await self.session.scalars(select(RebalanceRunRow).where(
            RebalanceRunRow.portfolio_id == portfolio_id, RebalanceRunRow.proposal_id.is_(None)))
        entries += [_from_run(r) for r in empty_runs]
        return sorted(entries, key=lambda e: (e.created_at, e.proposal_id or ""))


def _from_proposal(p) -> HistoryEntry:  # noqa: ANN001 - StoredProposal
    return HistoryEntry(
        created_at=p.created_at, portfolio_id=p.portfolio_id, pricing_pack_id=p.pricing_pack_id,
        asof_date=p.asof_date, source=p.source, proposal_id=p.proposal_id, policy_id=p.policy_id,
        triggers=p.triggers, before_pct=p.before_pct, after_pct=p.after_pct, trades=p.trades,
        n_trades=len(p.trades), total_trade_value=p.total_trade_value, total_cost=p.total_cost,
        estimated_tax=p.estimated_tax, cash_before=p.cash_before, cash_after=p.cash_after, outcome=p.status.value,
        approvals=p.transitions, fills=p.fills)


def _from_run(r: RebalanceRunRow) -> HistoryEntry:
    return HistoryEntry(
        created_at=aware(r.created_at), portfolio_id=r.portfolio_id, pricing_pack_id=r.pricing_pack_id,
        asof_date=r.asof_date, source=ProposalSource.REBALANCING, proposal_id=None, policy_id="",
        triggers=tuple(TriggerReason.model_validate(t) for t in r.triggers), before_pct=r.before_alloc,
        after_pct=r.after_alloc, n_trades=0, total_trade_value=r.total_trade_value, total_cost=r.total_cost,
        estimated_tax=r.estimated_tax, outcome=Outcome.NO_TRADE.value)
