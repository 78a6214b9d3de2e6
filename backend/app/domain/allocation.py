"""Output schemas of the allocation capabilities (``optimizer.optimize``, ``optimizer.efficient_frontier``).

Weights and metrics are fractions of 1 and annualised (``"volatility": 0.2213`` is 22.13 % a year).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConstraintLine(_Out):
    name: str
    kind: str
    limit: float
    value: float
    satisfied: bool


class OptimizationOutput(_Out):
    """Target weights of one allocation model on a pricing pack (no holdings, nothing persisted)."""

    pricing_pack_id: str
    asof_date: date
    lookback_days: int
    cov_estimator: str
    mean_estimator: str
    model: str
    objective: str | None
    risk_measure: str
    weights: dict[str, float] = Field(description="symbol -> fraction of 1")
    metrics: dict[str, Any] = Field(description="annualised fractions: expected_return, volatility, sharpe, risk")
    risk_contributions: dict[str, float]
    constraints: list[ConstraintLine]
    constraints_satisfied: bool
    solver: str
    status: str
    warnings: list[str] = []
    details: dict[str, Any] = {}

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class FrontierPointOut(_Out):
    risk: float
    return_: float = Field(alias="return")
    sharpe: float
    volatility: float
    weights: dict[str, float]

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)


class FrontierOutput(_Out):
    """Efficient frontier on a pricing pack: ``points`` ordered by risk plus the special points."""

    pricing_pack_id: str
    asof_date: date
    lookback_days: int
    model: str
    risk_measure: str
    risk_free_rate: float
    points: list[FrontierPointOut]
    min_risk: FrontierPointOut
    max_sharpe: FrontierPointOut
    max_return: FrontierPointOut
    current: FrontierPointOut | None = None
    current_portfolio_id: str | None = None
    warnings: list[str] = []

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
