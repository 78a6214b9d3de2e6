"""Cost-aware mode: optional trades worth less than their cost are skipped and stage (c) re-solved."""

from __future__ import annotations

import numpy as np

from app.analytics.engine.reduction import Reduction
from app.analytics.engine.stages import PathSetup, Stage, toward_target_on
from app.analytics.solver_kit import WEIGHT_EPS, SolveStatus
from app.analytics.universe import Universe

#: cost-aware mode: re-solves of (c) after skipping the trades worth less than their cost
COST_AWARE_MAX_ROUNDS = 3
#: a name whose current weight is within 1 % of its cap must trade (costs shrink the post-trade value)
NEAR_CAP = 0.99


def required_trades(universe: Universe) -> np.ndarray:
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


def unprofitable(s: PathSetup, w: np.ndarray, kept: np.ndarray) -> np.ndarray:
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


def skip_unprofitable(s: PathSetup, c: Stage, to_bound: float, te_bound: float) -> tuple[Stage, tuple[str, ...],
                                                                                         str | None]:
    """Cost-aware mode: keep every optional trade worth less than its cost at w0 and re-solve (c) on the other
    names, up to :data:`COST_AWARE_MAX_ROUNDS` times: ``(stage, skipped symbols, note)``. A re-solve that is
    not optimal keeps the previous answer (said in the note)."""
    universe = s.universe
    buy = np.asarray(universe.tradable, dtype=bool)
    optional = buy & ~required_trades(universe)
    skipped = np.zeros(universe.n, dtype=bool)
    note = None
    for _ in range(COST_AWARE_MAX_ROUNDS):
        more = unprofitable(s, c.weights(), optional & ~skipped)
        if not more.any():
            break
        trial_skipped = skipped | more
        red_s = Reduction(universe, s.cov, s.annualization, free=buy & ~trial_skipped)
        trial = toward_target_on(s, red_s, to_bound, te_bound, "c_cost_aware_skip", strict=False)
        if trial.status is not SolveStatus.OPTIMAL:
            note = f"re-solve after skipping {int(more.sum())} trade(s): {trial.status.value}; kept the previous"
            break
        c, skipped = trial, trial_skipped
    names = tuple(sym for sym, k in zip(universe.symbols, skipped) if k)
    if names and note is None:
        note = f"{len(names)} trade(s) worth less than their cost skipped: {', '.join(names)}"
    return c, names, note
