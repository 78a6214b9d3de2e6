"""Weight constraints of an allocation: bounds, group caps, holdings limits.

* :func:`resolve_bounds` turns an :class:`OptimizationSpec` into per-asset lower/upper arrays;
* :func:`check_feasible` refuses, with an :class:`InputError` naming the conflict, a set of constraints that
  cannot hold a fully invested long-only portfolio ("max_weight 0.10 x 8 eligible names = 0.80 < 1.00
  budget");
* :func:`linear_matrices` gives Riskfolio's ``A w ≤ B``; :func:`project` the closest feasible weights (for
  models that do not optimise under constraints: EW, IV, HRP, HERC);
* :func:`constraint_report` recomputes every constraint from the final weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.analytics.allocation.result import ConstraintCheck
from app.analytics.allocation.spec import GroupCap, OptimizationSpec
from app.analytics.solver_kit import SOLVER, WEIGHT_EPS
from app.core.errors import InputError, SolverError

#: tolerance of the constraint report (fractions)
TOL = 1e-6


@dataclass(frozen=True, eq=False)
class Bounds:
    """Per-asset ``lower ≤ w ≤ upper`` (fractions, ordered as ``symbols``) and the group caps."""

    symbols: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    groups: tuple[GroupCap, ...]
    warnings: tuple[str, ...] = ()

    def group_mask(self, cap: GroupCap) -> np.ndarray:
        members = set(cap.symbols)
        return np.array([s in members for s in self.symbols])

    def restrict(self, keep: np.ndarray) -> Bounds:
        """The same constraints on the names where ``keep`` is true."""
        return Bounds(
            symbols=tuple(s for s, k in zip(self.symbols, keep) if k),
            lower=self.lower[keep],
            upper=self.upper[keep],
            groups=self.groups,
            warnings=self.warnings,
        )

    def exclude(self, names: Sequence[str]) -> Bounds:
        """The same constraints with ``names`` forced to 0."""
        drop = np.array([s in set(names) for s in self.symbols])
        return Bounds(symbols=self.symbols, lower=np.where(drop, 0.0, self.lower),
                      upper=np.where(drop, 0.0, self.upper), groups=self.groups, warnings=self.warnings)


def resolve_bounds(*, spec: OptimizationSpec, symbols: Sequence[str]) -> Bounds:
    """Per-asset bounds: ``spec.bounds[symbol]`` or ``(min_weight, max_weight)``.

    With ``min_position`` a name whose upper bound is below it can only be held at 0 (warning), and a
    positive lower bound is raised to it.
    """
    syms = tuple(symbols)
    unknown = sorted(set(spec.bounds) - set(syms))
    for cap in spec.group_caps:
        unknown += sorted(set(cap.symbols) - set(syms))
    if unknown:
        raise InputError(f"constraints name symbol(s) outside the universe: {', '.join(sorted(set(unknown)))}")
    lower = np.array([spec.bounds.get(s, (spec.min_weight, spec.max_weight))[0] for s in syms], float)
    upper = np.array([spec.bounds.get(s, (spec.min_weight, spec.max_weight))[1] for s in syms], float)
    warnings: list[str] = []
    if spec.min_position > 0:
        small = (upper > 0) & (upper < spec.min_position)
        if small.any():
            names = [s for s, k in zip(syms, small) if k]
            warnings.append(
                f"upper bound below min_position {spec.min_position:.4f} for {', '.join(names)}: held at 0"
            )
            upper = np.where(small, 0.0, upper)
        lower = np.where((lower > 0) & (lower < spec.min_position), spec.min_position, lower)
    return Bounds(symbols=syms, lower=lower, upper=upper, groups=tuple(spec.group_caps), warnings=tuple(warnings))


def _uniform(values: np.ndarray) -> float | None:
    return float(values[0]) if len(values) and np.allclose(values, values[0], atol=1e-12) else None


def check_feasible(*, bounds: Bounds, max_holdings: int | None = None, budget: float = 1.0) -> None:
    """Raise :class:`InputError` naming the conflict when no long-only portfolio with ``Σw = budget`` meets
    the bounds, group caps and ``max_holdings``. Cheap arithmetic first, then an LP for joint feasibility."""
    lower, upper = bounds.lower, bounds.upper
    eligible = upper > WEIGHT_EPS
    n_el = int(eligible.sum())
    if n_el == 0:
        raise InputError("no eligible names: every upper bound is 0")
    cap_total = float(upper[eligible].sum())
    if cap_total < budget - TOL:
        u = _uniform(upper[eligible])
        if u is not None:
            raise InputError(
                f"max_weight {u:.2f} x {n_el} eligible names = {cap_total:.2f} < {budget:.2f} budget"
            )
        raise InputError(
            f"per-asset upper bounds over {n_el} eligible names sum to {cap_total:.2f} < {budget:.2f} budget"
        )
    if float(lower.sum()) > budget + TOL:
        raise InputError(f"per-asset lower bounds sum to {lower.sum():.2f} > {budget:.2f} budget")
    if max_holdings is not None:
        forced = int((lower > WEIGHT_EPS).sum())
        if forced > max_holdings:
            raise InputError(f"max_holdings {max_holdings} < {forced} names with a positive lower bound")
        top = float(np.sort(upper)[::-1][:max_holdings].sum())
        if top < budget - TOL:
            u = _uniform(upper[eligible])
            if u is not None:
                raise InputError(
                    f"max_holdings {max_holdings} x max_weight {u:.2f} = {top:.2f} < {budget:.2f} budget"
                )
            raise InputError(
                f"max_holdings {max_holdings}: the {max_holdings} largest upper bounds sum to {top:.2f} "
                f"< {budget:.2f} budget"
            )
    kinds: dict[str, list[GroupCap]] = {}
    for cap in bounds.groups:
        kinds.setdefault(cap.kind, []).append(cap)
        mask = bounds.group_mask(cap)
        if float(lower[mask].sum()) > cap.max_weight + TOL:
            raise InputError(
                f"{cap.label}: lower bounds of its names sum to {lower[mask].sum():.2f} > cap {cap.max_weight:.2f}"
            )
        if cap.min_weight > float(upper[mask].sum()) + TOL:
            raise InputError(
                f"{cap.label}: min_weight {cap.min_weight:.2f} > {upper[mask].sum():.2f} its names can hold"
            )
    for kind, caps in kinds.items():
        covered = np.zeros(len(upper), bool)
        parts, total = [], 0.0
        for cap in caps:
            mask = bounds.group_mask(cap)
            covered |= mask
            room = min(cap.max_weight, float(upper[mask].sum()))
            total += room
            parts.append(f"{cap.name} {room:.2f}")
        free = float(upper[~covered].sum())
        if free > 0:
            parts.append(f"ungrouped {free:.2f}")
        total += free
        if total < budget - TOL:
            raise InputError(f"{kind} caps: {' + '.join(parts)} = {total:.2f} < {budget:.2f} budget")
        floors = sum(c.min_weight for c in caps)
        if floors > budget + TOL:
            raise InputError(f"{kind} floors sum to {floors:.2f} > {budget:.2f} budget")
    if bounds.groups:
        _check_jointly(bounds, budget)


def _check_jointly(bounds: Bounds, budget: float) -> None:
    import cvxpy as cp  # lazy

    from app.analytics.allocation._riskfolio import quiet

    n = len(bounds.symbols)
    w = cp.Variable(n)
    cons = [cp.sum(w) == budget, w >= bounds.lower, w <= bounds.upper]
    for cap in bounds.groups:
        mask = bounds.group_mask(cap).astype(float)
        cons += [mask @ w <= cap.max_weight, mask @ w >= cap.min_weight]
    prob = cp.Problem(cp.Minimize(0), cons)
    with quiet():
        prob.solve(solver=SOLVER)
    if prob.status in ("infeasible", "infeasible_inaccurate"):
        labels = ", ".join(f"{c.label} <= {c.max_weight:.2f}" for c in bounds.groups)
        raise InputError(
            f"per-asset bounds and group caps ({labels}) cannot hold together with a {budget:.2f} budget"
        )


def linear_matrices(bounds: Bounds) -> tuple[np.ndarray, np.ndarray]:
    """Riskfolio's ``A w ≤ B`` for the non-trivial bounds and the group caps (rows may be empty)."""
    n = len(bounds.symbols)
    rows, rhs = [], []
    for i in range(n):
        if bounds.upper[i] < 1.0 - 1e-12:
            r = np.zeros(n)
            r[i] = 1.0
            rows.append(r)
            rhs.append(bounds.upper[i])
        if bounds.lower[i] > 0:
            r = np.zeros(n)
            r[i] = -1.0
            rows.append(r)
            rhs.append(-bounds.lower[i])
    for cap in bounds.groups:
        mask = bounds.group_mask(cap).astype(float)
        if not mask.any():
            continue
        if cap.max_weight < 1.0:
            rows.append(mask)
            rhs.append(cap.max_weight)
        if cap.min_weight > 0:
            rows.append(-mask)
            rhs.append(-cap.min_weight)
    if not rows:
        return np.zeros((0, n)), np.zeros((0, 1))
    return np.vstack(rows), np.array(rhs, float).reshape(-1, 1)


def is_feasible(weights: np.ndarray, bounds: Bounds, tol: float = TOL) -> bool:
    w = np.asarray(weights, float)
    if abs(w.sum() - 1.0) > tol or (w < bounds.lower - tol).any() or (w > bounds.upper + tol).any():
        return False
    for cap in bounds.groups:
        s = float(w[bounds.group_mask(cap)].sum())
        if s > cap.max_weight + tol or s < cap.min_weight - tol:
            return False
    return True


def project(weights: np.ndarray, bounds: Bounds) -> np.ndarray:
    """The feasible weights closest (Euclidean) to ``weights``; unchanged when already feasible."""
    w0 = np.asarray(weights, float)
    if is_feasible(w0, bounds, tol=1e-12):
        return w0
    import cvxpy as cp  # lazy

    from app.analytics.allocation._riskfolio import quiet

    w = cp.Variable(len(w0))
    cons = [cp.sum(w) == 1.0, w >= bounds.lower, w <= bounds.upper]
    for cap in bounds.groups:
        mask = bounds.group_mask(cap).astype(float)
        cons += [mask @ w <= cap.max_weight, mask @ w >= cap.min_weight]
    prob = cp.Problem(cp.Minimize(cp.sum_squares(w - w0)), cons)
    with quiet():
        prob.solve(solver=SOLVER)
    if w.value is None or prob.status not in ("optimal", "optimal_inaccurate"):
        raise SolverError(f"projection onto the constraints failed [{SOLVER}]: {prob.status}", stage="projection",
                          tried=[f"projection [{SOLVER}]: {prob.status}"])
    return np.asarray(w.value, float)


def clean(weights: np.ndarray, bounds: Bounds) -> np.ndarray:
    """Clip solver noise back inside the bounds, zero dust below 1e-9, renormalise, remove signed zeros."""
    w = np.clip(np.nan_to_num(np.asarray(weights, float), nan=0.0), bounds.lower, bounds.upper)
    w[w < WEIGHT_EPS] = 0.0
    gap = 1.0 - w.sum()
    free = (w > bounds.lower + 1e-12) & (w < bounds.upper - 1e-12)  # names off their bounds absorb the noise
    if free.any() and abs(gap) < 1e-6:
        w[free] += gap * w[free] / w[free].sum()
    elif w.sum() > 0:
        w = w / w.sum()
    return w + 0.0


def constraint_report(
    *, weights: np.ndarray, bounds: Bounds, spec: OptimizationSpec
) -> tuple[ConstraintCheck, ...]:
    """Each constraint recomputed from ``weights`` (fractions), satisfied within 1e-6."""
    w = np.asarray(weights, float)
    checks = [
        ConstraintCheck("budget", "eq", 1.0, float(w.sum()), abs(w.sum() - 1.0) <= TOL),
        ConstraintCheck("long_only", "min", 0.0, float(w.min()), bool(w.min() >= -TOL)),
    ]
    plain = np.array([s not in spec.bounds for s in bounds.symbols])
    if plain.any() and spec.max_weight < 1.0:
        v = float(w[plain].max())
        checks.append(ConstraintCheck("max_weight", "max", spec.max_weight, v, v <= spec.max_weight + TOL))
    if plain.any() and spec.min_weight > 0:
        v = float(w[plain].min())
        checks.append(ConstraintCheck("min_weight", "min", spec.min_weight, v, v >= spec.min_weight - TOL))
    for i, s in enumerate(bounds.symbols):
        if s in spec.bounds:
            lo, hi = spec.bounds[s]
            checks.append(ConstraintCheck(f"bounds[{s}]", "max", hi, float(w[i]), w[i] <= hi + TOL))
            if lo > 0:
                checks.append(ConstraintCheck(f"bounds[{s}]", "min", lo, float(w[i]), w[i] >= lo - TOL))
    if spec.min_position > 0:
        held = w[w > WEIGHT_EPS]
        v = float(held.min()) if len(held) else 0.0
        checks.append(ConstraintCheck("min_position", "min", spec.min_position, v, v >= spec.min_position - TOL))
    if spec.max_holdings is not None:
        n = int((w > WEIGHT_EPS).sum())
        checks.append(ConstraintCheck("max_holdings", "count", float(spec.max_holdings), float(n),
                                      n <= spec.max_holdings))
    for cap in bounds.groups:
        v = float(w[bounds.group_mask(cap)].sum())
        checks.append(ConstraintCheck(f"{cap.kind}[{cap.name}]", "max", cap.max_weight, v,
                                      v <= cap.max_weight + TOL))
        if cap.min_weight > 0:
            checks.append(ConstraintCheck(f"{cap.kind}[{cap.name}]", "min", cap.min_weight, v,
                                          v >= cap.min_weight - TOL))
    return tuple(checks)
