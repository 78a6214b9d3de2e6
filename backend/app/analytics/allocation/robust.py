"""Worst-case (robust) mean-variance through Riskfolio ``Portfolio.wc_optimization``.

The mean lies in an uncertainty set around the estimate, sized by its standard error ``Σ/T`` at
``uncertainty_confidence`` q (covariance taken as known):

* box: ``|μ_i − μ̂_i| ≤ d_i`` with ``d_i = z_{(1+q)/2} · √(Σ_ii / T)``; worst-case return ``μ̂ᵀw − dᵀ|w|``;
* ellipsoid: ``(μ − μ̂)ᵀ (Σ/T)⁻¹ (μ − μ̂) ≤ k²`` with ``k² = χ²_N(q)``; worst case ``μ̂ᵀw − k‖(Σ/T)^½ w‖``.

Sizes are computed here (deterministic) instead of Riskfolio's bootstrap ``wc_stats``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.analytics.allocation._base import Allocation, Problem
from app.analytics.allocation._riskfolio import SOLVER, new_portfolio, solve
from app.analytics.allocation.constraints import linear_matrices
from app.analytics.riskfolio_map import riskfolio_code
from app.domain.enums import UncertaintySet


def uncertainty_sizes(*, cov: np.ndarray, n_obs: int, confidence: float) -> tuple[np.ndarray, float, np.ndarray]:
    """``(d, k, Σ_μ)``: box half-widths, ellipsoid radius and the covariance of the mean estimate (daily)."""
    from scipy import stats

    cov_mu = np.asarray(cov, float) / n_obs
    d = stats.norm.ppf(0.5 + confidence / 2.0) * np.sqrt(np.diag(cov_mu))
    k = float(np.sqrt(stats.chi2.ppf(confidence, df=cov_mu.shape[0])))
    return d, k, cov_mu


def solve_worst_case(problem: Problem) -> Allocation:
    """Worst-case MV with the spec's objective and mean uncertainty set."""
    spec = problem.spec
    syms = problem.symbols
    d, k, cov_mu = uncertainty_sizes(cov=problem.cov, n_obs=problem.n_obs, confidence=spec.uncertainty_confidence)
    A, B = linear_matrices(problem.bounds)
    port = new_portfolio(symbols=syms, returns=problem.returns, mu=problem.mu, cov=problem.cov, A=A, B=B)
    zeros = pd.DataFrame(np.zeros((problem.n, problem.n)), index=syms, columns=syms)
    port.d_mu = pd.DataFrame([d], columns=syms)
    port.k_mu = k
    port.cov_mu = pd.DataFrame(cov_mu, index=syms, columns=syms)
    # unused with Ucov=None, but wc_optimization reads them
    port.cov_l, port.cov_u, port.k_sigma = zeros, zeros, 0.0
    port.cov_sigma = pd.DataFrame(np.zeros((problem.n**2, problem.n**2)))
    umu = riskfolio_code(spec.uncertainty)
    obj = riskfolio_code(spec.objective)
    w = solve(lambda: port.wc_optimization(obj=obj, rf=spec.rf_daily, l=spec.risk_aversion, Umu=umu, Ucov=None),
              symbols=syms, label=f"WC/{umu}/{obj}")
    details = {"uncertainty": spec.uncertainty.value, "confidence": spec.uncertainty_confidence}
    if spec.uncertainty is UncertaintySet.BOX:
        details["box_half_width"] = {s: float(v * spec.annualization) for s, v in zip(syms, d)}
        worst = float(problem.mu @ w - d @ np.abs(w))
    else:
        details["ellipsoid_radius"] = k
        worst = float(problem.mu @ w - k * np.sqrt(max(w @ cov_mu @ w, 0.0)))
    details["worst_case_return"] = worst * spec.annualization
    return Allocation(weights=w, solver=SOLVER, details=details)
