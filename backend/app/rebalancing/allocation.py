"""Allocations in percent that add up to exactly 100.00 (largest-remainder rounding)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal

from app.core.decimals import HUNDRED, PCT_QUANTUM, ZERO

CASH = "CASH"


def allocation_pct(values: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """``name -> percent`` (2 dp) of the total of ``values`` (all ≥ 0), summing to exactly 100.00.

    Each share is floored to 0.01 and the missing hundredths go to the largest remainders (ties by
    name). An all-zero input gives all zeros.
    """
    total = sum(values.values(), ZERO)
    if total <= 0:
        return {k: Decimal("0.00") for k in sorted(values)}
    exact = {k: v * HUNDRED / total for k, v in values.items()}
    floored = {k: e.quantize(PCT_QUANTUM, rounding=ROUND_FLOOR) for k, e in exact.items()}
    missing = int(((HUNDRED - sum(floored.values(), ZERO)) / PCT_QUANTUM).to_integral_value())
    for k in sorted(exact, key=lambda k: (-(exact[k] - floored[k]), k))[: max(missing, 0)]:
        floored[k] += PCT_QUANTUM
    return {k: floored[k] for k in sorted(floored)}
