"""Stage (c) on certified working sets of traded names (above PATH_WORKING_SET_MIN tradable names)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from app.analytics.engine.objective import RIDGE
from app.analytics.engine.reduction import Reduction
from app.analytics.engine.rules import StageProblem
from app.analytics.engine.stages import PathSetup, Stage, cost_scale, solve_stage, toward_target_on
from app.analytics.solver_kit import SolveStatus
from app.analytics.universe import Universe

#: above this many buyable names stage (c) is solved on certified working sets of traded names
PATH_WORKING_SET_MIN = 150


#: optimality gap (of the stage-(c) objective) at which a working-set solution is accepted: relative to the
#: objective, plus an absolute part in TE² (1e-10 = 0.001 % TE) for objectives near 0 (target reachable)
PATH_CERTIFY_REL_GAP = 1e-6
PATH_CERTIFY_ABS_GAP = 1e-10
#: working-set rounds before stage (c) is solved over every buyable name
PATH_MAX_ROUNDS = 4


def first_traded_set(universe: Universe, t: np.ndarray) -> np.ndarray:
    """Boolean mask of the names stage (c) may trade first: the buyable names farthest from their target
    (``max(100, n/5)`` of them), every name over the single cap and every held name of a sector over its cap.
    Ties break by position (deterministic)."""
    buy = np.asarray(universe.tradable, dtype=bool)
    w0 = np.asarray(universe.w0, dtype=float)
    dev = np.where(buy, np.abs(t - w0), -1.0)
    k = max(100, int(buy.sum()) // 5)
    order = np.lexsort((np.arange(dev.size), -dev))
    free = np.zeros(universe.n, dtype=bool)
    free[order[:k]] = True
    free |= w0 > universe.max_single * (1 - 1e-9)
    free |= (np.asarray(universe.upper) < w0) | (np.asarray(universe.lower) > 0)  # the account's bounds bind
    for sector in universe.sector_names:
        m = universe.sector_mask(sector)
        if float(w0[m].sum()) > universe.max_sector * (1 - 1e-9):
            free |= m & (w0 > 0)
    return free & buy


class Certificate(NamedTuple):
    """A working-set candidate's optimality certificate for stage (c) over every buyable name."""

    #: ``f(w) − (lower bound on f*)`` (absolute, the objective's units); ``math.inf`` when none was found
    gap: float
    #: the candidate's objective value ``f(w)``
    value: float
    #: the certificate LP's weights over the universe (names it trades may join the working set)
    lp_weights: np.ndarray | None

    def accepted(self) -> bool:
        return self.gap <= PATH_CERTIFY_REL_GAP * self.value + PATH_CERTIFY_ABS_GAP

    @property
    def relative_gap(self) -> float:
        return self.gap / self.value if self.value > 0 else math.inf


def certify_toward_target(cp, p_lp: StageProblem, red: Reduction, *, w: np.ndarray, to: float, t: np.ndarray,
                           c_target, c_bench, risk_weight: float, turnover_weight: float, to_bound: float,
                           te_bound: float, options: dict[str, Any]) -> Certificate:
    """The :class:`Certificate` of a stage-(c) candidate ``w`` (all names) for the problem over every buyable
    name (``red``: the full reduction; ``p_lp``: its risk-free problem).

    ``f = risk_weight·TE²_t + turnover_weight·TO + RIDGE·‖w − t‖²`` (objective of (c)) and TE are convex: for
    every feasible ``x``, ``f(x) ≥ f(w) + ∇f(w)ᵀ(x − w)`` and ``TE(w) + ∇TE(w)ᵀ(x − w) ≤ TE(x) ≤ bound``, so the
    LP ``min ∇f(w)ᵀx`` over the linear rules plus that linearised TE row is taken over a superset of the
    feasible set and ``f* ≥ f(w) − gap`` with ``gap = ∇f(w)ᵀw − LP``; at the optimum the gap is 0 (KKT)."""
    wb = w[red.B]
    gw = red.G @ wb
    r = gw - c_target[0]
    grad = 2.0 * risk_weight * (red.G.T @ r) + 2.0 * RIDGE * (wb - t[red.B])
    f = float(risk_weight * (r @ r + c_target[1] ** 2) + turnover_weight * to + RIDGE * np.sum((wb - t[red.B]) ** 2))
    rb = gw - c_bench[0]
    te = math.sqrt(float(rb @ rb) + c_bench[1] ** 2)
    # the two bounds of (c) are relaxed to the candidate's own value when it exceeds them by solver tolerance:
    # still a superset of the feasible set (so still a lower bound), but the LP is not forced to move by the
    # candidate's 1e-9 excess times the large multiplier of a bound that sits at an earlier stage's optimum
    cons = p_lp.constraints + [p_lp.to <= max(to_bound, to)]
    if te > 0:
        cons.append(te + (red.G.T @ rb / te) @ (p_lp.w - wb) <= max(te_bound, te))
    lp = solve_stage(cp, cp.Minimize(grad @ p_lp.w + turnover_weight * p_lp.to), cons, "c_certificate", options,
                problem=p_lp, strict=False)
    if not lp.solved:
        return Certificate(math.inf, f, None)
    gap = max(float(grad @ wb + turnover_weight * to) - lp.value, 0.0)
    return Certificate(gap, f, red.full(np.asarray(p_lp.w.value, dtype=float).reshape(-1)))


def toward_target(s: PathSetup, to_bound: float, te_bound: float, stage: str, *, strict: bool,
                   working_set: bool = False) -> Stage:
    """(c) under both bounds. ``working_set`` (used for the direct attempt, whose bounds are the policy's
    own, above PATH_WORKING_SET_MIN buyable names): on certified working sets of traded names (see
    :func:`certify_toward_target`), or over every buyable name when none is certified. Bounds that come from
    an earlier stage's optimum are thin (a 1e-5 slack around TO*/TE*): their huge multipliers make the
    linearised certificate loose, so those solves always take every name; with sell taxes too (the
    certificate has no tax term)."""
    if not working_set or s.red.B.size <= PATH_WORKING_SET_MIN or s.sell_tax is not None:
        return toward_target_on(s, s.red, to_bound, te_bound, stage, strict=strict, centres=(s.c_target, s.c_bench))
    certified, note = working_set_rounds(s, to_bound, te_bound, stage)
    if certified is not None:
        return certified
    full = toward_target_on(s, s.red, to_bound, te_bound, stage, strict=strict, centres=(s.c_target, s.c_bench))
    return replace(full, working_set=f"{note}: solved over every buyable name")


def working_set_rounds(s: PathSetup, to_bound: float, te_bound: float, stage: str) -> tuple[Stage | None, str]:
    """(c) on growing working sets until one is certified: ``(stage, note)``, or ``(None, why not)``."""
    universe, red = s.universe, s.red
    buy = np.asarray(universe.tradable, dtype=bool)
    free = first_traded_set(universe, s.t)
    for round_ in range(1, PATH_MAX_ROUNDS + 1):
        if free.sum() >= red.B.size:
            return None, "working set grew to every buyable name"
        red_s = Reduction(universe, s.cov, s.annualization, free=free)
        trial = toward_target_on(s, red_s, to_bound, te_bound, stage, strict=False)
        if trial.status is not SolveStatus.OPTIMAL:
            return None, f"working set of {int(free.sum())} names: {trial.status.value}"
        w = trial.weights()
        cert = certify_toward_target(
            s.cp, s.problem(with_risk=False), red, w=w, to=float(trial.problem.to.value), t=s.t,
            c_target=s.c_target, c_bench=s.c_bench, risk_weight=s.objective.risk_weight,
            turnover_weight=s.kappa * cost_scale(s, to_bound), to_bound=to_bound, te_bound=te_bound,
            options=s.options)
        if cert.accepted():
            return replace(trial, working_set=(f"{int(free.sum())} of {red.B.size} names, {round_} round(s), "
                                               f"certified relative gap {cert.relative_gap:.1e}")), ""
        w_lp = cert.lp_weights
        moved = buy & ~free & (np.abs(w_lp - universe.w0) > 1e-9) if w_lp is not None else np.zeros_like(free)
        if not moved.any():
            return None, f"working set of {int(free.sum())} names not certified (relative gap {cert.relative_gap:.1e})"
        free = free | moved
    return None, "no working set certified"
