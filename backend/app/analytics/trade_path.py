"""The trade path: from current weights ``w0`` toward the target ``t`` under the constraint hierarchy.

All problems are convex (cvxpy, solver CLARABEL pinned, status checked) over the universe's post-trade
weights ``w`` (fractions of the portfolio value *before* trading). With ``TO = Σ|w − w0|`` (turnover),
``κ = market_impact_bps / 10⁴`` and ``r`` a commission reserve (commission × tradable names / value):

hard, always (DESIGN levels 1–3)
    ``w ≥ 0``; halted ``w_i = w0_i``; not buyable (below min quality, unrated) ``w_i = 0`` (forced exits);
    sell-only names (held, but restricted or wash-sale blocked for the account) ``w_i ≤ w0_i``; the account's
    per-name bounds ``lower_i ≤ w_i ≤ upper_i`` (shares a wash sale keeps, shares a harvest sells);
    cash ``1 − Σw − κ·TO − r ≥ 0``; single cap ``w_i ≤ cap·(1 − κ·TO − r)`` and sector caps likewise, so
    the caps hold on the post-cost portfolio value; proceeds are reinvested: cash after may not exceed
    ``max(cash before, 1 − capacity)`` (dropped with a warning if that alone is infeasible).

lexicographic stages
    (a) ``TO* = min TO``; turnover bound ``= max(max_turnover, TO*)``;
    (b) ``TE* = min TE(w)`` under (a)'s bound; TE bound ``= max(limit, TE*)``; when TE* is over the
        limit, ``min TO s.t. TE ≤ limit`` says what turnover the limit would need;
    (c) ``min ‖w − t‖²_Σ,annual + cost_weight·κ·TO + ε‖w − t‖²`` under both bounds.

exact fast path
    (a) is a linear programme (no risk term) and always runs first. When ``TO* ≤ max_turnover``, (c) is
    tried directly at the policy's bounds (``max_turnover``, the TE limit), with (a)'s reinvestment floor.
    Its feasibility implies ``TE* ≤ limit`` within ``max_turnover``, i.e. (b) would choose exactly those
    bounds, so an ``optimal`` answer *is* the lexicographic one and (b) is skipped (status ``skipped (limits
    reachable)``; TE* left ``None``). Otherwise (``TO*`` over the limit, or the direct attempt not optimal)
    the full sequence runs.

working sets
    above :data:`PATH_WORKING_SET_MIN` buyable names the direct attempt is first solved with only a working
    set of names traded (the farthest from target, those over a cap; the others fixed at w0) and accepted
    only with a certificate over every name: the LP of (c)'s linearised objective over the linear rules and
    the linearised TE row (a superset of the feasible set, by convexity) bounds ``f* ≥ f(w) − gap``; names
    the LP trades join the set. Uncertified → every name (``metadata.stages.trade_path.c_direct_working_set``
    says which).

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
#: up to this many free names Clarabel's single-threaded QDLDL factorises faster than its default (faer,
#: multithreaded supernodal) on these problems; above it faer wins (measured with bench/bench_propose.py:
#: N = 500 trade path 2.2 s → 1.4 s, N = 2000 49 s with faer vs 64 s with QDLDL)
QDLDL_MAX_N = 1000
#: above this many buyable names stage (c) is solved on certified working sets of traded names
PATH_WORKING_SET_MIN = 150
#: relative optimality gap (of the stage-(c) objective) at which a working-set solution is accepted
PATH_CERTIFY_REL_GAP = 1e-6
#: working-set rounds before stage (c) is solved over every buyable name
PATH_MAX_ROUNDS = 4


def clarabel_options(n_free: int) -> dict[str, Any]:
    """Clarabel settings for a problem with ``n_free`` free weights (same answer either way, only speed)."""
    return {"direct_solve_method": "qdldl"} if n_free <= QDLDL_MAX_N else {}


@dataclass(frozen=True, eq=False)
class TradePath:
    """Post-trade weights chosen by the path (fractions of the value before trading) and its bounds.

    * ``turnover_bound``: total turnover allowed (fraction; policy limit or the minimum levels 1–3 need);
    * ``te_bound``: annual TE allowed (fraction);
    * ``min_turnover_needed``: TO* of stage (a) (fraction);
    * ``te_min_achievable``: TE* of stage (b), annual (fraction), ``None`` when (b) was skipped;
    * ``turnover_needed_for_te``: turnover the TE limit would need (fraction), ``None`` if not asked,
      ``math.inf`` if no turnover reaches it under the caps;
    * ``te_min_unbounded``: smallest TE at any turnover (annual), when the limit is out of reach.
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
    statuses: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


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
    """One solved (or failed) stage: the cvxpy problem (variables hold the solution when ``solved``) and
    the status as recorded in the proposal's metadata."""

    problem: _Problem
    prob: Any
    status: str
    #: how a working-set solve went (stage (c) above PATH_WORKING_SET_MIN buyable names), else None
    working_set: str | None = None

    @property
    def solved(self) -> bool:
        return self.status in ("optimal", "optimal_inaccurate")

    @property
    def value(self) -> float:
        return float(self.prob.value)


def _solve(cp, objective, constraints, stage: str, options: dict[str, Any], *, problem: _Problem,
           strict: bool = True) -> _Stage:
    """Solve one stage with CLARABEL. Infeasible → a :class:`_Stage` that is not ``solved``; any other failure
    raises :class:`SolverError` (``strict``) or is returned as status ``solver failed (...)``.

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
            return _Stage(problem, prob, f"solver failed ({exc})")
        raise SolverError(f"trade path stage {stage}: {SOLVER} failed ({exc})", stage=stage, tried=[SOLVER]) from exc
    status = str(prob.status)
    if status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE, cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE) or not strict:
        return _Stage(problem, prob, status)
    raise SolverError(f"trade path stage {stage}: {SOLVER} returned status {status!r}", stage=stage, tried=[SOLVER])


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


def _certify_toward_target(cp, p_lp: "_Problem", red: "_Reduced", *, w: np.ndarray, to: float, t: np.ndarray,
                           c_target, c_bench, cost: float, to_bound: float, te_bound: float,
                           options: dict[str, Any]) -> tuple[float, np.ndarray | None]:
    """``(relative gap, LP weights over the universe)`` of a stage-(c) candidate ``w`` (all names) for the
    problem over every buyable name (``red``: the full reduction; ``p_lp``: its risk-free problem).

    ``f`` (objective of (c)) and TE are convex: for every feasible ``x``, ``f(x) ≥ f(w) + ∇f(w)ᵀ(x − w)`` and
    ``TE(w) + ∇TE(w)ᵀ(x − w) ≤ TE(x) ≤ bound``, so the LP ``min ∇f(w)ᵀx`` over the linear rules plus that
    linearised TE row is taken over a superset of the feasible set and ``f* ≥ f(w) − gap`` with
    ``gap = ∇f(w)ᵀw − LP``; at the optimum the gap is 0 (KKT). Relative to ``f(w)``."""
    wb = w[red.B]
    gw = red.G @ wb
    r = gw - c_target[0]
    grad = 2.0 * (red.G.T @ r) + 2.0 * RIDGE * (wb - t[red.B])
    f = float(r @ r + c_target[1] ** 2 + cost * to + RIDGE * np.sum((wb - t[red.B]) ** 2))
    rb = gw - c_bench[0]
    te = math.sqrt(float(rb @ rb) + c_bench[1] ** 2)
    # the two bounds of (c) are relaxed to the candidate's own value when it exceeds them by solver tolerance:
    # still a superset of the feasible set (so still a lower bound), but the LP is not forced to move by the
    # candidate's 1e-9 excess times the large multiplier of a bound that sits at an earlier stage's optimum
    cons = p_lp.constraints + [p_lp.to <= max(to_bound, to)]
    if te > 0:
        cons.append(te + (red.G.T @ rb / te) @ (p_lp.w - wb) <= max(te_bound, te))
    lp = _solve(cp, cp.Minimize(grad @ p_lp.w + cost * p_lp.to), cons, "c_certificate", options, problem=p_lp,
                strict=False)
    if not lp.solved or f <= 0:
        return math.inf, None
    gap = max(float(grad @ wb + cost * to) - lp.value, 0.0)
    return gap / f, red.full(np.asarray(p_lp.w.value, dtype=float).reshape(-1))


def _slack(v: float, abs_slack: float = ABS_SLACK) -> float:
    return v * (1 + REL_SLACK) + abs_slack


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
    direct_attempt: bool = True,
    sell_tax: np.ndarray | None = None,
) -> TradePath:
    """Post-trade weights per the constraint hierarchy (see the module docstring).

    * ``target``: target weights (fractions) indexed by universe symbol;
    * ``max_turnover``: Σ|trade value| / value before, fraction (0.20 = 20 %);
    * ``max_tracking_error``: annual TE, fraction (0.02 = 2 %);
    * ``market_impact_bps``: basis points of |trade value|; ``commission_per_trade``: currency;
    * ``cost_weight``: weight of the linear cost estimate in the final objective;
    * ``direct_attempt``: try (c) at the policy bounds first (exact, see the module docstring); ``False``
      always runs the full sequence (for checks);
    * ``sell_tax``: tax per unit of weight sold, per universe name (fraction ≥ 0; from the account's tax
      lots), added to (c)'s cost term with ``cost_weight`` so that, other things equal, the path sells what
      realises less tax; None: no tax lots known (and working sets are used only without it).

    Raises :class:`SolverError` if CLARABEL fails or a problem the hierarchy guarantees feasible is not.
    """
    import cvxpy as cp  # lazy

    if tuple(risk_model.symbols) != tuple(universe.symbols):
        raise SolverError("risk model and universe list different symbols", stage="trade_path")
    t = target.reindex(list(universe.symbols)).fillna(0.0).to_numpy(dtype=float)
    b = np.asarray(universe.bench, dtype=float)
    red = _Reduced(universe, np.asarray(risk_model.cov), annualization)
    ann = red.ann
    te_abs_slack = ABS_SLACK * ann  # ABS_SLACK is daily σ: the same slack, annualised
    kappa = float(market_impact_bps) / 1e4
    warnings: list[str] = []
    statuses: dict[str, str] = {}
    reserve, floor_at_least = _reserve_and_floor(universe, commission_per_trade=float(commission_per_trade),
                                                 kappa=kappa)
    floor: float | None = floor_at_least  # dropped (None) when reinvesting everything is infeasible
    opts = clarabel_options(int(red.B.size))
    c_bench = red.centre(b)
    c_target = red.centre(t)

    if red.B.size == 0:
        return _nothing_to_buy(universe, red, c_bench, max_turnover, max_tracking_error, kappa)

    def problem(with_risk: bool = True, on: _Reduced = red) -> _Problem:
        """A stage's variables and hard rules, over the buyable names (``on``: a working set's reduction)."""
        return _Problem(cp, universe, on, impact=kappa, reserve=reserve, floor=floor, with_risk=with_risk)

    def min_turnover() -> _Stage:
        """(a): ``min TO`` under the hard rules alone."""
        p = problem(with_risk=False)
        return _solve(cp, cp.Minimize(p.to), p.constraints, "a_min_turnover", opts, problem=p)

    def turnover_for_te() -> _Stage:
        p = problem()
        return _solve(cp, cp.Minimize(p.to), p.constraints + [p.te(c_bench) <= te_limit], "b_turnover_for_te",
                      opts, problem=p)

    def min_te(to_bound: float | None, stage: str) -> _Stage:
        """(b): ``min TE`` within ``to_bound`` (``None``: at any turnover)."""
        p = problem()
        cons = p.constraints + ([p.to <= to_bound] if to_bound is not None else [])
        return _solve(cp, cp.Minimize(p.te(c_bench)), cons, stage, opts, problem=p)

    def toward_target_on(red_s: _Reduced, to_bound: float, te_bound: float, stage: str, *, strict: bool,
                         centres=None) -> _Stage:
        """(c) under both bounds, with the names of ``red_s`` as variables."""
        p = problem(on=red_s)
        ct, cb = centres if centres is not None else (red_s.centre(t), red_s.centre(b))
        cost = cost_weight * kappa * p.to
        if sell_tax is not None:
            cost = cost + cost_weight * (np.asarray(sell_tax, dtype=float)[red_s.B] @ p.v)
        objective = cp.Minimize(p.risk_distance_sq(ct) + cost + RIDGE * cp.sum_squares(p.w - t[red_s.B]))
        cons = p.constraints + [p.to <= to_bound, p.te(cb) <= te_bound]
        return _solve(cp, objective, cons, stage, clarabel_options(int(red_s.B.size)), problem=p, strict=strict)

    def toward_target(to_bound: float, te_bound: float, stage: str, *, strict: bool,
                      working_set: bool = False) -> _Stage:
        """(c) under both bounds. ``working_set`` (used for the direct attempt, whose bounds are the policy's
        own, above PATH_WORKING_SET_MIN buyable names): on certified working sets of traded names (see
        _certify_toward_target), or over every buyable name when none is certified. Bounds that come from an
        earlier stage's optimum are thin (a 1e-5 slack around TO*/TE*): their huge multipliers make the
        linearised certificate loose, so those solves always take every name."""
        if not working_set or red.B.size <= PATH_WORKING_SET_MIN or sell_tax is not None:
            return toward_target_on(red, to_bound, te_bound, stage, strict=strict, centres=(c_target, c_bench))
        buy = np.asarray(universe.tradable, dtype=bool)
        free = _first_traded_set(universe, t)
        note = "no working set certified"
        for round_ in range(1, PATH_MAX_ROUNDS + 1):
            if free.sum() >= red.B.size:
                note = "working set grew to every buyable name"
                break
            red_s = _Reduced(universe, risk_model.cov, annualization, free=free)
            trial = toward_target_on(red_s, to_bound, te_bound, stage, strict=False)
            if trial.status != cp.OPTIMAL:
                note = f"working set of {int(free.sum())} names: {trial.status}"
                break
            w = red_s.full(np.asarray(trial.problem.w.value, dtype=float).reshape(-1))
            rel, w_lp = _certify_toward_target(
                cp, problem(with_risk=False), red, w=w, to=float(trial.problem.to.value), t=t, c_target=c_target,
                c_bench=c_bench, cost=cost_weight * kappa, to_bound=to_bound, te_bound=te_bound, options=opts)
            if rel <= PATH_CERTIFY_REL_GAP:
                return replace(trial, working_set=(
                    f"{int(free.sum())} of {red.B.size} names, {round_} round(s), certified relative gap {rel:.1e}"))
            moved = buy & ~free & (np.abs(w_lp - universe.w0) > 1e-9) if w_lp is not None else np.zeros_like(free)
            if not moved.any():
                note = f"working set of {int(free.sum())} names not certified (relative gap {rel:.1e})"
                break
            free = free | moved
        full = toward_target_on(red, to_bound, te_bound, stage, strict=strict, centres=(c_target, c_bench))
        return replace(full, working_set=f"{note}: solved over every buyable name")

    te_limit = max_tracking_error * TE_ROUNDING_MARGIN

    # (a) minimum turnover the hard levels need (a linear programme: cheap next to the risk stages)
    a = min_turnover()
    if not a.solved and floor is not None:
        warnings.append("reinvesting all sale proceeds is infeasible under the caps; cash may rise")
        floor = None
        a = min_turnover()
    statuses["a_min_turnover"] = a.status
    if not a.solved:
        raise SolverError(
            "trade path: structural constraints, forced exits and caps are jointly infeasible",
            stage="a_min_turnover", tried=[SOLVER],
        )
    to_star = max(a.value, 0.0)
    turnover_limit_met = to_star <= max_turnover + 1e-9
    to_bound = max_turnover if turnover_limit_met else _slack(to_star)

    # direct attempt, when the turnover limit is reachable: (c) at the policy's own bounds. If that is feasible,
    # (b) within max_turnover has TE* <= te_limit, so the sequence below would pick exactly these bounds and
    # solve exactly this problem: its answer, without (b). Anything but `optimal` (infeasible, inaccurate,
    # solver failure): the full sequence, unchanged. Alone (a solve beside it would slow it: the two cores of
    # a small VM share one physical core's floating-point units; measured 0.7 s alone, 0.85-1.1 s beside (b)).
    statuses_direct: str | None = None
    if direct_attempt and turnover_limit_met:
        c = toward_target(max_turnover, te_limit, "c_direct", strict=False, working_set=True)
        if c.working_set:
            statuses["c_direct_working_set"] = c.working_set
        if c.status == cp.OPTIMAL:
            statuses.update(b_min_te="skipped (limits reachable)", c_direct=cp.OPTIMAL)
            return _result(universe, c, kappa, to_bound=max_turnover, te_bound=te_limit, to_star=to_star,
                           te_star=None, to_needed=None, te_unbounded=None, turnover_limit_met=True,
                           te_limit_met=True, statuses=statuses, warnings=warnings)
        statuses_direct = c.status

    # (b) minimum TE within that turnover
    b_stage = min_te(to_bound, "b_min_te")
    statuses["b_min_te"] = b_stage.status
    if not b_stage.solved:
        raise SolverError("trade path stage b: infeasible although stage a was feasible", stage="b_min_te",
                          tried=[SOLVER])
    te_star = max(b_stage.value, 0.0)
    te_limit_met = te_star <= te_limit + 1e-12 * ann
    te_bound = te_limit if te_limit_met else _slack(te_star, te_abs_slack)

    # (c) closest to the target in the risk metric, net of costs: in a second thread (Clarabel releases the
    # GIL while it solves) while this one works out the TE reports, which (c) does not depend on. Each is the
    # same problem as alone, so the answer does not depend on the scheduling.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="trade-path-c") as pool:
        c_future = pool.submit(toward_target, to_bound, te_bound, "c_toward_target", strict=True)
        to_needed: float | None = None
        te_unbounded: float | None = None
        if not te_limit_met:
            b2 = turnover_for_te()
            statuses["b_turnover_for_te"] = b2.status
            if b2.solved:
                to_needed = b2.value
            else:
                to_needed = math.inf
                b3 = min_te(None, "b_min_te_unbounded")
                statuses["b_min_te_unbounded"] = b3.status
                te_unbounded = b3.value if b3.solved else None
        c = c_future.result()
    statuses["c_toward_target"] = c.status
    if not c.solved:
        raise SolverError("trade path stage c: infeasible although stages a and b were feasible",
                          stage="c_toward_target", tried=[SOLVER])
    if any(s == cp.OPTIMAL_INACCURATE for s in statuses.values()):
        warnings.append("a trade-path stage solved only to reduced accuracy (optimal_inaccurate)")
    if statuses_direct is not None:  # the direct attempt's status (not optimal), recorded after the check above
        statuses["c_direct"] = statuses_direct
    return _result(universe, c, kappa, to_bound=to_bound, te_bound=te_bound, to_star=to_star,
                   te_star=te_star, to_needed=to_needed, te_unbounded=te_unbounded,
                   turnover_limit_met=turnover_limit_met, te_limit_met=te_limit_met, statuses=statuses,
                   warnings=warnings)


def _result(universe: Universe, stage: _Stage, kappa: float, *, to_bound: float, te_bound: float,
            to_star: float | None, te_star: float | None, to_needed: float | None, te_unbounded: float | None,
            turnover_limit_met: bool, te_limit_met: bool, statuses: dict[str, str],
            warnings: list[str]) -> TradePath:
    """The :class:`TradePath` from a solved stage-(c) problem."""
    p = stage.problem
    red = p.red  # the stage's own reduction (a working set's, when (c) was solved on one): w_b's positions
    w_b = np.asarray(p.w.value, dtype=float).reshape(-1)  # w0 + u - v: a wash (u_i, v_i > 0) nets out
    w_b[w_b < WEIGHT_EPS] = 0.0
    w = red.full(w_b)
    turnover = float(np.abs(w - universe.w0).sum())
    return TradePath(
        weights=pd.Series(w, index=list(universe.symbols)),
        cash_weight=float(1.0 - w.sum() - kappa * turnover),
        turnover=turnover,
        turnover_bound=float(to_bound),
        te_bound=float(te_bound),
        min_turnover_needed=to_star,
        te_min_achievable=te_star,
        turnover_needed_for_te=to_needed,
        te_min_unbounded=te_unbounded,
        turnover_limit_met=turnover_limit_met,
        te_limit_met=te_limit_met,
        statuses=statuses,
        warnings=tuple(warnings),
    )


def _nothing_to_buy(universe: Universe, red: _Reduced, c_bench, max_turnover: float, max_tracking_error: float,
                    kappa: float) -> TradePath:
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
        statuses={"a_min_turnover": "trivial"},
        warnings=("no buyable names: the path only makes the forced exits",),
    )
