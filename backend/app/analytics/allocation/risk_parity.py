"""Risk parity (equal risk contributions) and risk budgeting through Riskfolio ``Portfolio.rp_optimization``.

Riskfolio solves ``min φ(w) s.t. bᵀlog w ≥ c`` and normalises. For MV without binding constraints the
answer is then polished with Newton steps on ``Σx = b/x`` (the optimality condition of the same convex
problem), so each risk contribution ``w_i(Σw)_i`` matches its budget to ~1e-12 rather than the conic
solver's ~1e-4.
"""

from __future__ import annotations

import numpy as np

from app.analytics.allocation._base import Allocation, Problem
from app.analytics.allocation._riskfolio import SOLVER, new_portfolio, solve
from app.analytics.allocation.constraints import is_feasible, linear_matrices
from app.analytics.riskfolio_map import riskfolio_code
from app.core.errors import InputError
from app.domain.enums import RiskMeasure


def budgets_vector(problem: Problem) -> np.ndarray:
    """Risk budgets over the eligible names, summing to 1 (equal when none are given)."""
    spec = problem.spec
    if spec.risk_budgets is None:
        return np.full(problem.n, 1.0 / problem.n)
    unknown = sorted(set(spec.risk_budgets) - set(problem.full_symbols))
    if unknown:
        raise InputError(f"risk_budgets name symbol(s) outside the universe: {', '.join(unknown)}")
    missing = [s for s in problem.symbols if s not in spec.risk_budgets]
    if missing:
        raise InputError(f"risk_budgets must give every eligible name a budget; missing {', '.join(missing)}")
    b = np.array([float(spec.risk_budgets[s]) for s in problem.symbols])
    return b / b.sum()


def newton_risk_budget(cov: np.ndarray, budgets: np.ndarray, x0: np.ndarray, *, tol: float = 1e-14,
                       max_iter: int = 50) -> np.ndarray:
    """Solve ``Σx = b/x`` (x > 0) by damped Newton from ``x0``; returns ``x / Σx`` (weights)."""
    x = np.maximum(np.asarray(x0, float), 1e-12)
    x = x / np.sqrt(x @ cov @ x)  # the solution has xᵀΣx = Σb = 1

    def grad(z: np.ndarray) -> np.ndarray:
        return cov @ z - budgets / z

    for _ in range(max_iter):
        g = grad(x)
        if np.max(np.abs(g * x)) < tol:
            break
        H = cov + np.diag(budgets / x**2)
        step = np.linalg.solve(H, g)
        t = 1.0
        while (x - t * step <= 0).any():
            t *= 0.5
        x = x - t * step
    return x / x.sum()


def solve_risk_parity(problem: Problem) -> Allocation:
    """ERC (no ``risk_budgets``) or risk budgeting with the spec's risk measure."""
    spec = problem.spec
    b = budgets_vector(problem)
    A, B = linear_matrices(problem.bounds)
    port = new_portfolio(symbols=problem.symbols, returns=problem.returns, mu=problem.mu, cov=problem.cov,
                         A=A, B=B)
    port.alpha = spec.alpha
    rm = riskfolio_code(spec.risk_measure)
    w = solve(lambda: port.rp_optimization(model="Classic", rm=rm, rf=spec.rf_daily, b=b.reshape(-1, 1),
                                           hist=True),
              symbols=problem.symbols, label=f"RP/{rm}")
    warnings: list[str] = []
    if spec.risk_measure is RiskMeasure.MV:
        polished = newton_risk_budget(problem.cov, b, w)
        if is_feasible(polished, problem.bounds):
            w = polished
        else:
            warnings.append("constraints bind: risk contributions are not proportional to the budgets")
    return Allocation(weights=w, solver=SOLVER, warnings=tuple(warnings),
                      details={"risk_budgets": {s: float(v) for s, v in zip(problem.symbols, b)}})
