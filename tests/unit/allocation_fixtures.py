"""Builders for the allocation tests: a small synthetic risk model with known moments, the real 20-stock pack."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
import seedpack

from app.analytics.estimators import RiskModel, estimate_risk_model
from app.analytics.returns import daily_returns
from app.domain.enums import CovEstimator, MeanEstimator

SYMS = ("AAA", "BBB", "CCC", "DDD", "EEE")
VOL = np.array([0.010, 0.020, 0.015, 0.012, 0.018])
CORR = np.array([
    [1.0, 0.2, 0.1, 0.3, 0.2],
    [0.2, 1.0, 0.3, 0.1, 0.4],
    [0.1, 0.3, 1.0, 0.2, 0.1],
    [0.3, 0.1, 0.2, 1.0, 0.3],
    [0.2, 0.4, 0.1, 0.3, 1.0],
])
COV = CORR * np.outer(VOL, VOL)
MU = np.array([0.0005, 0.0009, 0.0007, 0.0006, 0.0008])
ASOF = date(2022, 12, 28)


def synthetic_model(*, n_obs: int = 400, seed: int = 0, mu: np.ndarray = MU, cov: np.ndarray = COV) -> RiskModel:
    """Risk model with the exact ``mu``/``cov`` above and normal returns drawn from them (for scenario measures)."""
    rng = np.random.default_rng(seed)
    rets = rng.multivariate_normal(mu, cov, size=n_obs)
    idx = pd.bdate_range("2021-01-01", periods=n_obs)
    return RiskModel(symbols=SYMS, mu=np.array(mu), cov=np.array(cov), factor=np.linalg.cholesky(cov).T,
                     returns=pd.DataFrame(rets, index=idx, columns=list(SYMS)), asof=ASOF, lookback_days=n_obs,
                     cov_method=CovEstimator.HIST, mean_method=MeanEstimator.HIST)


def sample_model(*, n_obs: int = 400, seed: int = 0) -> RiskModel:
    """Risk model whose ``mu``/``cov`` are the sample moments of its returns (consistent for every measure)."""
    m = synthetic_model(n_obs=n_obs, seed=seed)
    r = m.returns
    cov = np.cov(r.to_numpy(), rowvar=False)
    return RiskModel(symbols=SYMS, mu=r.mean().to_numpy(), cov=cov, factor=np.linalg.cholesky(cov).T, returns=r,
                     asof=ASOF, lookback_days=n_obs, cov_method=CovEstimator.HIST, mean_method=MeanEstimator.HIST)


@lru_cache(maxsize=1)
def pack_returns(lookback_days: int = 756) -> pd.DataFrame:
    h = seedpack.history()
    return daily_returns(history=h, symbols=list(h.columns), asof=ASOF, lookback_days=lookback_days)


@lru_cache(maxsize=1)
def pack_model() -> RiskModel:
    return estimate_risk_model(returns=pack_returns(), asof=ASOF)


def factor_returns() -> pd.DataFrame:
    f = pd.read_csv(seedpack.SEEDS / "factors" / "PP_2022-12-28_factors.csv", index_col="Date", parse_dates=True)
    return f.astype(float).pct_change().dropna()
