"""Output schemas of the allocation capabilities (``optimizer.optimize``, ``optimizer.efficient_frontier``).

Weights and metrics are fractions of 1 and annualised (``"volatility": 0.2213`` is 22.13 % a year).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: decimal places of the fractions in a JSON document (1e-8 = 0.000001 %)
JSON_PLACES = 8


def decimal_strings(value: Any, places: int = JSON_PLACES) -> Any:
    """``value`` (JSON-ready) with every float as a Decimal string of ``places`` decimals (ROUND_HALF_EVEN, no
    ``-0``): ``0.9999999999999998`` -> ``"1.00000000"``. Ints, bools, strings and None are kept."""
    if isinstance(value, float):
        quantum = Decimal(1).scaleb(-places)
        dec = Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_EVEN)
        return format(dec.copy_abs() if dec.is_zero() else dec, "f")
    if isinstance(value, dict):
        return {k: decimal_strings(v, places) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [decimal_strings(v, places) for v in value]
    return value


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def json_document(self) -> dict[str, Any]:
        """The JSON output (CLI ``--json``): as :meth:`to_dict`, floats as Decimal strings (DESIGN.md)."""
        return decimal_strings(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


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


class EvaluationOutput(_Out):
    """Ex-post metrics of given weights on a pricing pack (``optimizer.evaluate_weights``), fractions of 1:
    ``max_drawdown`` positive, ``information_ratio``/``tracking_error`` against the benchmark (None without one),
    ``current_weights`` of the portfolio (cash excluded) and ``weight_turnover`` from them to the weights."""

    pricing_pack_id: str
    asof_date: date
    lookback_days: int
    max_drawdown: float
    information_ratio: float | None
    tracking_error: float | None
    annual_return: float
    annual_volatility: float
    current_weights: dict[str, float] | None = None
    weight_turnover: float | None = None
