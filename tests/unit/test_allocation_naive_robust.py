"""Equal weight and inverse volatility (closed forms); worst-case MV against a plain cvxpy re-solve."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
from allocation_fixtures import COV, MU, SYMS, pack_model, synthetic_model
from scipy import stats
from scipy.linalg import sqrtm

from app.analytics.allocation import OptimizationSpec, optimize_portfolio
from app.domain.enums import Model, UncertaintySet

RF = 0.02


def test_equal_weight():
    res = optimize_portfolio(risk_model=pack_model(), spec=OptimizationSpec(model=Model.EW, max_weight=0.10))
    np.testing.assert_allclose(res.weights.to_numpy(), 1 / 20, rtol=0, atol=1e-15)
    res = optimize_portfolio(risk_model=pack_model(), spec=OptimizationSpec(
        model=Model.EW, bounds={s: (0.0, 0.0) for s in ("AAPL", "AMD", "BAC", "BBY")}))
    assert res.weights[["AAPL", "AMD", "BAC", "BBY"]].sum() == 0 and res.weights.max() == pytest.approx(1 / 16)


def test_inverse_volatility():
    res = optimize_portfolio(risk_model=synthetic_model(), spec=OptimizationSpec(model=Model.IV))
    inv = 1 / np.sqrt(np.diag(COV))
    np.testing.assert_allclose(res.weights.to_numpy(), inv / inv.sum(), rtol=1e-12)


def _wc_oracle(uncertainty: UncertaintySet, n_obs: int, q: float) -> np.ndarray:
    """max (worst-case return − rf)/σ, homogenised: min ‖Gy‖ s.t. worst(y) − rf·1ᵀy ≥ 1, y ≥ 0; w = y/1ᵀy."""
    cov_mu = COV / n_obs
    y = cp.Variable(len(SYMS))
    if uncertainty is UncertaintySet.BOX:
        d = stats.norm.ppf(0.5 + q / 2) * np.sqrt(np.diag(cov_mu))
        worst = (MU - d) @ y
    else:
        k = np.sqrt(stats.chi2.ppf(q, df=len(SYMS)))
        worst = MU @ y - k * cp.norm(np.real(sqrtm(cov_mu)) @ y)
    G = np.linalg.cholesky(COV).T
    prob = cp.Problem(cp.Minimize(cp.norm(G @ y)), [worst - RF / 252 * cp.sum(y) >= 1, y >= 0])
    prob.solve(solver="CLARABEL")
    return y.value / y.value.sum()


@pytest.mark.parametrize("uncertainty", [UncertaintySet.BOX, UncertaintySet.ELLIPSOIDAL])
def test_worst_case_sharpe_matches_cvxpy(uncertainty):
    n_obs = 2000  # a long window keeps the uncertainty sets small enough for a long-only solution
    res = optimize_portfolio(risk_model=synthetic_model(n_obs=n_obs), spec=OptimizationSpec(
        model=Model.WC, uncertainty=uncertainty, uncertainty_confidence=0.9, risk_free_rate=RF))
    np.testing.assert_allclose(res.weights.to_numpy(), _wc_oracle(uncertainty, n_obs, 0.9), atol=1e-5)
    assert res.details["worst_case_return"] < res.expected_return
