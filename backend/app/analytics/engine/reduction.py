"""The trade path's problem constants in the tradable names alone (Cholesky of Σ_BB, completed squares;
see :mod:`app.analytics.engine`)."""

from __future__ import annotations

import math

import numpy as np

from app.analytics.universe import Universe


class Reduction:
    """The constants of the problem in the buyable names ``B`` (numpy only; see :mod:`app.analytics.engine`)."""

    def __init__(self, universe: Universe, cov: np.ndarray, annualization: int,
                 free: np.ndarray | None = None) -> None:
        n = universe.n
        buy = np.asarray(universe.tradable, dtype=bool)
        #: the variables: tradable names (buyable or sell-only), or only those in ``free`` (a working set; the other
        #: tradable names are then not traded: fixed at w0, their single caps kept as one row on the costs, see
        #: StageProblem)
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
