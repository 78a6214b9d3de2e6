"""Mean-risk optimisation through Riskfolio-Lib ``Portfolio.optimization``: Classic (MinRisk, MaxRet, Sharpe,
Utility under MV, MSV, MAD, CVaR, CDaR or MDD), minimum variance, factor-model MV and maximum information
ratio against a benchmark.

Maximum information ratio is Riskfolio's Sharpe (rf = 0, MV) on benchmark-relative moments: with Σw = 1,
``w − b = (I − b1ᵀ)w``, so active return ``μ_aᵀw`` with ``μ_a = (I − b1ᵀ)ᵀμ`` and active variance
``wᵀΣ_a w`` with ``Σ_a = (I − b1ᵀ)ᵀ Σ (I − b1ᵀ)``.
"""

from __future__ import annotations

import numpy as np

from app.analytics.allocation._base import Allocation, Problem
from app.analytics.allocation._riskfolio import SOLVER, new_portfolio, solve
from app.analytics.allocation.constraints import linear_matrices
from app.analytics.expected_returns import benchmark_vector
from app.analytics.riskfolio_map import riskfolio_code
from app.core.errors import InputError
from app.domain.enums import Model, Objective, RiskMeasure

#: Riskfolio's attribute holding an upper limit on each risk measure (daily units, as its risk functions)
RISK_LIMIT_ATTR = {
    RiskMeasure.MV: "upperdev",
    RiskMeasure.MSV: "uppersdev",
    RiskMeasure.MAD: "uppermad",
    RiskMeasure.CVAR: "upperCVaR",
    RiskMeasure.CDAR: "upperCDaR",
    RiskMeasure.MDD: "uppermdd",
}


def optimize_mean_risk(
    problem: Problem,
    *,
    objective: Objective,
    risk_measure: RiskMeasure,
    mu: np.ndarray | None = None,
    cov: np.ndarray | None = None,
    returns: np.ndarray | None = None,
    rf_daily: float | None = None,
    model: Model = Model.CLASSIC,
    risk_limit: float | None = None,
) -> np.ndarray:
    """Riskfolio ``optimization`` on the problem's (or the given) daily moments; weights over the problem.

    ``risk_limit``: an upper bound on the daily risk measure (the efficient frontier's points).
    ``risk_aversion`` λ is the Utility's weight on the daily risk: variance for MV (Riskfolio's form), the
    measure itself otherwise.
    """
    spec = problem.spec
    mu = problem.mu if mu is None else mu
    cov = problem.cov if cov is None else cov
    returns = problem.returns if returns is None else returns
    rf = spec.rf_daily if rf_daily is None else rf_daily
    # CLARABEL reports some well-posed Sharpe problems on daily moments (μ ~ 1e-4) infeasible: solve on
    # returns scaled by c = 1/typical daily σ; weights are unchanged when rf, risk limits and λ follow
    c = 1.0 / np.sqrt(float(np.mean(np.diag(problem.cov))))
    lam = spec.risk_aversion / c if risk_measure is RiskMeasure.MV else spec.risk_aversion
    A, B = linear_matrices(problem.bounds)
    port = new_portfolio(symbols=problem.symbols, returns=returns * c, mu=mu * c, cov=cov * c * c, A=A, B=B)
    port.alpha = spec.alpha
    if risk_limit is not None:
        setattr(port, RISK_LIMIT_ATTR[risk_measure], float(risk_limit) * c)
    code = riskfolio_code(model)
    if code == "BL":
        port.mu_bl = port.mu
        port.cov_bl = port.cov
    elif code == "FM":
        port.mu_fm = port.mu
        port.cov_fm = port.cov
    rm, obj = riskfolio_code(risk_measure), riskfolio_code(objective)
    return solve(
        lambda: port.optimization(model=code, rm=rm, obj=obj, rf=rf * c, l=lam, hist=True),
        symbols=problem.symbols,
        label=f"{code}/{rm}/{obj}",
    )


def solve_classic(problem: Problem) -> Allocation:
    """Classic mean-risk with the spec's objective and risk measure."""
    spec = problem.spec
    w = optimize_mean_risk(problem, objective=spec.objective, risk_measure=spec.risk_measure)
    return Allocation(weights=w, solver=SOLVER)


def solve_factor_model(problem: Problem, *, factor_cov: bool) -> Allocation:
    """Mean-risk on a factor-model risk model (the risk model must use ``CovEstimator.FACTOR``)."""
    if not factor_cov:
        raise InputError("model FM needs a factor-model risk model: estimate it with cov_method='factor'")
    spec = problem.spec
    w = optimize_mean_risk(problem, objective=spec.objective, risk_measure=spec.risk_measure, model=Model.FM)
    return Allocation(weights=w, solver=SOLVER)


def solve_min_variance(problem: Problem) -> Allocation:
    """Minimum variance: MinRisk under MV whatever the spec's objective and risk measure."""
    w = optimize_mean_risk(problem, objective=Objective.MIN_RISK, risk_measure=RiskMeasure.MV)
    return Allocation(weights=w, solver=SOLVER)


def active_moments(problem: Problem, benchmark: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(μ_a, Σ_a, M)`` over the eligible names, ``M = E − b1ᵀ`` (full × eligible) maps w to w − b."""
    n_full = len(problem.full_symbols)
    E = np.zeros((n_full, problem.n))
    E[np.flatnonzero(problem.keep), np.arange(problem.n)] = 1.0
    M = E - np.outer(benchmark, np.ones(problem.n))
    mu_a = M.T @ problem.full_mu
    cov_a = M.T @ problem.full_cov @ M
    cov_a = 0.5 * (cov_a + cov_a.T)
    vals, vecs = np.linalg.eigh(cov_a)
    ridge = 1e-10 * float(np.mean(np.diag(problem.full_cov)))
    cov_a = (vecs * np.clip(vals, 0.0, None)) @ vecs.T + ridge * np.eye(problem.n)
    return mu_a, cov_a, M


def solve_max_information_ratio(problem: Problem) -> Allocation:
    """Maximum ``(μᵀ(w − b)) / √((w − b)ᵀΣ(w − b))`` under the constraints (Riskfolio Sharpe, rf = 0)."""
    spec = problem.spec
    if not spec.benchmark_weights:
        raise InputError("model MaxIR needs benchmark_weights (symbol -> fraction, summing to 1)")
    b = benchmark_vector(symbols=problem.full_symbols, weights=spec.benchmark_weights)
    mu_a, cov_a, M = active_moments(problem, b)
    if (mu_a <= 0).all():
        raise InputError("model MaxIR: no eligible name has an expected return above the benchmark's")
    w = optimize_mean_risk(problem, objective=Objective.SHARPE, risk_measure=RiskMeasure.MV, mu=mu_a,
                           cov=cov_a, rf_daily=0.0)
    a = M @ w
    te = float(np.sqrt(max(a @ problem.full_cov @ a, 0.0) * spec.annualization))
    ar = float(problem.full_mu @ a * spec.annualization)
    details = {"active_return": ar, "tracking_error": te, "information_ratio": ar / te if te > 0 else 0.0}
    return Allocation(weights=w, solver=SOLVER, details=details)
