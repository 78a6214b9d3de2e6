"""Black-Litterman: equilibrium prior from benchmark weights, absolute and relative views with confidences,
then mean-risk optimisation (Riskfolio ``model="BL"``) on the posterior expected returns.

Riskfolio's ``black_litterman`` fixes Ω = diag(P τΣ Pᵀ) and re-estimates Σ from the returns; we need
confidences and our risk model's Σ, so the posterior is computed here (daily units):

* prior ``Π = δ Σ b`` (excess of rf), δ market implied ``(μᵀb − rf) / bᵀΣb`` unless given;
* Ω_k = (1 − c_k)/c_k · (P τΣ Pᵀ)_kk (c = 0.5 is He–Litterman, c = 1 an exact view);
* ``μ_BL = rf + Π + τΣPᵀ (PτΣPᵀ + Ω)⁻¹ (Q − rf·P1 − PΠ)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.analytics.allocation._base import Allocation, Problem
from app.analytics.allocation._riskfolio import SOLVER
from app.analytics.allocation.mean_variance import optimize_mean_risk
from app.analytics.allocation.spec import View
from app.analytics.expected_returns import benchmark_vector, implied_risk_aversion
from app.core.errors import InputError
from app.domain.enums import Model

#: δ used when the benchmark's implied risk aversion is not positive (benchmark below the risk-free rate)
FALLBACK_RISK_AVERSION = 2.5


@dataclass(frozen=True, eq=False)
class Posterior:
    """Daily vectors over the universe: ``prior`` (rf + Π), ``mu`` (posterior); ``delta``, ``tau``; P, Q, Ω."""

    prior: np.ndarray
    mu: np.ndarray
    delta: float
    tau: float
    P: np.ndarray
    Q: np.ndarray
    omega: np.ndarray
    warnings: tuple[str, ...] = ()


def view_matrices(
    *, symbols: Sequence[str], views: Sequence[View], annualization: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``P`` (K×N), ``Q`` (K, daily), confidences (K)."""
    idx = {s: i for i, s in enumerate(symbols)}
    P = np.zeros((len(views), len(symbols)))
    for k, v in enumerate(views):
        unknown = sorted(set(v.assets) - set(idx))
        if unknown:
            raise InputError(f"view {k + 1} names symbol(s) outside the universe: {', '.join(unknown)}")
        for s, c in v.assets.items():
            P[k, idx[s]] = float(c)
    Q = np.array([v.expected_return for v in views], float) / annualization
    conf = np.array([v.confidence for v in views], float)
    return P, Q, conf


def black_litterman_posterior(
    *,
    symbols: Sequence[str],
    mu: np.ndarray,
    cov: np.ndarray,
    benchmark: np.ndarray,
    views: Sequence[View],
    n_obs: int,
    risk_free_rate: float = 0.0,
    annualization: int = 252,
    tau: float | None = None,
    risk_aversion: float | None = None,
) -> Posterior:
    """Posterior expected daily returns (see module docstring). ``mu`` only sets the implied δ."""
    rf = risk_free_rate / annualization
    warnings: list[str] = []
    tau = 1.0 / n_obs if tau is None else tau
    if risk_aversion is None:
        delta = implied_risk_aversion(mu=mu, cov=cov, benchmark=benchmark, risk_free_rate_daily=rf)
        if not delta > 0:
            warnings.append(
                f"benchmark-implied risk aversion {delta:.3g} is not positive (benchmark below the risk-free "
                f"rate over the window): prior uses delta = {FALLBACK_RISK_AVERSION}"
            )
            delta = FALLBACK_RISK_AVERSION
    else:
        delta = float(risk_aversion)
    pi = delta * cov @ benchmark
    if not views:
        return Posterior(prior=rf + pi, mu=rf + pi, delta=delta, tau=tau, P=np.zeros((0, len(symbols))),
                         Q=np.zeros(0), omega=np.zeros((0, 0)), warnings=tuple(warnings))
    P, Q, conf = view_matrices(symbols=symbols, views=views, annualization=annualization)
    ts = tau * cov
    pts = P @ ts @ P.T
    omega = np.diag((1.0 - conf) / conf * np.diag(pts))
    q_excess = Q - rf * P.sum(axis=1)
    gain = ts @ P.T @ np.linalg.solve(pts + omega, q_excess - P @ pi)
    return Posterior(prior=rf + pi, mu=rf + pi + gain, delta=delta, tau=tau, P=P, Q=Q, omega=omega,
                     warnings=tuple(warnings))


def solve_black_litterman(problem: Problem) -> Allocation:
    """Mean-risk optimisation (spec objective and measure) on the BL posterior expected returns."""
    spec = problem.spec
    if not spec.benchmark_weights:
        raise InputError("model BL needs benchmark_weights for the equilibrium prior")
    b = benchmark_vector(symbols=problem.full_symbols, weights=spec.benchmark_weights)
    post = black_litterman_posterior(
        symbols=problem.full_symbols, mu=problem.full_mu, cov=problem.full_cov, benchmark=b, views=spec.views,
        n_obs=problem.n_obs, risk_free_rate=spec.risk_free_rate, annualization=spec.annualization,
        tau=spec.bl_tau, risk_aversion=spec.bl_risk_aversion,
    )
    mu_bl = post.mu[problem.keep]
    w = optimize_mean_risk(problem, objective=spec.objective, risk_measure=spec.risk_measure, mu=mu_bl,
                           model=Model.BL)
    A = spec.annualization
    details = {
        "delta": post.delta,
        "tau": post.tau,
        "prior_returns": {s: float(v * A) for s, v in zip(problem.full_symbols, post.prior)},
        "posterior_returns": {s: float(v * A) for s, v in zip(problem.full_symbols, post.mu)},
    }
    return Allocation(weights=w, solver=SOLVER, warnings=post.warnings, details=details, mu=mu_bl)
