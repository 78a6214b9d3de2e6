"""The allocation dispatcher: :func:`optimize_portfolio` picks the model, enforces the constraints the
model cannot (projection, min position, max holdings), and recomputes every reported figure."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from app.analytics.allocation._base import Allocation, Problem
from app.analytics.allocation.black_litterman import solve_black_litterman
from app.analytics.allocation.constraints import (
    TOL,
    WEIGHT_EPS,
    Bounds,
    check_feasible,
    clean,
    constraint_report,
    project,
    resolve_bounds,
)
from app.analytics.allocation.hierarchical import solve_hierarchical
from app.analytics.allocation.mean_variance import (
    solve_classic,
    solve_factor_model,
    solve_max_information_ratio,
    solve_min_variance,
)
from app.analytics.allocation.measures import annualise_risk, risk_contributions, risk_value
from app.analytics.allocation.naive import solve_equal_weight, solve_inverse_volatility
from app.analytics.allocation.result import OptimizationResult
from app.analytics.allocation.risk_parity import solve_risk_parity
from app.analytics.allocation.robust import solve_worst_case
from app.analytics.allocation.spec import OptimizationSpec
from app.analytics.estimators import RiskModel
from app.analytics.expected_returns import apply_forecasts
from app.analytics.metrics import expected_return, sharpe_ratio, volatility
from app.core.errors import InputError
from app.domain.enums import CovEstimator, Model, Objective, RiskMeasure

#: models that are mean-variance whatever ``spec.risk_measure`` says
MV_ONLY = frozenset({Model.MIN_VARIANCE, Model.MAX_IR, Model.WC})
#: models that use ``spec.objective``
WITH_OBJECTIVE = frozenset({Model.CLASSIC, Model.FM, Model.BL, Model.WC})


def _solver_for(model: Model, risk_model: RiskModel) -> Callable[[Problem], Allocation]:
    table: dict[Model, Callable[[Problem], Allocation]] = {
        Model.CLASSIC: solve_classic,
        Model.MIN_VARIANCE: solve_min_variance,
        Model.MAX_IR: solve_max_information_ratio,
        Model.BL: solve_black_litterman,
        Model.FM: lambda p: solve_factor_model(p, factor_cov=risk_model.cov_method is CovEstimator.FACTOR),
        Model.RP: solve_risk_parity,
        Model.HRP: lambda p: solve_hierarchical(p, model=Model.HRP),
        Model.HERC: lambda p: solve_hierarchical(p, model=Model.HERC),
        Model.EW: solve_equal_weight,
        Model.IV: solve_inverse_volatility,
        Model.WC: solve_worst_case,
    }
    try:
        return table[model]
    except KeyError:  # pragma: no cover - the enum and the table move together
        raise InputError(f"model {model.value!r} has no allocation method") from None


def effective_risk_measure(spec: OptimizationSpec) -> RiskMeasure:
    return RiskMeasure.MV if spec.model in MV_ONLY else spec.risk_measure


def expected_mu(*, risk_model: RiskModel, spec: OptimizationSpec) -> tuple[np.ndarray, tuple[str, ...]]:
    """The risk model's daily ``mu`` with ``spec.forecasts`` applied."""
    mu = np.array(risk_model.mu, float)
    if spec.forecasts:
        return apply_forecasts(symbols=list(risk_model.symbols), mu=mu, forecasts=spec.forecasts,
                               annualization=spec.annualization)
    return mu, ()


def build_problem(risk_model: RiskModel, spec: OptimizationSpec, mu: np.ndarray, bounds: Bounds) -> Problem:
    """The solver problem of ``spec`` on ``risk_model``, restricted to the names whose upper bound (a fraction
    of 1) is above ``WEIGHT_EPS``; the full vectors are kept for mapping weights back."""
    keep = bounds.upper > WEIGHT_EPS
    syms = list(risk_model.symbols)
    cov = np.asarray(risk_model.cov)
    returns = risk_model.returns[syms].to_numpy(dtype=float)
    return Problem(
        symbols=[s for s, k in zip(syms, keep) if k], mu=mu[keep], cov=cov[np.ix_(keep, keep)],
        returns=returns[:, keep], bounds=bounds.restrict(keep), spec=spec, full_symbols=syms, full_mu=mu,
        full_cov=cov, keep=keep,
    )


def _prune(w: np.ndarray, bounds: Bounds, spec: OptimizationSpec) -> list[str]:
    """Names to exclude so that no weight is dust and at most ``max_holdings`` are held (deterministic)."""
    held = w > WEIGHT_EPS
    forced = bounds.lower > WEIGHT_EPS
    drop = held & ~forced & (w < spec.min_position - TOL) if spec.min_position > 0 else np.zeros_like(held)
    if spec.max_holdings is not None:
        extra = int((held & ~drop).sum()) - spec.max_holdings
        if extra > 0:
            candidates = [i for i in np.flatnonzero(held & ~drop & ~forced)]
            candidates.sort(key=lambda i: (w[i], bounds.symbols[i]))
            for i in candidates[:extra]:
                drop[i] = True
    return [bounds.symbols[i] for i in np.flatnonzero(drop)]


def optimize_portfolio(*, risk_model: RiskModel, spec: OptimizationSpec) -> OptimizationResult:
    """Target weights of ``spec.model`` on ``risk_model`` under the spec's constraints.

    Raises :class:`~app.core.errors.InputError` for an infeasible or inconsistent request (the message names
    the conflicting constraints) and :class:`~app.core.errors.SolverError` when the solver finds nothing.
    """
    syms = list(risk_model.symbols)
    mu, notes = expected_mu(risk_model=risk_model, spec=spec)
    warnings: list[str] = list(risk_model.warnings) + list(notes)
    bounds = resolve_bounds(spec=spec, symbols=syms)
    warnings.extend(bounds.warnings)
    check_feasible(bounds=bounds, max_holdings=spec.max_holdings)
    if spec.model in MV_ONLY and spec.risk_measure is not RiskMeasure.MV:
        warnings.append(f"model {spec.model.value} is mean-variance: risk measure {spec.risk_measure.value} ignored")
    solver_fn = _solver_for(spec.model, risk_model)
    excluded: list[str] = []
    current = bounds
    for _ in range(len(syms) + 1):
        problem = build_problem(risk_model, spec, mu, current)
        alloc = solver_fn(problem)
        w_sub = alloc.weights
        if not alloc.constrained:
            projected = project(w_sub, problem.bounds)
            if not np.allclose(projected, w_sub, atol=1e-12):
                warnings.append(f"{spec.model.value} weights projected onto the constraints (closest in L2)")
            w_sub = projected
        w_sub = clean(w_sub, problem.bounds)
        w = np.zeros(len(syms))
        w[problem.keep] = w_sub
        drop = _prune(w, current, spec)
        if not drop:
            break
        excluded.extend(drop)
        current = current.exclude(excluded)
        try:
            check_feasible(bounds=current, max_holdings=spec.max_holdings)
        except InputError as exc:
            raise InputError(
                f"min_position {spec.min_position:.4f} / max_holdings {spec.max_holdings} cannot hold after "
                f"excluding {', '.join(sorted(excluded))}: {exc}"
            ) from None
    if excluded:
        warnings.append(
            f"min_position/max_holdings enforced by iterative pruning (no mixed-integer solver installed): "
            f"excluded {', '.join(sorted(excluded))}"
        )
    warnings.extend(alloc.warnings)
    report_mu = mu.copy()
    if alloc.mu is not None:
        report_mu[problem.keep] = alloc.mu
    return _result(risk_model=risk_model, spec=spec, weights=w, mu=report_mu, bounds=bounds, alloc=alloc,
                   warnings=warnings)


def _result(*, risk_model: RiskModel, spec: OptimizationSpec, weights: np.ndarray, mu: np.ndarray,
            bounds: Bounds, alloc: Allocation, warnings: list[str]) -> OptimizationResult:
    syms = list(risk_model.symbols)
    A = spec.annualization
    cov = np.asarray(risk_model.cov)
    returns = risk_model.returns[syms].to_numpy(dtype=float)
    rm = effective_risk_measure(spec)
    ret = expected_return(weights=weights, mu=mu, annualization=A)
    vol = volatility(weights=weights, cov=cov, annualization=A)
    risk = annualise_risk(risk_measure=rm, value=risk_value(risk_measure=rm, weights=weights, returns=returns,
                                                            cov=cov, alpha=spec.alpha), annualization=A)
    rc_daily = risk_contributions(risk_measure=rm, weights=weights, returns=returns, cov=cov, alpha=spec.alpha)
    rc = np.array([annualise_risk(risk_measure=rm, value=v, annualization=A) for v in rc_daily])
    objective = (Objective.MIN_RISK if spec.model is Model.MIN_VARIANCE
                 else spec.objective if spec.model in WITH_OBJECTIVE else None)
    checks = constraint_report(weights=weights, bounds=bounds, spec=spec)
    seen: set[str] = set()
    unique = [w for w in warnings if not (w in seen or seen.add(w))]
    return OptimizationResult(
        weights=pd.Series(weights, index=syms),
        model=spec.model,
        objective=objective,
        risk_measure=rm,
        expected_return=ret,
        volatility=vol,
        sharpe=sharpe_ratio(expected_return=ret, volatility=vol, risk_free_rate=spec.risk_free_rate),
        risk=risk,
        risk_adjusted_return=(ret - spec.risk_free_rate) / risk if risk > 0 else 0.0,
        risk_contributions=pd.Series(rc + 0.0, index=syms),
        constraints=checks,
        solver=alloc.solver,
        status="optimal" if all(c.satisfied for c in checks) else "constraints_unmet",
        risk_free_rate=spec.risk_free_rate,
        warnings=tuple(unique),
        details=dict(alloc.details),
    )
