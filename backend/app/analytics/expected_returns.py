"""Expected-return estimators that are ours, not Riskfolio's: CAPM/equilibrium and user forecasts.

Units: returns are daily simple returns (fractions per day); ``risk_free_rate`` and user forecasts are
annual fractions (0.02 = 2 %) and are divided by ``annualization`` (trading days per year).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from app.core.errors import InputError


def benchmark_vector(*, symbols: Sequence[str], weights: Mapping[str, float], name: str = "benchmark") -> np.ndarray:
    """Benchmark weights ordered as ``symbols`` (fractions; missing symbols are 0).

    Raises :class:`InputError` when a weight is negative, a benchmark symbol is not in ``symbols``, or the
    weights over ``symbols`` do not sum to 1 (±1e-6).
    """
    unknown = sorted(set(weights) - set(symbols))
    if unknown:
        raise InputError(f"{name} weights name symbol(s) outside the universe: {', '.join(unknown)}")
    b = np.array([float(weights.get(s, 0.0)) for s in symbols])
    if (b < 0).any():
        raise InputError(f"{name} weights must be >= 0 (got {symbols[int(np.argmin(b))]}={b.min():.6g})")
    if abs(b.sum() - 1.0) > 1e-6:
        raise InputError(f"{name} weights must sum to 1.0, got {b.sum():.6f}")
    return b


def capm_mean(
    *,
    returns: np.ndarray,
    cov: np.ndarray,
    benchmark: np.ndarray,
    risk_free_rate: float = 0.0,
    annualization: int = 252,
) -> np.ndarray:
    """CAPM / equilibrium expected daily returns ``rf + β (μ_m − rf)`` (fractions per day).

    The market is the benchmark portfolio ``b``: ``β = Σb / (bᵀΣb)``, ``μ_m`` the historical mean daily return
    of ``returns @ b``. This equals the reverse-optimised equilibrium ``rf + δ Σ b`` with the market-implied
    risk aversion ``δ = (μ_m − rf) / bᵀΣb``.
    """
    rf = risk_free_rate / annualization
    var_m = float(benchmark @ cov @ benchmark)
    if var_m <= 0:
        raise InputError("benchmark portfolio has zero variance: CAPM betas are undefined")
    beta = (cov @ benchmark) / var_m
    mu_m = float(np.mean(returns @ benchmark))
    return rf + beta * (mu_m - rf)


def implied_risk_aversion(
    *, mu: np.ndarray, cov: np.ndarray, benchmark: np.ndarray, risk_free_rate_daily: float
) -> float:
    """Market-implied risk aversion ``δ = (μᵀb − rf) / bᵀΣb`` on daily moments (may be ≤ 0)."""
    return float((mu @ benchmark - risk_free_rate_daily) / (benchmark @ cov @ benchmark))


def apply_forecasts(
    *,
    symbols: Sequence[str],
    mu: np.ndarray,
    forecasts: Mapping[str, float],
    annualization: int = 252,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Daily ``mu`` with user forecasts (annual fractions, per symbol) in place of the estimates.

    Symbols without a forecast keep ``mu`` and are listed in the returned warnings. Unknown symbols and
    non-finite forecasts raise :class:`InputError`.
    """
    unknown = sorted(set(forecasts) - set(symbols))
    if unknown:
        raise InputError(f"forecasts name symbol(s) outside the universe: {', '.join(unknown)}")
    out = np.array(mu, dtype=float, copy=True)
    for i, s in enumerate(symbols):
        if s in forecasts:
            f = float(forecasts[s])
            if not np.isfinite(f):
                raise InputError(f"forecast for {s} is not a finite number (value={forecasts[s]!r})")
            out[i] = f / annualization
    missing = [s for s in symbols if s not in forecasts]
    warnings = (
        (f"no forecast for {', '.join(missing)}: their expected returns stay estimated",) if missing else ()
    )
    return out, warnings
