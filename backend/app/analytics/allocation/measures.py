"""Risk measures of a weight vector and per-asset risk contributions (Riskfolio-Lib's definitions).

Daily values on the historical returns: MV = √(wᵀΣw); MSV = semi-deviation below the mean; MAD = mean
absolute deviation; CVaR = mean loss in the worst ``alpha`` tail; CDaR / MDD = conditional / maximum drawdown
of the uncompounded cumulative returns over the window. :func:`annualise_risk` scales by √A all but the
drawdowns.
"""

from __future__ import annotations

import math

import numpy as np

from app.domain.enums import RiskMeasure

DRAWDOWN_MEASURES = frozenset({RiskMeasure.CDAR, RiskMeasure.MDD})


def risk_value(
    *, risk_measure: RiskMeasure, weights: np.ndarray, returns: np.ndarray, cov: np.ndarray, alpha: float = 0.05
) -> float:
    """The daily value of ``risk_measure`` for ``weights`` (fractions)."""
    w = np.asarray(weights, float)
    if risk_measure is RiskMeasure.MV:
        return math.sqrt(max(float(w @ cov @ w), 0.0))
    from riskfolio.src import RiskFunctions as rk  # lazy

    x = (np.asarray(returns, float) @ w).reshape(-1, 1)
    if risk_measure is RiskMeasure.MSV:
        return float(rk.SemiDeviation(x))
    if risk_measure is RiskMeasure.MAD:
        return float(rk.MAD(x))
    if risk_measure is RiskMeasure.CVAR:
        return float(rk.CVaR_Hist(x, alpha))
    if risk_measure is RiskMeasure.CDAR:
        return float(rk.CDaR_Abs(x, alpha))
    if risk_measure is RiskMeasure.MDD:
        return float(rk.MDD_Abs(x))
    raise ValueError(f"no risk function for {risk_measure!r}")  # pragma: no cover - enum is closed


def annualise_risk(*, risk_measure: RiskMeasure, value: float, annualization: int) -> float:
    """Daily risk → annual: × √annualization, except drawdown measures (already over the window)."""
    return value if risk_measure in DRAWDOWN_MEASURES else value * math.sqrt(annualization)


def risk_contributions(
    *, risk_measure: RiskMeasure, weights: np.ndarray, returns: np.ndarray, cov: np.ndarray, alpha: float = 0.05
) -> np.ndarray:
    """Euler contributions ``w_i ∂R/∂w_i`` (daily, sum to the risk for homogeneous measures).

    MV is exact (``w_i (Σw)_i / σ``); the others are Riskfolio's central finite differences.
    """
    w = np.asarray(weights, float)
    if risk_measure is RiskMeasure.MV:
        sigma = math.sqrt(max(float(w @ cov @ w), 0.0))
        return w * (cov @ w) / sigma if sigma > 0 else np.zeros_like(w)
    import riskfolio as rp  # lazy

    code = {RiskMeasure.MSV: "MSV", RiskMeasure.MAD: "MAD", RiskMeasure.CVAR: "CVaR",
            RiskMeasure.CDAR: "CDaR", RiskMeasure.MDD: "MDD"}[risk_measure]
    rc = rp.Risk_Contribution(w.reshape(-1, 1), np.asarray(returns, float), cov=np.asarray(cov), rm=code,
                              alpha=alpha)
    return np.asarray(rc, float).reshape(-1)
