"""Exact working-set solves of mean-variance targets, with an optimality certificate over every name.

A long-only max-Sharpe, min-variance or mean-variance-utility target under per-name bounds and sector caps
holds few names (≈ 30 of 500 on the bench universes), yet the dense risk term makes a solve over all N
names cost O(N³) per interior-point iteration. So the target is solved on a *working set* ``C`` of names
and then proved optimal for the whole feasible set

    ``P = {x : lower ≤ x ≤ upper, Σ_{i∈s} x_i ≤ cap_s for every sector s, Σ x = budget}``

by first-order conditions, which are sufficient here:

* MinRisk ``min xᵀΣx`` and Utility ``max μᵀx − λ·xᵀΣx`` are convex problems: for the solution ``x*`` on
  ``C`` (zero elsewhere) and the objective's ascent gradient ``g``, concavity gives
  ``h* − h(x*) ≤ gap = max_{x∈P} gᵀx − gᵀx*`` (one LP over all names);
* Sharpe ``max (μᵀx − rf)/σ(x)``: with ``S* = S(x*)``, ``φ(x) = μᵀx − rf − S*·σ(x)`` is concave and
  ``φ(x*) = 0``, and ``x*`` is optimal iff ``max φ = 0`` (Dinkelbach). With ``g = ∇φ(x*) = μ − S*·Σx*/σ*``,
  ``max φ ≤ gap`` as above, so ``S(x) ≤ S* + gap/σ(x)`` for every feasible ``x``.

The gap is measured relative to the objective's own scale (``μᵀx* − rf`` for Sharpe, ``x*ᵀΣx*`` for
MinRisk); at or below :data:`CERTIFY_REL_GAP` the working-set answer is the universe's answer. Otherwise the
names the LP wants, and the best-gradient names outside ``C``, join the working set and it is solved again
(at most :data:`MAX_ROUNDS` times; then the caller solves over every name). Pure numpy/scipy; no Riskfolio
here (the caller solves each working set through Riskfolio).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: relative optimality gap at which a working-set solution is accepted for the whole universe
CERTIFY_REL_GAP = 1e-6
#: working-set rounds before giving up (the caller then solves over every name)
MAX_ROUNDS = 4
#: smallest first working set
MIN_WORKING_SET = 60
#: objectives (Riskfolio codes) this module can certify, mean-variance risk only
CERTIFIABLE = frozenset({"Sharpe", "MinRisk", "Utility"})


@dataclass(frozen=True, eq=False)
class Polytope:
    """The target's feasible set over ``n`` names (fractions of portfolio value).

    ``lower``/``upper``: per-name bounds; ``groups``: ``(member indices, cap)`` per sector; ``budget``: the
    fixed total ``Σ x``."""

    lower: np.ndarray
    upper: np.ndarray
    groups: tuple[tuple[np.ndarray, float], ...]
    budget: float

    @property
    def n(self) -> int:
        return int(self.lower.size)

    def capacity(self, members: np.ndarray) -> float:
        """Largest ``Σ x`` reachable using only the names in the boolean mask ``members``."""
        total = 0.0
        for idx, cap in self.groups:
            total += min(cap, float(self.upper[idx][members[idx]].sum()))
        ungrouped = np.ones(self.n, dtype=bool)
        for idx, _ in self.groups:
            ungrouped[idx] = False
        return total + float(self.upper[ungrouped & members].sum())

    def maximise(self, g: np.ndarray) -> np.ndarray | None:
        """``argmax gᵀx`` over the polytope (HiGHS simplex), ``None`` if the LP fails."""
        from scipy.optimize import linprog  # lazy: importing scipy.optimize costs about 1 s

        rows, caps = [], []
        for idx, cap in self.groups:
            row = np.zeros(self.n)
            row[idx] = 1.0
            rows.append(row)
            caps.append(cap)
        res = linprog(
            -np.asarray(g, dtype=float),
            A_ub=np.array(rows) if rows else None,
            b_ub=np.array(caps) if caps else None,
            A_eq=np.ones((1, self.n)),
            b_eq=np.array([self.budget]),
            bounds=np.column_stack([self.lower, self.upper]),
            method="highs",
        )
        return np.asarray(res.x, dtype=float) if res.status == 0 else None


@dataclass(frozen=True)
class Certificate:
    """Outcome of one optimality check: ``rel_gap`` (relative to the objective's scale, ``inf`` when it
    cannot be judged), the LP's maximiser ``x_lp`` and the ascent gradient ``g`` (both over all names)."""

    rel_gap: float
    x_lp: np.ndarray | None
    g: np.ndarray

    @property
    def optimal(self) -> bool:
        return self.rel_gap <= CERTIFY_REL_GAP


def certify(
    *, objective: str, x: np.ndarray, mu: np.ndarray, cov: np.ndarray, rf: float, risk_aversion: float,
    polytope: Polytope,
) -> Certificate:
    """First-order optimality gap of ``x`` (all names, daily units: ``mu`` per day, ``cov`` per day², ``rf``
    per day) for Riskfolio's ``objective`` over ``polytope`` (see the module docstring)."""
    x = np.asarray(x, dtype=float)
    sx = cov @ x
    var = float(x @ sx)
    if objective == "Sharpe":
        excess = float(mu @ x) - rf
        if excess <= 0 or var <= 0:
            return Certificate(math.inf, None, np.zeros_like(x))
        sigma = math.sqrt(var)
        g = mu - (excess / sigma) * sx / sigma
        scale = excess
    elif objective == "MinRisk":
        g = -2.0 * sx
        scale = var
    elif objective == "Utility":
        g = mu - 2.0 * risk_aversion * sx
        scale = max(abs(float(mu @ x)), risk_aversion * var)
    else:
        raise ValueError(f"objective {objective!r} cannot be certified (only {sorted(CERTIFIABLE)})")
    x_lp = polytope.maximise(g)
    if x_lp is None or scale <= 0:
        return Certificate(math.inf, x_lp, g)
    gap = max(float(g @ x_lp - g @ x), 0.0)
    return Certificate(gap / scale, x_lp, g)


def first_working_set(*, objective: str, mu: np.ndarray, cov: np.ndarray, rf: float, risk_aversion: float,
                      polytope: Polytope, max_single: float) -> np.ndarray:
    """Boolean mask of the first working set: names that must hold weight (``lower > 0``) and the best names
    one at a time (Sharpe: ``(μ − rf)/σ``; MinRisk: ``−σ``; Utility: ``μ − λσ²``), at least
    :data:`MIN_WORKING_SET` or four times the names the budget needs at the single cap, and enough for
    the caps to absorb the budget. Ties break by position (deterministic)."""
    sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    if objective == "Sharpe":
        score = (mu - rf) / sd
    elif objective == "MinRisk":
        score = -sd
    else:
        score = mu - risk_aversion * sd**2
    order = np.lexsort((np.arange(score.size), -score))
    order = order[polytope.upper[order] > 0]
    size = max(MIN_WORKING_SET, 4 * math.ceil(polytope.budget / max(max_single, 1e-9)))
    mask = polytope.lower > 0
    mask[order[:size]] = True
    k = size
    while polytope.capacity(mask) < polytope.budget * (1 - 1e-12) and k < order.size:
        mask[order[k : k + size]] = True
        k += size
    return mask


def grow(mask: np.ndarray, cert: Certificate, polytope: Polytope) -> np.ndarray:
    """The next working set: ``mask`` plus every name the LP put weight on and the outside names with the
    largest ascent gradient (as many as half the current set, at least 20)."""
    out = mask.copy()
    if cert.x_lp is not None:
        out |= cert.x_lp > 1e-12
    outside = np.flatnonzero(~mask & (polytope.upper > 0))
    if outside.size:
        k = max(20, int(mask.sum()) // 2)
        best = outside[np.lexsort((outside, -cert.g[outside]))][:k]
        out[best] = True
    return out
