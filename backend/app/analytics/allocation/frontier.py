"""Efficient frontier of a mean-risk model: Riskfolio's construction (minimum risk, maximum return, then
maximum return under evenly spaced risk limits), plus the max-Sharpe and the current portfolio.

Every figure is annual and recomputed from the weights: ``risk`` is the chosen measure (annualised as in
:mod:`app.analytics.allocation.result`), ``return`` the expected return, ``sharpe`` = (return − rf) / risk
(Riskfolio's risk-adjusted ratio for that measure; the usual Sharpe ratio for MV), ``volatility`` √(wᵀΣw·A).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.analytics.allocation.black_litterman import black_litterman_posterior
from app.analytics.allocation.constraints import WEIGHT_EPS, check_feasible, clean, resolve_bounds
from app.analytics.allocation.mean_variance import optimize_mean_risk
from app.analytics.allocation.measures import annualise_risk, risk_value
from app.analytics.allocation.optimize import Problem, build_problem, expected_mu
from app.analytics.allocation.spec import OptimizationSpec
from app.analytics.estimators import RiskModel
from app.analytics.expected_returns import benchmark_vector
from app.core.errors import InputError, SolverError
from app.domain.enums import Model, Objective, RiskMeasure

FRONTIER_MODELS = frozenset({Model.CLASSIC, Model.FM, Model.BL})


@dataclass(frozen=True)
class FrontierPoint:
    """One portfolio: annual ``risk`` (chosen measure), ``ret``, ``sharpe``, ``volatility``; ``weights``."""

    risk: float
    ret: float
    sharpe: float
    volatility: float
    weights: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"risk": self.risk, "return": self.ret, "sharpe": self.sharpe, "volatility": self.volatility,
                "weights": dict(self.weights)}


@dataclass(frozen=True)
class Frontier:
    """``points`` ordered by risk; the special points; the measure they are on."""

    risk_measure: RiskMeasure
    model: Model
    risk_free_rate: float
    points: tuple[FrontierPoint, ...]
    min_risk: FrontierPoint
    max_sharpe: FrontierPoint
    max_return: FrontierPoint
    current: FrontierPoint | None = None
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Frontier:
        """Inverse of :meth:`to_dict` (e.g. a capability's JSON result, for plotting)."""

        def pt(d: Mapping[str, Any] | None) -> FrontierPoint | None:
            if d is None:
                return None
            return FrontierPoint(risk=float(d["risk"]), ret=float(d["return"]), sharpe=float(d["sharpe"]),
                                 volatility=float(d["volatility"]), weights=dict(d["weights"]))

        return cls(risk_measure=RiskMeasure(doc["risk_measure"]), model=Model(doc["model"]),
                   risk_free_rate=float(doc["risk_free_rate"]), points=tuple(pt(p) for p in doc["points"]),
                   min_risk=pt(doc["min_risk"]), max_sharpe=pt(doc["max_sharpe"]), max_return=pt(doc["max_return"]),
                   current=pt(doc.get("current")), warnings=tuple(doc.get("warnings", ())))

    def to_dict(self) -> dict[str, Any]:
        return {
            "risk_measure": self.risk_measure.value,
            "model": self.model.value,
            "risk_free_rate": self.risk_free_rate,
            "points": [p.to_dict() for p in self.points],
            "min_risk": self.min_risk.to_dict(),
            "max_sharpe": self.max_sharpe.to_dict(),
            "max_return": self.max_return.to_dict(),
            "current": self.current.to_dict() if self.current is not None else None,
            "warnings": list(self.warnings),
        }


def efficient_frontier(
    *,
    risk_model: RiskModel,
    spec: OptimizationSpec,
    points: int = 20,
    current_weights: Mapping[str, float] | None = None,
) -> Frontier:
    """``points`` efficient portfolios of ``spec.model`` (Classic, FM or BL) under ``spec.risk_measure``.

    ``current_weights``: symbol → fraction of the current portfolio (rest is cash at zero risk and return).
    """
    _check_request(spec, points)
    syms = list(risk_model.symbols)
    warnings: list[str] = list(risk_model.warnings)
    if spec.min_position > 0 or spec.max_holdings is not None:
        warnings.append("min_position / max_holdings are not applied on the frontier")
    problem, mu = _frontier_problem(risk_model, spec, warnings)
    rm = spec.risk_measure
    cov = np.asarray(risk_model.cov)
    returns = risk_model.returns[syms].to_numpy(dtype=float)
    A = spec.annualization

    def full(w_sub: np.ndarray) -> np.ndarray:
        w = np.zeros(len(syms))
        w[problem.keep] = clean(w_sub, problem.bounds)
        return w

    def point(w: np.ndarray) -> FrontierPoint:
        ret = float(mu @ w) * A
        risk = annualise_risk(risk_measure=rm, value=risk_value(risk_measure=rm, weights=w, returns=returns,
                                                                cov=cov, alpha=spec.alpha), annualization=A)
        vol = float(np.sqrt(max(w @ cov @ w, 0.0) * A))
        return FrontierPoint(risk=risk, ret=ret, sharpe=(ret - spec.risk_free_rate) / risk if risk > 0 else 0.0,
                             volatility=vol,
                             weights={s: float(v) for s, v in zip(syms, w) if v > WEIGHT_EPS})

    def solve(obj: Objective, limit: float | None = None) -> np.ndarray:
        return full(optimize_mean_risk(problem, objective=obj, risk_measure=rm, mu=mu[problem.keep],
                                       risk_limit=limit))

    w_min, w_max, w_sharpe = solve(Objective.MIN_RISK), solve(Objective.MAX_RET), solve(Objective.SHARPE)
    r_min = risk_value(risk_measure=rm, weights=w_min, returns=returns, cov=cov, alpha=spec.alpha)
    r_max = risk_value(risk_measure=rm, weights=w_max, returns=returns, cov=cov, alpha=spec.alpha)
    pts = [point(w_min)]
    for limit in np.linspace(r_min, r_max, points)[1:-1]:
        try:
            pts.append(point(solve(Objective.MAX_RET, limit)))
        except SolverError as exc:
            warnings.append(f"frontier point at daily risk {limit:.6g} skipped: {exc}")
    pts.append(point(w_max))
    pts.sort(key=lambda p: (p.risk, p.ret))
    current = None if current_weights is None else point(_current_vector(current_weights, syms))
    return Frontier(risk_measure=rm, model=spec.model, risk_free_rate=spec.risk_free_rate, points=tuple(pts),
                    min_risk=point(w_min),
                    max_sharpe=point(w_sharpe), max_return=point(w_max), current=current,
                    warnings=tuple(warnings))


def _check_request(spec: OptimizationSpec, points: int) -> None:
    if spec.model not in FRONTIER_MODELS:
        raise InputError(
            "the efficient frontier is defined for mean-risk models "
            f"({', '.join(sorted(m.value for m in FRONTIER_MODELS))}), "
            f"not {spec.model.value}"
        )
    if not 2 <= points <= 200:
        raise InputError(f"points must be between 2 and 200, got {points}")


def _frontier_problem(risk_model: RiskModel, spec: OptimizationSpec, warnings: list[str]) -> tuple[Problem, np.ndarray]:
    """The mean-risk problem and the daily expected returns it uses (the BL posterior for model BL)."""
    syms = list(risk_model.symbols)
    mu, notes = expected_mu(risk_model=risk_model, spec=spec)
    warnings.extend(notes)
    bounds = resolve_bounds(spec=spec, symbols=syms)
    check_feasible(bounds=bounds)
    problem = build_problem(risk_model, spec, mu, bounds)
    if spec.model is not Model.BL:
        return problem, mu
    if not spec.benchmark_weights:
        raise InputError("model BL needs benchmark_weights for the equilibrium prior")
    post = black_litterman_posterior(
        symbols=syms, mu=mu, cov=np.asarray(risk_model.cov),
        benchmark=benchmark_vector(symbols=syms, weights=spec.benchmark_weights), views=spec.views,
        n_obs=problem.n_obs, risk_free_rate=spec.risk_free_rate, annualization=spec.annualization,
        tau=spec.bl_tau, risk_aversion=spec.bl_risk_aversion,
    )
    return build_problem(risk_model, spec, post.mu, bounds), post.mu


def _current_vector(current_weights: Mapping[str, float], syms: list[str]) -> np.ndarray:
    """The current portfolio as a weight vector over ``syms`` (fractions; the rest is cash)."""
    unknown = sorted(set(current_weights) - set(syms))
    if unknown:
        raise InputError(f"current_weights name symbol(s) outside the universe: {', '.join(unknown)}")
    wc = np.array([float(current_weights.get(s, 0.0)) for s in syms])
    if (wc < 0).any() or wc.sum() > 1.0 + 1e-6:
        raise InputError(f"current_weights must be >= 0 and sum to at most 1, got sum {wc.sum():.4f}")
    return wc
