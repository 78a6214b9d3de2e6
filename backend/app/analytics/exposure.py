"""Allocation of a portfolio by security and by sector, in percent of its value (pure, Decimal).

* :func:`position_values` — shares x as-of price per symbol (cents, ROUND_HALF_EVEN).
* :func:`weights_pct` — each position's value (and ``CASH``) as a percent of the total (2 dp).
* :func:`by_sector` — percents of symbols summed per sector (``CASH`` is its own group, ``"Cash"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal

CASH = "CASH"
CASH_SECTOR = "Cash"
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def position_values(*, shares: Mapping[str, Decimal], prices: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """``symbol -> shares x price`` (currency, cents). A symbol without a price raises KeyError naming it."""
    out: dict[str, Decimal] = {}
    for symbol, held in sorted(shares.items()):
        if held == 0:
            continue
        if symbol not in prices:
            raise KeyError(f"no as-of price for {symbol}")
        out[symbol] = (held * prices[symbol]).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return out


def weights_pct(*, values: Mapping[str, Decimal], cash: Decimal) -> dict[str, Decimal]:
    """Each value and ``CASH`` as percent of ``sum(values) + cash`` (2 dp; empty when the total is 0)."""
    total = sum(values.values(), Decimal(0)) + cash
    if total <= 0:
        return {}
    parts = {**values, CASH: cash}
    return {s: (v / total * HUNDRED).quantize(CENT, rounding=ROUND_HALF_EVEN) for s, v in sorted(parts.items())}


def by_sector(*, weights: Mapping[str, Decimal], sectors: Mapping[str, str]) -> dict[str, Decimal]:
    """Percents summed per sector, largest first (``CASH`` under ``"Cash"``; unknown symbols ``"Unclassified"``)."""
    out: dict[str, Decimal] = {}
    for symbol, pct in weights.items():
        sector = CASH_SECTOR if symbol == CASH else sectors.get(symbol, "Unclassified")
        out[sector] = out.get(sector, Decimal(0)) + pct
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))
