"""The top-up pass of :func:`app.analytics.trades.build_trades`: leftover rounding cash is spent on whole lots.

Checked independently from the final trades: after the pass, no name that is still below its path weight
could take one more lot (or, as a new trade, the lots that reach ``min_trade_value``) within its single
and sector cap on the post-cost value, the turnover bound and cash ≥ 0 after costs — unless a limit stops
it; and the pass itself never breaks any of those limits.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

import numpy as np
import pytest

from app.analytics.trades import build_trades
from app.analytics.universe import build_universe
from app.core.decimals import money, trade_cost
from app.domain.enums import TradeAction
from app.domain.models import Policy, Security

COMMISSION, BPS, MIN_TRADE = Decimal("5.00"), Decimal("15"), Decimal("100.00")
SECTORS = ("Energy", "Financials", "Health Care", "Utilities")


def _universe(rng: np.random.Generator, n: int, *, cash: str, max_single: float, max_sector: float,
              lots: bool = False):
    syms = [f"N{i:02d}" for i in range(n)]
    secs = {s: Security(symbol=s, name=s, sector=SECTORS[i % len(SECTORS)],
                        lot_size=Decimal(int(rng.choice([1, 1, 10]))) if lots else Decimal(1))
            for i, s in enumerate(syms)}
    prices = {s: Decimal(str(round(float(rng.uniform(5, 400)), 2))) for s in syms}
    held = {s: Decimal(int(rng.integers(0, 300))) for s in syms[: n // 2]}
    quality = {s: float(rng.choice([5.0, 8.0, 9.0])) for s in syms}
    policy = Policy(id="p", name="p", min_quality_score=6.0, max_single_position_pct=max_single,
                    max_sector_pct=max_sector, max_tracking_error_pct=0.05, max_turnover_pct=0.5)
    bench = {s: 1.0 / n for s in syms}
    return build_universe(benchmark=bench, holdings=held, cash=Decimal(cash), securities=secs, quality=quality,
                          asof_prices=prices, policy=policy)


def _path_weights(rng: np.random.Generator, u) -> np.ndarray:
    w = np.where(u.buyable, rng.uniform(0.0, 1.0, u.n), 0.0)
    w = np.where(u.halted, u.w0, w)
    w = np.minimum(w / w.sum() * 0.97, u.max_single)  # under the single cap, some cash left in the path
    return w


def _ceil_lots(shares: Decimal, lot: Decimal) -> Decimal:
    return (shares / lot).to_integral_value(rounding=ROUND_CEILING) * lot


def _could_still_buy(u, tl, weights, bound: Decimal | None) -> list[tuple[str, Decimal]]:
    """Independent recomputation: (symbol, cost) of each purchase the limits would still allow."""
    after = dict(zip(u.symbols, u.shares))
    by_symbol = {t.symbol: t for t in tl.trades}
    for t in tl.trades:
        after[t.symbol] = t.target_shares
    values = {s: after[s] * p for s, p in zip(u.symbols, u.prices)}
    v_after = sum(values.values(), Decimal(0)) + tl.cash_after
    traded = sum((t.trade_value for t in tl.trades), Decimal(0))
    cap = Decimal(repr(u.max_single))
    out = []
    for i, s in enumerate(u.symbols):
        line = by_symbol.get(s)
        if not u.buyable[i] or u.halted[i] or (line is not None and line.action is TradeAction.SELL):
            continue
        desired = Decimal(repr(float(weights[i]))) * u.value
        price, lot = u.prices[i], u.lot_sizes[i]
        if line is None:
            qty = max(lot, _ceil_lots(MIN_TRADE / price, lot))
            value = money(qty * price)
            cost = trade_cost(value, commission_per_trade=COMMISSION, market_impact_bps=BPS)[2]
            d_value = value
        else:
            qty = lot
            value = money((line.delta_shares + lot) * price)
            cost = trade_cost(value, commission_per_trade=COMMISSION, market_impact_bps=BPS)[2] - line.estimated_cost
            d_value = value - line.trade_value
        if values[s] + (qty - lot) * price >= desired:
            continue  # not below its path weight: the pass leaves it alone
        sec = u.sectors[i]
        sector_value = sum((values[x] for x, xs in zip(u.symbols, u.sectors) if xs == sec), Decimal(0))
        scap = Decimal(repr(u.sector_cap(sec)))
        v_next = v_after - cost
        if values[s] + d_value > cap * v_next or sector_value + d_value > scap * v_next:
            continue
        if bound is not None and traded + d_value > bound * u.value:
            continue
        out.append((s, d_value + cost))
    return out


def _check_limits(u, tl, bound: Decimal | None, plain) -> None:
    after = dict(zip(u.symbols, u.shares))
    for t in tl.trades:
        after[t.symbol] = t.target_shares
    values = {s: after[s] * p for s, p in zip(u.symbols, u.prices)}
    v_after = sum(values.values(), Decimal(0)) + tl.cash_after
    assert tl.cash_after >= 0
    cap = Decimal(repr(u.max_single))
    for t in tl.trades:
        if t.action is TradeAction.BUY:
            assert values[t.symbol] <= cap * v_after, t.symbol
            assert t.trade_value >= MIN_TRADE, t.symbol
    if bound is not None:  # required sells may already exceed a bound that is too tight: then nothing is added
        plain_traded = sum((t.trade_value for t in plain.trades), Decimal(0))
        assert sum((t.trade_value for t in tl.trades), Decimal(0)) <= max(bound * u.value, plain_traded)


@pytest.mark.parametrize("seed", range(40))
def test_leftover_cash_is_below_any_purchase_still_allowed(seed: int) -> None:
    rng = np.random.default_rng(seed)
    u = _universe(rng, int(rng.integers(6, 24)), cash=str(int(rng.integers(1_000, 200_000))),
                  max_single=float(rng.choice([0.08, 0.1, 0.2])), max_sector=float(rng.choice([0.3, 0.5])),
                  lots=bool(seed % 3 == 0))
    weights = _path_weights(rng, u)
    turnover = None if seed % 4 == 0 else float(rng.uniform(0.1, 1.5))
    kw = dict(universe=u, weights=weights, commission_per_trade=COMMISSION, market_impact_bps=BPS,
              min_trade_value=MIN_TRADE, max_turnover=turnover)
    plain = build_trades(**kw, top_up=False)
    tl = build_trades(**kw)
    bound = None if turnover is None else Decimal(repr(turnover))
    _check_limits(u, tl, bound, plain)
    assert tl.cash_after <= plain.cash_after
    for s, cost in _could_still_buy(u, tl, weights, bound):
        assert tl.cash_after < cost, f"{s}: {cost} affordable with {tl.cash_after} left"


def _three(prices: dict[str, str]):
    secs = {s: Security(symbol=s, name=s, sector="Energy" if s < "C" else "Utilities") for s in prices}
    policy = Policy(id="p", name="p", min_quality_score=0, max_single_position_pct=0.5, max_sector_pct=1.0,
                    max_tracking_error_pct=0.05, max_turnover_pct=2.0)
    return build_universe(benchmark={s: 1 / len(prices) for s in prices}, holdings={}, cash=Decimal("10000"),
                          securities=secs, quality={s: 9 for s in prices},
                          asof_prices={s: Decimal(p) for s, p in prices.items()}, policy=policy)


def _deltas(tl) -> dict[str, Decimal]:
    return {t.symbol: t.delta_shares for t in tl.trades}


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        # AAA and BBB both 200 short, 400 left: the tie goes to AAA (symbol), then 100 is too little
        ((0.44, 0.44, 0.12), {"AAA": 15, "BBB": 14, "CCC": 8}),
        # BBB 200 short, AAA 100 short: the larger shortfall first
        ((0.43, 0.44, 0.12), {"AAA": 14, "BBB": 15, "CCC": 8}),
    ],
)
def test_top_up_largest_shortfall_first_ties_by_symbol(weights, expected) -> None:
    u = _three({"AAA": "300", "BBB": "300", "CCC": "150"})
    kw = dict(universe=u, weights=np.array(weights), commission_per_trade=Decimal("0"),
              market_impact_bps=Decimal("0"), min_trade_value=Decimal("0"))
    plain = build_trades(**kw, top_up=False)
    assert _deltas(plain) == {"AAA": 14, "BBB": 14, "CCC": 8}
    assert plain.cash_after == Decimal("400.00")
    tl = build_trades(**kw)
    assert _deltas(tl) == expected
    assert tl.cash_after == Decimal("100.00")


def test_top_up_respects_the_turnover_bound_and_pays_costs() -> None:
    u = _three({"AAA": "99", "BBB": "99", "CCC": "99"})
    kw = dict(universe=u, weights=np.array([0.45, 0.30, 0.20]), commission_per_trade=COMMISSION,
              market_impact_bps=BPS, min_trade_value=Decimal("0"))
    plain = build_trades(**kw, top_up=False)
    assert _deltas(plain) == {"AAA": 45, "BBB": 30, "CCC": 20}  # 9,405 traded
    bounded = build_trades(**kw, max_turnover=0.95)  # one more lot would trade 9,504 > 9,500
    assert _deltas(bounded) == _deltas(plain) and bounded.cash_after == plain.cash_after
    free = build_trades(**kw)
    assert _deltas(free) == {"AAA": 46, "BBB": 31, "CCC": 21}
    spent = sum((t.trade_value + t.estimated_cost for t in free.trades), Decimal(0))
    assert free.cash_after == Decimal("10000") - spent >= 0
    assert free.total_cost == 3 * COMMISSION + sum((t.market_impact for t in free.trades), Decimal(0))
