"""Recording an executed proposal in the caller's transaction (used by ``proposals.execute``).

Reads the portfolio's state, checks it is still the one the proposal started from and that every fill matches
the proposal, applies the fills (:mod:`app.rebalancing.execution`) and writes holdings, cash, tax lots, the
transaction ledger and the fills, then moves the proposal to ``executed`` (recorded) and tells the owners.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.agents.base import CapabilityArgs
from app.agents.proposal_lifecycle import move, notify_decided
from app.core.context import RequestCtx
from app.core.decimals import ZERO
from app.domain.lifecycle import Fill, StoredProposal
from app.domain.rebalancing import LotMethod, ProposalStatus, TaxLot
from app.rebalancing.approvals import check_executable
from app.rebalancing.execution import PortfolioState, apply_fills, as_proposed, check_fills, check_unchanged

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class ExecuteArgs(CapabilityArgs):
    proposal_id: str = Field(min_length=6, description="full id or a unique prefix (6+ characters)")
    user: str | None = Field(default=None, description="who records the execution: the context's user_id; only a "
                                                       "trusted call (no user in the context) names one here")
    as_proposed: bool = Field(default=False, description="every trade filled in full at the proposal's price")
    fills: tuple[Fill, ...] | None = Field(default=None, description="the fills (shares + bought, - sold)")
    fills_source: str = Field(default="fills", description="where the fills came from, for messages (a file name)")

    @model_validator(mode="after")
    def _one_source(self) -> ExecuteArgs:
        if self.as_proposed == (self.fills is not None):
            raise ValueError("give either as_proposed or fills, not both and not neither")
        return self


class ExecutionResult(BaseModel):
    """The executed proposal (status, fills) and the portfolio's state after."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal: StoredProposal
    holdings: dict[str, Decimal] = Field(description="symbol -> shares after")
    cash: Decimal = Field(description="cash after, currency")
    lots: tuple[TaxLot, ...]


async def _state(session: AsyncSession, portfolio_id: str) -> tuple[PortfolioState, LotMethod]:
    from app.db.repositories import PortfolioRepository
    from app.db.repositories.ledger import LedgerRepository
    from app.db.repositories.rebalance_config import RebalanceConfigRepository

    portfolio = await PortfolioRepository(session).get(portfolio_id)
    config = RebalanceConfigRepository(session)
    method = (await config.get_settings(portfolio_id)).lot_method if await config.has_settings(portfolio_id) \
        else LotMethod.HIFO
    state = PortfolioState(holdings={h.symbol: h.shares for h in portfolio.holdings}, cash=portfolio.cash,
                           lots=tuple(await LedgerRepository(session).lots(portfolio_id)))
    return state, method


def execution_date(proposal: StoredProposal) -> date:
    """The session the trades were for (a plan's ``execute_on``, an account run's ``trade_date``), else the
    pack's as-of date."""
    on = proposal.body.get("execute_on") or (proposal.body.get("account") or {}).get("trade_date")
    return date.fromisoformat(on) if isinstance(on, str) else proposal.asof_date


async def record_execution(session: AsyncSession, ctx: RequestCtx, proposal: StoredProposal, args: ExecuteArgs,
                           *, actor: str) -> ExecutionResult:
    """Apply and record the fills of ``proposal``; every refusal comes before the first write."""
    from app.db.repositories import PortfolioRepository, ProposalRepository
    from app.db.repositories.ledger import LedgerRepository

    check_executable(proposal.proposal_id, proposal.status, proposal.requires_approval)
    state, method = await _state(session, proposal.portfolio_id)
    check_unchanged(proposal, state)
    fills = as_proposed(proposal, on=execution_date(proposal)) if args.as_proposed else list(args.fills or ())
    check_fills(proposal, fills, source="--as-proposed" if args.as_proposed else args.fills_source)
    done = apply_fills(proposal, fills, state, lot_method=method)
    await PortfolioRepository(session).set_positions(proposal.portfolio_id, holdings=done.state.holdings,
                                                     cash=done.state.cash)
    ledger = LedgerRepository(session)
    await ledger.replace_lots(proposal.portfolio_id, list(done.state.lots))
    for tx, fill in zip(done.transactions, done.fills):
        await ledger.record(proposal.portfolio_id, tx, price=fill.price, proposal_id=proposal.proposal_id)
    repo = ProposalRepository(session)
    await repo.add_fills(proposal.proposal_id, list(done.fills), actor=actor, request_id=ctx.request_id)
    full = sum(1 for t in proposal.trades
               if sum((f.shares for f in done.fills if f.symbol == t.symbol), ZERO) == t.shares)
    await move(session, proposal.proposal_id, ProposalStatus.EXECUTED, actor=actor, request_id=ctx.request_id,
               reason=f"{len(done.fills)} fill(s) from {'the proposal' if args.as_proposed else args.fills_source}; "
                      f"{full} of {len(proposal.trades)} trades filled in full")
    executed = await repo.get(proposal.proposal_id)
    await notify_decided(session, executed, ProposalStatus.EXECUTED)
    return ExecutionResult(proposal=executed, holdings=dict(done.state.holdings), cash=done.state.cash,
                           lots=done.state.lots)
