"""The hard rules of every stage (DESIGN levels 1–4) as cvxpy rows: long only, halted and unbuyable names
fixed, cash after costs, single and sector caps on the post-cost value, the reinvestment floor, the
account's per-name bounds."""

from __future__ import annotations

import numpy as np

from app.analytics.engine.reduction import Reduction
from app.analytics.universe import Universe


class StageProblem:
    """Variables and hard constraints of one stage (cvxpy problems are cheap to build)."""

    def __init__(self, cp, universe: Universe, red: Reduction, *, impact: float, reserve: float,
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
        cons.extend(bound_rows(self.w, red.lower_b, red.upper_b))
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


def bound_rows(w, lower: np.ndarray, upper: np.ndarray) -> list:  # noqa: ANN001 - a cvxpy variable
    """``w_i >= lower_i`` where positive and ``w_i <= upper_i`` where finite (the account's per-name bounds)."""
    rows = []
    lo = np.flatnonzero(lower > 0)
    if lo.size:
        rows.append(w[lo] >= lower[lo])
    hi = np.flatnonzero(np.isfinite(upper))
    if hi.size:
        rows.append(w[hi] <= upper[hi])
    return rows


def reserve_and_floor(universe: Universe, *, commission_per_trade: float, kappa: float,
                      target_cash: float = 0.0) -> tuple[float, float]:
    """``(r, floor)`` of the hard rules (fractions of the value before trading): ``r`` the commission reserve
    (commission × tradable names / value, at most 2 % and half of what halted names and impact leave), ``floor``
    the smallest invested fraction after trading (proceeds reinvested: ``min(1 − cash before, capacity,
    1 − target_cash)``; ``target_cash`` is the fraction the target itself keeps in cash)."""
    n_tradable = int((~np.asarray(universe.halted) & (np.asarray(universe.buyable) | (universe.w0 > 0))).sum())
    halted_w = float(universe.w0[universe.halted].sum())
    reserve = min(commission_per_trade * n_tradable / float(universe.value), 0.02,
                  max(0.0, 0.5 * (1 - halted_w - 2 * kappa)))
    floor = min(1.0 - float(universe.cash / universe.value), universe.capacity, 1.0 - target_cash) - 1e-9
    return reserve, floor
