"""The stages of the trade path: one solve each (solver pinned, status typed), over a shared set-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.analytics.engine.objective import RIDGE, PathObjective
from app.analytics.engine.reduction import Reduction
from app.analytics.engine.rules import StageProblem
from app.analytics.solver_kit import SOLVER, SolveStatus, clarabel_options, solve_status
from app.analytics.universe import Universe
from app.core.errors import SolverError


@dataclass(frozen=True, eq=False)
class Stage:
    """One solved (or failed) stage: the cvxpy problem (variables hold the solution when ``solved``), its
    status as recorded in the proposal's metadata, and why a solver failed (``note``)."""

    problem: StageProblem
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


def solve_stage(cp, objective, constraints, stage: str, options: dict[str, Any], *, problem: StageProblem,
           strict: bool = True) -> Stage:
    """Solve one stage with :data:`SOLVER`. Infeasible → a :class:`Stage` that is not ``solved``; any other
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
            return Stage(problem, prob, SolveStatus.SOLVER_FAILED, note=str(exc))
        raise SolverError(f"trade path stage {stage}: {SOLVER} failed ({exc})", stage=stage, tried=[SOLVER]) from exc
    status = solve_status(prob.status)
    if status.solved or status.infeasible or not strict:
        return Stage(problem, prob, status)
    raise SolverError(f"trade path stage {stage}: {SOLVER} returned status {status.value!r}", stage=stage,
                      tried=[SOLVER])


@dataclass(frozen=True, eq=False)
class PathSetup:
    """Everything the stages share (built once per call; :func:`dataclasses.replace` drops the floor).

    ``t``/``b``: target and benchmark weights (fractions) in universe order; ``kappa``: impact per unit of
    traded value; ``reserve``/``floor``: see :func:`reserve_and_floor` (``floor`` ``None``: no reinvestment
    rule); ``te_limit``: the policy's TE limit times :data:`TE_ROUNDING_MARGIN` (annual fraction)."""

    cp: Any
    universe: Universe
    cov: np.ndarray
    annualization: int
    t: np.ndarray
    b: np.ndarray
    red: Reduction
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
    #: the fraction of value the target leaves in cash (1 − Σ t, ≥ 0); the reinvestment floor allows it
    target_cash: float = 0.0

    def problem(self, with_risk: bool = True, on: Reduction | None = None) -> StageProblem:
        """A stage's variables and hard rules, over the buyable names (``on``: a working set's reduction)."""
        return StageProblem(self.cp, self.universe, on if on is not None else self.red, impact=self.kappa,
                        reserve=self.reserve, floor=self.floor, with_risk=with_risk)


def min_turnover(s: PathSetup) -> Stage:
    """(a): ``min TO`` under the hard rules alone (a linear programme)."""
    p = s.problem(with_risk=False)
    return solve_stage(s.cp, s.cp.Minimize(p.to), p.constraints, "a_min_turnover", s.options, problem=p)


def turnover_for_te(s: PathSetup) -> Stage:
    """The turnover the TE limit would need: ``min TO s.t. TE ≤ limit``."""
    p = s.problem()
    return solve_stage(s.cp, s.cp.Minimize(p.to), p.constraints + [p.te(s.c_bench) <= s.te_limit], "b_turnover_for_te",
                  s.options, problem=p)


def min_te(s: PathSetup, to_bound: float | None, stage: str) -> Stage:
    """(b): ``min TE`` within ``to_bound`` (``None``: at any turnover)."""
    p = s.problem()
    cons = p.constraints + ([p.to <= to_bound] if to_bound is not None else [])
    return solve_stage(s.cp, s.cp.Minimize(p.te(s.c_bench)), cons, stage, s.options, problem=p)


def cost_scale(s: PathSetup, to_bound: float) -> float:
    """The objective's cost multiplier for a stage (c) whose turnover bound is ``to_bound``."""
    top_tax = float(np.max(s.sell_tax)) if s.sell_tax is not None and s.sell_tax.size else 0.0
    return s.objective.cost_scale(s.kappa + top_tax, to_bound - s.to_star)


def toward_target_on(s: PathSetup, red_s: Reduction, to_bound: float, te_bound: float, stage: str, *, strict: bool,
                      centres=None) -> Stage:  # noqa: ANN001 - (c, ρ) pairs of the target and the benchmark
    """(c) under both bounds, with the names of ``red_s`` as variables (objective: :class:`PathObjective`)."""
    cp = s.cp
    p = s.problem(on=red_s)
    ct, cb = centres if centres is not None else (red_s.centre(s.t), red_s.centre(s.b))
    cost = s.kappa * p.to
    if s.sell_tax is not None:
        cost = cost + s.sell_tax[red_s.B] @ p.v
    objective = cp.Minimize(
        s.objective.risk_weight * p.risk_distance_sq(ct) + cost_scale(s, to_bound) * cost
        + RIDGE * cp.sum_squares(p.w - s.t[red_s.B])
    )
    cons = p.constraints + [p.to <= to_bound, p.te(cb) <= te_bound]
    return solve_stage(cp, objective, cons, stage, clarabel_options(int(red_s.B.size)), problem=p, strict=strict)
