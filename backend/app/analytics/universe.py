"""The policy universe: benchmark constituents ∪ holdings, with eligibility per DESIGN.md.

* eligible to buy: rated, ``quality >= min_quality_score`` and not halted;
* forced exit: held, not halted, unrated or below ``min_quality_score`` → sold to zero;
* halted: frozen at the current weight (neither bought nor sold), whatever the quality.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

import numpy as np

from app.core.decimals import ZERO, to_decimal
from app.core.errors import InputError
from app.domain.enums import SecurityStatus
from app.domain.models import Policy, Security


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Universe:
    """Per-symbol facts in one fixed (sorted) order; arrays are read-only and aligned with ``symbols``.

    * ``w0``: current weights, value / portfolio value incl. cash (fractions);
    * ``bench``: benchmark weights (fractions, sum 1);
    * ``buyable`` / ``halted`` / ``forced_exit``: boolean masks;
    * ``capacity``: largest investable fraction under the caps (≤ 1).
    """

    symbols: tuple[str, ...]
    sectors: tuple[str, ...]
    quality: tuple[float | None, ...]
    lot_sizes: tuple[Decimal, ...]
    prices: tuple[Decimal, ...]
    shares: tuple[Decimal, ...]
    cash: Decimal
    value: Decimal
    w0: np.ndarray
    bench: np.ndarray
    buyable: np.ndarray
    halted: np.ndarray
    forced_exit: np.ndarray
    min_quality: float
    max_single: float
    max_sector: float
    capacity: float
    warnings: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.symbols)

    def index(self, symbol: str) -> int:
        return self.symbols.index(symbol)

    @property
    def sector_names(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.sectors)))

    def sector_mask(self, sector: str) -> np.ndarray:
        return np.array([s == sector for s in self.sectors], dtype=bool)

    def sector_cap(self, sector: str) -> float:
        """Sector cap, raised to the halted weight of the sector when halted names alone exceed it."""
        m = self.sector_mask(sector)
        return max(self.max_sector, float(self.w0[m & self.halted].sum()))


def _capacity(sectors, buyable, halted, w0, *, max_single: float, max_sector: float) -> float:
    total = 0.0
    for sector in sorted(set(sectors)):
        m = np.array([s == sector for s in sectors])
        frozen = float(w0[m & halted].sum())
        cap = max(max_sector, frozen)
        total += min(cap, frozen + int((m & buyable).sum()) * max_single)
    return min(1.0, total)


def build_universe(
    *,
    benchmark: Mapping[str, float],
    holdings: Mapping[str, Decimal],
    cash: Decimal,
    securities: Mapping[str, Security],
    quality: Mapping[str, float],
    asof_prices: Mapping[str, Decimal],
    policy: Policy,
) -> Universe:
    """Build the universe for one rebalance.

    ``benchmark``: symbol → fraction of 1 (sums to 1); ``holdings``: symbol → shares (≥ 0);
    ``cash``: currency (≥ 0); ``quality``: score 0-10 (missing = unrated); ``asof_prices``: currency
    per share at the pack's as-of date; limits in ``policy`` are fractions of 1.
    """
    cash = to_decimal(cash)
    if cash < 0:
        raise InputError(f"cash must be >= 0, got {cash}")
    held = {s: to_decimal(q) for s, q in holdings.items()}
    for s, q in held.items():
        if q < 0:
            raise InputError(f"holding {s}: shares must be >= 0 (long only), got {q}")
    bsum = float(sum(float(v) for v in benchmark.values()))
    if not benchmark or abs(bsum - 1.0) > 1e-4 or any(float(v) < 0 for v in benchmark.values()):
        raise InputError(f"benchmark weights must be >= 0 and sum to 1, got sum {bsum:.6f}")
    symbols = tuple(sorted(set(benchmark) | {s for s, q in held.items() if q > 0}))
    warnings: list[str] = []
    sectors, qual, lots, prices, shares = [], [], [], [], []
    for s in symbols:
        sec = securities.get(s)
        if sec is None:
            raise InputError(f"security {s} (in benchmark or holdings) has no reference data")
        p = asof_prices.get(s)
        if p is None or to_decimal(p) <= 0:
            raise InputError(f"security {s}: as-of price missing or not positive (value={p!r})")
        sectors.append(sec.sector)
        q = quality.get(s)
        qual.append(None if q is None else float(q))
        lots.append(to_decimal(sec.lot_size))
        prices.append(to_decimal(p))
        shares.append(held.get(s, ZERO))
    values = [q * p for q, p in zip(shares, prices)]
    value = sum(values, ZERO) + cash
    if value <= 0:
        raise InputError("portfolio value (holdings at as-of prices + cash) is zero: nothing to rebalance")
    w0 = np.array([float(v / value) for v in values], dtype=float)
    bench = np.array([float(benchmark.get(s, 0.0)) for s in symbols], dtype=float)
    bench = bench / bench.sum()
    halted = np.array([securities[s].status == SecurityStatus.HALTED for s in symbols], dtype=bool)
    rated_ok = np.array([q is not None and q >= policy.min_quality_score for q in qual], dtype=bool)
    buyable = rated_ok & ~halted
    forced = ~rated_ok & ~halted & (w0 > 0)
    for i, s in enumerate(symbols):
        if halted[i] and not rated_ok[i] and w0[i] > 0:
            warnings.append(f"{s} is halted and below min quality {policy.min_quality_score:g}: it cannot be sold")
    capacity = _capacity(
        sectors, buyable, halted, w0, max_single=policy.max_single_position_pct, max_sector=policy.max_sector_pct
    )
    return Universe(
        symbols=symbols,
        sectors=tuple(sectors),
        quality=tuple(qual),
        lot_sizes=tuple(lots),
        prices=tuple(prices),
        shares=tuple(shares),
        cash=cash,
        value=value,
        w0=_ro(w0),
        bench=_ro(bench),
        buyable=_ro(buyable),
        halted=_ro(halted),
        forced_exit=_ro(forced),
        min_quality=policy.min_quality_score,
        max_single=policy.max_single_position_pct,
        max_sector=policy.max_sector_pct,
        capacity=capacity,
        warnings=tuple(warnings),
    )
