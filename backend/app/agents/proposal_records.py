"""The lifecycle's record of a proposal (the one engine's document plus the fields every reader needs).

:func:`record_of_proposal` turns the analytics engine's :class:`~app.domain.proposal.RebalanceProposal`
into a :class:`~app.domain.lifecycle.ProposalRecord`, whichever command asked (``dawsos rebalance`` or
``dawsos rebalancing propose``, both through the one engine), so history, approvals, notifications and execution
read one shape and the table holds one kind of body.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from app.core.decimals import ZERO, money
from app.domain.lifecycle import LotPick, ProposalRecord, ProposalSource, RecordedTrade
from app.domain.proposal import RebalanceProposal
from app.rebalancing.allocation import CASH, allocation_pct
from app.rebalancing.approvals import needs_approval

#: the approval threshold of an account without rebalancing settings (DESIGN.md: default $10,000)
DEFAULT_APPROVAL_THRESHOLD = Decimal("10000")


def _lot_picks(proposal: RebalanceProposal, symbol: str) -> tuple[LotPick, ...]:
    """The lots a proposed sell takes, when the engine chose them (runs with account rules)."""
    sold = proposal.account.lots_sold.get(symbol, ()) if proposal.account is not None else ()
    return tuple(LotPick(lot_id=s.lot_id, quantity=s.quantity) for s in sold)


def record_of_proposal(proposal: RebalanceProposal, *, holdings: Mapping[str, Decimal],
                       prices: Mapping[str, Decimal], threshold: Decimal,
                       source: ProposalSource = ProposalSource.OPTIMIZER,
                       policy_id: str | None = None) -> ProposalRecord:
    """The record of the engine's proposal; ``holdings`` (shares) and ``prices`` (the pack's as-of prices) are
    the engine's inputs, so the allocations before and after cover every position, not only the traded ones.
    ``policy_id``: what the record names as the policy (default the proposal's; a rebalancing run toward a model
    portfolio names the model)."""
    trades = tuple(
        RecordedTrade(symbol=t.symbol, action=t.action, current_shares=t.current_shares, shares=abs(t.delta_shares),
                      price=t.price, trade_value=t.trade_value, commission=t.commission,
                      market_impact=t.market_impact, estimated_cost=t.estimated_cost,
                      lots=_lot_picks(proposal, t.symbol))
        for t in proposal.trades)
    after = {s: q for s, q in holdings.items()}
    for t in proposal.trades:
        after[t.symbol] = after.get(t.symbol, ZERO) + t.delta_shares
    summary = proposal.summary
    priced = {**prices, **{t.symbol: t.price for t in proposal.trades}}  # a bought name may be new to the reader

    def values(shares: Mapping[str, Decimal], cash: Decimal) -> dict[str, Decimal]:
        return {**{s: money(q * priced[s]) for s, q in shares.items() if q > 0}, CASH: cash}

    total = sum((t.trade_value for t in trades), ZERO)
    return ProposalRecord(
        proposal_id=proposal.proposal_id, portfolio_id=proposal.portfolio_id,
        policy_id=(policy_id or proposal.policy_id)[:64], policy_version=proposal.policy_version,
        pricing_pack_id=proposal.pricing_pack_id, asof_date=proposal.asof_date, source=source, trades=trades,
        before_pct=allocation_pct(values(holdings, summary.cash_before)),
        after_pct=allocation_pct(values(after, summary.cash_after)), portfolio_value=summary.portfolio_value,
        cash_before=summary.cash_before, cash_after=summary.cash_after, total_trade_value=total,
        total_cost=summary.estimated_total_cost,
        estimated_tax=proposal.account.realised.tax_total if proposal.account is not None else ZERO,
        requires_approval=needs_approval(total, threshold), body=proposal.body())

