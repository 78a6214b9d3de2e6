"""The trades being built: sells and buys by symbol, the notes, and the edits the passes make."""

from __future__ import annotations

from decimal import Decimal

from app.analytics.notes import Note, NoteKind
from app.analytics.trades.lines import CostModel, TradeLine, TradeReason, ceil_to_lot
from app.analytics.universe import Universe
from app.core.decimals import ZERO
from app.domain.enums import TradeAction


class TradeBook:
    """Mutable working state of one whole-share build (never leaves :mod:`app.analytics.trades`)."""

    def __init__(self, universe: Universe, costs: CostModel, min_value: Decimal) -> None:
        self.universe = universe
        self.costs = costs
        self.min_value = min_value
        self.sells: dict[str, TradeLine] = {}
        self.buys: dict[str, TradeLine] = {}
        self.dropped: list[Note] = []
        self.warnings: list[Note] = []

    def lines(self) -> tuple[TradeLine, ...]:
        return (*self.sells.values(), *self.buys.values())

    def drop(self, symbol: str, kind: NoteKind, text: str) -> None:
        self.dropped.append(Note(kind, text, symbol))

    def sellable(self, i: int) -> Decimal:
        """Shares of name ``i`` a sale may take: the position less what the account keeps."""
        u = self.universe
        return max(u.shares[i] - u.keep_shares(u.symbols[i]), ZERO)

    def state(self) -> tuple[dict[str, Decimal], Decimal, Decimal]:
        """``(value by symbol, cash, value)`` after the trades so far and their costs (currency)."""
        u = self.universe
        after = {s: u.shares[i] for i, s in enumerate(u.symbols)}
        c = u.cash
        for line in self.lines():
            after[line.symbol] += line.delta_shares
            c += (-line.trade_value if line.action is TradeAction.BUY else line.trade_value) - line.estimated_cost
        vals = {s: after[s] * u.prices[i] for i, s in enumerate(u.symbols)}
        return vals, c, sum(vals.values(), ZERO) + c

    def traded(self) -> Decimal:
        return sum((line.trade_value for line in self.lines()), ZERO)

    def shrink_buy(self, s: str, excess_value: Decimal) -> None:
        """Buy at least ``excess_value`` less of ``s`` (whole lots, at least one); dropped below min value."""
        line = self.buys[s]
        lots = ceil_to_lot(excess_value / line.price, line.lot_size)
        qty = line.delta_shares - max(lots, line.lot_size)
        if qty <= 0:
            del self.buys[s]
            return
        new = self.costs.line(s, line.current_shares, qty, line.price, line.lot_size, line.reason, False)
        if new.trade_value < self.min_value:
            self.drop(s, NoteKind.BELOW_MIN_TRADE_VALUE, f"{s}: buy trimmed below min trade value {self.min_value}")
            del self.buys[s]
        else:
            self.buys[s] = new

    def grow_sell(self, s: str, excess_value: Decimal, reason: TradeReason) -> bool:
        """Sell (more of) ``s`` by whole lots worth at least ``excess_value``; the sell becomes required.
        False when nothing more may be sold (the account keeps the rest)."""
        u = self.universe
        i = u.index(s)
        cur, price, lot = u.shares[i], u.prices[i], u.lot_sizes[i]
        done = -self.sells[s].delta_shares if s in self.sells else ZERO
        lots = max(ceil_to_lot(excess_value / price, lot), lot)
        qty = min(done + lots, self.sellable(i))
        if qty <= done:
            return False
        keep = self.sells[s].reason if s in self.sells else reason
        self.sells[s] = self.costs.line(s, cur, -qty, price, lot, keep, True)
        return True
