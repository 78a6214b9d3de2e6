"""The wash-sale window: a buy of a security within 31 days (either way) of a sale of it at a loss.

Never proposed, in either direction:

* no loss sale of a symbol bought (a transaction, or a lot acquired) within the window before the sale;
* no buy of a symbol sold at a loss within the window before the buy.

The window is ``|buy date − loss-sale date| ≤ 31`` days: the issue's number, one day more conservative
than the 30 days of the US rule. Within one proposal, a symbol sold at a loss is never also bought.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.domain.enums import TradeAction
from app.domain.rebalancing import TaxLot, Transaction

WASH_SALE_WINDOW_DAYS = 31


def within_window(a: date, b: date) -> bool:
    return abs((a - b).days) <= WASH_SALE_WINDOW_DAYS


def recent_buys(symbol: str, *, on: date, transactions: Iterable[Transaction], lots: Iterable[TaxLot]) -> list[date]:
    """Dates of buys of ``symbol`` within the window of ``on`` (transactions and lot acquisitions)."""
    days = [t.trade_date for t in transactions if t.symbol == symbol and t.action is TradeAction.BUY]
    days += [x.acquired for x in lots if x.symbol == symbol]
    return sorted(d for d in set(days) if within_window(d, on))


def recent_loss_sales(symbol: str, *, on: date, transactions: Iterable[Transaction]) -> list[date]:
    """Dates of sales of ``symbol`` at a loss within the window of ``on``."""
    return sorted({
        t.trade_date for t in transactions
        if t.symbol == symbol and t.action is TradeAction.SELL and t.realised_gain < 0
        and within_window(t.trade_date, on)
    })


def loss_sale_blocked(
    symbol: str, *, on: date, transactions: Iterable[Transaction], lots: Iterable[TaxLot],
    selling: Iterable[str] = (),
) -> str | None:
    """Why a loss sale of ``symbol`` on ``on`` would be a wash sale, or None. Lots in ``selling`` (ids)
    leave with the sale, so their own acquisition is not a replacement purchase."""
    gone = set(selling)
    kept = [x for x in lots if x.lot_id not in gone]
    buys = recent_buys(symbol, on=on, transactions=transactions, lots=kept)
    if buys:
        return (f"{symbol}: loss sale blocked (wash sale): bought on {buys[-1].isoformat()}, "
                f"within {WASH_SALE_WINDOW_DAYS} days")
    return None


def buy_blocked(symbol: str, *, on: date, transactions: Iterable[Transaction]) -> str | None:
    """Why a buy of ``symbol`` on ``on`` would be a wash sale, or None."""
    sales = recent_loss_sales(symbol, on=on, transactions=transactions)
    if sales:
        return (f"{symbol}: buy blocked (wash sale): sold at a loss on {sales[-1].isoformat()}, "
                f"within {WASH_SALE_WINDOW_DAYS} days")
    return None
