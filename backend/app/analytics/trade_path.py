"""The trade path: from current weights ``w0`` toward the target ``t`` under the constraint hierarchy.

All problems are convex (cvxpy, solver :data:`~app.analytics.solver_kit.SOLVER` pinned, status checked) over
the universe's post-trade weights ``w`` (fractions of the portfolio value *before* trading). With
``TO = Σ|w − w0|`` (turnover), ``κ = market_impact_bps / 10⁴`` and ``r`` a commission reserve (commission ×
tradable names / value):

hard, always (DESIGN levels 1–4)
    ``w ≥ 0``; halted ``w_i = w0_i``; not buyable (below min quality, unrated) ``w_i = 0`` (forced exits);
    sell-only names (held, but restricted or wash-sale blocked for the account) ``w_i ≤ w0_i``; the account's
    per-name bounds ``lower_i ≤ w_i ≤ upper_i`` (shares a wash sale keeps, shares a harvest sells);
    sell-only names (held, but restricted or wash-sale blocked for the account) ``w_i ≤ w0_i``; the account's
    per-name bounds ``lower_i ≤ w_i ≤ upper_i`` (shares a wash sale keeps, shares a harvest sells);
    cash ``1 − Σw − κ·TO − r ≥ 0``; single cap ``w_i ≤ cap·(1 − κ·TO − r)`` and sector caps likewise, so
    the caps hold on the post-cost portfolio value; **reinvestment** (level 4, unless ``reinvest_proceeds``
    is off): cash after may not exceed ``max(cash before, 1 − capacity)`` (dropped with
    :attr:`PathWarning.REINVESTMENT_DROPPED` if that alone is infeasible).

lexicographic stages
    (a) ``TO* = min TO``; turnover bound ``= max(max_turnover, TO*)``;
    (b) ``TE* = min TE(w)`` under (a)'s bound; TE bound ``= max(limit, TE*)``; when TE* is over the
        limit, ``min TO s.t. TE ≤ limit`` says what turnover the limit would need;
    (c) the objective (:class:`PathObjective`) under both bounds.

objective of (c), in consistent units (``TE²_t = 252·(w − t)ᵀΣ(w − t)``, annual, a fraction²)
    ``closest`` (default): ``TE²_t + σ·(κ·TO + taxes) + RIDGE·‖w − t‖²`` with the tie-break scale ``σ =
    min(1, CLOSEST_TIE_BREAK / ((turnover bound − TO*)·(κ + highest sell tax)))``. Turnover moves at most
    ``bound − TO*`` inside (c), so the term cannot move the optimum beyond rounding: ``TE²_t(w*) ≤ TE²_t(w°) + 1e-8 + RIDGE·‖w° − t‖²`` with
    ``w°`` the TE-closest feasible point — within 0.01 % TE of the target when it is reachable (``w° ≈ t``),
    below whole-share rounding. Costs do not pull the answer away from the target; they (and the ridge, for
    a singular Σ) only break near-ties.
    ``cost_aware``: ``λ·TE²_t + κ·TO + taxes + RIDGE·‖w − t‖²`` — TE² and costs both fractions of the
    portfolio value (taxes: the account's per-name sell tax per unit of weight sold, when lots are known), ``λ`` the tracking-error aversion (default 10.0). Commissions are fixed per trade (not convex):
    afterwards each optional trade whose benefit (the rise of ``λ·TE²_t`` if that name were not traded) is
    below its cost (``κ·|Δw| + commission / value`` + its sell tax) is skipped (the name kept at ``w0``) and (c) re-solved
    on the others, at most :data:`COST_AWARE_MAX_ROUNDS` times. Trades the higher levels require (forced
    exits, names at or over a cap, names of a sector over its cap) are never skipped.

exact fast path
    (a) is a linear programme (no risk term) and always runs first. When ``TO* ≤ max_turnover``, (c) is
    tried directly at the policy's bounds (``max_turnover``, the TE limit), with (a)'s reinvestment floor.
    Its feasibility implies ``TE* ≤ limit`` within ``max_turnover``, i.e. (b) would choose exactly those
    bounds, so an ``optimal`` answer *is* the lexicographic one and (b) is skipped (status
    :attr:`SolveStatus.SKIPPED`; TE* left ``None``). Otherwise (``TO*`` over the limit, or the direct
    attempt not optimal) the full sequence runs.

working sets
    above :data:`PATH_WORKING_SET_MIN` buyable names the direct attempt is first solved with only a working
    set of names traded (the farthest from target, those over a cap; the others fixed at w0) and accepted
    only with a certificate over every name: the LP of (c)'s linearised objective over the linear rules and
    the linearised TE row (a superset of the feasible set, by convexity) bounds ``f* ≥ f(w) − gap``; names
    the LP trades join the set. Accepted when ``gap ≤ PATH_CERTIFY_REL_GAP·f + PATH_CERTIFY_ABS_GAP``.
    Uncertified → every name (``metadata.stages.trade_path.c_direct_working_set`` says which).

scheduling
    (c) runs in a second thread beside the TE reports (turnover the limit would need, smallest TE at any
    turnover), which it does not depend on; Clarabel releases the GIL while it solves. Each is the same
    problem as alone, so the answer does not depend on the order of completion. The direct attempt runs
    alone: beside another solve it is slower (the two vCPUs of the bench VM share one core's FPUs).

Only the tradable names (buyable or sell-only) are variables: every other weight is fixed by levels 1–2 (halted at ``w0``, the
rest at 0), so its share of turnover, sector sums and risk is a constant. The risk terms are exact
second-order cones in the buyable names alone: with ``Σ_BB = L Lᵀ`` (Cholesky) and the fixed part
``d = w_X − a_X`` (``a`` the benchmark or the target), completing the square gives

    ``(w − a)ᵀ Σ (w − a) = ‖Lᵀ w_B − c_a‖² + ρ_a²``,  ``c_a = Lᵀ a_B − L⁻¹ Σ_BX d``,
    ``ρ_a² = dᵀ Σ_XX d − ‖L⁻¹ Σ_BX d‖²`` (a Schur complement, ≥ 0),

so one shared upper-triangular block ``y = √252 · Lᵀ w_B`` (annualised) serves every risk term and no
dense N×N quadratic form is built.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from app.analytics.estimators import RiskModel
from app.analytics.solver_kit import SOLVER, WEIGHT_EPS, SolveStatus, clarabel_options, solve_status
from app.analytics.universe import Universe
from app.core.errors import SolverError
from app.domain.enums import ObjectiveMode

#: relative + absolute slack put on bounds that come from an earlier stage's optimum
REL_SLACK, ABS_SLACK = 1e-5, 1e-7
#: the TE limit used by the path is this fraction of the policy's, to leave room for whole-share rounding
TE_ROUNDING_MARGIN = 0.995
RIDGE = 1e-6
#: closest mode: the most the turnover tie-break may move TE²_t at the optimum (annual, fraction²; 1e-8 is
#: 0.01 % TE when the target is reachable, far less when it is not)
CLOSEST_TIE_BREAK = 1e-8
#: cost-aware mode's default λ (tracking-error aversion, seed 004's default)
DEFAULT_TE_AVERSION = 10.0
#: cost-aware mode: re-solves of (c) after skipping the trades worth less than their cost
COST_AWARE_MAX_ROUNDS = 3
#: a name whose current weight is within 1 % of its cap must trade (costs shrink the post-trade value)
NEAR_CAP = 0.99
#: above this many buyable names stage (c) is solved on certified working sets of traded names
PATH_WORKING_SET_MIN = 150
#: optimality gap (of the stage-(c) objective) at which a working-set solution is accepted: relative to the
#: objective, plus an absolute part in TE² (1e-10 = 0.001 % TE) for objectives near 0 (target reachable)
PATH_CERTIFY_REL_GAP = 1e-6
PATH_CERTIFY_ABS_GAP = 1e-10
#: working-set rounds before stage (c) is solved over every buyable name
PATH_MAX_ROUNDS = 4


class PathWarning(StrEnum):
    """Warnings of the trade path (typed; the value is the sentence shown in the proposal's ``warnings``)."""

    REINVESTMENT_DROPPED = "reinvesting all sale proceeds is infeasible under the caps; cash may rise"
    INACCURATE = "a trade-path stage solved only to reduced accuracy (optimal_inaccurate)"
    NOTHING_TO_BUY = "no buyable names: the path only makes the forced exits"


@dataclass(frozen=True)
class PathObjective:
    """What stage (c) minimises (see the module docstring): ``mode`` and, for ``cost_aware``, ``te_aversion``
    (λ ≥ 0, multiplies the annual TE² to the target; costs are fractions of the portfolio value)."""

    mode: ObjectiveMode = ObjectiveMode.CLOSEST
    te_aversion: float = DEFAULT_TE_AVERSION

    @property
    def risk_weight(self) -> float:
        """Coefficient of ``TE²_t`` in (c)."""
        return 1.0 if self.mode is ObjectiveMode.CLOSEST else float(self.te_aversion)

    def cost_scale(self, cost_rate: float, turnover_span: float) -> float:
        """Multiplier of the cost term (impact ``κ·TO`` + sell taxes) in (c): 1 in ``cost_aware`` mode; in
        ``closest`` mode ``min(1, CLOSEST_TIE_BREAK / (turnover_span · cost_rate))`` with ``cost_rate`` the
        largest cost per unit of turnover (κ + the highest sell tax) and ``turnover_span`` the room turnover
        has in (c) (its bound minus TO*): the term then moves TE²_t by at most CLOSEST_TIE_BREAK. A turnover
        pinned at TO* (the limit out of reach) keeps the full cost, which keeps the solve well conditioned
        and cannot move TE²_t more either."""
        if self.mode is ObjectiveMode.COST_AWARE or cost_rate <= 0:
            return 1.0
        return min(1.0, CLOSEST_TIE_BREAK / (max(float(turnover_span), 1e-12) * float(cost_rate)))

    def turnover_weight(self, kappa: float, turnover_span: float) -> float:
        """Coefficient of turnover in (c) without sell taxes: ``κ · cost_scale(κ, turnover_span)``."""
        return float(kappa) * self.cost_scale(kappa, turnover_span)


@dataclass(frozen=True, eq=False)
class TradePath:
    """Post-trade weights chosen by the path (fractions of the value before trading) and its bounds.

    * ``turnover_bound``: total turnover allowed (fraction; policy limit or the minimum levels 1–3 need);
    * ``te_bound``: annual TE allowed (fraction);
    * ``min_turnover_needed``: TO* of stage (a) (fraction);
    * ``te_min_achievable``: TE* of stage (b), annual (fraction), ``None`` when (b) was skipped;
    * ``turnover_needed_for_te``: turnover the TE limit would need (fraction), ``None`` if not asked,
      ``math.inf`` if no turnover reaches it under the caps;
    * ``te_min_unbounded``: smallest TE at any turnover (annual), when the limit is out of reach;
    * ``objective``: what (c) minimised; ``skipped``: names whose trade was worth less than its cost
      (cost-aware mode; kept at w0);
    * ``reinvest_proceeds``: the level-4 switch as given; ``reinvestment_dropped``: the rule was on but
      infeasible with the higher levels, so the path ran without it (a warning says so);
    * ``statuses``: stage → :class:`SolveStatus`; ``notes``: stage → working-set / skip notes.
    """

    weights: pd.Series
    cash_weight: float
    turnover: float
    turnover_bound: float
    te_bound: float
    min_turnover_needed: float | None
    te_min_achievable: float | None
    turnover_needed_for_te: float | None
    te_min_unbounded: float | None
    turnover_limit_met: bool
    te_limit_met: bool
    objective: PathObjective = field(default_factory=PathObjective)
    reinvest_proceeds: bool = True
    reinvestment_dropped: bool = False
    skipped: tuple[str, ...] = ()
    statuses: dict[str, SolveStatus] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    warnings: tuple[PathWarning, ...] = ()


class _Reduced:
    """The constants of the problem in the buyable names ``B`` (numpy only; see the module docstring)."""

    def __init__(self, universe: Universe, cov: np.ndarray, annualization: int,
                 free: np.ndarray | None = None) -> None:
        n = universe.n
        buy = np.asarray(universe.tradable, dtype=bool)
        #: the variables: tradable names (buyable or sell-only), or only those in ``free`` (a working set; the other
        #: tradable names are then not traded: fixed at w0, their single caps kept as one row on the costs, see
        #: _Problem)
        free_b = buy if free is None else (buy & np.asarray(free, dtype=bool))
        self.B = np.flatnonzero(free_b)
        self.X = np.flatnonzero(~free_b)
        w0 = np.asarray(universe.w0, dtype=float)
        self.w0 = w0
        #: every weight outside B is fixed: halted names (and untraded working-set outsiders) at w0, the others
        #: (forced exits, unbuyable) at 0
        self.fixed = np.where(universe.halted, w0, 0.0)
        untraded = buy & ~free_b
        self.fixed[untraded] = w0[untraded]
        self.fixed[self.B] = 0.0
        self.fixed_cap_max: float | None = float(w0[untraded].max()) if untraded.any() else None
        self.fixed_sum = float(self.fixed.sum())
        self.fixed_turnover = float(np.abs(self.fixed[self.X] - w0[self.X]).sum())
        self.ann = math.sqrt(annualization)
        cov = np.asarray(cov, dtype=float)
        self.cov_xx = cov[np.ix_(self.X, self.X)]
        if self.B.size:
            L = np.linalg.cholesky(cov[np.ix_(self.B, self.B)])
            self.L = L
            self.G = self.ann * L.T  # y = G w_B, annualised
            from scipy.linalg import solve_triangular

            self.Linv_bx = solve_triangular(L, cov[np.ix_(self.B, self.X)], lower=True) if self.X.size else None
        else:
            self.G = np.zeros((0, 0))
            self.Linv_bx = None
        #: per-variable bounds (the account's: sell-only names at most w0, shares kept or sold, see Universe)
        upper = np.where(universe.sell_only, np.minimum(universe.upper, w0), universe.upper)
        self.lower_b, self.upper_b = np.asarray(universe.lower, dtype=float)[self.B], upper[self.B]
        self.sector_rows: list[tuple[np.ndarray, float, float, bool]] = []
        pos = np.full(n, -1)
        pos[self.B] = np.arange(self.B.size)
        for sector in universe.sector_names:
            m = universe.sector_mask(sector)
            members = pos[m & free_b]
            fixed_in = float(self.fixed[m].sum())
            if (m & universe.halted).any():
                self.sector_rows.append((members, fixed_in, universe.sector_cap(sector), False))
            elif (m & buy).any():
                self.sector_rows.append((members, fixed_in, universe.max_sector, True))

    def centre(self, a: np.ndarray) -> tuple[np.ndarray, float]:
        """``(c, ρ)`` with ``(w − a)ᵀ Σ (w − a) · annualization = ‖G w_B − c‖² + ρ²`` for every feasible w."""
        a = np.asarray(a, dtype=float)
        d = self.fixed[self.X] - a[self.X]
        if self.B.size == 0:
            return np.zeros(0), self.ann * math.sqrt(max(float(d @ self.cov_xx @ d), 0.0))
        e = self.Linv_bx @ d if self.Linv_bx is not None else np.zeros(self.B.size)
        c = self.ann * (self.L.T @ a[self.B] - e)
        rho2 = float(d @ self.cov_xx @ d - e @ e) if self.X.size else 0.0
        return c, self.ann * math.sqrt(max(rho2, 0.0))

    def full(self, w_b: np.ndarray) -> np.ndarray:
        w = self.fixed.copy()
        w[self.B] = w_b
        return w


class _Problem:
    """Variables and hard constraints of one stage (cvxpy problems are cheap to build)."""

    def __init__(self, cp, universe: Universe, red: _Reduced, *, impact: float, reserve: float,
                 floor: float | None, with_risk: bool = True):
        self.cp = cp
        self.red = red
        nb = red.B.size
        # buys u and sells v (both >= 0): every constraint stays linear, including the floor
        self.u = cp.Variable(nb, nonneg=True, name="buy")
        self.v = cp.Variable(nb, nonneg=True, name="sell")
        # w a variable of its own (not the expression w0 + u − v), so the dense G multiplies one block, not two
        self.w = cp.Variable(nb, name="w")
        # scalar turnover variable: the cap rows w_i + cap·κ·TO <= cap stay 2-sparse (not N-dense)
        self.to = cp.Variable(name="turnover")
        x = impact * self.to + reserve
        total = cp.sum(self.w) + red.fixed_sum
        cons = [self.w == red.w0[red.B] + self.u - self.v,
                self.to == cp.sum(self.u) + cp.sum(self.v) + red.fixed_turnover, self.w >= 0, total + x <= 1.0]
        if with_risk:
            # one dense (upper-triangular) block G·w_B, shared by every risk term
            self.y = cp.Variable(nb, name="y")
            cons.append(self.y == red.G @ self.w)
        cap = universe.max_single
        cons.append(self.w + cap * x <= cap)
        if red.fixed_cap_max is not None:  # the untraded buyable names' caps: w0_j + cap·x <= cap, the largest
            cons.append(red.fixed_cap_max + cap * x <= cap)
        for members, fixed_in, scap, with_costs in red.sector_rows:
            in_sector = (cp.sum(self.w[members]) if members.size else 0.0) + fixed_in
            cons.append(in_sector + scap * x <= scap if with_costs else in_sector <= scap)
        if floor is not None:
            cons.append(total + x >= floor)
        cons.extend(_bound_rows(self.w, red.lower_b, red.upper_b))
        self.constraints = cons

    def te(self, centre: tuple[np.ndarray, float]):
        """Annual ex-ante TE ``√252·‖F(w − b)‖₂`` as a second-order cone in ``y``."""
        c, rho = centre
        if rho > 0:
            return self.cp.norm(self.cp.hstack([self.y - c, np.array([rho])]), 2)
        return self.cp.norm(self.y - c, 2)

    def risk_distance_sq(self, centre: tuple[np.ndarray, float]):
        """``252·(w − t)ᵀ Σ (w − t)`` up to the constant ``ρ²`` (annual variance)."""
        return self.cp.sum_squares(self.y - centre[0])


def _bound_rows(w, lower: np.ndarray, upper: np.ndarray) -> list:  # noqa: ANN001 - a cvxpy variable
    """``w_i >= lower_i`` where positive and ``w_i <= upper_i`` where finite (the account's per-name bounds)."""
    rows = []
    lo = np.flatnonzero(lower > 0)
    if lo.size:
        rows.append(w[lo] >= lower[lo])
    hi = np.flatnonzero(np.isfinite(upper))
    if hi.size:
        rows.append(w[hi] <= upper[hi])
    return rows


@dataclass(frozen=True, eq=False)
class _Stage:
    """One solved (or failed) stage: the cvxpy problem (variables hold the solution when ``solved``), its
    status as recorded in the proposal's metadata, and why a solver failed (``note``)."""

    problem: _Problem
    prob: Any
    status: SolveStatus
    #: how a working-set solve went (stage (c) above PATH_WORKING_SET_MIN buyable names), else None
    working_set: str | None = None
    note: str | None = None

    @property
    def solved(self) -> bool:
        return self.status.solved

    @property
    def value(self) -> float:
        return float(self.prob.value)

    def weights(self) -> np.ndarray:
        """The stage's post-trade weights over the universe (fractions of the value before trading)."""
        return self.problem.red.full(np.asarray(self.problem.w.value, dtype=float).reshape(-1))


def _solve(cp, objective, constraints, stage: str, options: dict[str, Any], *, problem: _Problem,
           strict: bool = True) -> _Stage:
    """Solve one stage with :data:`SOLVER`. Infeasible → a :class:`_Stage` that is not ``solved``; any other
    failure raises :class:`SolverError` (``strict``) or is returned as :attr:`SolveStatus.SOLVER_FAILED`.

    The solve goes through cvxpy's lower-level steps (problem data → solver → invert → unpack) rather than
    ``Problem.solve``, which only adds a "may be inaccurate" warning (the status says it): so no
    process-wide stdout/warnings state is touched and stages can run in threads at once."""
    prob = cp.Problem(objective, constraints)
    try:
        data, chain, inverse = prob.get_problem_data(SOLVER, solver_opts=options)
        raw = chain.solver.solve_via_data(data, False, False, options)
        solution = chain.invert(raw, inverse)
        if solution.status not in (*cp.settings.SOLUTION_PRESENT, *cp.settings.INF_OR_UNB):
            raise cp.error.SolverError(f"status {solution.status}")
        prob.unpack(solution)
    except cp.error.SolverError as exc:
        if not strict:
            return _Stage(problem, prob, SolveStatus.SOLVER_FAILED, note=str(exc))
        raise SolverError(f"trade path stage {stage}: {SOLVER} failed ({exc})", stage=stage, tried=[SOLVER]) from exc
    status = solve_status(prob.status)
    if status.solved or status.infeasible or not strict:
        return _Stage(problem, prob, status)
    raise SolverError(f"trade path stage {stage}: {SOLVER} returned status {status.value!r}", stage=stage,
                      tried=[SOLVER])


def _reserve_and_floor(universe: Universe, *, commission_per_trade: float, kappa: float) -> tuple[float, float]:
    """``(r, floor)`` of the hard rules (fractions of the value before trading): ``r`` the commission reserve
    (commission × tradable names / value, at most 2 % and half of what halted names and impact leave), ``floor``
    the smallest invested fraction after trading (proceeds reinvested: ``min(1 − cash before, capacity)``)."""
    n_tradable = int((~np.asarray(universe.halted) & (np.asarray(universe.buyable) | (universe.w0 > 0))).sum())
    halted_w = float(universe.w0[universe.halted].sum())
    reserve = min(commission_per_trade * n_tradable / float(universe.value), 0.02,
                  max(0.0, 0.5 * (1 - halted_w - 2 * kappa)))
    floor = min(1.0 - float(universe.cash / universe.value), universe.capacity) - 1e-9
    return reserve, floor


def _first_traded_set(universe: Universe, t: np.ndarray) -> np.ndarray:
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


def _certify_toward_target(cp, p_lp: "_Problem", red: "_Reduced", *, w: np.ndarray, to: float, t: np.ndarray,
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
    lp = _solve(cp, cp.Minimize(grad @ p_lp.w + turnover_weight * p_lp.to), cons, "c_certificate", options,
                problem=p_lp, strict=False)
    if not lp.solved:
        return Certificate(math.inf, f, None)
    gap = max(float(grad @ wb + turnover_weight * to) - lp.value, 0.0)
    return Certificate(gap, f, red.full(np.asarray(p_lp.w.value, dtype=float).reshape(-1)))


def _slack(v: float, abs_slack: float = ABS_SLACK) -> float:
    return v * (1 + REL_SLACK) + abs_slack


@dataclass(frozen=True, eq=False)
class _Setup:
    """Everything the stages share (built once per call; :func:`dataclasses.replace` drops the floor).

    ``t``/``b``: target and benchmark weights (fractions) in universe order; ``kappa``: impact per unit of
    traded value; ``reserve``/``floor``: see :func:`_reserve_and_floor` (``floor`` ``None``: no reinvestment
    rule); ``te_limit``: the policy's TE limit times :data:`TE_ROUNDING_MARGIN` (annual fraction)."""

    cp: Any
    universe: Universe
    cov: np.ndarray
    annualization: int
    t: np.ndarray
    b: np.ndarray
    red: _Reduced
    kappa: float
    commission_fraction: float
    reserve: float
    floor: float | None
    te_limit: float
    objective: PathObjective
    #: TO* of stage (a) (fraction), once known: the closest mode's tie-break is scaled by the room above it
    to_star: float
    #: tax per unit of weight sold, per universe name (fraction ≥ 0), or None (no tax lots known)
    sell_tax: np.ndarray | None
    c_target: tuple[np.ndarray, float]
    c_bench: tuple[np.ndarray, float]
    options: dict[str, Any]

    def problem(self, with_risk: bool = True, on: _Reduced | None = None) -> _Problem:
        """A stage's variables and hard rules, over the buyable names (``on``: a working set's reduction)."""
        return _Problem(self.cp, self.universe, on if on is not None else self.red, impact=self.kappa,
                        reserve=self.reserve, floor=self.floor, with_risk=with_risk)


def _min_turnover(s: _Setup) -> _Stage:
    """(a): ``min TO`` under the hard rules alone (a linear programme)."""
    p = s.problem(with_risk=False)
    return _solve(s.cp, s.cp.Minimize(p.to), p.constraints, "a_min_turnover", s.options, problem=p)


def _turnover_for_te(s: _Setup) -> _Stage:
    """The turnover the TE limit would need: ``min TO s.t. TE ≤ limit``."""
    p = s.problem()
    return _solve(s.cp, s.cp.Minimize(p.to), p.constraints + [p.te(s.c_bench) <= s.te_limit], "b_turnover_for_te",
                  s.options, problem=p)


def _min_te(s: _Setup, to_bound: float | None, stage: str) -> _Stage:
    """(b): ``min TE`` within ``to_bound`` (``None``: at any turnover)."""
    p = s.problem()
    cons = p.constraints + ([p.to <= to_bound] if to_bound is not None else [])
    return _solve(s.cp, s.cp.Minimize(p.te(s.c_bench)), cons, stage, s.options, problem=p)


def _cost_scale(s: _Setup, to_bound: float) -> float:
    """The objective's cost multiplier for a stage (c) whose turnover bound is ``to_bound``."""
    top_tax = float(np.max(s.sell_tax)) if s.sell_tax is not None and s.sell_tax.size else 0.0
    return s.objective.cost_scale(s.kappa + top_tax, to_bound - s.to_star)


def _toward_target_on(s: _Setup, red_s: _Reduced, to_bound: float, te_bound: float, stage: str, *, strict: bool,
                      centres=None) -> _Stage:  # noqa: ANN001 - (c, ρ) pairs of the target and the benchmark
    """(c) under both bounds, with the names of ``red_s`` as variables (objective: :class:`PathObjective`)."""
    cp = s.cp
    p = s.problem(on=red_s)
    ct, cb = centres if centres is not None else (red_s.centre(s.t), red_s.centre(s.b))
    cost = s.kappa * p.to
    if s.sell_tax is not None:
        cost = cost + s.sell_tax[red_s.B] @ p.v
    objective = cp.Minimize(
        s.objective.risk_weight * p.risk_distance_sq(ct) + _cost_scale(s, to_bound) * cost
        + RIDGE * cp.sum_squares(p.w - s.t[red_s.B])
    )
    cons = p.constraints + [p.to <= to_bound, p.te(cb) <= te_bound]
    return _solve(cp, objective, cons, stage, clarabel_options(int(red_s.B.size)), problem=p, strict=strict)


def _toward_target(s: _Setup, to_bound: float, te_bound: float, stage: str, *, strict: bool,
                   working_set: bool = False) -> _Stage:
    """(c) under both bounds. ``working_set`` (used for the direct attempt, whose bounds are the policy's
    own, above PATH_WORKING_SET_MIN buyable names): on certified working sets of traded names (see
    :func:`_certify_toward_target`), or over every buyable name when none is certified. Bounds that come from
    an earlier stage's optimum are thin (a 1e-5 slack around TO*/TE*): their huge multipliers make the
    linearised certificate loose, so those solves always take every name; with sell taxes too (the
    certificate has no tax term)."""
    if not working_set or s.red.B.size <= PATH_WORKING_SET_MIN or s.sell_tax is not None:
        return _toward_target_on(s, s.red, to_bound, te_bound, stage, strict=strict, centres=(s.c_target, s.c_bench))
    certified, note = _working_set_rounds(s, to_bound, te_bound, stage)
    if certified is not None:
        return certified
    full = _toward_target_on(s, s.red, to_bound, te_bound, stage, strict=strict, centres=(s.c_target, s.c_bench))
    return replace(full, working_set=f"{note}: solved over every buyable name")


def _working_set_rounds(s: _Setup, to_bound: float, te_bound: float, stage: str) -> tuple[_Stage | None, str]:
    """(c) on growing working sets until one is certified: ``(stage, note)``, or ``(None, why not)``."""
    universe, red = s.universe, s.red
    buy = np.asarray(universe.tradable, dtype=bool)
    free = _first_traded_set(universe, s.t)
    for round_ in range(1, PATH_MAX_ROUNDS + 1):
        if free.sum() >= red.B.size:
            return None, "working set grew to every buyable name"
        red_s = _Reduced(universe, s.cov, s.annualization, free=free)
        trial = _toward_target_on(s, red_s, to_bound, te_bound, stage, strict=False)
        if trial.status is not SolveStatus.OPTIMAL:
            return None, f"working set of {int(free.sum())} names: {trial.status.value}"
        w = trial.weights()
        cert = _certify_toward_target(
            s.cp, s.problem(with_risk=False), red, w=w, to=float(trial.problem.to.value), t=s.t,
            c_target=s.c_target, c_bench=s.c_bench, risk_weight=s.objective.risk_weight,
            turnover_weight=s.kappa * _cost_scale(s, to_bound), to_bound=to_bound, te_bound=te_bound,
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


def _required_trades(universe: Universe) -> np.ndarray:
    """Mask of the tradable names whose trade the higher levels require (never skipped for cost): at or within
    1 % of the single cap, in a sector over its cap, or with an account bound that moves them (shares a
    harvest sells); forced exits are not tradable (fixed at 0 anyway)."""
    w0 = np.asarray(universe.w0, dtype=float)
    required = w0 > universe.max_single * NEAR_CAP
    for sector in universe.sector_names:
        m = universe.sector_mask(sector)
        if float(w0[m].sum()) > universe.sector_cap(sector) + 1e-12:
            required |= m
    required |= (np.asarray(universe.upper) < w0) | (np.asarray(universe.lower) > w0)
    return required & np.asarray(universe.tradable, dtype=bool)


def _unprofitable(s: _Setup, w: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Mask of the optional traded names of ``w`` whose benefit is below their cost (cost-aware mode).

    benefit of name i's trade ``d_i = w_i − w0_i``: ``λ·(TE²_t(w − d_i e_i) − TE²_t(w)) = λ·(d_i² Σᵃ_ii −
    2 d_i (Σᵃ(w − t))_i)`` (``Σᵃ`` the annual covariance); cost: ``κ·|d_i| + commission / value`` (+ the
    sell tax of a sale)."""
    d = w - np.asarray(s.universe.w0, dtype=float)
    cov_a = s.cov * s.annualization
    lam = s.objective.risk_weight
    grad = cov_a @ (w - s.t)
    benefit = lam * (d * d * np.diag(cov_a) - 2.0 * d * grad)
    cost = s.kappa * np.abs(d) + s.commission_fraction
    if s.sell_tax is not None:
        cost = cost + s.sell_tax * np.maximum(-d, 0.0)
    traded = np.abs(d) > WEIGHT_EPS
    return traded & kept & (benefit < cost)


def _skip_unprofitable(s: _Setup, c: _Stage, to_bound: float, te_bound: float) -> tuple[_Stage, tuple[str, ...],
                                                                                         str | None]:
    """Cost-aware mode: keep every optional trade worth less than its cost at w0 and re-solve (c) on the other
    names, up to :data:`COST_AWARE_MAX_ROUNDS` times: ``(stage, skipped symbols, note)``. A re-solve that is
    not optimal keeps the previous answer (said in the note)."""
    universe = s.universe
    buy = np.asarray(universe.tradable, dtype=bool)
    optional = buy & ~_required_trades(universe)
    skipped = np.zeros(universe.n, dtype=bool)
    note = None
    for _ in range(COST_AWARE_MAX_ROUNDS):
        more = _unprofitable(s, c.weights(), optional & ~skipped)
        if not more.any():
            break
        trial_skipped = skipped | more
        red_s = _Reduced(universe, s.cov, s.annualization, free=buy & ~trial_skipped)
        trial = _toward_target_on(s, red_s, to_bound, te_bound, "c_cost_aware_skip", strict=False)
        if trial.status is not SolveStatus.OPTIMAL:
            note = f"re-solve after skipping {int(more.sum())} trade(s): {trial.status.value}; kept the previous"
            break
        c, skipped = trial, trial_skipped
    names = tuple(sym for sym, k in zip(universe.symbols, skipped) if k)
    if names and note is None:
        note = f"{len(names)} trade(s) worth less than their cost skipped: {', '.join(names)}"
    return c, names, note


def solve_trade_path(
    *,
    universe: Universe,
    risk_model: RiskModel,
    target: pd.Series,
    max_turnover: float,
    max_tracking_error: float,
    market_impact_bps: float,
    commission_per_trade: float = 0.0,
    objective: PathObjective | None = None,
    reinvest_proceeds: bool = True,
    annualization: int = 252,
    direct_attempt: bool = True,
    sell_tax: np.ndarray | None = None,
) -> TradePath:
    """Post-trade weights per the constraint hierarchy (see the module docstring).

    * ``target``: target weights (fractions) indexed by universe symbol;
    * ``max_turnover``: Σ|trade value| / value before, fraction (0.20 = 20 %);
    * ``max_tracking_error``: annual TE, fraction (0.02 = 2 %);
    * ``market_impact_bps``: basis points of |trade value|; ``commission_per_trade``: currency;
    * ``objective``: what stage (c) minimises (default: closest to the target, costs break ties);
    * ``reinvest_proceeds``: hierarchy level 4 (sale proceeds reinvested; cash does not rise);
    * ``direct_attempt``: try (c) at the policy bounds first (exact, see the module docstring); ``False``
      always runs the full sequence (for checks);
    * ``sell_tax``: tax per unit of weight sold, per universe name (fraction ≥ 0; from the account's tax
      lots), part of (c)'s cost term (a tie-break in closest mode), so that, other things equal, the path
      sells what realises less tax; None: no tax lots known (and working sets are used only without it).

    Raises :class:`SolverError` if the solver fails or a problem the hierarchy guarantees feasible is not.
    """
    import cvxpy as cp  # lazy

    if tuple(risk_model.symbols) != tuple(universe.symbols):
        raise SolverError("risk model and universe list different symbols", stage="trade_path")
    t = target.reindex(list(universe.symbols)).fillna(0.0).to_numpy(dtype=float)
    b = np.asarray(universe.bench, dtype=float)
    cov = np.asarray(risk_model.cov, dtype=float)
    red = _Reduced(universe, cov, annualization)
    kappa = float(market_impact_bps) / 1e4
    reserve, floor = _reserve_and_floor(universe, commission_per_trade=float(commission_per_trade), kappa=kappa)
    objective = objective if objective is not None else PathObjective()
    c_bench = red.centre(b)
    if red.B.size == 0:
        return _nothing_to_buy(universe, red, c_bench, max_turnover, max_tracking_error, kappa, objective,
                               reinvest_proceeds)
    s = _Setup(cp=cp, universe=universe, cov=cov, annualization=annualization, t=t, b=b, red=red, kappa=kappa,
               commission_fraction=float(commission_per_trade) / float(universe.value), reserve=reserve,
               floor=floor if reinvest_proceeds else None, te_limit=max_tracking_error * TE_ROUNDING_MARGIN,
               objective=objective, to_star=0.0, c_target=red.centre(t), c_bench=c_bench,
               sell_tax=None if sell_tax is None else np.asarray(sell_tax, dtype=float),
               options=clarabel_options(int(red.B.size)))
    run = _Run(setup=s, reinvest_proceeds=reinvest_proceeds)
    a = run.stage_a()
    to_star = max(a.value, 0.0)
    turnover_limit_met = to_star <= max_turnover + 1e-9
    to_bound = max_turnover if turnover_limit_met else _slack(to_star)
    if direct_attempt and turnover_limit_met:
        direct = run.direct(max_turnover, to_star)
        if direct is not None:
            return direct
    return run.full_sequence(to_star=to_star, to_bound=to_bound, turnover_limit_met=turnover_limit_met)


@dataclass
class _Run:
    """One call's stages in order, with what they record (statuses, notes, warnings)."""

    setup: _Setup
    reinvest_proceeds: bool
    statuses: dict[str, SolveStatus] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    warnings: list[PathWarning] = field(default_factory=list)
    reinvestment_dropped: bool = False
    direct_status: SolveStatus | None = None

    def stage_a(self) -> _Stage:
        """(a) minimum turnover the hard levels need; without the reinvestment floor if that is infeasible."""
        a = _min_turnover(self.setup)
        if not a.solved and self.setup.floor is not None:
            self.warnings.append(PathWarning.REINVESTMENT_DROPPED)
            self.reinvestment_dropped = True
            self.setup = replace(self.setup, floor=None)
            a = _min_turnover(self.setup)
        self.statuses["a_min_turnover"] = a.status
        if not a.solved:
            raise SolverError("trade path: structural constraints, forced exits and caps are jointly infeasible",
                              stage="a_min_turnover", tried=[SOLVER])
        self.setup = replace(self.setup, to_star=max(a.value, 0.0))
        return a

    def direct(self, max_turnover: float, to_star: float) -> TradePath | None:
        """(c) at the policy's own bounds. If feasible, (b) within max_turnover has TE* ≤ te_limit, so the full
        sequence would pick exactly these bounds and solve exactly this problem: its answer, without (b).
        Anything but ``optimal``: ``None`` (the full sequence runs). Alone: a solve beside it would slow it (the
        two cores of a small VM share one physical core's floating-point units)."""
        s = self.setup
        c = _toward_target(s, max_turnover, s.te_limit, "c_direct", strict=False, working_set=True)
        if c.working_set:
            self.notes["c_direct_working_set"] = c.working_set
        if c.status is not SolveStatus.OPTIMAL:
            self.direct_status = c.status
            return None
        self.statuses.update(b_min_te=SolveStatus.SKIPPED, c_direct=SolveStatus.OPTIMAL)
        return self.result(c, to_bound=max_turnover, te_bound=s.te_limit, to_star=to_star, te_star=None,
                           to_needed=None, te_unbounded=None, turnover_limit_met=True, te_limit_met=True)

    def full_sequence(self, *, to_star: float, to_bound: float, turnover_limit_met: bool) -> TradePath:
        """(b) minimum TE within (a)'s bound, then (c) — in a second thread (Clarabel releases the GIL while it
        solves) while this one works out the TE reports, which (c) does not depend on. Each is the same problem
        as alone, so the answer does not depend on the scheduling."""
        s = self.setup
        b_stage = _min_te(s, to_bound, "b_min_te")
        self.statuses["b_min_te"] = b_stage.status
        if not b_stage.solved:
            raise SolverError("trade path stage b: infeasible although stage a was feasible", stage="b_min_te",
                              tried=[SOLVER])
        te_star = max(b_stage.value, 0.0)
        te_limit_met = te_star <= s.te_limit + 1e-12 * s.red.ann
        te_bound = s.te_limit if te_limit_met else _slack(te_star, ABS_SLACK * s.red.ann)  # ABS_SLACK: daily σ
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="trade-path-c") as pool:
            c_future = pool.submit(_toward_target, s, to_bound, te_bound, "c_toward_target", strict=True)
            to_needed, te_unbounded = (None, None) if te_limit_met else self.te_reports()
            c = c_future.result()
        self.statuses["c_toward_target"] = c.status
        if not c.solved:
            raise SolverError("trade path stage c: infeasible although stages a and b were feasible",
                              stage="c_toward_target", tried=[SOLVER])
        if any(st is SolveStatus.OPTIMAL_INACCURATE for st in self.statuses.values()):
            self.warnings.append(PathWarning.INACCURATE)
        if self.direct_status is not None:  # the direct attempt's status (not optimal), recorded after the check
            self.statuses["c_direct"] = self.direct_status
        return self.result(c, to_bound=to_bound, te_bound=te_bound, to_star=to_star, te_star=te_star,
                           to_needed=to_needed, te_unbounded=te_unbounded, turnover_limit_met=turnover_limit_met,
                           te_limit_met=te_limit_met)

    def te_reports(self) -> tuple[float, float | None]:
        """``(turnover the TE limit needs, smallest TE at any turnover)``: ``(inf, TE)`` when unreachable."""
        b2 = _turnover_for_te(self.setup)
        self.statuses["b_turnover_for_te"] = b2.status
        if b2.solved:
            return b2.value, None
        b3 = _min_te(self.setup, None, "b_min_te_unbounded")
        self.statuses["b_min_te_unbounded"] = b3.status
        return math.inf, (b3.value if b3.solved else None)

    def result(self, c: _Stage, *, to_bound: float, te_bound: float, **report: Any) -> TradePath:
        """The :class:`TradePath` of a solved stage (c) (after the cost-aware skips, in that mode)."""
        s = self.setup
        skipped: tuple[str, ...] = ()
        if s.objective.mode is ObjectiveMode.COST_AWARE:
            c, skipped, note = _skip_unprofitable(s, c, to_bound, te_bound)
            if note:
                self.notes["c_cost_aware_skip"] = note
        w = c.weights()
        w[w < WEIGHT_EPS] = 0.0  # w0 + u − v: a wash (u_i, v_i > 0) nets out
        turnover = float(np.abs(w - s.universe.w0).sum())
        return TradePath(
            weights=pd.Series(w, index=list(s.universe.symbols)), cash_weight=float(1.0 - w.sum() - s.kappa * turnover),
            turnover=turnover, turnover_bound=float(to_bound), te_bound=float(te_bound),
            min_turnover_needed=report["to_star"], te_min_achievable=report["te_star"],
            turnover_needed_for_te=report["to_needed"], te_min_unbounded=report["te_unbounded"],
            turnover_limit_met=report["turnover_limit_met"], te_limit_met=report["te_limit_met"],
            objective=s.objective, reinvest_proceeds=self.reinvest_proceeds,
            reinvestment_dropped=self.reinvestment_dropped, skipped=skipped, statuses=dict(self.statuses),
            notes=dict(self.notes), warnings=tuple(self.warnings),
        )


def _nothing_to_buy(universe: Universe, red: _Reduced, c_bench, max_turnover: float, max_tracking_error: float,
                    kappa: float, objective: PathObjective, reinvest_proceeds: bool) -> TradePath:
    """No buyable name: every weight is fixed by levels 1–2 (no solve)."""
    w = red.fixed.copy()
    turnover = float(np.abs(w - universe.w0).sum())
    te = c_bench[1]
    te_met = te <= max_tracking_error * TE_ROUNDING_MARGIN + 1e-12
    return TradePath(
        weights=pd.Series(w, index=list(universe.symbols)),
        cash_weight=float(1.0 - w.sum() - kappa * turnover),
        turnover=turnover,
        turnover_bound=max(max_turnover, turnover),
        te_bound=max(max_tracking_error * TE_ROUNDING_MARGIN, te),
        min_turnover_needed=turnover,
        te_min_achievable=te,
        turnover_needed_for_te=None if te_met else math.inf,
        te_min_unbounded=None if te_met else te,
        turnover_limit_met=turnover <= max_turnover + 1e-9,
        te_limit_met=te_met,
        objective=objective,
        reinvest_proceeds=reinvest_proceeds,
        statuses={"a_min_turnover": SolveStatus.TRIVIAL},
        warnings=(PathWarning.NOTHING_TO_BUY,),
    )
