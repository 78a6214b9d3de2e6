"""The proposal's parts from the final whole-share trades: trade lines, summary, the account's outcome."""

from __future__ import annotations

from decimal import Decimal

from app.analytics.account import AccountPlan
from app.analytics.inputs import RebalanceInputs
from app.analytics.metrics import PortfolioMetrics
from app.analytics.notes import Note
from app.analytics.taxes import realised_gains
from app.analytics.trades import TradeLine, TradeList, TradeReason
from app.analytics.universe import Universe
from app.core.decimals import money, pct, ratio, strip_zeros
from app.domain.account import AccountNote, AccountOutcome, HarvestRecord
from app.domain.enums import TradeAction
from app.domain.proposal import ConstraintLine, ConstraintSense, ProposalSummary, ProposedTrade


def rationale(line: TradeLine, universe: Universe, inputs: RebalanceInputs, after_w: float) -> str:
    """Why ``line`` is proposed, in one phrase."""
    i = universe.index(line.symbol)
    pol = inputs.policy
    if line.reason is TradeReason.FORCED_EXIT:
        q = universe.quality[i]
        if q is None:
            return f"forced exit: unrated (min quality {pol.min_quality_score:g})"
        return f"forced exit: quality {q:g} < {pol.min_quality_score:g}"
    if line.reason is TradeReason.TRIM_CAP:
        return f"trim to {pol.max_single_position_pct * 100:g} % cap"
    if line.reason is TradeReason.TRIM_SECTOR:
        return f"trim {universe.sectors[i]} toward {pol.max_sector_pct * 100:g} % sector cap"
    if line.reason is TradeReason.HARVEST:
        return f"tax-loss harvest: lots under water beyond the threshold; sell to {pct(after_w)} %"
    if line.reason is TradeReason.HARVEST_SUBSTITUTE:
        return f"substitute for a harvested position: buy to {pct(after_w)} %"
    side = "buy" if line.action is TradeAction.BUY else "sell"
    return f"toward target: {side} to {pct(after_w)} %"


def proposed_trades(tl: TradeList, universe: Universe, inputs: RebalanceInputs, before: PortfolioMetrics,
                    after: PortfolioMetrics) -> tuple[ProposedTrade, ...]:
    """The proposal's trade lines (symbol order), weights in percent of the value before trading."""
    out = []
    for t in tl.trades:
        i = universe.index(t.symbol)
        out.append(ProposedTrade(
            symbol=t.symbol, security_id=t.symbol, action=t.action, current_shares=strip_zeros(t.current_shares),
            target_shares=strip_zeros(t.target_shares), delta_shares=strip_zeros(t.delta_shares),
            price=t.price, trade_value=t.trade_value, current_weight_pct=pct(float(before.weights[i])),
            target_weight_pct=pct(float(after.weights[i])), commission=t.commission,
            market_impact=t.market_impact, estimated_cost=t.estimated_cost,
            rationale=rationale(t, universe, inputs, float(after.weights[i])),
        ))
    return tuple(out)


def summary_of(tl: TradeList, universe: Universe, before: PortfolioMetrics, after: PortfolioMetrics,
               lines: tuple[ConstraintLine, ...], tax: Decimal | None = None) -> ProposalSummary:
    """The summary; cash and value are the account's own (a withdrawal reserve is counted in cash); ``tax``:
    the estimated tax of the sales (currency), None when no tax lots are known."""
    traded_value = sum((t.trade_value for t in tl.trades), Decimal(0))
    reserve = universe.withdrawal
    return ProposalSummary(
        portfolio_value=money(universe.value + reserve), cash_before=money(universe.cash + reserve),
        cash_after=money(tl.cash_after + reserve), turnover_pct=pct(traded_value / universe.value),
        estimated_total_cost=money(tl.total_cost),
        te_before_pct=pct(before.tracking_error), te_after_pct=pct(after.tracking_error),
        expected_return_before_pct=pct(before.expected_return), expected_return_after_pct=pct(after.expected_return),
        volatility_before_pct=pct(before.volatility), volatility_after_pct=pct(after.volatility),
        sharpe_before=ratio(before.sharpe, 4), sharpe_after=ratio(after.sharpe, 4),
        avg_quality_before=ratio(before.avg_quality, 2), avg_quality_after=ratio(after.avg_quality, 2),
        n_trades=len(tl.trades), all_constraints_satisfied=all(c.satisfied for c in lines), estimated_tax=tax,
    )


def blocked_buys_line(tl: TradeList, universe: Universe) -> ConstraintLine:
    """Structural: nothing the account may not buy (restricted, wash sale, harvested) is bought."""
    bad = [t.symbol for t in tl.trades if t.action is TradeAction.BUY and t.symbol in universe.account.no_buy]
    return ConstraintLine(
        name="no_buys_blocked_for_account", sense=ConstraintSense.MAX, unit="count", limit=Decimal(0), before=None,
        after=Decimal(len(bad)),
        satisfied=not bad, binding=False, detail="" if not bad else "bought although blocked: " + ", ".join(bad))


def account_outcome(tl: TradeList, plan: AccountPlan, universe: Universe, notes: tuple[Note, ...],
                    target_id: str | None) -> AccountOutcome:
    """Lots sold, realised gains and tax, harvests, the execution date and order."""
    sales = [s for t in tl.trades for s in t.lots]
    return AccountOutcome(
        trade_date=plan.trade_date, market_open=plan.rules.market_open, target_id=target_id,
        execution_order=tl.execution_order, withdrawal_reserved=money(universe.withdrawal),
        lots_sold={t.symbol: t.lots for t in tl.trades if t.lots},
        realised=realised_gains(sales, plan.rules.tax_rates),
        harvests=tuple(HarvestRecord(symbol=h.symbol, substitute=h.substitute,
                                     lot_ids=tuple(sorted(x.lot_id for x in h.lots)), loss_fraction=h.loss_fraction)
                       for h in plan.harvests),
        restricted=tuple(sorted(plan.rules.restricted)),
        notes=tuple(AccountNote(kind=n.kind.value, symbol=n.symbol, text=n.text) for n in notes),
    )
