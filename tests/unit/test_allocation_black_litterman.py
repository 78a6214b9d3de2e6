"""Black-Litterman posterior against the He–Litterman formula and Riskfolio's own black_litterman."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from allocation_fixtures import COV, SYMS, synthetic_model

from app.analytics.allocation import OptimizationSpec, View, black_litterman_posterior, optimize_portfolio
from app.core.errors import InputError
from app.domain.enums import Model

BENCH = np.array([0.3, 0.1, 0.2, 0.25, 0.15])
BENCH_MAP = dict(zip(SYMS, BENCH))
RF = 0.02
VIEWS = (View({"AAA": 1.0}, 0.15, 0.5), View({"BBB": 1.0, "CCC": -1.0}, 0.03, 0.5))


def he_litterman(cov, pi, P, Q, tau):
    """μ = [(τΣ)⁻¹ + PᵀΩ⁻¹P]⁻¹ [(τΣ)⁻¹Π + PᵀΩ⁻¹Q] with Ω = diag(PτΣPᵀ) (all in excess of rf)."""
    omega = np.diag(np.diag(P @ (tau * cov) @ P.T))
    ts_inv = np.linalg.inv(tau * cov)
    om_inv = np.linalg.inv(omega)
    return np.linalg.solve(ts_inv + P.T @ om_inv @ P, ts_inv @ pi + P.T @ om_inv @ Q)


def test_posterior_matches_he_litterman_formula():
    m = synthetic_model()
    delta, tau = 3.0, 1 / 400
    post = black_litterman_posterior(symbols=SYMS, mu=m.mu, cov=COV, benchmark=BENCH, views=VIEWS, n_obs=400,
                                     risk_free_rate=RF, tau=tau, risk_aversion=delta)
    pi = delta * COV @ BENCH
    P = np.array([[1, 0, 0, 0, 0], [0, 1, -1, 0, 0]], float)
    rf = RF / 252
    Q_excess = np.array([0.15 / 252 - rf, 0.03 / 252])  # absolute views in excess of rf, relative unchanged
    np.testing.assert_allclose(post.mu, rf + he_litterman(COV, pi, P, Q_excess, tau), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(post.prior, rf + pi, rtol=1e-12)


def test_posterior_matches_riskfolio_black_litterman_at_confidence_half():
    import riskfolio as rp

    m = synthetic_model()
    X = m.returns
    S = np.cov(X.to_numpy(), rowvar=False)
    rf = RF / 252
    post = black_litterman_posterior(symbols=SYMS, mu=X.mean().to_numpy(), cov=S, benchmark=BENCH, views=VIEWS,
                                     n_obs=len(X), risk_free_rate=RF, risk_aversion=2.5)
    P = pd.DataFrame([[1, 0, 0, 0, 0], [0, 1, -1, 0, 0]], columns=list(SYMS), dtype=float)
    Q = pd.DataFrame([[0.15 / 252 - rf], [0.03 / 252]])
    mu_rp, _cov, _w = rp.black_litterman(X=X, w=pd.DataFrame(BENCH, index=list(SYMS)), P=P, Q=Q, delta=2.5, rf=rf,
                                          eq=True)
    np.testing.assert_allclose(post.mu, mu_rp.to_numpy().ravel(), rtol=1e-9)


def test_full_confidence_makes_views_exact_and_low_confidence_keeps_the_prior():
    m = synthetic_model()
    exact = (View({"AAA": 1.0}, 0.15, 1.0), View({"BBB": 1.0, "CCC": -1.0}, 0.03, 1.0))
    post = black_litterman_posterior(symbols=SYMS, mu=m.mu, cov=COV, benchmark=BENCH, views=exact, n_obs=400)
    assert post.mu[0] * 252 == pytest.approx(0.15, abs=1e-12)
    assert (post.mu[1] - post.mu[2]) * 252 == pytest.approx(0.03, abs=1e-12)
    weak = (View({"AAA": 1.0}, 0.15, 1e-9),)
    post = black_litterman_posterior(symbols=SYMS, mu=m.mu, cov=COV, benchmark=BENCH, views=weak, n_obs=400)
    np.testing.assert_allclose(post.mu, post.prior, rtol=1e-6)


def test_no_views_max_sharpe_is_the_benchmark():
    """The equilibrium prior Π = δΣb makes b the tangency portfolio: Σ⁻¹(μ − rf) ∝ b."""
    res = optimize_portfolio(risk_model=synthetic_model(), spec=OptimizationSpec(
        model=Model.BL, benchmark_weights=BENCH_MAP, risk_free_rate=RF))
    np.testing.assert_allclose(res.weights.to_numpy(), BENCH, atol=1e-6)
    assert set(res.details) >= {"delta", "tau", "prior_returns", "posterior_returns"}


def test_bl_needs_a_benchmark_and_known_view_symbols():
    with pytest.raises(InputError, match="benchmark_weights"):
        optimize_portfolio(risk_model=synthetic_model(), spec=OptimizationSpec(model=Model.BL))
    with pytest.raises(InputError, match="ZZZ"):
        optimize_portfolio(risk_model=synthetic_model(), spec=OptimizationSpec(
            model=Model.BL, benchmark_weights=BENCH_MAP, views=(View({"ZZZ": 1.0}, 0.1),)))
    with pytest.raises(InputError, match="confidence"):
        View({"AAA": 1.0}, 0.1, 0.0)
