"""Expected returns and covariance through Riskfolio-Lib's estimators, as a frozen :class:`RiskModel`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from app.analytics.expected_returns import apply_forecasts, benchmark_vector, capm_mean
from app.analytics.riskfolio_map import riskfolio_code
from app.core.errors import InputError
from app.core.quiet import quiet
from app.domain.enums import CovEstimator, MeanEstimator

#: smallest eigenvalue accepted, relative to the mean variance; below it a ridge is added
PSD_TOLERANCE = 1e-10


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class RiskModel:
    """Daily moments of the universe (all arrays read-only, ordered as ``symbols``).

    * ``mu``: expected daily simple return per asset (fraction per day), shape (N,).
    * ``cov``: daily covariance (fraction² per day), symmetric positive definite, shape (N, N).
    * ``factor``: F with ``FᵀF == cov`` (k×N), used for SOC forms ``‖F x‖₂ = √(xᵀ cov x)``.
    * ``returns``: the daily returns the moments were estimated from (T×N).
    * ``ridge``: value added to the diagonal to make ``cov`` positive definite (0 if none).
    """

    symbols: tuple[str, ...]
    mu: np.ndarray
    cov: np.ndarray
    factor: np.ndarray
    returns: pd.DataFrame
    asof: date
    lookback_days: int
    cov_method: CovEstimator
    mean_method: MeanEstimator
    ridge: float = 0.0
    warnings: tuple[str, ...] = ()

    @property
    def n_assets(self) -> int:
        return len(self.symbols)

    def cov_frame(self) -> pd.DataFrame:
        return pd.DataFrame(np.array(self.cov), index=list(self.symbols), columns=list(self.symbols))


def _factor(cov: np.ndarray, returns: np.ndarray, *, hist_exact: bool, ridge: float) -> np.ndarray:
    """F (k×N) with FᵀF = cov: centred returns when T < N and cov is the sample covariance, else Cholesky."""
    t, n = returns.shape
    if hist_exact and t < n:
        xc = (returns - returns.mean(axis=0)) / np.sqrt(t - 1)
        if ridge > 0:
            xc = np.vstack([xc, np.sqrt(ridge) * np.eye(n)])
        return xc
    return np.linalg.cholesky(cov).T  # upper triangular, cov = LLᵀ = FᵀF


def estimate_risk_model(
    *,
    returns: pd.DataFrame,
    asof: date,
    cov_method: CovEstimator = CovEstimator.HIST,
    mean_method: MeanEstimator = MeanEstimator.HIST,
    factor_returns: pd.DataFrame | None = None,
    benchmark: Mapping[str, float] | None = None,
    forecasts: Mapping[str, float] | None = None,
    risk_free_rate: float = 0.0,
    annualization: int = 252,
) -> RiskModel:
    """Estimate daily ``mu`` and ``cov`` with ``rp.mean_vector`` / ``rp.covar_matrix``.

    ``returns``: daily simple returns (fractions), T×N, no missing values. The covariance is
    symmetrised; if its smallest eigenvalue is below ``PSD_TOLERANCE × mean variance`` a ridge is
    added to the diagonal and recorded in ``warnings``.

    Estimators that need more than the returns:

    * ``CovEstimator.FACTOR``: ``factor_returns`` (daily factor returns covering the window's dates);
      ``rp.risk_factors`` with stepwise forward selection (:mod:`app.analytics.factor_model`).
    * ``MeanEstimator.CAPM``: ``benchmark`` (symbol → fraction, sums to 1) and ``risk_free_rate`` (annual).
    * ``MeanEstimator.USER``: ``forecasts`` (symbol → annual expected return, fraction); symbols without
      one keep the historical mean (warning).
    """
    if returns.isna().to_numpy().any():
        raise InputError("returns contain missing values")
    t, n = returns.shape
    if t < 2 or n < 1:
        raise InputError(f"need at least 2 returns and 1 asset, got {t}x{n}")
    warnings: list[str] = []
    mu, cov = _raw_moments(returns, cov_method=cov_method, mean_method=mean_method, factor_returns=factor_returns)
    if mean_method is MeanEstimator.CAPM:
        if benchmark is None:
            raise InputError("mean_method='capm' needs benchmark weights (the market portfolio)")
        b = benchmark_vector(symbols=list(returns.columns), weights=benchmark)
        mu = capm_mean(returns=returns.to_numpy(), cov=cov, benchmark=b, risk_free_rate=risk_free_rate,
                       annualization=annualization)
    elif mean_method is MeanEstimator.USER:
        if not forecasts:
            raise InputError("mean_method='user' needs forecasts (symbol -> annual expected return)")
        mu, notes = apply_forecasts(symbols=list(returns.columns), mu=mu, forecasts=forecasts,
                                    annualization=annualization)
        warnings.extend(notes)
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(cov))):
        raise InputError(f"estimators {mean_method.value}/{cov_method.value} gave non-finite moments")
    cov, ridge = _with_ridge(cov, cov_method=cov_method, warnings=warnings)
    factor = _factor(cov, returns.to_numpy(), hist_exact=cov_method is CovEstimator.HIST, ridge=ridge)
    return RiskModel(
        symbols=tuple(returns.columns),
        mu=_readonly(mu),
        cov=_readonly(cov),
        factor=_readonly(factor),
        returns=returns,
        asof=asof,
        lookback_days=t,
        cov_method=cov_method,
        mean_method=mean_method,
        ridge=ridge,
        warnings=tuple(warnings),
    )


def _raw_moments(
    returns: pd.DataFrame,
    *,
    cov_method: CovEstimator,
    mean_method: MeanEstimator,
    factor_returns: pd.DataFrame | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Daily ``mu`` (historical for CAPM/USER, which replace it later) and the symmetrised ``cov``.

    The historical estimators are Riskfolio's own formulas (``rp.mean_vector(method="hist")`` is ``X.mean()``,
    ``rp.covar_matrix(method="hist")`` is ``np.cov(X, rowvar=False)``), computed here without importing
    Riskfolio (about 3 s per process); the same numbers to the bit (tests/unit/test_allocation_estimators.py).
    """
    if mean_method in (MeanEstimator.HIST, MeanEstimator.CAPM, MeanEstimator.USER) and cov_method is CovEstimator.HIST:
        cov = np.atleast_2d(np.cov(returns, rowvar=False))  # one asset: np.cov gives a 0-d array
        return returns.mean().to_numpy(dtype=float), 0.5 * (cov + cov.T)
    import riskfolio as rp  # lazy: ~3 s

    with quiet(ignore_warnings=False):
        if mean_method in (MeanEstimator.CAPM, MeanEstimator.USER):
            mu = returns.mean().to_numpy(dtype=float)
        else:
            mu = rp.mean_vector(returns, method=riskfolio_code(mean_method)).to_numpy().reshape(-1)
        if cov_method is CovEstimator.FACTOR:
            if factor_returns is None:
                raise InputError("cov_method='factor' needs factor_returns (daily factor returns)")
            from app.analytics.factor_model import factor_covariance

            cov = factor_covariance(returns=returns, factors=factor_returns).cov
        else:
            cov = rp.covar_matrix(returns, method=riskfolio_code(cov_method)).to_numpy()
    return mu, 0.5 * (cov + cov.T)


def _with_ridge(cov: np.ndarray, *, cov_method: CovEstimator, warnings: list[str]) -> tuple[np.ndarray, float]:
    """``cov`` made positive definite: a ridge ``floor - min eigenvalue`` on the diagonal when the smallest
    eigenvalue is below ``PSD_TOLERANCE × mean variance`` (appended to ``warnings``); returns (cov, ridge)."""
    scale = float(np.mean(np.diag(cov))) if cov.shape[0] else 0.0
    if scale <= 0:
        raise InputError("covariance has no variance: are all prices constant over the window?")
    min_eig = float(np.linalg.eigvalsh(cov)[0])
    floor = PSD_TOLERANCE * scale
    if min_eig >= floor:
        return cov, 0.0
    ridge = floor - min_eig
    warnings.append(
        f"covariance ({cov_method.value}) not positive definite (min eigenvalue {min_eig:.3e}); "
        f"added ridge {ridge:.3e} to the diagonal"
    )
    return cov + ridge * np.eye(cov.shape[0]), ridge
