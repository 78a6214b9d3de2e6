"""Each estimator against a formula written out here (not the library that computes it)."""

from __future__ import annotations

import numpy as np
import pytest
import seedpack
from allocation_fixtures import ASOF, factor_returns, pack_returns

from app.analytics.estimators import estimate_risk_model
from app.analytics.factor_model import align_factor_returns, factor_covariance
from app.core.errors import InputError
from app.domain.enums import CovEstimator, MeanEstimator

D = 0.94  # Riskfolio's EWMA decay (alpha = 1 - d)


@pytest.fixture(scope="module")
def R():
    return pack_returns(756)


def _model(R, **kw):
    return estimate_risk_model(returns=R, asof=ASOF, **kw)


def test_historical(R):
    m = _model(R)
    np.testing.assert_allclose(m.mu, R.to_numpy().mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(m.cov, np.cov(R.to_numpy(), rowvar=False), rtol=1e-12)


def test_historical_moments_equal_riskfolio_to_the_bit(R):
    """The historical estimators are computed without importing Riskfolio: they must be its numbers exactly."""
    import riskfolio as rp

    m = _model(R)
    assert np.array_equal(m.mu, rp.mean_vector(R, method="hist").to_numpy().reshape(-1))
    cov = rp.covar_matrix(R, method="hist").to_numpy()
    assert np.array_equal(m.cov, 0.5 * (cov + cov.T))


def test_ledoit_wolf(R):
    """Ledoit & Wolf (2004): shrink S (1/T) to m·I with intensity min(b̄², d²)/d²."""
    X = R.to_numpy() - R.to_numpy().mean(axis=0)
    T, p = X.shape
    S = X.T @ X / T
    mu = np.trace(S) / p
    d2 = np.sum((S - mu * np.eye(p)) ** 2)
    b2 = sum(np.sum((np.outer(x, x) - S) ** 2) for x in X) / T**2
    s = min(b2, d2) / d2
    np.testing.assert_allclose(_model(R, cov_method=CovEstimator.LEDOIT).cov, s * mu * np.eye(p) + (1 - s) * S,
                               rtol=1e-10)


def test_oas(R):
    """Oracle approximating shrinkage (Chen et al. 2010, in scikit-learn's form) towards tr(S)/p · I."""
    X = R.to_numpy() - R.to_numpy().mean(axis=0)
    T, p = X.shape
    S = X.T @ X / T
    mu = np.trace(S) / p
    alpha = np.mean(S**2)
    s = min((alpha + mu**2) / ((T + 1) * (alpha - mu**2 / p)), 1.0)
    np.testing.assert_allclose(_model(R, cov_method=CovEstimator.OAS).cov, (1 - s) * S + s * mu * np.eye(p),
                               rtol=1e-10)


def test_ewma_mean_and_covariance(R):
    """Weights (1−α)^(T−1−t); mean Σwx/Σw; covariance with the unbiased reliability weights correction."""
    X = R.to_numpy()
    T = len(X)
    w = D ** np.arange(T - 1, -1, -1)
    m = w @ X / w.sum()
    Xc = X - m
    cov = (Xc * w[:, None]).T @ Xc / (w.sum() - (w**2).sum() / w.sum())
    model = _model(R, cov_method=CovEstimator.EWMA, mean_method=MeanEstimator.EWMA)
    np.testing.assert_allclose(model.mu, m, rtol=1e-9)
    np.testing.assert_allclose(model.cov, cov, rtol=1e-8)


def test_denoised_is_the_sample_correlation_with_a_flat_noise_spectrum(R):
    """de Prado's constant residual eigenvalue method: eigenvalues of the sample correlation below the
    Marchenko–Pastur edge replaced by their mean, rebuilt, rescaled to unit diagonal, sample variances kept.
    The edge comes from a kernel fit, so the test finds the number of signal eigenvalues k that reproduces it."""
    X = R.to_numpy()
    S = np.cov(X, rowvar=False)
    sd = np.sqrt(np.diag(S))
    vals, vecs = np.linalg.eigh(S / np.outer(sd, sd))
    vals, vecs = vals[::-1], vecs[:, ::-1]
    C = _model(R, cov_method=CovEstimator.DENOISE).cov
    np.testing.assert_allclose(np.diag(C), np.diag(S), rtol=1e-10)  # variances kept
    matches = []
    for k in range(1, len(vals)):
        lam = vals.copy()
        lam[k:] = vals[k:].mean()
        corr = (vecs * lam) @ vecs.T
        d = np.sqrt(np.diag(corr))
        rebuilt = corr / np.outer(d, d) * np.outer(sd, sd)
        if np.allclose(rebuilt, C, rtol=1e-8, atol=1e-14):
            matches.append(k)
    assert len(matches) == 1 and 1 <= matches[0] < 5  # a few market/sector factors out of 20 names


def test_factor_model_recomputed_by_ols(R):
    F = align_factor_returns(returns=R, factors=factor_returns())
    fc = factor_covariance(returns=R, factors=factor_returns())
    B = fc.loadings.to_numpy()
    X1 = np.column_stack([np.ones(len(F)), F.to_numpy()])
    for i, sym in enumerate(R.columns):  # each row: OLS of the asset on the factors the selection kept
        used = np.flatnonzero(B[i, 1:]) + 1
        coef, *_ = np.linalg.lstsq(X1[:, [0, *used]], R[sym].to_numpy(), rcond=None)
        np.testing.assert_allclose(B[i, [0, *used]], coef, rtol=1e-8, atol=1e-12)
    resid = R.to_numpy() - X1 @ B.T
    expected = B @ np.cov(X1, rowvar=False) @ B.T + np.diag(resid.var(axis=0, ddof=1))
    model = _model(R, cov_method=CovEstimator.FACTOR, factor_returns=factor_returns())
    np.testing.assert_allclose(model.cov, expected, rtol=1e-9)
    assert (np.abs(B[:, 1:]) > 0).any(axis=1).all()  # every stock loads on at least one factor


def test_factor_model_needs_factors_covering_the_window(R):
    with pytest.raises(InputError, match="factor_returns"):
        _model(R, cov_method=CovEstimator.FACTOR)
    with pytest.raises(InputError, match="miss"):
        _model(R, cov_method=CovEstimator.FACTOR, factor_returns=factor_returns().iloc[:-5])


def test_capm_mean_from_regression_betas(R):
    bench = seedpack.benchmark()
    b = np.array([bench[s] for s in R.columns])
    rm = R.to_numpy() @ b
    rf = 0.02 / 252
    betas = np.array([np.polyfit(rm, R[s].to_numpy(), 1)[0] for s in R.columns])
    model = _model(R, mean_method=MeanEstimator.CAPM, benchmark=bench, risk_free_rate=0.02)
    np.testing.assert_allclose(model.mu, rf + betas * (rm.mean() - rf), rtol=1e-9)


def test_user_forecasts(R):
    model = _model(R, mean_method=MeanEstimator.USER, forecasts={"AAPL": 0.12, "XOM": -0.05})
    mu = dict(zip(R.columns, model.mu))
    assert mu["AAPL"] == pytest.approx(0.12 / 252) and mu["XOM"] == pytest.approx(-0.05 / 252)
    assert mu["MSFT"] == pytest.approx(R["MSFT"].mean())
    assert any("no forecast for" in w for w in model.warnings)
    with pytest.raises(InputError, match="outside the universe"):
        _model(R, mean_method=MeanEstimator.USER, forecasts={"TSLA": 0.3})
