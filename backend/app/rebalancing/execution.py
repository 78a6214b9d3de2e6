"""Recording what was executed: a proposal's fills applied to the portfolio's state (pure; no database).

:func:`check_fills` refuses a fill that does not match the proposal (naming its line); :func:`apply_fills`
gives the state after: holdings (shares), cash (currency, after the actual fees), tax lots (a buy becomes a lot
at its fill price and date; a sell takes the lots the proposal chose, then the others in the account's lot
order) and the transactions the wash-sale rule reads.

Fees: a fill's ``fees`` when given; else the proposal's commission for the first fill of each symbol (market
impact is in the fill price). ``--as-proposed`` fills every trade in full at the proposal's price on its
execution date with its estimated cost (commission + market impact) as fees, so the state after is the
proposal's after-state to the cent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.analytics.taxes.lots import order_lots, sale_of_lot
from app.core.decimals import ZERO, money
from app.core.errors import FillRefusedError, PortfolioChangedError
from app.domain.enums import TradeAction
from app.domain.lifecycle import Fill, FillRecord, RecordedTrade, StoredProposal
from app.domain.rebalancing import LotMethod, TaxLot, Transaction


@dataclass(frozen=True)
class PortfolioState:
    """Holdings (symbol -> shares), cash (currency) and tax lots of one portfolio."""

    holdings: Mapping[str, Decimal]
    cash: Decimal
    lots: tuple[TaxLot, ...]


@dataclass(frozen=True)
class Execution:
    """The state after the fills, what filled against what was proposed, and the ledger's new transactions."""

    state: PortfolioState
    fills: tuple[FillRecord, ...]
    transactions: tuple[Transaction, ...]


def as_proposed(proposal: StoredProposal, *, on: date) -> list[Fill]:
    """Every trade filled in full at the proposal's price on ``on``, its estimated cost as fees."""
    return [Fill(symbol=t.symbol, shares=t.shares if t.action is TradeAction.BUY else -t.shares, price=t.price,
                 date=on, fees=t.estimated_cost) for t in proposal.trades]


def check_unchanged(proposal: StoredProposal, state: PortfolioState) -> None:
    """PortfolioChangedError unless the portfolio still holds what the proposal started from."""
    changed = [f"{t.symbol} holds {state.holdings.get(t.symbol, ZERO)} shares, the proposal started from "
               f"{t.current_shares}" for t in proposal.trades if state.holdings.get(t.symbol, ZERO) != t.current_shares]
    if state.cash != proposal.cash_before:
        changed.append(f"cash is {state.cash}, the proposal started from {proposal.cash_before}")
    if changed:
        raise PortfolioChangedError(f"portfolio {proposal.portfolio_id} changed since proposal "
                                    f"{proposal.proposal_id[:12]} was made: {'; '.join(changed)}")


def check_fills(proposal: StoredProposal, fills: Sequence[Fill], *, source: str) -> None:
    """FillRefusedError naming the line of the first fill that does not match the proposal: a symbol it does
    not trade, the other side (shares are + bought, − sold), more shares than proposed in all, a date before
    the proposal's pack date."""
    trades = {t.symbol: t for t in proposal.trades}
    filled: dict[str, Decimal] = {}
    if not fills:
        raise FillRefusedError(source, None, "", "no fills: nothing to execute")
    for f in fills:
        trade = trades.get(f.symbol)
        if trade is None:
            raise FillRefusedError(source, f.line, "symbol", f"proposal {proposal.proposal_id[:12]} does not trade "
                                   f"it (it trades {', '.join(sorted(trades)) or 'nothing'})", f.symbol)
        side = TradeAction.BUY if f.shares > 0 else TradeAction.SELL
        if side is not trade.action:
            raise FillRefusedError(source, f.line, "shares", f"the proposal {trade.action.value.lower()}s "
                                   f"{f.symbol} (shares are + bought, - sold)", str(f.shares))
        filled[f.symbol] = filled.get(f.symbol, ZERO) + abs(f.shares)
        if filled[f.symbol] > trade.shares:
            raise FillRefusedError(source, f.line, "shares", f"{f.symbol} fills {filled[f.symbol]} shares in all, "
                                   f"more than the {trade.shares} proposed", str(f.shares))
        if f.date < proposal.asof_date:
            raise FillRefusedError(source, f.line, "date", f"before the proposal's pack date {proposal.asof_date}",
                                   f.date.isoformat())


def _sell_lots(trade: RecordedTrade, lots: dict[str, TaxLot], shares: Decimal, *, price: Decimal, on: date,
               method: LotMethod) -> tuple[Decimal, dict[str, TaxLot]]:
    """Take ``shares`` of ``trade.symbol`` from the lots the proposal chose, then from the others in ``method``
    order; returns the realised gain (currency) and the lots left (untracked shares have no lot)."""
    chosen = [lots[p.lot_id] for p in trade.lots if p.lot_id in lots]
    others = [lot for lot in lots.values() if lot.symbol == trade.symbol and lot not in chosen]
    order = chosen + order_lots(others, method=method, price=price, sale_date=on)
    gain, remaining, left = ZERO, shares, dict(lots)
    for lot in order:
        if remaining <= 0:
            break
        take = min(lot.quantity, remaining)
        gain += sale_of_lot(lot, take, price=price, sale_date=on).gain
        remaining -= take
        rest = lot.quantity - take
        if rest > 0:
            left[lot.lot_id] = lot.model_copy(update={"quantity": rest})
        else:
            del left[lot.lot_id]
    return money(gain), left


def apply_fills(proposal: StoredProposal, fills: Sequence[Fill], state: PortfolioState, *,
                lot_method: LotMethod = LotMethod.HIFO) -> Execution:
    """The portfolio after ``fills`` (already checked against the proposal)."""
    trades = {t.symbol: t for t in proposal.trades}
    holdings = dict(state.holdings)
    lots = {lot.lot_id: lot for lot in state.lots}
    cash = state.cash
    charged: set[str] = set()
    records, transactions = [], []
    for n, f in enumerate(fills, start=1):
        trade = trades[f.symbol]
        shares, value = abs(f.shares), money(abs(f.shares) * f.price)
        fees = f.fees if f.fees is not None else (trade.commission if f.symbol not in charged else ZERO)
        charged.add(f.symbol)
        gain = ZERO
        if trade.action is TradeAction.BUY:
            cash -= value + fees
            lot_id = f"{proposal.proposal_id[:12]}-{f.symbol}-{n}"
            lots[lot_id] = TaxLot(lot_id=lot_id, symbol=f.symbol, quantity=shares, cost_basis=f.price, acquired=f.date)
        else:
            cash += value - fees
            gain, lots = _sell_lots(trade, lots, shares, price=f.price, on=f.date, method=lot_method)
        holdings[f.symbol] = holdings.get(f.symbol, ZERO) + f.shares
        records.append(FillRecord(line=f.line, symbol=f.symbol, action=trade.action, proposed_shares=trade.shares,
                                  shares=shares, price=f.price, fill_date=f.date, fees=money(fees), realised_gain=gain))
        transactions.append(Transaction(symbol=f.symbol, action=trade.action, quantity=shares, trade_date=f.date,
                                        realised_gain=gain))
    after = PortfolioState(holdings={s: q for s, q in sorted(holdings.items()) if q != 0}, cash=money(cash),
                           lots=tuple(sorted(lots.values(), key=lambda lot: (lot.symbol, lot.lot_id))))
    return Execution(state=after, fills=tuple(records), transactions=tuple(transactions))
