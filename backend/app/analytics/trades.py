"""Whole-share Decimal trades from the trade path's weights.

Rules (deterministic, symbol order everywhere):

* sells first: the sell is rounded *up* to the lot (the position ends at or below the path's weight, so at
  or below its cap); a forced exit sells everything; a sell larger than the position sells everything;
* buys in symbol order, rounded *down* to the lot, each funded from the cash left after the sells and the
  earlier buys, costs included (:func:`app.core.decimals.trade_cost`): cash never goes below zero;
* trades worth less than ``min_trade_value`` are dropped, except required sells (forced exits, names over
  the single cap, names in a sector over its cap);
* a fix-up pass then trims buys (by whole lots) that would end a name or a sector over its cap on the
  post-cost portfolio value, or total turnover over the policy limit when that limit is achievable;
* a top-up pass finally spends the cash that rounding buys down left over: one whole lot at a time to
  the name furthest below its path weight in value (ties by symbol), each lot starting below that
  weight, never a name being sold, and only while the name's and its sector's cap (on the post-cost
  value), the turnover bound, ``min_trade_value`` (a new trade buys at least that much) and cash ≥ 0
  after costs (a new trade pays its commission too) all still hold (:func:`_top_up`).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum

import numpy as np

from app.analytics.universe import Universe
from app.core.decimals import ZERO, floor_to_lot, money, to_decimal, trade_cost
from app.domain.enums import TradeAction

MAX_FIXUP_PASSES = 200
#: a sell of a name within 1 % (relative) of its cap is required: trading costs shrink the post-trade
#: value, so a name left at the cap would end over it
NEAR_CAP = Decimal("0.99")


class TradeReason(StrEnum):
    FORCED_EXIT = "forced_exit"
    TRIM_CAP = "trim_cap"
    TRIM_SECTOR = "trim_sector"
    TOWARD_TARGET = "toward_target"


@dataclass(frozen=True)
class TradeLine:
    """One whole-share trade. Shares and money are Decimal; ``delta_shares`` is signed (+ buy, − sell)."""

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
    """The trades (symbol order) and the cash they leave (currency, cents)."""

    trades: tuple[TradeLine, ...]
    cash_before: Decimal
    cash_after: Decimal
    total_cost: Decimal
    warnings: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


def _ceil_to_lot(shares: Decimal, lot: Decimal) -> Decimal:
    lots = (shares / lot).to_integral_value(rounding=ROUND_CEILING)
    return lots * lot


def _line(symbol, cur, delta, price, lot, reason, required, *, commission, bps) -> TradeLine:
    value = money(abs(delta) * price)
    c, i, _ = trade_cost(value, commission_per_trade=commission, market_impact_bps=bps)
    return TradeLine(
        symbol=symbol,
        action=TradeAction.BUY if delta > 0 else TradeAction.SELL,
        current_shares=cur,
        delta_shares=delta,
        price=price,
        lot_size=lot,
        reason=reason,
        required=required,
        commission=c,
        market_impact=i,
    )


def build_trades(
    *,
    universe: Universe,
    weights: np.ndarray,
    commission_per_trade: Decimal,
    market_impact_bps: Decimal,
    min_trade_value: Decimal,
    max_turnover: float | None = None,
    top_up_max_turnover: float | None = None,
    top_up: bool = True,
) -> TradeList:
    """Whole-share trades that move the portfolio to ``weights`` as closely as lots, cash and caps allow.

    * ``weights``: post-trade weights (fractions of the value before trading), aligned with the universe;
    * ``commission_per_trade``: currency; ``market_impact_bps``: basis points of |trade value|;
    * ``min_trade_value``: currency, smaller optional trades are dropped;
    * ``max_turnover``: fraction; when given, buys are trimmed so Σ|trade value| ≤ max_turnover × value.
    * ``top_up_max_turnover``: fraction, the turnover the top-up pass may reach (the achievable bound:
      the policy limit when it can hold, else what the hard levels need); default ``max_turnover``;
      ``top_up=False`` skips the pass.
    """
    commission, bps = to_decimal(commission_per_trade), to_decimal(market_impact_bps)
    min_value = to_decimal(min_trade_value)
    V = universe.value
    cap = to_decimal(repr(universe.max_single))
    kw = dict(commission=commission, bps=bps)
    warnings: list[str] = []
    dropped: list[str] = []
    over_sector = {
        sec for sec in universe.sector_names
        if float(universe.w0[universe.sector_mask(sec)].sum()) > universe.sector_cap(sec) + 1e-12
    }
    sells: dict[str, TradeLine] = {}
    wanted_buys: dict[str, Decimal] = {}
    for i, s in enumerate(universe.symbols):
        cur, price, lot = universe.shares[i], universe.prices[i], universe.lot_sizes[i]
        if universe.halted[i]:
            continue
        if universe.forced_exit[i]:
            if cur > 0:
                sells[s] = _line(s, cur, -cur, price, lot, TradeReason.FORCED_EXIT, True, **kw)
            continue
        if not universe.buyable[i] and cur == 0:
            continue
        desired = to_decimal(repr(max(float(weights[i]), 0.0))) * V / price
        diff = desired - cur
        if abs(diff) * price <= V * Decimal("1e-7"):
            continue
        if diff < 0:
            qty = min(_ceil_to_lot(-diff, lot), cur)
            if cur * price > cap * V * NEAR_CAP:
                reason, required = TradeReason.TRIM_CAP, True
            elif universe.sectors[i] in over_sector:
                reason, required = TradeReason.TRIM_SECTOR, True
            else:
                reason, required = TradeReason.TOWARD_TARGET, False
            line = _line(s, cur, -qty, price, lot, reason, required, **kw)
            if not required and line.trade_value < min_value:
                dropped.append(f"{s}: sell {qty} worth {line.trade_value} < min trade value {min_value}")
                continue
            sells[s] = line
        elif universe.buyable[i]:
            qty = floor_to_lot(diff, lot)
            if qty > 0:
                wanted_buys[s] = qty

    cash = universe.cash + sum((l.trade_value - l.estimated_cost for l in sells.values()), ZERO)
    buys: dict[str, TradeLine] = {}
    for s in sorted(wanted_buys):
        i = universe.index(s)
        price, lot = universe.prices[i], universe.lot_sizes[i]
        qty = wanted_buys[s]
        per_lot = price * lot * (1 + bps / Decimal(10_000))
        affordable = ((cash - commission) / per_lot).to_integral_value(rounding=ROUND_FLOOR) * lot
        qty = max(min(qty, affordable), ZERO)
        line = None
        while qty > 0:
            line = _line(s, universe.shares[i], qty, price, lot, TradeReason.TOWARD_TARGET, False, **kw)
            if line.trade_value + line.estimated_cost <= cash:
                break
            qty -= lot
            line = None
        if line is None:
            continue
        if line.trade_value < min_value:
            dropped.append(f"{s}: buy {qty} worth {line.trade_value} < min trade value {min_value}")
            continue
        buys[s] = line
        cash -= line.trade_value + line.estimated_cost

    def state():
        after = {s: universe.shares[i] for i, s in enumerate(universe.symbols)}
        c = universe.cash
        for l in (*sells.values(), *buys.values()):
            after[l.symbol] += l.delta_shares
            c += (-l.trade_value if l.action is TradeAction.BUY else l.trade_value) - l.estimated_cost
        vals = {s: after[s] * universe.prices[i] for i, s in enumerate(universe.symbols)}
        return vals, c, sum(vals.values(), ZERO) + c

    def shrink_buy(s: str, excess_value: Decimal) -> None:
        line = buys[s]
        lots = _ceil_to_lot(excess_value / line.price, line.lot_size)
        qty = line.delta_shares - max(lots, line.lot_size)
        if qty <= 0:
            del buys[s]
            return
        new = _line(s, line.current_shares, qty, line.price, line.lot_size, line.reason, False, **kw)
        if new.trade_value < min_value:
            dropped.append(f"{s}: buy trimmed below min trade value {min_value}")
            del buys[s]
        else:
            buys[s] = new

    def grow_sell(s: str, excess_value: Decimal, reason: TradeReason) -> None:
        """Sell (more of) ``s`` by whole lots worth at least ``excess_value``; the sell becomes required."""
        i = universe.index(s)
        cur, price, lot = universe.shares[i], universe.prices[i], universe.lot_sizes[i]
        done = -sells[s].delta_shares if s in sells else ZERO
        lots = max(_ceil_to_lot(excess_value / price, lot), lot)
        qty = min(done + lots, cur)
        keep = sells[s].reason if s in sells else reason
        sells[s] = _line(s, cur, -qty, price, lot, keep, True, **kw)

    limit_to = None if max_turnover is None else to_decimal(repr(max_turnover)) * V
    for _ in range(MAX_FIXUP_PASSES):
        vals, c, v_after = state()
        changed = False
        for s in sorted(buys):
            if vals[s] > cap * v_after:
                shrink_buy(s, vals[s] - cap * v_after)
                changed = True
        for i, s in enumerate(universe.symbols):
            # a name left over its cap (costs shrink the post-trade value): sell whole lots
            if s in buys or universe.halted[i] or vals[s] <= cap * v_after or vals[s] <= 0:
                continue
            grow_sell(s, vals[s] - cap * v_after, TradeReason.TRIM_CAP)
            changed = True
        if changed:
            continue
        for sec in universe.sector_names:
            m = universe.sector_mask(sec)
            if (m & universe.halted).any():
                continue
            names = [s for s, mm in zip(universe.symbols, m) if mm]
            scap = to_decimal(repr(universe.max_sector)) * v_after
            total = sum((vals[s] for s in names), ZERO)
            if total <= scap:
                continue
            in_sector = [s for s in sorted(buys, reverse=True) if s in names]
            if in_sector:
                shrink_buy(in_sector[0], total - scap)
                changed = True
                break
            sellable = sorted((s for s in names if vals[s] > 0), key=lambda s: (-vals[s], s))
            if sellable:
                grow_sell(sellable[0], total - scap, TradeReason.TRIM_SECTOR)
                changed = True
                break
        if changed:
            continue
        if limit_to is not None:
            traded = sum((l.trade_value for l in (*sells.values(), *buys.values())), ZERO)
            if traded > limit_to and buys:
                shrink_buy(sorted(buys)[-1], traded - limit_to)
                continue
        if c < 0:
            if buys:
                shrink_buy(sorted(buys)[-1], -c)
                continue
            losers = [s for s in sorted(sells, reverse=True) if sells[s].trade_value < sells[s].estimated_cost]
            if losers:
                s = losers[0]
                warnings.append(f"{s}: sale proceeds {sells[s].trade_value} below its cost; not sold (cash would go negative)")
                del sells[s]
                continue
        break
    else:
        warnings.append("trade rounding fix-up did not settle; caps may be exceeded by rounding")

    if top_up and not any("did not settle" in w for w in warnings):
        bound = top_up_max_turnover if top_up_max_turnover is not None else max_turnover
        added = _top_up(
            universe=universe, weights=weights, sells=sells, buys=buys, state=state, cap=cap, min_value=min_value,
            max_traded=None if bound is None else to_decimal(repr(bound)) * V, commission=commission, bps=bps,
        )
        if added:
            dropped = [d for d in dropped if d.split(":", 1)[0] not in added]

    lines = tuple(sorted((*sells.values(), *buys.values()), key=lambda l: l.symbol))
    _, c, _ = state()
    return TradeList(
        trades=lines,
        cash_before=money(universe.cash),
        cash_after=money(c),
        total_cost=sum((l.estimated_cost for l in lines), ZERO),
        warnings=tuple(warnings),
        dropped=tuple(dropped),
    )


def _top_up(
    *,
    universe: Universe,
    weights: np.ndarray,
    sells: dict[str, TradeLine],
    buys: dict[str, TradeLine],
    state,  # noqa: ANN001 - () -> (values by symbol, cash, value after), all Decimal
    cap: Decimal,
    min_value: Decimal,
    max_traded: Decimal | None,
    commission: Decimal,
    bps: Decimal,
) -> set[str]:
    """Spend leftover cash on whole lots (updates ``buys`` in place; see the module docstring).

    Every check only gets tighter as cash is spent (cash and post-cost value fall, traded value and
    sector sums rise), so a name that fails once is dropped for good: one heap, O(lots · log N).
    Returns the symbols bought or added to.
    """
    vals, cash, v_after = state()
    V = universe.value
    traded = sum((l.trade_value for l in (*sells.values(), *buys.values())), ZERO)
    sector_of = dict(zip(universe.symbols, universe.sectors))
    sector_total: dict[str, Decimal] = {}
    for s, v in vals.items():
        sector_total[sector_of[s]] = sector_total.get(sector_of[s], ZERO) + v
    sector_limit = {sec: to_decimal(repr(universe.sector_cap(sec))) for sec in universe.sector_names}
    desired: dict[str, Decimal] = {}
    heap: list[tuple[Decimal, str]] = []
    for i, s in enumerate(universe.symbols):
        if not universe.buyable[i] or universe.halted[i] or s in sells:
            continue
        want = to_decimal(repr(max(float(weights[i]), 0.0))) * V
        if want - vals[s] > 0:
            desired[s] = want
            heap.append((-(want - vals[s]), s))
    heapq.heapify(heap)
    added: set[str] = set()
    while heap:
        _, s = heapq.heappop(heap)
        i = universe.index(s)
        price, lot = universe.prices[i], universe.lot_sizes[i]
        old = buys.get(s)
        done = old.delta_shares if old is not None else ZERO
        lots = lot
        if old is None and lot * price < min_value:  # a new trade buys at least min_trade_value
            lots = _ceil_to_lot(min_value / price, lot)
        if vals[s] + (lots - lot) * price >= desired[s]:  # the last lot must start below the path weight
            continue
        new = _line(s, universe.shares[i], done + lots, price, lot, TradeReason.TOWARD_TARGET, False,
                    commission=commission, bps=bps)
        d_value = new.trade_value - (old.trade_value if old is not None else ZERO)
        d_cost = new.estimated_cost - (old.estimated_cost if old is not None else ZERO)
        v_next = v_after - d_cost
        sec = sector_of[s]
        if (
            cash - d_value - d_cost < 0
            or vals[s] + d_value > cap * v_next
            or sector_total[sec] + d_value > sector_limit[sec] * v_next
            or (max_traded is not None and traded + d_value > max_traded)
            or new.trade_value < min_value
        ):
            continue
        buys[s] = new
        added.add(s)
        cash -= d_value + d_cost
        v_after = v_next
        traded += d_value
        vals[s] += d_value
        sector_total[sec] += d_value
        if desired[s] - vals[s] > 0:
            heapq.heappush(heap, (-(desired[s] - vals[s]), s))
    return added
