"""Which tax lots each whole-share sell takes, and the tax a sale would cost per unit (for the path).

Order of the lots a sale takes: a harvest's own lots first (by id); then, under ``specific``, the lots the
account names (in that order) followed by the rest in HIFO order; else the account's method (HIFO / FIFO,
see :mod:`app.analytics.taxes.lots`). Loss lots a wash sale blocks are never offered (see
:mod:`app.analytics.account`).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np

from app.analytics.account import AccountPlan
from app.analytics.taxes.lots import marginal_tax_rate, order_lots, sell_from_lots
from app.analytics.trades.lines import TradeList
from app.analytics.universe import Universe
from app.domain.enums import TradeAction
from app.domain.rebalancing import LotMethod, TaxLot


def lot_order(plan: AccountPlan, symbol: str, price: Decimal) -> list[TaxLot]:
    """The lots of ``symbol`` in the order a sale takes them (see the module docstring)."""
    lots = list(plan.lots.get(symbol, ()))
    day = plan.trade_date
    first_ids = plan.harvest_lots.get(symbol, frozenset())
    first = sorted((x for x in lots if x.lot_id in first_ids), key=lambda x: x.lot_id)
    rest = [x for x in lots if x.lot_id not in first_ids]
    method = plan.rules.lot_method
    if method is LotMethod.SPECIFIC:
        named = [i for i in plan.rules.specific_lots.get(symbol, ()) if any(x.lot_id == i for x in rest)]
        chosen = (order_lots(rest, method=LotMethod.SPECIFIC, price=price, sale_date=day, specific=named)
                  if named else [])
        others = [x for x in rest if x.lot_id not in set(named)]
        return first + chosen + order_lots(others, method=LotMethod.HIFO, price=price, sale_date=day)
    return first + order_lots(rest, method=method, price=price, sale_date=day)


def assign_lots(trades: TradeList, plan: AccountPlan) -> TradeList:
    """``trades`` with each sell's lot sales (realised gains to the cent)."""
    lines = []
    for line in trades.trades:
        if line.action is TradeAction.SELL:
            ordered = lot_order(plan, line.symbol, line.price)
            sales = sell_from_lots(ordered, -line.delta_shares, price=line.price, sale_date=plan.trade_date,
                                   method=LotMethod.SPECIFIC, specific=[x.lot_id for x in ordered])
            line = replace(line, lots=sales)
        lines.append(line)
    return replace(trades, trades=tuple(lines))


def sell_tax(universe: Universe, plan: AccountPlan) -> np.ndarray:
    """Tax per unit of weight sold of each name (fraction ≥ 0; a loss counts 0): the rate of the first lot
    a sale would take. The trade path uses it to prefer sales that realise less tax."""
    rates = np.zeros(universe.n)
    for i, s in enumerate(universe.symbols):
        ordered = lot_order(plan, s, universe.prices[i])
        if ordered:
            rate = marginal_tax_rate(ordered[0], price=universe.prices[i], sale_date=plan.trade_date,
                                     rates=plan.rules.tax_rates)
            rates[i] = max(float(rate), 0.0)
    return rates
