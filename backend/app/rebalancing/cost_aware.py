"""The cost-aware trade path: minimise trading cost + λ·TE² to the target (one convex QP, cvxpy).

Over post-trade weights ``w = w0 + b − Σₖ sₖ`` (fractions of the value before trading), buys ``b ≥ 0`` and
sells split by tax lot ``0 ≤ sₖ ≤ lotₖ``::

    minimise   κ·Σ(b + s) + Σₖ τₖ·sₖ + λ·(w − t)ᵀ C (w − t)
    subject to b = 0 where not buyable (restricted, halted, wash sale); b = s = 0 where halted;
               sₖ = lotₖ for lots being harvested; cash0 + (1 − κ)·Σs − (1 + κ)·Σb ≥ reserve

with ``κ`` the market impact (bps / 10⁴), ``τₖ ≥ 0`` the tax per unit sold from lot k (losses count 0:
harvesting is explicit, never a by-product), ``C`` the annualised covariance (TE² = (w − t)ᵀC(w − t)) and
``λ`` the portfolio's ``te_penalty_lambda``. Because lots enter with their own tax rate, the solver sells
the cheapest lots first and prefers a name whose sale realises long-term gains to one realising short-term
gains. Commissions are fixed per trade (not convex): the planner drops trades whose benefit is below their
full cost afterwards. Solver CLARABEL is pinned and its status checked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.quiet import quiet
from app.core.errors import SolverError

SOLVER = "CLARABEL"
RIDGE = 1e-10


@dataclass(frozen=True)
class LotSlice:
    """One lot as a sell segment: ``cap`` weight (fraction of value), ``tax`` per unit weight sold (≥ 0)."""

    cap: float
    tax: float
    forced: bool = False


@dataclass(frozen=True)
class WeightPath:
    buy: np.ndarray
    sell: np.ndarray
    lot_sells: tuple[np.ndarray, ...]
    status: str


def risk_factor(cov_annual: np.ndarray) -> np.ndarray:
    """F with FᵀF = C (eigen-decomposition; tiny negative eigenvalues clipped)."""
    c = (np.asarray(cov_annual, dtype=float) + np.asarray(cov_annual, dtype=float).T) / 2.0
    vals, vecs = np.linalg.eigh(c)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))).T


def te_squared(w: np.ndarray, target: np.ndarray, cov_annual: np.ndarray) -> float:
    d = np.asarray(w, dtype=float) - np.asarray(target, dtype=float)
    return float(d @ np.asarray(cov_annual, dtype=float) @ d)


def solve_trade_weights(
    *,
    w0: np.ndarray,
    target: np.ndarray,
    cov_annual: np.ndarray,
    lots: list[list[LotSlice]],
    buyable: np.ndarray,
    frozen: np.ndarray,
    cash0: float,
    reserve: float,
    impact: float,
    te_lambda: float,
) -> WeightPath:
    """Buys and sells per name (fractions of the value before trading) from the QP above.

    ``w0``, ``target``: fractions; ``cov_annual``: annual covariance (fraction²); ``lots[i]``: sell segments of
    name i; ``cash0``/``reserve``: fractions; ``impact``: κ (0.0015 = 15 bps); ``te_lambda``: λ ≥ 0.
    """
    import cvxpy as cp  # lazy

    n = len(w0)
    b = cp.Variable(n, nonneg=True, name="buy")
    slices = [(i, k, sl) for i in range(n) for k, sl in enumerate(lots[i])]
    s = cp.Variable(len(slices), nonneg=True, name="sell") if slices else None
    rows = np.zeros((n, len(slices)))
    for j, (i, _, _) in enumerate(slices):
        rows[i, j] = 1.0
    sold = rows @ s if s is not None else np.zeros(n)
    w = w0 + b - sold
    cons = []
    no_buy = np.flatnonzero(~np.asarray(buyable) | np.asarray(frozen))
    if no_buy.size:
        cons.append(b[no_buy] == 0)
    total_sell = 0.0
    if s is not None:
        caps = np.array([0.0 if frozen[i] else sl.cap for i, _, sl in slices])
        tax = np.array([max(sl.tax, 0.0) for _, _, sl in slices])
        cons.append(s <= caps)
        forced = [j for j, (i, _, sl) in enumerate(slices) if sl.forced and not frozen[i]]
        if forced:
            cons.append(s[forced] == caps[forced])
        total_sell = cp.sum(s)
        tax_cost = tax @ s
    else:
        tax_cost = 0.0
    cons.append(cash0 + (1 - impact) * total_sell - (1 + impact) * cp.sum(b) >= reserve)
    F = risk_factor(cov_annual)
    objective = cp.Minimize(
        impact * (cp.sum(b) + total_sell) + tax_cost + te_lambda * cp.sum_squares(F @ (w - target))
        + RIDGE * cp.sum_squares(b)
    )
    prob = cp.Problem(objective, cons)
    try:
        with quiet():
            prob.solve(solver=SOLVER)
    except cp.error.SolverError as exc:
        raise SolverError(f"cost-aware trade path: {SOLVER} failed ({exc})", stage="cost_aware", tried=[SOLVER]) from exc
    if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise SolverError(f"cost-aware trade path: {SOLVER} returned status {prob.status!r}", stage="cost_aware",
                          tried=[SOLVER])
    buy = np.clip(np.asarray(b.value, dtype=float).reshape(-1), 0.0, None)
    sv = np.clip(np.asarray(s.value, dtype=float).reshape(-1), 0.0, None) if s is not None else np.zeros(0)
    per_name = [np.zeros(len(lots[i])) for i in range(n)]
    for j, (i, k, _) in enumerate(slices):
        per_name[i][k] = sv[j]
    sell = np.array([float(x.sum()) for x in per_name]) if n else np.zeros(0)
    return WeightPath(buy=buy, sell=sell, lot_sells=tuple(per_name), status=str(prob.status))
