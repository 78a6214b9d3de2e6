"""The trade path: from current weights ``w0`` toward the target ``t`` under the constraint hierarchy.

All problems are convex (cvxpy, solver CLARABEL pinned, status checked) over the universe's post-trade
weights ``w`` (fractions of the portfolio value *before* trading). With ``TO = Σ|w − w0|`` (turnover),
``κ = market_impact_bps / 10⁴`` and ``r`` a commission reserve (commission × tradable names / value):

hard, always (DESIGN levels 1–3)
    ``w ≥ 0``; halted ``w_i = w0_i``; not buyable (below min quality, unrated) ``w_i = 0`` (forced exits);
    cash ``1 − Σw − κ·TO − r ≥ 0``; single cap ``w_i ≤ cap·(1 − κ·TO − r)`` and sector caps likewise, so
    the caps hold on the post-cost portfolio value; proceeds are reinvested: cash after may not exceed
    ``max(cash before, 1 − capacity)`` (dropped with a warning if that alone is infeasible).

lexicographic stages
    (a) ``TO* = min TO``; turnover bound ``= max(max_turnover, TO*)``;
    (b) ``TE* = min ‖F(w − b)‖`` under (a)'s bound; TE bound ``= max(limit, TE*)``; when TE* is over the
        limit, ``min TO s.t. TE ≤ limit`` says what turnover the limit would need;
    (c) ``min 252·‖F(w − t)‖² + cost_weight·κ·TO + ε‖w − t‖²`` under both bounds.

``F`` is the risk model's factor (``FᵀF = Σ``, daily), so every risk term is a second-order cone and no
dense N×N quadratic form is built.
"""

from __future__ import annotations

import math
import warnings as warnings_module
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from app.analytics.estimators import RiskModel
from app.analytics.universe import Universe
from app.core.errors import SolverError

SOLVER = "CLARABEL"
#: relative + absolute slack put on bounds that come from an earlier stage's optimum
REL_SLACK, ABS_SLACK = 1e-5, 1e-7
#: the TE limit used by the path is this fraction of the policy's, to leave room for whole-share rounding
TE_ROUNDING_MARGIN = 0.995
RIDGE = 1e-6
WEIGHT_EPS = 1e-10


@dataclass(frozen=True, eq=False)
class TradePath:
    """Post-trade weights chosen by the path (fractions of the value before trading) and its bounds.

    * ``turnover_bound``: total turnover allowed (fraction; policy limit or the minimum levels 1–3 need);
    * ``te_bound``: annual TE allowed (fraction);
    * ``min_turnover_needed``: TO* of stage (a) (fraction);
    * ``te_min_achievable``: TE* of stage (b), annual (fraction);
    * ``turnover_needed_for_te``: turnover the TE limit would need (fraction), ``None`` if not asked,
      ``math.inf`` if no turnover reaches it under the caps;
    * ``te_min_unbounded``: smallest TE at any turnover (annual), when the limit is out of reach.
    """

    weights: pd.Series
    cash_weight: float
    turnover: float
    turnover_bound: float
    te_bound: float
    min_turnover_needed: float
    te_min_achievable: float
    turnover_needed_for_te: float | None
    te_min_unbounded: float | None
    turnover_limit_met: bool
    te_limit_met: bool
    statuses: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


class _Problem:
    """The common variables and hard constraints, rebuilt per stage (cvxpy problems are cheap to build)."""

    def __init__(self, cp, universe: Universe, factor: np.ndarray, *, impact: float, reserve: float,
                 floor: float | None, with_risk: bool = True):
        self.cp = cp
        n = universe.n
        # buys u and sells v (both >= 0): every constraint stays linear, including the floor
        self.u = cp.Variable(n, nonneg=True, name="buy")
        self.v = cp.Variable(n, nonneg=True, name="sell")
        w0 = np.asarray(universe.w0, dtype=float)
        self.w = cp.Variable(n, name="w")
        self.w0 = w0
        self.F = factor
        # one dense block F·w, shared by every risk term (y = F w, k equality rows)
        self.y = cp.Variable(factor.shape[0], name="y")
        # scalar turnover variable: the cap rows w_i + cap·κ·TO <= cap stay 2-sparse (not N-dense)
        self.to = cp.Variable(name="turnover")
        x = impact * self.to + reserve
        fixed = ~np.asarray(universe.buyable)
        fixed_vals = np.where(universe.halted, w0, 0.0)
        cons = [self.w == w0 + self.u - self.v, self.to == cp.sum(self.u) + cp.sum(self.v), self.w >= 0,
                cp.sum(self.w) + x <= 1.0]
        if with_risk:
            cons.append(self.y == factor @ self.w)
        if fixed.any():
            idx = np.flatnonzero(fixed)
            cons.append(self.w[idx] == fixed_vals[idx])
        buy = np.flatnonzero(universe.buyable)
        if buy.size:
            cap = universe.max_single
            cons.append(self.w[buy] + cap * x <= cap)
        for sector in universe.sector_names:
            m = universe.sector_mask(sector)
            if (m & universe.halted).any():
                cons.append(cp.sum(self.w[np.flatnonzero(m)]) <= universe.sector_cap(sector))
            elif (m & universe.buyable).any():
                cap = universe.max_sector
                cons.append(cp.sum(self.w[np.flatnonzero(m)]) + cap * x <= cap)
        if floor is not None:
            cons.append(cp.sum(self.w) + x >= floor)
        self.constraints = cons

    def te(self, bench: np.ndarray):
        """Daily ex-ante TE ‖F(w − b)‖₂ = ‖y − F b‖₂."""
        return self.cp.norm(self.y - self.F @ bench, 2)

    def risk_distance_sq(self, target: np.ndarray):
        """(w − t)ᵀ Σ (w − t) = ‖y − F t‖² (daily variance)."""
        return self.cp.sum_squares(self.y - self.F @ target)


def _solve(cp, objective, constraints, stage: str, statuses: dict[str, str]):
    prob = cp.Problem(objective, constraints)
    try:
        with warnings_module.catch_warnings():
            warnings_module.simplefilter("ignore")  # "may be inaccurate": the status says it, recorded below
            prob.solve(solver=SOLVER)
    except cp.error.SolverError as exc:
        raise SolverError(f"trade path stage {stage}: {SOLVER} failed ({exc})", stage=stage, tried=[SOLVER]) from exc
    statuses[stage] = prob.status
    if prob.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        return prob
    if prob.status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
        return None
    raise SolverError(
        f"trade path stage {stage}: {SOLVER} returned status {prob.status!r}", stage=stage, tried=[SOLVER]
    )


def _slack(v: float) -> float:
    return v * (1 + REL_SLACK) + ABS_SLACK


def solve_trade_path(
    *,
    universe: Universe,
    risk_model: RiskModel,
    target: pd.Series,
    max_turnover: float,
    max_tracking_error: float,
    market_impact_bps: float,
    commission_per_trade: float = 0.0,
    cost_weight: float = 1.0,
    annualization: int = 252,
) -> TradePath:
    """Post-trade weights per the constraint hierarchy (see the module docstring).

    * ``target``: target weights (fractions) indexed by universe symbol;
    * ``max_turnover``: Σ|trade value| / value before, fraction (0.20 = 20 %);
    * ``max_tracking_error``: annual TE, fraction (0.02 = 2 %);
    * ``market_impact_bps``: basis points of |trade value|; ``commission_per_trade``: currency;
    * ``cost_weight``: weight of the linear cost estimate in the final objective.

    Raises :class:`SolverError` if CLARABEL fails or a problem the hierarchy guarantees feasible is not.
    """
    import cvxpy as cp  # lazy

    if tuple(risk_model.symbols) != tuple(universe.symbols):
        raise SolverError("risk model and universe list different symbols", stage="trade_path")
    t = target.reindex(list(universe.symbols)).fillna(0.0).to_numpy(dtype=float)
    b = np.asarray(universe.bench, dtype=float)
    F = np.asarray(risk_model.factor)
    ann = math.sqrt(annualization)
    kappa = float(market_impact_bps) / 1e4
    warnings: list[str] = []
    statuses: dict[str, str] = {}
    value = float(universe.value)
    n_tradable = int((~np.asarray(universe.halted) & (np.asarray(universe.buyable) | (universe.w0 > 0))).sum())
    halted_w = float(universe.w0[universe.halted].sum())
    reserve = min(float(commission_per_trade) * n_tradable / value, 0.02, max(0.0, 0.5 * (1 - halted_w - 2 * kappa)))
    cash0 = float(universe.cash / universe.value)
    floor: float | None = min(1.0 - cash0, universe.capacity) - 1e-9

    def problem(with_risk: bool = True) -> "_Problem":
        return _Problem(cp, universe, F, impact=kappa, reserve=reserve, floor=floor, with_risk=with_risk)

    # (a) minimum turnover the hard levels need
    p = problem(with_risk=False)
    res = _solve(cp, cp.Minimize(p.to), p.constraints, "a_min_turnover", statuses)
    if res is None and floor is not None:
        warnings.append("reinvesting all sale proceeds is infeasible under the caps; cash may rise")
        floor = None
        p = problem(with_risk=False)
        res = _solve(cp, cp.Minimize(p.to), p.constraints, "a_min_turnover", statuses)
    if res is None:
        raise SolverError(
            "trade path: structural constraints, forced exits and caps are jointly infeasible",
            stage="a_min_turnover", tried=[SOLVER],
        )
    to_star = max(float(res.value), 0.0)
    turnover_limit_met = to_star <= max_turnover + 1e-9
    to_bound = max_turnover if turnover_limit_met else _slack(to_star)

    # (b) minimum TE within that turnover
    p = problem()
    res = _solve(cp, cp.Minimize(p.te(b)), p.constraints + [p.to <= to_bound], "b_min_te", statuses)
    if res is None:
        raise SolverError("trade path stage b: infeasible although stage a was feasible", stage="b_min_te",
                          tried=[SOLVER])
    te_star_d = max(float(res.value), 0.0)
    te_limit_d = max_tracking_error * TE_ROUNDING_MARGIN / ann
    te_limit_met = te_star_d <= te_limit_d + 1e-12
    te_bound_d = te_limit_d if te_limit_met else _slack(te_star_d)
    to_needed: float | None = None
    te_unbounded: float | None = None
    if not te_limit_met:
        p = problem()
        res = _solve(cp, cp.Minimize(p.to), p.constraints + [p.te(b) <= te_limit_d], "b_turnover_for_te", statuses)
        if res is not None:
            to_needed = float(res.value)
        else:
            to_needed = math.inf
            p = problem()
            res = _solve(cp, cp.Minimize(p.te(b)), p.constraints, "b_min_te_unbounded", statuses)
            te_unbounded = float(res.value) * ann if res is not None else None

    # (c) closest to the target in the risk metric, net of costs
    p = problem()
    dist = p.w - t
    objective = cp.Minimize(
        annualization * p.risk_distance_sq(t) + cost_weight * kappa * p.to + RIDGE * cp.sum_squares(dist)
    )
    cons = p.constraints + [p.to <= to_bound, p.te(b) <= te_bound_d]
    res = _solve(cp, objective, cons, "c_toward_target", statuses)
    if res is None:
        raise SolverError("trade path stage c: infeasible although stages a and b were feasible",
                          stage="c_toward_target", tried=[SOLVER])
    if any(s == cp.OPTIMAL_INACCURATE for s in statuses.values()):
        warnings.append("a trade-path stage solved only to reduced accuracy (optimal_inaccurate)")
    w = np.asarray(p.w.value, dtype=float).reshape(-1)  # w0 + u - v: a wash (u_i, v_i > 0) nets out
    w[w < WEIGHT_EPS] = 0.0
    w = np.where(universe.halted, universe.w0, np.where(universe.buyable, w, 0.0))
    turnover = float(np.abs(w - universe.w0).sum())
    return TradePath(
        weights=pd.Series(w, index=list(universe.symbols)),
        cash_weight=float(1.0 - w.sum() - kappa * turnover),
        turnover=turnover,
        turnover_bound=float(to_bound),
        te_bound=float(te_bound_d * ann),
        min_turnover_needed=to_star,
        te_min_achievable=te_star_d * ann,
        turnover_needed_for_te=to_needed,
        te_min_unbounded=te_unbounded,
        turnover_limit_met=turnover_limit_met,
        te_limit_met=te_limit_met,
        statuses=statuses,
        warnings=tuple(warnings),
    )
