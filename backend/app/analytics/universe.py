"""The policy universe: benchmark constituents ∪ holdings, with eligibility per DESIGN.md.

* eligible to buy: rated, ``quality >= min_quality_score`` and not halted;
* forced exit: held, not halted, unrated or below ``min_quality_score`` → sold to zero;
* halted: frozen at the current weight (neither bought nor sold), whatever the quality;
* not buyable for the account (``no_buy``: restricted symbols, wash-sale blocks, harvested names): never
  bought; when held they are *sell-only* (``0 ≤ w ≤ w0``), not forced exits;
* per-name bounds (fractions of the value before trading): ``lower`` (shares that may not be sold, e.g. loss
  lots a wash sale blocks) and ``upper`` (``inf`` = only the caps; a harvest's remaining shares).

A pending withdrawal is a liability: the universe is built net of it (``cash`` = cash − withdrawal, which may
be negative, and ``value`` = holdings + that cash), so the path raises it by selling and the targets apply
to what is left after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

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
    #: held names that may only be sold (restricted, wash-sale blocked, harvested); aligned with ``symbols``
    sell_only: np.ndarray | None = None
    #: per-name bounds on the post-trade weight (fractions of the value before trading)
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    #: pending withdrawal netted out of ``cash`` and ``value`` (currency)
    withdrawal: Decimal = ZERO
    #: the account's per-name rules the universe was built with (whole-share building reads the shares)
    account: AccountLimits | None = None

    def __post_init__(self) -> None:
        n = len(self.symbols)
        if self.sell_only is None:
            object.__setattr__(self, "sell_only", _ro(np.zeros(n, dtype=bool)))
        if self.lower is None:
            object.__setattr__(self, "lower", _ro(np.zeros(n)))
        if self.upper is None:
            object.__setattr__(self, "upper", _ro(np.full(n, np.inf)))
        if self.account is None:
            object.__setattr__(self, "account", AccountLimits())

    def keep_shares(self, symbol: str) -> Decimal:
        """Shares of ``symbol`` that may not be sold (the account's rules)."""
        return to_decimal(self.account.keep_shares.get(symbol, ZERO))

    def must_sell(self, symbol: str) -> Decimal:
        """Shares of ``symbol`` that must be sold (a tax-loss harvest)."""
        return to_decimal(self.account.sell_shares.get(symbol, ZERO))

    @property
    def tradable(self) -> np.ndarray:
        """The names the trade path chooses a weight for: buyable or sell-only."""
        return np.asarray(self.buyable, dtype=bool) | np.asarray(self.sell_only, dtype=bool)

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


def _capacity(sectors, buyable, halted, w0, *, max_single: float, max_sector: float,
              sell_only: np.ndarray | None = None) -> float:
    """Largest investable fraction: per sector, halted weight + caps of buyable names + what sell-only names
    may keep (at most their weight and the cap), within the sector cap."""
    keep = np.zeros(len(w0)) if sell_only is None else np.where(sell_only, np.minimum(w0, max_single), 0.0)
    total = 0.0
    for sector in sorted(set(sectors)):
        m = np.array([s == sector for s in sectors])
        frozen = float(w0[m & halted].sum())
        cap = max(max_sector, frozen)
        total += min(cap, frozen + int((m & buyable).sum()) * max_single + float(keep[m].sum()))
    return min(1.0, total)


@dataclass(frozen=True)
class AccountLimits:
    """The account's per-name rules for one rebalance (all empty: none).

    * ``no_buy``: symbol → why it may not be bought (restricted, wash sale, harvested), never bought;
    * ``keep_shares``: symbol → shares that may not be sold (e.g. loss lots a wash sale blocks);
    * ``sell_shares``: symbol → shares that must be sold (a tax-loss harvest);
    * ``withdrawal``: currency to be raised and kept in cash (netted out of cash and value);
    * ``extra_symbols``: names outside benchmark ∪ holdings the target or a substitute needs;
    * ``harvest_substitutes``: names bought in place of a harvested one.
    """

    no_buy: Mapping[str, str] = field(default_factory=dict)
    keep_shares: Mapping[str, Decimal] = field(default_factory=dict)
    sell_shares: Mapping[str, Decimal] = field(default_factory=dict)
    withdrawal: Decimal = ZERO
    extra_symbols: tuple[str, ...] = ()
    harvest_substitutes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Row:
    sector: str
    quality: float | None
    lot_size: Decimal
    price: Decimal
    shares: Decimal


def _rows(symbols, held, securities, quality, asof_prices) -> list[_Row]:  # noqa: ANN001
    rows = []
    for s in symbols:
        sec = securities.get(s)
        if sec is None:
            raise InputError(f"security {s} (in benchmark, holdings or target) has no reference data")
        p = asof_prices.get(s)
        if p is None or to_decimal(p) <= 0:
            raise InputError(f"security {s}: as-of price missing or not positive (value={p!r})")
        q = quality.get(s)
        rows.append(_Row(sector=sec.sector, quality=None if q is None else float(q),
                         lot_size=to_decimal(sec.lot_size), price=to_decimal(p), shares=held.get(s, ZERO)))
    return rows


def _check_holdings(cash: Decimal, holdings: Mapping[str, Decimal], benchmark: Mapping[str, float]) -> dict:
    if cash < 0:
        raise InputError(f"cash must be >= 0, got {cash}")
    held = {s: to_decimal(q) for s, q in holdings.items()}
    for s, q in held.items():
        if q < 0:
            raise InputError(f"holding {s}: shares must be >= 0 (long only), got {q}")
    bsum = float(sum(float(v) for v in benchmark.values()))
    if not benchmark or abs(bsum - 1.0) > 1e-4 or any(float(v) < 0 for v in benchmark.values()):
        raise InputError(f"benchmark weights must be >= 0 and sum to 1, got sum {bsum:.6f}")
    return held


def _bounds(symbols, rows: list[_Row], value: Decimal, account: AccountLimits) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """``(lower, upper)`` post-trade weights from the shares the account keeps or must sell."""
    lower, upper = np.zeros(len(symbols)), np.full(len(symbols), np.inf)
    for i, s in enumerate(symbols):
        keep = min(to_decimal(account.keep_shares.get(s, ZERO)), rows[i].shares)
        sell = min(to_decimal(account.sell_shares.get(s, ZERO)), rows[i].shares - keep)
        lower[i] = float(keep * rows[i].price / value)
        if sell > 0:
            upper[i] = float((rows[i].shares - sell) * rows[i].price / value)
    return lower, upper


def build_universe(
    *,
    benchmark: Mapping[str, float],
    holdings: Mapping[str, Decimal],
    cash: Decimal,
    securities: Mapping[str, Security],
    quality: Mapping[str, float],
    asof_prices: Mapping[str, Decimal],
    policy: Policy,
    account: AccountLimits | None = None,
) -> Universe:
    """Build the universe for one rebalance.

    ``benchmark``: symbol → fraction of 1 (sums to 1); ``holdings``: symbol → shares (≥ 0);
    ``cash``: currency (≥ 0); ``quality``: score 0-10 (missing = unrated); ``asof_prices``: currency
    per share at the pack's as-of date; limits in ``policy`` are fractions of 1; ``account``: the account's
    per-name rules and pending withdrawal (see :class:`AccountLimits`).
    """
    account = account or AccountLimits()
    held = _check_holdings(to_decimal(cash), holdings, benchmark)
    symbols = tuple(sorted(set(benchmark) | {s for s, q in held.items() if q > 0} | set(account.extra_symbols)))
    rows = _rows(symbols, held, securities, quality, asof_prices)
    net_cash = to_decimal(cash) - to_decimal(account.withdrawal)
    values = [r.shares * r.price for r in rows]
    value = sum(values, ZERO) + net_cash
    if value <= 0:
        raise InputError("portfolio value (holdings at as-of prices + cash, net of withdrawals) is not positive: "
                         "nothing to rebalance")
    w0 = np.array([float(v / value) for v in values], dtype=float)
    bench = np.array([float(benchmark.get(s, 0.0)) for s in symbols], dtype=float)
    bench = bench / bench.sum()
    halted = np.array([securities[s].status == SecurityStatus.HALTED for s in symbols], dtype=bool)
    rated_ok = np.array([r.quality is not None and r.quality >= policy.min_quality_score for r in rows], dtype=bool)
    blocked = np.array([s in account.no_buy for s in symbols], dtype=bool)
    buyable = rated_ok & ~halted & ~blocked
    forced = ~rated_ok & ~halted & (w0 > 0)
    sell_only = rated_ok & ~halted & blocked & (w0 > 0)
    warnings = [f"{s} is halted and below min quality {policy.min_quality_score:g}: it cannot be sold"
                for i, s in enumerate(symbols) if halted[i] and not rated_ok[i] and w0[i] > 0]
    capacity = _capacity(sectors := [r.sector for r in rows], buyable, halted, w0,
                         max_single=policy.max_single_position_pct, max_sector=policy.max_sector_pct,
                         sell_only=sell_only)
    lower, upper = _bounds(symbols, rows, value, account)
    return Universe(
        symbols=symbols, sectors=tuple(sectors), quality=tuple(r.quality for r in rows),
        lot_sizes=tuple(r.lot_size for r in rows), prices=tuple(r.price for r in rows),
        shares=tuple(r.shares for r in rows), cash=net_cash, value=value, w0=_ro(w0), bench=_ro(bench),
        buyable=_ro(buyable), halted=_ro(halted), forced_exit=_ro(forced), min_quality=policy.min_quality_score,
        max_single=policy.max_single_position_pct, max_sector=policy.max_sector_pct, capacity=capacity,
        warnings=tuple(warnings), sell_only=_ro(sell_only), lower=_ro(lower), upper=_ro(upper),
        withdrawal=to_decimal(account.withdrawal), account=account,
    )
