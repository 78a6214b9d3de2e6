"""One whole-share trade line, the list of them, and why each is made."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from app.analytics.notes import Note
from app.core.decimals import money, trade_cost
from app.domain.enums import TradeAction
from app.domain.rebalancing import LotSale


class TradeReason(StrEnum):
    FORCED_EXIT = "forced_exit"
    TRIM_CAP = "trim_cap"
    TRIM_SECTOR = "trim_sector"
    TOWARD_TARGET = "toward_target"
    HARVEST = "tax_loss_harvest"
    HARVEST_SUBSTITUTE = "harvest_substitute"


@dataclass(frozen=True)
class TradeLine:
    """One whole-share trade. Shares and money are Decimal; ``delta_shares`` is signed (+ buy, − sell);
    ``lots``: the tax lots a sell takes (empty when lots are not known, or for a buy)."""

    symbol: str
    action: TradeAction
    current_shares: Decimal
    delta_shares: Decimal
    price: Decimal
    lot_size: Decimal
    reason: TradeReason
    required: bool
    commission: Decimal
    market_impact: Decimal
    lots: tuple[LotSale, ...] = ()

    @property
    def target_shares(self) -> Decimal:
        return self.current_shares + self.delta_shares

    @property
    def trade_value(self) -> Decimal:
        return money(abs(self.delta_shares) * self.price)

    @property
    def estimated_cost(self) -> Decimal:
        return self.commission + self.market_impact


@dataclass(frozen=True)
class TradeList:
    """The trades (symbol order) and the cash they leave (currency, cents).

    ``settled``: False when the rounding fix-up ran out of passes (caps may then be exceeded by rounding);
    ``warnings`` / ``dropped``: typed notes (what could not be done; trades left out and why)."""

    trades: tuple[TradeLine, ...]
    cash_before: Decimal
    cash_after: Decimal
    total_cost: Decimal
    warnings: tuple[Note, ...] = ()
    dropped: tuple[Note, ...] = ()
    settled: bool = True

    @property
    def execution_order(self) -> tuple[str, ...]:
        """Symbols in the order the trades are meant to execute: every sell before any buy (the buys are
        funded from the sells' proceeds), each side in symbol order."""
        sells = [t.symbol for t in self.trades if t.action is TradeAction.SELL]
        return (*sells, *(t.symbol for t in self.trades if t.action is TradeAction.BUY))


def ceil_to_lot(shares: Decimal, lot: Decimal) -> Decimal:
    """``shares`` rounded up to a whole number of lots."""
    return (shares / lot).to_integral_value(rounding=ROUND_CEILING) * lot


@dataclass(frozen=True)
class CostModel:
    """``commission``: currency per trade; ``bps``: market impact in basis points of |trade value|."""

    commission: Decimal
    bps: Decimal

    def line(self, symbol: str, cur: Decimal, delta: Decimal, price: Decimal, lot: Decimal, reason: TradeReason,
             required: bool) -> TradeLine:
        """A trade of ``delta`` shares (signed) with its commission and impact."""
        c, i, _ = trade_cost(money(abs(delta) * price), commission_per_trade=self.commission,
                             market_impact_bps=self.bps)
        return TradeLine(symbol=symbol, action=TradeAction.BUY if delta > 0 else TradeAction.SELL,
                         current_shares=cur, delta_shares=delta, price=price, lot_size=lot, reason=reason,
                         required=required, commission=c, market_impact=i)
