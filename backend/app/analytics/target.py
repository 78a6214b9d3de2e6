"""Target weights through Riskfolio-Lib ``Portfolio.optimization`` under the policy's bounds.

Per-asset bounds and sector caps go through ``rp.assets_constraints`` (``ainequality``/``binequality``):
buyable names ``0 ≤ w ≤ max_single``, names that may not be bought at 0, halted names fixed at their
current weight, each sector ``≤ max_sector``. When the caps cannot absorb the whole budget the Riskfolio
budget is the largest investable fraction and the target holds cash. The tracking-error constraint (MV
only) runs on ``rp.cov_returns(cov)`` so Riskfolio's RMS of active returns equals the ex-ante TE on our
covariance; the annual limit is converted to daily (``/√252``).
"""

from __future__ import annotations

import contextlib
import io
import warnings as warnings_module
from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.analytics.estimators import RiskModel
from app.analytics.riskfolio_map import TARGET_MODELS, riskfolio_code
from app.analytics.universe import Universe
from app.core.errors import InputError, SolverError
from app.domain.enums import Model, Objective, RiskMeasure

SOLVER = "CLARABEL"
WEIGHT_EPS = 1e-9


@dataclass(frozen=True, eq=False)
class TargetWeights:
    """Optimiser target: ``weights`` (fractions of portfolio value, indexed by universe symbol),
    ``cash_weight = 1 - Σ weights`` (fraction), the solver, a status and warnings."""

    weights: pd.Series
    cash_weight: float
    solver: str
    status: str
    warnings: tuple[str, ...] = ()
    te_constrained: bool = False
    objective: str = "Sharpe"


def _bounds(universe: Universe) -> tuple[np.ndarray, np.ndarray]:
    lower = np.where(universe.halted, universe.w0, 0.0)
    upper = np.where(universe.halted, universe.w0, np.where(universe.buyable, universe.max_single, 0.0))
    return lower, upper


def _constraint_matrices(rp, universe: Universe, lower: np.ndarray, upper: np.ndarray):
    syms = list(universe.symbols)
    classes = pd.DataFrame({"Assets": syms, "Sector": list(universe.sectors)})
    rows = []

    def row(kind, set_, pos, sign, weight):
        rows.append([False, kind, set_, pos, sign, float(weight), "", "", "", ""])

    for i, s in enumerate(syms):
        row("Assets", "", s, "<=", upper[i])
        if lower[i] > 0:
            row("Assets", "", s, ">=", lower[i])
    for sector in universe.sector_names:
        row("Classes", "Sector", sector, "<=", universe.sector_cap(sector))
    cols = ["Disabled", "Type", "Set", "Position", "Sign", "Weight", "Type Relative", "Relative Set",
            "Relative", "Factor"]
    table = pd.DataFrame(rows, columns=cols)
    return rp.assets_constraints(table, classes)


def _clean(w: np.ndarray, universe: Universe, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Clip Riskfolio's renormalised weights back inside the bounds and the sector caps."""
    w = np.clip(np.nan_to_num(w, nan=0.0), lower, upper)
    w[w < WEIGHT_EPS] = 0.0
    w = np.where(universe.halted, universe.w0, w)
    for sector in universe.sector_names:
        m = universe.sector_mask(sector)
        cap = universe.sector_cap(sector)
        total = float(w[m].sum())
        if total > cap:
            free = m & ~universe.halted
            room = cap - float(w[m & universe.halted].sum())
            s = float(w[free].sum())
            if s > 0:
                w[free] *= max(room, 0.0) / s
    return w


def solve_target(
    *,
    risk_model: RiskModel,
    universe: Universe,
    model: Model = Model.CLASSIC,
    objective: Objective = Objective.SHARPE,
    risk_measure: RiskMeasure = RiskMeasure.MV,
    risk_free_rate: float = 0.0,
    annualization: int = 252,
    risk_aversion: float = 2.0,
    max_tracking_error: float | None = None,
) -> TargetWeights:
    """Optimal target weights over the universe.

    * ``risk_free_rate``: annual, fraction (0.02 = 2 %); Riskfolio gets ``rf / annualization`` (daily).
    * ``max_tracking_error``: annual TE limit, fraction (0.02 = 2 %), or ``None``; MV only; if the
      TE-constrained problem is infeasible the target is solved without it (warning).
    * ``risk_aversion``: the Utility objective's λ.

    Raises :class:`SolverError` when no attempt gives weights, listing what was tried.
    """
    if model not in TARGET_MODELS:
        raise InputError(
            f"model={model.value!r} is not supported for rebalancing targets; use one of "
            + ", ".join(sorted(m.value for m in TARGET_MODELS))
        )
    if tuple(risk_model.symbols) != tuple(universe.symbols):
        raise InputError("risk model and universe list different symbols")
    warnings: list[str] = []
    lower, upper = _bounds(universe)
    budget = universe.capacity
    if budget < 1.0 - 1e-9:
        warnings.append(
            f"caps let the eligible names absorb at most {budget:.2%} of the portfolio: "
            f"the target holds {1 - budget:.2%} cash"
        )
    free_budget = budget - float(lower.sum())
    if free_budget <= 1e-9 or not universe.buyable.any():
        w = np.where(universe.halted, universe.w0, 0.0)
        warnings.append("no eligible names to buy: the target keeps halted names and holds the rest in cash")
        return TargetWeights(
            weights=pd.Series(w, index=list(universe.symbols)),
            cash_weight=float(1.0 - w.sum()),
            solver="none",
            status="trivial",
            warnings=tuple(warnings),
        )

    import riskfolio as rp  # lazy

    syms = list(universe.symbols)
    A, B = _constraint_matrices(rp, universe, lower, upper)
    rm, obj, model_code = riskfolio_code(risk_measure), riskfolio_code(objective), riskfolio_code(model)
    cov_df = risk_model.cov_frame()
    mu_df = pd.DataFrame([np.array(risk_model.mu)], columns=syms)
    hist_returns = risk_model.returns[syms]
    te_returns = None
    use_te = max_tracking_error is not None and risk_measure is RiskMeasure.MV
    if use_te:
        # rp.cov_returns builds a DataFrame but returns the bare ndarray (riskfolio 7.4): wrap it
        te_returns = pd.DataFrame(np.asarray(rp.cov_returns(cov_df, seed=0)), columns=syms)

    def attempt(obj_code: str, with_te: bool):
        port = rp.Portfolio(returns=te_returns if with_te else hist_returns, sht=False)
        port.mu = mu_df
        port.cov = cov_df
        port.budget = budget
        port.upperlng = 1.0
        port.ainequality = A
        port.binequality = B
        port.solvers = [SOLVER]
        if with_te:
            port.kindbench = True
            port.benchweights = pd.DataFrame(np.array(universe.bench).reshape(-1, 1), index=syms)
            port.allowTE = True
            port.TE = float(max_tracking_error) / np.sqrt(annualization)
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), warnings_module.catch_warnings():
            warnings_module.simplefilter("ignore")  # cvxpy deprecation chatter from riskfolio internals
            try:
                res = port.optimization(
                    model=model_code, rm=rm, obj=obj_code, rf=risk_free_rate / annualization,
                    l=risk_aversion, hist=True,
                )
            except Exception as exc:  # riskfolio/cvxpy raise many kinds; record and try the next
                return None, f"{type(exc).__name__}: {exc}"
        if res is None:
            return None, sink.getvalue().strip() or "no solution"
        return res, ""

    plan = [(obj, True)] if use_te else []
    plan.append((obj, False))
    if objective is not Objective.MIN_RISK:
        plan.append(("MinRisk", False))
    tried: list[str] = []
    for obj_code, with_te in plan:
        res, why = attempt(obj_code, with_te)
        label = f"{model_code}/{rm}/{obj_code}" + (" with TE" if with_te else "")
        if res is None:
            tried.append(f"{label} [{SOLVER}]: {why}")
            continue
        if with_te is False and use_te:
            warnings.append(
                f"target with TE <= {max_tracking_error:.2%} infeasible under the caps; target solved without "
                "TE (the trade path enforces TE)"
            )
        if obj_code != obj:
            warnings.append(f"objective {obj} had no solution; target falls back to {obj_code}")
        raw = res["weights"].reindex(syms).to_numpy(dtype=float)
        w = _clean(raw, universe, lower, upper)
        return TargetWeights(
            weights=pd.Series(w, index=syms),
            cash_weight=float(1.0 - w.sum()),
            solver=SOLVER,
            status="optimal",
            warnings=tuple(warnings),
            te_constrained=with_te,
            objective=obj_code,
        )
    raise SolverError(
        "target optimisation failed: " + "; ".join(tried), stage="target", tried=tried
    )
