"""Target weights through Riskfolio-Lib ``Portfolio.optimization`` under the policy's bounds.

Per-asset bounds and sector caps go through ``rp.assets_constraints`` (``ainequality``/``binequality``):
buyable names ``0 ≤ w ≤ max_single``, names that may not be bought at 0, halted names fixed at their
current weight, each sector ``≤ max_sector``. When the caps cannot absorb the whole budget the Riskfolio
budget is the largest investable fraction and the target holds cash. The tracking-error constraint (MV
only) runs on ``R = √k·[F; 0]`` (``F`` the risk model's factor, ``FᵀF = Σ``, k rows), whose
``RᵀR/(rows − 1) = Σ`` exactly, so Riskfolio's RMS of active returns equals the ex-ante TE on our
covariance (what ``rp.cov_returns`` gives, without its (N+10)×N random matrix); the annual limit is
converted to daily (``/√252``).

Cost (issue 3, acceptance 5): Riskfolio sees only the names that can hold weight (buyable or halted);
every other weight is 0 in any feasible target, so leaving them out is exact (the benchmark's returns
still come from the whole universe). Riskfolio's TE constraint adds a second dense k×N block to the
problem, so it is passed only up to :data:`RISKFOLIO_TE_MAX_ASSETS` names; above that the target is
solved without it (``te_constrained=False``, a warning) and the trade path enforces TE exactly. The MV
risk term's ``scipy.linalg.sqrtm(Σ)`` (a general Schur-based root, the slowest step at large N) is
replaced, for our own Σ only and inside our call only, by a Cholesky factor (Riskfolio uses the root
only as ``G.T @ w``, checked in its source) or else by the principal root through ``eigh``: see
:func:`_psd_sqrtm_for`. Above :data:`WORKING_SET_MIN_ASSETS` names a Classic mean-variance target
(Sharpe, MinRisk, Utility) is solved by Riskfolio on a working set of names and accepted only with a
first-order optimality certificate over every name (:mod:`app.analytics.working_set`); the proposal's
``metadata.stages.target.working_set`` says how it went.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from app.analytics.estimators import RiskModel
from app.analytics.riskfolio_map import TARGET_MODELS, riskfolio_code
from app.analytics.solver_kit import SOLVER, WEIGHT_EPS, clarabel_options
from app.analytics.universe import Universe
from app.analytics.working_set import CERTIFIABLE, MAX_ROUNDS, Polytope, certify, first_working_set, grow
from app.core.errors import InputError, SolverError
from app.core.quiet import quiet
from app.domain.enums import Model, Objective, RiskMeasure

#: Riskfolio's own TE constraint is passed only up to this many names (it doubles the dense part)
RISKFOLIO_TE_MAX_ASSETS = 150
#: above this many names a Classic mean-variance target (Sharpe, MinRisk, Utility) is solved on certified
#: working sets (:mod:`app.analytics.working_set`); at or below it, in one solve over every name
WORKING_SET_MIN_ASSETS = 150

_RP_PORTFOLIO_MODULE = "riskfolio.src.Portfolio"
_PSD_ROOT: ContextVar[tuple[np.ndarray, np.ndarray] | None] = ContextVar("psd_root", default=None)
_HOOK_LOCK = threading.Lock()


def _install_sqrtm_hook() -> bool:
    """Wrap ``sqrtm`` as Riskfolio's Portfolio module sees it: for the one covariance announced by
    :func:`_psd_sqrtm_for` in the current context it returns the precomputed root, for anything
    else (other threads, other matrices, other arguments) it calls the original. Idempotent."""
    mod = sys.modules.get(_RP_PORTFOLIO_MODULE)
    original = getattr(mod, "sqrtm", None)
    if mod is None or original is None:
        return False
    with _HOOK_LOCK:
        original = mod.sqrtm
        if getattr(original, "_dawsos_psd_hook", False):
            return True

        def sqrtm(a, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            known = _PSD_ROOT.get()
            if known is not None and not args and not kwargs:
                cov, root = known
                arr = np.asarray(a)
                if arr.shape == cov.shape and np.array_equal(arr, cov):
                    return root.copy()
            return original(a, *args, **kwargs)

        sqrtm._dawsos_psd_hook = True  # type: ignore[attr-defined]
        sqrtm._dawsos_original = original  # type: ignore[attr-defined]
        mod.sqrtm = sqrtm
    return True


_TRANSPOSED_ONLY: bool | None = None


def _riskfolio_uses_root_transposed() -> bool:
    """True when Riskfolio's ``Portfolio.optimization`` uses ``G = sqrtm(sigma)`` only as ``G.T @ w`` (the MV
    cone ``cp.SOC(g, G.T @ w)``, Riskfolio 7.x): then any ``G`` with ``G·Gᵀ = Σ`` gives the same risk,
    and a triangular one halves the dense part of the problem. Read once from Riskfolio's source."""
    global _TRANSPOSED_ONLY
    if _TRANSPOSED_ONLY is None:
        try:
            import inspect
            import re

            from riskfolio import Portfolio

            src = inspect.getsource(Portfolio.optimization)
            _TRANSPOSED_ONLY = (
                len(re.findall(r"\bG\b", src)) == 2
                and "G = sqrtm(sigma)" in src
                and "cp.SOC(g, G.T @ w)" in src
            )
        except (ImportError, OSError, TypeError):  # pragma: no cover - no source: be safe
            _TRANSPOSED_ONLY = False
    return _TRANSPOSED_ONLY


@contextlib.contextmanager
def _psd_sqrtm_for(cov: np.ndarray):
    """Within the block (this context only), Riskfolio's ``sqrtm(cov)`` returns a precomputed root of
    ``cov`` (symmetric positive definite) instead of ``scipy.linalg.sqrtm``'s general Schur-based one:

    * the lower Cholesky factor ``L`` (``L·Lᵀ = Σ``) when Riskfolio uses the root only as ``G.T @ w``
      (checked in its source, :func:`_riskfolio_uses_root_transposed`): ``‖Lᵀw‖² = wᵀΣw`` exactly, with
      half the nonzeros of a dense root (N = 500: Clarabel 0.5 s instead of 2.6 s);
    * otherwise the principal root ``V·diag(√λ)·Vᵀ`` from ``eigh`` (what ``sqrtm`` returns, faster).
    """
    if not _install_sqrtm_hook():
        yield
        return
    cov = np.array(cov, dtype=float)
    root = None
    if _riskfolio_uses_root_transposed():
        try:
            root = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            root = None
    if root is None:
        lam, vec = np.linalg.eigh(cov)
        root = (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.T
        root = 0.5 * (root + root.T)
    token = _PSD_ROOT.set((cov, root))
    try:
        yield
    finally:
        _PSD_ROOT.reset(token)


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
    #: how a working-set solve went (see :mod:`app.analytics.working_set`), ``None`` when not used
    working_set: str | None = None


def _bounds(universe: Universe) -> tuple[np.ndarray, np.ndarray]:
    lower = np.where(universe.halted, universe.w0, 0.0)
    upper = np.where(universe.halted, universe.w0, np.where(universe.buyable, universe.max_single, 0.0))
    return lower, upper


def _constraint_matrices(rp, universe: Universe, lower: np.ndarray, upper: np.ndarray,
                         active: np.ndarray | None = None):
    """Riskfolio's ``ainequality``/``binequality`` over the ``active`` names (default: all)."""
    active = np.ones(universe.n, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    syms = [s for s, a in zip(universe.symbols, active) if a]
    sectors = [s for s, a in zip(universe.sectors, active) if a]
    classes = pd.DataFrame({"Assets": syms, "Sector": sectors})
    rows = []

    def row(kind, set_, pos, sign, weight):
        rows.append([False, kind, set_, pos, sign, float(weight), "", "", "", ""])

    for i in np.flatnonzero(active):
        row("Assets", "", universe.symbols[i], "<=", upper[i])
        if lower[i] > 0:
            row("Assets", "", universe.symbols[i], ">=", lower[i])
    for sector in sorted(set(sectors)):
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


def _working_set_solve(
    attempt, obj_code: str, *, universe: Universe, risk_model: RiskModel, active: np.ndarray, lower: np.ndarray,
    upper: np.ndarray, budget: float, rf: float, risk_aversion: float,
) -> tuple[np.ndarray | None, str]:
    """Riskfolio's solve on growing working sets until one is certified optimal for every active name.

    ``attempt(obj_code, with_te, mask)`` solves through Riskfolio over the names in ``mask``; ``rf`` is
    daily. Returns ``(raw weights over the universe, note)``, or ``(None, note)`` when no working set was
    certified (the caller then solves over every name)."""
    idx = np.flatnonzero(active)
    cov = np.asarray(risk_model.cov)[np.ix_(idx, idx)]
    mu = np.asarray(risk_model.mu)[idx]
    sectors = np.array(universe.sectors)[idx]
    groups = tuple(
        (np.flatnonzero(sectors == sector), universe.sector_cap(sector)) for sector in sorted(set(sectors))
    )
    polytope = Polytope(lower=lower[idx], upper=upper[idx], groups=groups, budget=budget)
    mask = first_working_set(objective=obj_code, mu=mu, cov=cov, rf=rf, risk_aversion=risk_aversion,
                             polytope=polytope, max_single=universe.max_single)
    for round_ in range(1, MAX_ROUNDS + 1):
        if mask.all():
            return None, f"working set grew to all {idx.size} names: solved over every name"
        full_mask = np.zeros(universe.n, dtype=bool)
        full_mask[idx[mask]] = True
        res, why = attempt(obj_code, False, full_mask)
        if res is None:
            return None, f"working set of {int(mask.sum())} names: {why or 'no solution'}; solved over every name"
        x = res["weights"].reindex([universe.symbols[i] for i in idx]).fillna(0.0).to_numpy(dtype=float).reshape(-1)
        cert = certify(objective=obj_code, x=x, mu=mu, cov=cov, rf=rf, risk_aversion=risk_aversion,
                       polytope=polytope)
        if not np.isfinite(cert.rel_gap):  # e.g. no positive excess return: nothing to certify against
            return None, f"working set of {int(mask.sum())} names could not be certified; solved over every name"
        if cert.optimal:
            raw = np.zeros(universe.n)
            raw[idx] = x
            return raw, (f"{int(mask.sum())} of {idx.size} names, {round_} round(s), "
                         f"certified relative gap {cert.rel_gap:.1e}")
        mask = grow(mask, cert, polytope)
    return None, f"no working set certified in {MAX_ROUNDS} rounds: solved over every name"


#: models whose policy target comes from :mod:`app.analytics.allocation` (fully invested under the caps)
ALLOCATION_TARGET_MODELS: frozenset[Model] = frozenset(
    {Model.MIN_VARIANCE, Model.BL, Model.RP, Model.HRP, Model.HERC, Model.EW, Model.IV, Model.WC, Model.MAX_IR}
)


def _allocation_target(
    *,
    risk_model: RiskModel,
    universe: Universe,
    model: Model,
    objective: Objective,
    risk_measure: RiskMeasure,
    risk_free_rate: float,
    annualization: int,
    risk_aversion: float,
    lower: np.ndarray,
    upper: np.ndarray,
    warnings: list[str],
) -> TargetWeights:
    """Policy target from an allocation model (BL, RP, HRP, ...) under the same bounds and sector caps.

    These models invest the whole budget, so the caps must be able to absorb it; otherwise only the
    Classic model (whose target may hold cash) applies, and the error says so.
    """
    from app.analytics.allocation import OptimizationSpec, group_caps, optimize_portfolio

    if universe.capacity < 1.0 - 1e-9:
        raise InputError(
            f"model={model.value!r} invests the whole budget but the policy's caps absorb at most "
            f"{universe.capacity:.2%}; use model 'Classic', whose target can hold cash"
        )
    syms = list(universe.symbols)
    sectors = dict(zip(syms, universe.sectors))
    spec = OptimizationSpec(
        model=model,
        objective=objective,
        risk_measure=risk_measure,
        risk_aversion=risk_aversion,
        risk_free_rate=risk_free_rate,
        annualization=annualization,
        bounds={s: (float(lo), float(hi)) for s, lo, hi in zip(syms, lower, upper)},
        group_caps=group_caps(kind="sector", membership=sectors, cap=float(universe.max_sector)),
        benchmark_weights={s: float(b) for s, b in zip(syms, universe.bench)},
    )
    result = optimize_portfolio(risk_model=risk_model, spec=spec)
    weights = result.weights.reindex(syms).fillna(0.0).clip(lower=0.0)
    return TargetWeights(
        weights=weights,
        cash_weight=float(1.0 - weights.sum()),
        solver=result.solver,
        status=result.status,
        warnings=tuple(warnings) + tuple(result.warnings),
        te_constrained=False,
        objective=objective.value if model in (Model.BL, Model.WC) else model.value,
    )


@dataclass
class _RiskfolioTarget:
    """One target problem handed to Riskfolio: the names that can hold weight (``active``), their bounds and
    constraint matrices, the TE returns when the TE limit is passed to Riskfolio, and the run's settings."""

    rp: Any
    risk_model: RiskModel
    universe: Universe
    lower: np.ndarray
    upper: np.ndarray
    budget: float
    active: np.ndarray
    model_code: str
    rm: str
    risk_free_rate: float
    annualization: int
    risk_aversion: float
    max_tracking_error: float | None
    use_working_set: bool
    te_returns: pd.DataFrame | None = None
    te_bench: pd.DataFrame | None = None
    working_set_note: str | None = None

    @property
    def syms(self) -> list[str]:
        return list(self.universe.symbols)

    def attempt(self, obj_code: str, with_te: bool, mask: np.ndarray | None = None) -> tuple[Any, str]:
        """Riskfolio's solve over the names in ``mask`` (a subset of ``active``; default: all of them)."""
        rp, risk_model = self.rp, self.risk_model
        mask = self.active if mask is None else mask
        names = [s for s, a in zip(self.syms, mask) if a]
        a_mat, b_mat = _constraint_matrices(rp, self.universe, self.lower, self.upper, mask)
        cov_m = np.asarray(risk_model.cov)[np.ix_(mask, mask)]
        port = rp.Portfolio(returns=self.te_returns if with_te else risk_model.returns[names], sht=False)
        port.mu = pd.DataFrame([np.asarray(risk_model.mu)[mask]], columns=names)
        port.cov = pd.DataFrame(cov_m, index=names, columns=names)
        port.budget = self.budget
        port.upperlng = 1.0
        port.ainequality = a_mat
        port.binequality = b_mat
        port.solvers = [SOLVER]
        port.sol_params = {SOLVER: clarabel_options(len(names))}
        if with_te:
            port.kindbench = False  # the benchmark's "returns" over the whole universe, not just the active names
            port.benchindex = self.te_bench
            port.allowTE = True
            port.TE = float(self.max_tracking_error) / np.sqrt(self.annualization)
        with quiet() as sink, _psd_sqrtm_for(cov_m):  # riskfolio prints, cvxpy deprecation chatter
            try:
                res = port.optimization(
                    model=self.model_code, rm=self.rm, obj=obj_code, rf=self.risk_free_rate / self.annualization,
                    l=self.risk_aversion, hist=True,
                )
            except Exception as exc:  # riskfolio/cvxpy raise many kinds; record and try the next
                return None, f"{type(exc).__name__}: {exc}"
        if res is None:
            return None, sink.getvalue().strip() or "no solution"
        return res, ""

    def solve_once(self, obj_code: str, with_te: bool) -> tuple[np.ndarray | None, str]:
        """``(raw weights over the universe | None, why)``: on certified working sets when that applies."""
        if self.use_working_set and not with_te and obj_code in CERTIFIABLE:
            raw, note = _working_set_solve(
                self.attempt, obj_code, universe=self.universe, risk_model=self.risk_model, active=self.active,
                lower=self.lower, upper=self.upper, budget=self.budget,
                rf=self.risk_free_rate / self.annualization, risk_aversion=self.risk_aversion,
            )
            self.working_set_note = note
            if raw is not None:
                return raw, ""
        res, why = self.attempt(obj_code, with_te)
        if res is None:
            return None, why
        return res["weights"].reindex(self.syms).fillna(0.0).to_numpy(dtype=float).reshape(-1), ""


def _te_returns(risk_model: RiskModel, universe: Universe, active: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Riskfolio's TE inputs whose ex-ante TE is ours on Σ: R = √k·[F; 0] has (k + 1) rows and RᵀR / k = FᵀF = Σ."""
    factor = np.asarray(risk_model.factor)
    k = factor.shape[0]
    R = np.sqrt(k) * np.vstack([factor, np.zeros((1, universe.n))])
    act_syms = [s for s, a in zip(universe.symbols, active) if a]
    te_returns = pd.DataFrame(R[:, active], columns=act_syms)
    return te_returns, pd.DataFrame(R @ np.asarray(universe.bench), index=te_returns.index)


def _trivial_target(universe: Universe, warnings: list[str]) -> TargetWeights:
    """No eligible name to buy: halted names keep their weight, the rest is cash."""
    w = np.where(universe.halted, universe.w0, 0.0)
    warnings.append("no eligible names to buy: the target keeps halted names and holds the rest in cash")
    return TargetWeights(weights=pd.Series(w, index=list(universe.symbols)), cash_weight=float(1.0 - w.sum()),
                         solver="none", status="trivial", warnings=tuple(warnings))


def _check_target_request(model: Model, risk_model: RiskModel, universe: Universe) -> None:
    if model not in TARGET_MODELS and model not in ALLOCATION_TARGET_MODELS:
        raise InputError(
            f"model={model.value!r} is not supported for rebalancing targets; use one of "
            + ", ".join(sorted(m.value for m in TARGET_MODELS | ALLOCATION_TARGET_MODELS))
        )
    if tuple(risk_model.symbols) != tuple(universe.symbols):
        raise InputError("risk model and universe list different symbols")


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
    _check_target_request(model, risk_model, universe)
    warnings: list[str] = []
    lower, upper = _bounds(universe)
    budget = universe.capacity
    if budget < 1.0 - 1e-9:
        warnings.append(
            f"caps let the eligible names absorb at most {budget:.2%} of the portfolio: "
            f"the target holds {1 - budget:.2%} cash"
        )
    if model in ALLOCATION_TARGET_MODELS and universe.buyable.any():
        return _allocation_target(
            risk_model=risk_model, universe=universe, model=model, objective=objective,
            risk_measure=risk_measure, risk_free_rate=risk_free_rate, annualization=annualization,
            risk_aversion=risk_aversion, lower=lower, upper=upper, warnings=warnings,
        )
    if budget - float(lower.sum()) <= 1e-9 or not universe.buyable.any():
        return _trivial_target(universe, warnings)

    import riskfolio as rp  # lazy

    # only names that can hold weight enter Riskfolio's problem (the others are 0 in every feasible target)
    active = upper > 0
    n_active = int(active.sum())
    problem = _RiskfolioTarget(
        rp=rp, risk_model=risk_model, universe=universe, lower=lower, upper=upper, budget=budget, active=active,
        model_code=riskfolio_code(model), rm=riskfolio_code(risk_measure), risk_free_rate=risk_free_rate,
        annualization=annualization, risk_aversion=risk_aversion, max_tracking_error=max_tracking_error,
        use_working_set=(n_active > WORKING_SET_MIN_ASSETS and risk_measure is RiskMeasure.MV
                         and model is Model.CLASSIC),
    )
    use_te = max_tracking_error is not None and risk_measure is RiskMeasure.MV
    if use_te and n_active > RISKFOLIO_TE_MAX_ASSETS:
        use_te = False
        warnings.append(
            f"target solved without Riskfolio's TE constraint ({n_active} names > "
            f"{RISKFOLIO_TE_MAX_ASSETS}: it would dominate the cost); the trade path enforces TE"
        )
    if use_te:
        problem.te_returns, problem.te_bench = _te_returns(risk_model, universe, active)
    return _first_solution(problem, riskfolio_code(objective), objective, use_te, warnings)


def _first_solution(problem: _RiskfolioTarget, obj: str, objective: Objective, use_te: bool,
                    warnings: list[str]) -> TargetWeights:
    """Try the objective with TE (when asked), without it, then MinRisk; the first that solves is the target."""
    plan = [(obj, True)] if use_te else []
    plan.append((obj, False))
    if objective is not Objective.MIN_RISK:
        plan.append(("MinRisk", False))
    tried: list[str] = []
    for obj_code, with_te in plan:
        raw, why = problem.solve_once(obj_code, with_te)
        label = f"{problem.model_code}/{problem.rm}/{obj_code}" + (" with TE" if with_te else "")
        if raw is None:
            tried.append(f"{label} [{SOLVER}]: {why}")
            continue
        if with_te is False and use_te:
            warnings.append(
                f"target with TE <= {problem.max_tracking_error:.2%} infeasible under the caps; target solved "
                "without TE (the trade path enforces TE)"
            )
        if obj_code != obj:
            warnings.append(f"objective {obj} had no solution; target falls back to {obj_code}")
        w = _clean(raw, problem.universe, problem.lower, problem.upper)
        return TargetWeights(
            weights=pd.Series(w, index=problem.syms), cash_weight=float(1.0 - w.sum()), solver=SOLVER,
            status="optimal", warnings=tuple(warnings), te_constrained=with_te, objective=obj_code,
            working_set=problem.working_set_note,
        )
    raise SolverError(
        "target optimisation failed: " + "; ".join(tried), stage="target", tried=tried
    )
