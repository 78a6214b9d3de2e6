"""Portfolio metrics, recomputed from share counts and cash (never copied from a solver).

Weights are value / total value *including cash* (fractions). Risk figures use the risk model's daily
moments and are annualised with ``annualization`` (trading days per year). Cash carries no risk and no
expected return.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from app.analytics.estimators import RiskModel
from app.analytics.universe import Universe
from app.core.decimals import ZERO


def tracking_error(*, weights: np.ndarray, benchmark: np.ndarray, cov: np.ndarray, annualization: int = 252) -> float:
    """Annualised ex-ante TE: √((w − b)ᵀ Σ (w − b)) · √annualization (fraction; Σ daily)."""
    a = np.asarray(weights, float) - np.asarray(benchmark, float)
    return math.sqrt(max(float(a @ np.asarray(cov) @ a), 0.0) * annualization)


def volatility(*, weights: np.ndarray, cov: np.ndarray, annualization: int = 252) -> float:
    """Annualised volatility √(wᵀ Σ w · annualization) (fraction; Σ daily)."""
    w = np.asarray(weights, float)
    return math.sqrt(max(float(w @ np.asarray(cov) @ w), 0.0) * annualization)


def expected_return(*, weights: np.ndarray, mu: np.ndarray, annualization: int = 252) -> float:
    """Annualised arithmetic expected return μᵀw · annualization (fraction; μ daily)."""
    return float(np.asarray(mu, float) @ np.asarray(weights, float)) * annualization


def sharpe_ratio(*, expected_return: float, volatility: float, risk_free_rate: float) -> float:
    """(expected return − rf) / volatility, all annual fractions; 0 when volatility is 0."""
    return 0.0 if volatility <= 0 else (expected_return - risk_free_rate) / volatility


def turnover(*, trade_values: Sequence[Decimal], portfolio_value: Decimal) -> Decimal:
    """Σ |trade value| / portfolio value before trading (fraction, exact Decimal)."""
    return sum((abs(v) for v in trade_values), ZERO) / portfolio_value


def average_quality(*, values: Mapping[str, Decimal], quality: Mapping[str, float | None]) -> float:
    """Value-weighted average quality score of the rated holdings (0 when nothing rated is held)."""
    num, den = 0.0, 0.0
    for s, v in values.items():
        q = quality.get(s)
        if v > 0 and q is not None:
            num += float(v) * q
            den += float(v)
    return num / den if den > 0 else 0.0


@dataclass(frozen=True, eq=False)
class PortfolioMetrics:
    """One side (before or after) of a proposal. ``values``/``cash``/``total`` in currency; the rest fractions."""

    shares: dict[str, Decimal]
    values: dict[str, Decimal]
    cash: Decimal
    total: Decimal
    weights: np.ndarray
    sector_weights: dict[str, float]
    tracking_error: float
    volatility: float
    expected_return: float
    sharpe: float
    avg_quality: float


def portfolio_metrics(
    *,
    universe: Universe,
    risk_model: RiskModel,
    shares: Mapping[str, Decimal],
    cash: Decimal,
    risk_free_rate: float,
    annualization: int = 252,
) -> PortfolioMetrics:
    """Metrics of the portfolio holding ``shares`` (per universe symbol) and ``cash`` at as-of prices."""
    sh = {s: shares.get(s, ZERO) for s in universe.symbols}
    values = {s: sh[s] * universe.prices[i] for i, s in enumerate(universe.symbols)}
    total = sum(values.values(), ZERO) + cash
    w = np.array([float(values[s] / total) if total > 0 else 0.0 for s in universe.symbols])
    sectors: dict[str, float] = {}
    for sec, wi in zip(universe.sectors, w):
        sectors[sec] = sectors.get(sec, 0.0) + float(wi)
    vol = volatility(weights=w, cov=risk_model.cov, annualization=annualization)
    ret = expected_return(weights=w, mu=risk_model.mu, annualization=annualization)
    return PortfolioMetrics(
        shares=sh,
        values=values,
        cash=cash,
        total=total,
        weights=w,
        sector_weights=dict(sorted(sectors.items())),
        tracking_error=tracking_error(weights=w, benchmark=universe.bench, cov=risk_model.cov,
                                      annualization=annualization),
        volatility=vol,
        expected_return=ret,
        sharpe=sharpe_ratio(expected_return=ret, volatility=vol, risk_free_rate=risk_free_rate),
        avg_quality=average_quality(values=values, quality=dict(zip(universe.symbols, universe.quality))),
    )


def objective_record(
    *,
    mode: str,
    te_aversion: float | None,
    weights_after: np.ndarray,
    target: np.ndarray,
    cov: np.ndarray,
    total_cost: Decimal,
    value_before: Decimal,
    taxes: Decimal = ZERO,
    annualization: int = 252,
) -> dict[str, str | None]:
    """The trade path's objective, recomputed from the final whole-share trades (for the proposal metadata).

    * ``weights_after``: post-trade weights (value / value after trading, cash included as 0), universe order;
      ``target``: the target weights (fractions) in the same order; ``cov``: the run's daily Σ;
    * ``te_to_target² = annualization · (w_after − t)ᵀ Σ (w_after − t)`` (annual, fraction²);
    * ``costs = total_cost / value_before``, ``taxes = taxes / value_before`` (the tax the sales realise,
      currency; 0 without tax lots) — fractions of the value this rebalance trades (``value_before``: the
      universe's value, i.e. net of a withdrawal kept in cash);
    * ``value``: ``te_aversion · te_to_target² + costs + taxes`` in ``cost_aware`` mode, ``te_to_target²`` in
      ``closest`` mode (costs and taxes only break ties there; ``te_aversion`` is then ``None``).

    Numbers are strings: ``te_to_target_pct`` percent (4 dp), the rest fractions (10 dp, ROUND_HALF_EVEN).
    """
    a = np.asarray(weights_after, float) - np.asarray(target, float)
    te2 = max(float(a @ np.asarray(cov, float) @ a), 0.0) * annualization
    costs = float(total_cost / value_before) if value_before > 0 else 0.0
    tax = float(taxes / value_before) if value_before > 0 else 0.0
    value = te2 if te_aversion is None else float(te_aversion) * te2 + costs + tax

    def fixed(x: float, places: str) -> str:
        return format(Decimal(repr(x)).quantize(Decimal(places), rounding=ROUND_HALF_EVEN), "f")

    return {
        "mode": mode,
        "te_aversion": None if te_aversion is None else fixed(float(te_aversion), "0.0001"),
        "te_to_target_pct": fixed(math.sqrt(te2) * 100, "0.0001"),
        "te_to_target_squared": fixed(te2, "1e-10"),
        "costs_fraction": fixed(costs, "1e-10"),
        "taxes_fraction": fixed(tax, "1e-10"),
        "value": fixed(value, "1e-10"),
    }
