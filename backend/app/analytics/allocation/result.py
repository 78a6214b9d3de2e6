"""What an allocation gives back: :class:`OptimizationResult` with its :class:`ConstraintCheck` lines.

Every figure is recomputed from the final weights (never copied from a solver). Annualised: ``expected_return
= μᵀw · A``, ``volatility = √(wᵀΣw · A)``, ``sharpe = (expected_return − rf) / volatility``; ``risk`` is the
chosen risk measure annualised by ``√A`` except drawdown measures (CDaR, MDD), which are already over the
whole window; ``risk_adjusted_return = (expected_return − rf) / risk`` (Riskfolio's ratio for that measure,
equal to ``sharpe`` for MV).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from app.domain.enums import Model, Objective, RiskMeasure


@dataclass(frozen=True)
class ConstraintCheck:
    """One constraint, recomputed from the final weights: ``value`` against ``limit`` (fractions)."""

    name: str
    kind: str  # "max" | "min" | "count" | "eq"
    limit: float
    value: float
    satisfied: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "limit": self.limit, "value": self.value,
                "satisfied": self.satisfied}


@dataclass(frozen=True, eq=False)
class OptimizationResult:
    """Target weights of one allocation model with their metrics and constraint report.

    * ``weights``: symbol → fraction (cleaned: no values below 1e-9, no signed zeros), sums to 1.
    * ``risk_contributions``: symbol → contribution to ``risk`` (same units; they sum to ``risk``).
    * ``details``: model diagnostics (BL posterior returns, HERC clusters, ...), JSON-friendly.
    """

    weights: pd.Series
    model: Model
    objective: Objective | None
    risk_measure: RiskMeasure
    expected_return: float
    volatility: float
    sharpe: float
    risk: float
    risk_adjusted_return: float
    risk_contributions: pd.Series
    constraints: tuple[ConstraintCheck, ...]
    solver: str
    status: str
    risk_free_rate: float
    warnings: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def satisfied(self) -> bool:
        return all(c.satisfied for c in self.constraints)

    @property
    def risk_contribution_shares(self) -> pd.Series:
        """Risk contributions as fractions of the total (sum to 1)."""
        total = float(self.risk_contributions.sum())
        return self.risk_contributions / total if total else self.risk_contributions * 0.0

    def metrics(self) -> dict[str, Any]:
        return {
            "expected_return": self.expected_return,
            "volatility": self.volatility,
            "sharpe": self.sharpe,
            "risk_measure": self.risk_measure.value,
            "risk": self.risk,
            "risk_adjusted_return": self.risk_adjusted_return,
            "risk_free_rate": self.risk_free_rate,
            "holdings": int((self.weights > 0).sum()),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: weights and contributions as symbol → fraction, metrics annualised fractions."""
        return {
            "model": self.model.value,
            "objective": self.objective.value if self.objective is not None else None,
            "risk_measure": self.risk_measure.value,
            "weights": {s: float(v) for s, v in self.weights.items()},
            "metrics": self.metrics(),
            "risk_contributions": {s: float(v) for s, v in self.risk_contributions.items()},
            "constraints": [c.to_dict() for c in self.constraints],
            "constraints_satisfied": self.satisfied,
            "solver": self.solver,
            "status": self.status,
            "warnings": list(self.warnings),
            "details": dict(self.details),
        }
