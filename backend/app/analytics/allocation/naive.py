"""Naive allocations: equal weight and inverse volatility (closed forms; constraints by projection)."""

from __future__ import annotations

import numpy as np

from app.analytics.allocation._base import Allocation, Problem


def solve_equal_weight(problem: Problem) -> Allocation:
    """``w_i = 1/n`` over the eligible names."""
    return Allocation(weights=np.full(problem.n, 1.0 / problem.n), solver="closed form", constrained=False)


def solve_inverse_volatility(problem: Problem) -> Allocation:
    """``w_i ∝ 1/σ_i`` with ``σ_i = √Σ_ii`` of the risk model."""
    inv = 1.0 / np.sqrt(np.diag(problem.cov))
    return Allocation(weights=inv / inv.sum(), solver="closed form", constrained=False)
