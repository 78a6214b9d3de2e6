"""The top-up pass: spend the cash that rounding buys down left over, one whole lot at a time.

Each lot goes to the name furthest below its path weight in value (ties by symbol), each lot starting below
that weight, never a name being sold, and only while the name's and its sector's cap (on the post-cost
value), the turnover bound, ``min_trade_value`` (a new trade buys at least that much), ``max_trades`` (a new
trade needs room) and cash ≥ the cash the target keeps, after costs (a new trade pays its commission too),
all still hold.
"""

from __future__ import annotations

import heapq
from decimal import Decimal

import numpy as np

from app.analytics.trades.book import TradeBook
from app.analytics.trades.lines import TradeReason, ceil_to_lot
from app.core.decimals import ZERO, to_decimal


def _candidates(book: TradeBook, weights: np.ndarray, vals: dict[str, Decimal]) -> tuple[dict, list]:
    """``(desired value by symbol, heap of (−shortfall, symbol))`` of the names a top-up may buy."""
    u = book.universe
    desired: dict[str, Decimal] = {}
    heap: list[tuple[Decimal, str]] = []
    for i, s in enumerate(u.symbols):
        if not u.buyable[i] or u.halted[i] or s in book.sells:
            continue
        want = to_decimal(repr(max(float(weights[i]), 0.0))) * u.value
        if want - vals[s] > 0:
            desired[s] = want
            heap.append((-(want - vals[s]), s))
    heapq.heapify(heap)
    return desired, heap


def spend_leftover_cash(book: TradeBook, *, weights: np.ndarray, max_traded: Decimal | None,
                        max_trades: int | None = None, keep_cash: Decimal = ZERO) -> set[str]:
    """Spend leftover cash on whole lots (updates ``book.buys``; see the module docstring).

    Every check only gets tighter as cash is spent (cash and post-cost value fall, traded value and
    sector sums rise), so a name that fails once is dropped for good: one heap, O(lots · log N).
    ``max_traded``: currency, the most Σ|trade value| may reach; ``keep_cash``: currency, the cash the target
    itself holds, which the pass never spends (0 for a fully invested target). Returns the symbols bought or
    added to.
    """
    u = book.universe
    vals, cash, v_after = book.state()
    cap = to_decimal(repr(u.max_single))
    traded = book.traded()
    sector_of = dict(zip(u.symbols, u.sectors))
    sector_total: dict[str, Decimal] = {}
    for s, v in vals.items():
        sector_total[sector_of[s]] = sector_total.get(sector_of[s], ZERO) + v
    sector_limit = {sec: to_decimal(repr(u.sector_cap(sec))) for sec in u.sector_names}
    desired, heap = _candidates(book, weights, vals)
    added: set[str] = set()
    while heap:
        _, s = heapq.heappop(heap)
        i = u.index(s)
        price, lot = u.prices[i], u.lot_sizes[i]
        old = book.buys.get(s)
        if old is None and max_trades is not None and len(book.sells) + len(book.buys) >= max_trades:
            continue
        done = old.delta_shares if old is not None else ZERO
        lots = lot
        if old is None and lot * price < book.min_value:  # a new trade buys at least min_trade_value
            lots = ceil_to_lot(book.min_value / price, lot)
        if vals[s] + (lots - lot) * price >= desired[s]:  # the last lot must start below the path weight
            continue
        reason = old.reason if old is not None else TradeReason.TOWARD_TARGET
        new = book.costs.line(s, u.shares[i], done + lots, price, lot, reason, False)
        d_value = new.trade_value - (old.trade_value if old is not None else ZERO)
        d_cost = new.estimated_cost - (old.estimated_cost if old is not None else ZERO)
        v_next = v_after - d_cost
        sec = sector_of[s]
        if (
            cash - d_value - d_cost < keep_cash
            or vals[s] + d_value > cap * v_next
            or sector_total[sec] + d_value > sector_limit[sec] * v_next
            or (max_traded is not None and traded + d_value > max_traded)
            or new.trade_value < book.min_value
        ):
            continue
        book.buys[s] = new
        added.add(s)
        cash -= d_value + d_cost
        v_after = v_next
        traded += d_value
        vals[s] += d_value
        sector_total[sec] += d_value
        if desired[s] - vals[s] > 0:
            heapq.heappush(heap, (-(desired[s] - vals[s]), s))
    return added
