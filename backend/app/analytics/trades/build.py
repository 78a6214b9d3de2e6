"""Whole-share Decimal trades from the trade path's weights.

Rules (deterministic, symbol order everywhere):

* sells first: the sell is rounded *up* to the lot (the position ends at or below the path's weight, so at
  or below its cap); a forced exit sells everything; a sell larger than the position sells everything; a
  sale never takes shares the account keeps (loss lots a wash sale blocks) and a harvest sells at least its
  lots;
* buys in symbol order, rounded *down* to the lot, each funded from the cash left after the sells and the
  earlier buys, costs included (:func:`app.core.decimals.trade_cost`): cash never goes below zero (net of a
  pending withdrawal: the universe's cash is net of it, so the sells raise it first);
* trades worth less than ``min_trade_value`` are dropped, except required sells (forced exits, names over
  the single cap, names in a sector over its cap, harvests, and every sell while a withdrawal is unraised);
* ``max_trades``: the required sells, then the largest other trades by value, are kept;
* a fix-up pass then trims buys (by whole lots) that would end a name or a sector over its cap on the
  post-cost portfolio value, or total turnover over the policy limit when that limit is achievable;
* a top-up pass finally spends the cash that rounding buys down left over (:mod:`app.analytics.trades.top_up`).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import numpy as np

from app.analytics.notes import Note, NoteKind
from app.analytics.trades.book import TradeBook
from app.analytics.trades.lines import CostModel, TradeLine, TradeList, TradeReason, ceil_to_lot
from app.analytics.trades.top_up import spend_leftover_cash
from app.analytics.universe import Universe
from app.core.decimals import ZERO, floor_to_lot, money, to_decimal

MAX_FIXUP_PASSES = 200
#: a sell of a name within 1 % (relative) of its cap is required: trading costs shrink the post-trade
#: value, so a name left at the cap would end over it
NEAR_CAP = Decimal("0.99")


def _sell_reason(book: TradeBook, i: int, over_sector: set[str]) -> tuple[TradeReason, bool]:
    u = book.universe
    s = u.symbols[i]
    if u.must_sell(s) > 0:
        return TradeReason.HARVEST, True
    if u.shares[i] * u.prices[i] > to_decimal(repr(u.max_single)) * u.value * NEAR_CAP:
        return TradeReason.TRIM_CAP, True
    if u.sectors[i] in over_sector:
        return TradeReason.TRIM_SECTOR, True
    return TradeReason.TOWARD_TARGET, u.cash < 0  # every sell is needed while a withdrawal is unraised


def _initial_trades(book: TradeBook, weights: np.ndarray) -> dict[str, Decimal]:
    """Sells into ``book`` and the wanted buy quantities (shares) by symbol, from the path's weights."""
    u = book.universe
    V = u.value
    over_sector = {sec for sec in u.sector_names
                   if float(u.w0[u.sector_mask(sec)].sum()) > u.sector_cap(sec) + 1e-12}
    wanted: dict[str, Decimal] = {}
    for i, s in enumerate(u.symbols):
        cur, price, lot = u.shares[i], u.prices[i], u.lot_sizes[i]
        if u.halted[i]:
            continue
        if u.forced_exit[i]:
            if cur > 0:
                book.sells[s] = book.costs.line(s, cur, -cur, price, lot, TradeReason.FORCED_EXIT, True)
            continue
        if not u.buyable[i] and cur == 0:
            continue
        diff = to_decimal(repr(max(float(weights[i]), 0.0))) * V / price - cur
        must = u.must_sell(s)
        if abs(diff) * price <= V * Decimal("1e-7") and must == 0:
            continue
        if diff < 0 or must > 0:
            qty = min(max(ceil_to_lot(-diff, lot) if diff < 0 else ZERO, must), book.sellable(i), cur)
            if qty <= 0:
                continue
            reason, required = _sell_reason(book, i, over_sector)
            if not required and must == 0 and -diff < lot:
                continue  # within one lot of the path weight: whole-share rounding, not a trade
            line = book.costs.line(s, cur, -qty, price, lot, reason, required)
            if not required and line.trade_value < book.min_value:
                book.drop(s, NoteKind.BELOW_MIN_TRADE_VALUE,
                          f"{s}: sell {qty} worth {line.trade_value} < min trade value {book.min_value}")
                continue
            book.sells[s] = line
        elif u.buyable[i]:
            qty = floor_to_lot(diff, lot)
            if qty > 0:
                wanted[s] = qty
    return wanted


def _limit_count(book: TradeBook, wanted: dict[str, Decimal], max_trades: int | None) -> None:
    """Keep at most ``max_trades`` trades: the required sells, then the largest others by value."""
    if max_trades is None or len(book.sells) + len(wanted) <= max_trades:
        return
    u = book.universe
    required = [s for s, line in book.sells.items() if line.required]
    optional = [(line.trade_value, s) for s, line in book.sells.items() if not line.required]
    optional += [(money(q * u.prices[u.index(s)]), s) for s, q in wanted.items()]
    ranked = sorted(optional, key=lambda vs: (-vs[0], vs[1]))
    if len(required) > max_trades:
        book.warnings.append(Note(NoteKind.MAX_TRADES, f"{len(required)} required trades exceed max_trades "
                                  f"{max_trades}: all are kept"))
    for value, s in ranked[max(max_trades - len(required), 0):]:
        side = "sell" if s in book.sells else "buy"
        book.drop(s, NoteKind.MAX_TRADES, f"{s}: {side} worth {value} skipped: max_trades {max_trades}")
        book.sells.pop(s, None)
        wanted.pop(s, None)


def _fund_buys(book: TradeBook, wanted: dict[str, Decimal]) -> None:
    """Buys in symbol order, each funded from the cash left after the sells and earlier buys (costs included)."""
    u, costs = book.universe, book.costs
    cash = u.cash + sum((x.trade_value - x.estimated_cost for x in book.sells.values()), ZERO)
    for s in sorted(wanted):
        i = u.index(s)
        price, lot = u.prices[i], u.lot_sizes[i]
        per_lot = price * lot * (1 + costs.bps / Decimal(10_000))
        affordable = ((cash - costs.commission) / per_lot).to_integral_value(rounding=ROUND_FLOOR) * lot
        qty = max(min(wanted[s], affordable), ZERO)
        reason = TradeReason.HARVEST_SUBSTITUTE if s in u.account.harvest_substitutes else TradeReason.TOWARD_TARGET
        line = None
        while qty > 0:
            line = costs.line(s, u.shares[i], qty, price, lot, reason, False)
            if line.trade_value + line.estimated_cost <= cash:
                break
            qty -= lot
            line = None
        if line is None:
            continue
        if line.trade_value < book.min_value:
            book.drop(s, NoteKind.BELOW_MIN_TRADE_VALUE,
                      f"{s}: buy {qty} worth {line.trade_value} < min trade value {book.min_value}")
            continue
        book.buys[s] = line
        cash -= line.trade_value + line.estimated_cost


def _fix_caps(book: TradeBook, vals: dict[str, Decimal], v_after: Decimal) -> bool:
    """One pass over single caps: trim buys over the cap, sell whole lots of held names left over it."""
    u = book.universe
    cap = to_decimal(repr(u.max_single))
    changed = False
    for s in sorted(book.buys):
        if vals[s] > cap * v_after:
            book.shrink_buy(s, vals[s] - cap * v_after)
            changed = True
    for i, s in enumerate(u.symbols):
        # a name left over its cap (costs shrink the post-trade value): sell whole lots
        if s in book.buys or u.halted[i] or vals[s] <= cap * v_after or vals[s] <= 0:
            continue
        changed |= book.grow_sell(s, vals[s] - cap * v_after, TradeReason.TRIM_CAP)
    return changed


def _fix_sectors(book: TradeBook, vals: dict[str, Decimal], v_after: Decimal) -> bool:
    """The first sector over its cap: trim its last buy, else sell its largest holding by whole lots."""
    u = book.universe
    for sec in u.sector_names:
        m = u.sector_mask(sec)
        if (m & u.halted).any():
            continue
        names = [s for s, mm in zip(u.symbols, m) if mm]
        scap = to_decimal(repr(u.max_sector)) * v_after
        total = sum((vals[s] for s in names), ZERO)
        if total <= scap:
            continue
        in_sector = [s for s in sorted(book.buys, reverse=True) if s in names]
        if in_sector:
            book.shrink_buy(in_sector[0], total - scap)
            return True
        sellable = sorted((s for s in names if vals[s] > 0), key=lambda s: (-vals[s], s))
        if sellable and book.grow_sell(sellable[0], total - scap, TradeReason.TRIM_SECTOR):
            return True
    return False


def _fix_cash(book: TradeBook, cash: Decimal) -> bool:
    """Cash below zero: trim the last buy, else drop a sale whose proceeds are below its cost."""
    if cash >= 0:
        return False
    if book.buys:
        book.shrink_buy(sorted(book.buys)[-1], -cash)
        return True
    losers = [s for s in sorted(book.sells, reverse=True) if book.sells[s].trade_value < book.sells[s].estimated_cost]
    if not losers:
        return False
    s = losers[0]
    book.warnings.append(Note(NoteKind.SALE_BELOW_COST, f"{s}: sale proceeds {book.sells[s].trade_value} below "
                              "its cost; not sold (cash would go negative)", s))
    del book.sells[s]
    return True


def _fix_up(book: TradeBook, limit_to: Decimal | None) -> bool:
    """Rounding fix-up passes until nothing changes; False when they did not settle."""
    for _ in range(MAX_FIXUP_PASSES):
        vals, c, v_after = book.state()
        if _fix_caps(book, vals, v_after) or _fix_sectors(book, vals, v_after):
            continue
        if limit_to is not None and book.buys and book.traded() > limit_to:
            book.shrink_buy(sorted(book.buys)[-1], book.traded() - limit_to)
            continue
        if _fix_cash(book, c):
            continue
        return True
    book.warnings.append(Note(NoteKind.FIXUP_UNSETTLED,
                              "trade rounding fix-up did not settle; caps may be exceeded by rounding"))
    return False


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
    max_trades: int | None = None,
    keep_cash: Decimal = ZERO,
) -> TradeList:
    """Whole-share trades that move the portfolio to ``weights`` as closely as lots, cash and caps allow.

    * ``weights``: post-trade weights (fractions of the value before trading), aligned with the universe;
    * ``commission_per_trade``: currency; ``market_impact_bps``: basis points of |trade value|;
    * ``min_trade_value``: currency, smaller optional trades are dropped;
    * ``max_turnover``: fraction; when given, buys are trimmed so Σ|trade value| ≤ max_turnover × value.
    * ``top_up_max_turnover``: fraction, the turnover the top-up pass may reach (the achievable bound:
      the policy limit when it can hold, else what the hard levels need); default ``max_turnover``;
      ``top_up=False`` skips the pass; ``max_trades``: most trades (None: no limit);
    * ``keep_cash``: currency, the cash the target itself holds; the top-up pass does not spend it.
    """
    costs = CostModel(commission=to_decimal(commission_per_trade), bps=to_decimal(market_impact_bps))
    book = TradeBook(universe, costs, to_decimal(min_trade_value))
    wanted = _initial_trades(book, weights)
    _limit_count(book, wanted, max_trades)
    _fund_buys(book, wanted)
    V = universe.value
    settled = _fix_up(book, None if max_turnover is None else to_decimal(repr(max_turnover)) * V)
    if top_up and settled:
        bound = top_up_max_turnover if top_up_max_turnover is not None else max_turnover
        max_traded = None if bound is None else to_decimal(repr(bound)) * V
        added = spend_leftover_cash(book, weights=weights, max_traded=max_traded, max_trades=max_trades,
                                    keep_cash=keep_cash)
        book.dropped = [d for d in book.dropped if d.symbol not in added]
    lines: tuple[TradeLine, ...] = tuple(sorted(book.lines(), key=lambda x: x.symbol))
    _, c, _ = book.state()
    if c < 0 and universe.withdrawal > 0:
        book.warnings.append(Note(NoteKind.WITHDRAWAL_SHORT, f"withdrawal of {universe.withdrawal} cannot be raised "
                                  f"in full: {money(-c)} short (halted, kept or unsellable holdings)"))
    return TradeList(trades=lines, cash_before=money(universe.cash), cash_after=money(c),
                     total_cost=sum((x.estimated_cost for x in lines), ZERO), warnings=tuple(book.warnings),
                     dropped=tuple(book.dropped), settled=settled)
