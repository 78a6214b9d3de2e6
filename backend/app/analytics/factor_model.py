"""Factor-model covariance through Riskfolio-Lib's ``rp.risk_factors`` (stepwise forward regression).

Each asset's daily returns are regressed on the factor returns (intercept plus the factors a forward
stepwise selection keeps at p < 0.05); ``Σ = B Σ_F Bᵀ + diag(residual variances)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.core.errors import InputError
from app.core.quiet import quiet


@dataclass(frozen=True, eq=False)
class FactorCovariance:
    """``cov`` daily (N×N); ``loadings`` N×(1+K) with a ``const`` column; ``residual_var`` per asset."""

    cov: np.ndarray
    loadings: pd.DataFrame
    residual_var: np.ndarray


def align_factor_returns(*, returns: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """Factor returns on exactly the dates of ``returns``; missing dates raise :class:`InputError`."""
    idx = pd.to_datetime(returns.index)
    f = factors.copy()
    f.index = pd.to_datetime(f.index)
    missing = idx.difference(f.index)
    if len(missing):
        raise InputError(
            f"factor returns miss {len(missing)} date(s) of the returns window, first {missing[0].date()}"
        )
    out = f.loc[idx]
    if out.isna().to_numpy().any():
        raise InputError("factor returns contain missing values inside the returns window")
    out.index = returns.index
    return out.astype(float)


def factor_covariance(*, returns: pd.DataFrame, factors: pd.DataFrame) -> FactorCovariance:
    """Daily factor-model covariance of ``returns`` (T×N) on ``factors`` (T×K daily factor returns)."""
    import riskfolio as rp  # lazy

    if factors.shape[1] < 1:
        raise InputError("factor model needs at least one factor")
    x = align_factor_returns(returns=returns, factors=factors)
    with quiet(ignore_warnings=False):
        _mu, cov, _ret, loadings, _s, _k = rp.risk_factors(
            x, returns, const=True, feature_selection="stepwise", stepwise="Forward"
        )
    loadings = pd.DataFrame(loadings).astype(float)
    b = loadings.to_numpy()
    x1 = np.column_stack([np.ones(len(x)), x.to_numpy()])
    resid = returns.to_numpy() - x1 @ b.T
    return FactorCovariance(
        cov=np.asarray(cov, dtype=float),
        loadings=loadings,
        residual_var=np.var(resid, axis=0, ddof=1),
    )
