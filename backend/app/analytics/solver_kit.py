"""The one solver kit of the analytics: which solver, its settings, the weight tolerance and the statuses.

Every convex problem of the target, the allocation models and the trade path is solved by :data:`SOLVER`
(pinned, never a silent fallback). Statuses are :class:`SolveStatus` members (their values are cvxpy's
status strings, plus the engine's own outcomes), so callers branch on members, never on message text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

#: the solver every problem is solved with
SOLVER = "CLARABEL"
#: weights below this (fraction of the portfolio value) are exact zeros before anyone sees them
WEIGHT_EPS = 1e-9
#: tighter than CLARABEL's defaults (1e-8), for the allocation models whose closed forms are checked to ~1e-7
PRECISE_PARAMS: dict[str, float] = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10,
                                    "tol_ktratio": 1e-8}
#: up to this many free names Clarabel's single-threaded QDLDL factorises faster than its default (faer,
#: multithreaded supernodal) on these problems; above it faer wins (measured with bench/bench_propose.py:
#: N = 500 trade path 2.2 s → 1.4 s, N = 2000 49 s with faer vs 64 s with QDLDL)
QDLDL_MAX_N = 1000


class SolveStatus(StrEnum):
    """How one solve (or one stage that needed none) ended."""

    OPTIMAL = "optimal"
    OPTIMAL_INACCURATE = "optimal_inaccurate"
    INFEASIBLE = "infeasible"
    INFEASIBLE_INACCURATE = "infeasible_inaccurate"
    UNBOUNDED = "unbounded"
    UNBOUNDED_INACCURATE = "unbounded_inaccurate"
    SOLVER_FAILED = "solver failed"
    #: the stage was not needed (its answer is implied by another; see the trade path's direct attempt)
    SKIPPED = "skipped (limits reachable)"
    #: nothing to solve (every weight fixed by the hard rules)
    TRIVIAL = "trivial"

    @property
    def solved(self) -> bool:
        """A solution is present (possibly to reduced accuracy)."""
        return self in (SolveStatus.OPTIMAL, SolveStatus.OPTIMAL_INACCURATE)

    @property
    def infeasible(self) -> bool:
        return self in (SolveStatus.INFEASIBLE, SolveStatus.INFEASIBLE_INACCURATE)


def solve_status(cvxpy_status: str) -> SolveStatus:
    """The member for a cvxpy status string; an unknown string is a solver failure."""
    try:
        return SolveStatus(str(cvxpy_status))
    except ValueError:
        return SolveStatus.SOLVER_FAILED


def clarabel_options(n_free: int) -> dict[str, Any]:
    """Clarabel settings for a problem with ``n_free`` free weights (same answer either way, only speed)."""
    return {"direct_solve_method": "qdldl"} if n_free <= QDLDL_MAX_N else {}
