"""The contract between the dispatcher and each allocation model.

A model is ``solve(problem: Problem) -> Allocation``: it sees only the eligible names (upper bound > 0),
daily moments, the constraints and the spec, and returns raw weights over those names. The dispatcher
handles pruning (min position, max holdings), cleaning, metrics and the constraint report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.analytics.allocation.constraints import Bounds
from app.analytics.allocation.spec import OptimizationSpec


@dataclass(frozen=True, eq=False)
class Problem:
    """One solve: ``symbols`` eligible names; ``mu`` (n) daily, ``cov`` (n×n) daily, ``returns`` (T×n) daily.

    ``full_*`` describe the whole universe (benchmark-relative models need the names that are excluded);
    ``keep`` marks the eligible names in it.
    """

    symbols: list[str]
    mu: np.ndarray
    cov: np.ndarray
    returns: np.ndarray
    bounds: Bounds
    spec: OptimizationSpec
    full_symbols: list[str]
    full_mu: np.ndarray
    full_cov: np.ndarray
    keep: np.ndarray

    @property
    def n(self) -> int:
        return len(self.symbols)

    @property
    def n_obs(self) -> int:
        return int(self.returns.shape[0])


@dataclass(frozen=True, eq=False)
class Allocation:
    """A model's raw answer: ``weights`` over ``Problem.symbols`` (fractions), solver, warnings, details.

    ``mu`` is the expected daily return vector the model optimised with, when it differs from the risk
    model's (BL posterior, forecasts): metrics are reported on it.
    """

    weights: np.ndarray
    solver: str
    warnings: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    mu: np.ndarray | None = None
    constrained: bool = True  # False: the model ignores constraints and the dispatcher must project
