"""Independent recomputation of a proposal from its trades (numpy/Decimal here, none of the engine's code).

Used by the golden tests: every number of the constraint report and summary is checked against what we
compute from the scenario's inputs and the proposal's final share counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

CENT = Decimal("0.01")


def q(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass
class Recomputed:
    value_before: Decimal
    cash_after: Decimal
    turnover_pct: float
    weights_after: dict[str, float]
    sector_after: dict[str, float]
    te_before_pct: float
    te_after_pct: float
    total_cost: Decimal


def recompute(scenario: dict, proposal: dict, scenario_path: Path) -> Recomputed:
    pack = scenario["pricing_pack"]
    csv = (scenario_path.parent / pack["prices_csv"]).resolve()
    prices = pd.read_csv(csv, index_col=0, dtype=str)
    asof = prices.loc[pack["asof"]]
    lookback = scenario.get("options", {}).get("lookback_days", 756)
    closes = prices.loc[: pack["asof"]].astype(float)
    rets = closes.pct_change().iloc[1:].iloc[-lookback:]
    held = {h["symbol"]: Decimal(h["shares"]) for h in scenario["portfolio"]["holdings"]}
    cash = Decimal(scenario["portfolio"]["cash"])
    px = {s: Decimal(asof[s]) for s in asof.index}
    value_before = q(sum((held[s] * px[s] for s in held), Decimal(0)) + cash)

    after = dict(held)
    cash_after = cash
    total_value = Decimal(0)
    total_cost = Decimal(0)
    for t in proposal["trades"]:
        delta = Decimal(t["delta_shares"])
        value = q(abs(delta) * px[t["symbol"]])
        assert Decimal(t["trade_value"]) == value, (t["symbol"], t["trade_value"], value)
        commission = q(Decimal("5.00"))
        impact = q(value * Decimal(15) / Decimal(10000))
        assert Decimal(t["estimated_cost"]) == commission + impact, t
        after[t["symbol"]] = after.get(t["symbol"], Decimal(0)) + delta
        assert after[t["symbol"]] == Decimal(t["target_shares"]), t
        cash_after += value if delta < 0 else -value  # each trade settles at its cent-rounded value
        total_value += value
        total_cost += commission + impact
    cash_after = q(cash_after - total_cost)
    value_after = sum((after[s] * px[s] for s in after), Decimal(0)) + cash_after
    w_after = {s: float(after[s] * px[s] / value_after) for s in after if after[s] > 0}
    w_before = {s: float(held[s] * px[s] / value_before) for s in held if held[s] > 0}
    sectors = {s["symbol"]: s["sector"] for s in scenario["securities"]}
    sector_after: dict[str, float] = {}
    for s, w in w_after.items():
        sector_after[sectors[s]] = sector_after.get(sectors[s], 0.0) + w
    bench = {s: float(w) for s, w in scenario["benchmark"]["weights"].items()}
    universe = sorted(set(bench) | set(held) | set(after))
    cov = rets[universe].cov().values

    def te(w: dict[str, float]) -> float:
        a = np.array([w.get(s, 0.0) - bench.get(s, 0.0) for s in universe])
        return float(np.sqrt(a @ cov @ a) * np.sqrt(252) * 100)

    return Recomputed(
        value_before=value_before,
        cash_after=cash_after,
        turnover_pct=float(total_value / value_before * 100),
        weights_after=w_after,
        sector_after=sector_after,
        te_before_pct=te(w_before),
        te_after_pct=te(w_after),
        total_cost=total_cost,
    )
