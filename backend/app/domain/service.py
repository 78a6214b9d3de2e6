"""The service's resources (seed 003): optimizations (jobs), efficient frontiers and rebalance plans.

Names follow seed 003. Units: every allocation, weight, return, risk, turnover and weight change is a **fraction
of 1** carried as a Decimal string of 8 places (``"0.10000000"`` = 10 %); money (``estimated_value``,
``transaction_costs``, ``tax_implications``) is Decimal currency (cents); ``quantity`` is shares. A plan's trades
and metrics are read from the one trade engine's proposal, never recomputed here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationInfo, field_validator

from app.domain.enums import Model, Objective, RiskMeasure, TradeAction
from app.domain.proposal import RebalanceProposal

#: a fraction's quantum in the service's documents (1e-8)
FRACTION_QUANTUM = Decimal("0.00000001")
HUNDRED = Decimal(100)


#: a fraction of 1 in a document: a Decimal written in plain notation (``"0.00000000"``, never ``"0E-8"``)
Fraction = Annotated[Decimal, PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json")]


def fraction(value: float | Decimal | int) -> Decimal:
    """``value`` as a Decimal fraction of 8 places (ROUND_HALF_EVEN, no ``-0``)."""
    dec = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    out = dec.quantize(FRACTION_QUANTUM, rounding=ROUND_HALF_EVEN)
    return out.copy_abs() if out.is_zero() else out


def from_pct(value: Decimal) -> Decimal:
    """A percent (``"18.50"``) as a fraction (``0.185``), 8 places."""
    return fraction(value / HUNDRED)


class JobStatus(StrEnum):
    """An optimization's state: pending → processing → completed | failed | cancelled."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class OptimizationType(StrEnum):
    """Seed 003's optimization types, each one allocation model (:class:`~app.domain.enums.Model`)."""

    MEAN_VARIANCE = "mean_variance"
    MIN_VARIANCE = "min_variance"
    BLACK_LITTERMAN = "black_litterman"
    RISK_PARITY = "risk_parity"
    HRP = "hrp"
    HERC = "herc"
    EQUAL_WEIGHT = "equal_weight"
    INVERSE_VOLATILITY = "inverse_volatility"
    MAX_INFORMATION_RATIO = "max_information_ratio"
    ROBUST = "robust"

    @property
    def model(self) -> Model:
        return _MODELS[self]


_MODELS = {
    OptimizationType.MEAN_VARIANCE: Model.CLASSIC, OptimizationType.MIN_VARIANCE: Model.MIN_VARIANCE,
    OptimizationType.BLACK_LITTERMAN: Model.BL, OptimizationType.RISK_PARITY: Model.RP,
    OptimizationType.HRP: Model.HRP, OptimizationType.HERC: Model.HERC, OptimizationType.EQUAL_WEIGHT: Model.EW,
    OptimizationType.INVERSE_VOLATILITY: Model.IV, OptimizationType.MAX_INFORMATION_RATIO: Model.MAX_IR,
    OptimizationType.ROBUST: Model.WC,
}


class ObjectiveName(StrEnum):
    MAXIMIZE_SHARPE = "maximize_sharpe"
    MINIMIZE_RISK = "minimize_risk"
    MAXIMIZE_RETURN = "maximize_return"
    MAXIMIZE_UTILITY = "maximize_utility"

    @property
    def objective(self) -> Objective:
        return {ObjectiveName.MAXIMIZE_SHARPE: Objective.SHARPE, ObjectiveName.MINIMIZE_RISK: Objective.MIN_RISK,
                ObjectiveName.MAXIMIZE_RETURN: Objective.MAX_RET,
                ObjectiveName.MAXIMIZE_UTILITY: Objective.UTILITY}[self]


class RiskMeasureName(StrEnum):
    """Seed 003's risk measures that the optimiser has (``var`` has no convex form in it: not offered)."""

    VOLATILITY = "volatility"
    MAD = "mad"
    SEMI_DEVIATION = "semi_deviation"
    CVAR = "cvar"
    CDAR = "cdar"
    MAX_DRAWDOWN = "max_drawdown"

    @property
    def risk_measure(self) -> RiskMeasure:
        return {RiskMeasureName.VOLATILITY: RiskMeasure.MV, RiskMeasureName.MAD: RiskMeasure.MAD,
                RiskMeasureName.SEMI_DEVIATION: RiskMeasure.MSV, RiskMeasureName.CVAR: RiskMeasure.CVAR,
                RiskMeasureName.CDAR: RiskMeasure.CDAR, RiskMeasureName.MAX_DRAWDOWN: RiskMeasure.MDD}[self]


class TargetType(StrEnum):
    """Where a rebalance plan's target comes from: ``optimal`` (the policy's solved target, as ``dawsos
    rebalance``), ``model`` (the portfolio's model portfolio), ``benchmark`` (the portfolio's benchmark)."""

    OPTIMAL = "optimal"
    MODEL = "model"
    BENCHMARK = "benchmark"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OptimizationConstraints(_Frozen):
    """Seed 003's constraints, fractions of 1 (``0.05`` = 5 %). ``max_turnover``, ``target_volatility`` and
    per-name ``min_weights``/``max_weights`` are refused until the optimiser takes them (never ignored)."""

    max_position_size: float | None = Field(default=None, gt=0, le=1, description="per-name cap, fraction")
    min_position_size: float | None = Field(default=None, ge=0, le=1,
                                            description="no dust: a name is 0 or at least this fraction")
    max_sector_exposure: float | None = Field(default=None, gt=0, le=1, description="cap per sector, fraction")
    max_asset_class_exposure: float | None = Field(default=None, gt=0, le=1,
                                                   description="cap per asset class, fraction")
    max_turnover: float | None = Field(default=None, gt=0, le=2, description="not supported yet: refused")
    target_volatility: float | None = Field(default=None, gt=0, le=5, description="not supported yet: refused")
    min_weights: dict[str, float] = Field(default_factory=dict, description="not supported yet: refused")
    max_weights: dict[str, float] = Field(default_factory=dict, description="not supported yet: refused")

    @field_validator("max_turnover", "target_volatility", "min_weights", "max_weights")
    @classmethod
    def _not_yet(cls, value: Any, info: ValidationInfo) -> Any:
        """Refused rather than ignored: the allocation models take no turnover or volatility target and no
        per-name bounds yet (the per-name cap for every name is ``max_position_size``)."""
        if value:
            raise ValueError(f"{info.field_name} is not supported by the optimizer yet (it would be ignored, so it "
                             "is refused); use max_position_size / min_position_size / max_sector_exposure / "
                             "max_asset_class_exposure, or a rebalance under a policy for turnover limits")
        return value


class OptimizationPreferences(_Frozen):
    """``risk_aversion``: the Utility objective's λ; ``include_transaction_costs``: the trades are chosen in the
    engine's cost-aware mode; ``consider_tax_implications``: the portfolio's tax lots are used for the trades."""

    risk_aversion: float = Field(default=2.0, gt=0, le=1000)
    include_transaction_costs: bool = False
    consider_tax_implications: bool = False
    transaction_cost_model: float | None = Field(default=None, ge=0, le=10_000,
                                                 description="market impact in bps of |value|; default the seed's")


class PlanTrade(_Frozen):
    """One trade of a plan (seed 003 names, plus the engine's own fields)."""

    instrument_id: str
    action: str = Field(description="buy | sell")
    quantity: Decimal = Field(description="shares")
    estimated_value: Decimal = Field(description="currency, cents")
    weight_change: Fraction = Field(description="target weight - current weight, fraction")
    priority: int = Field(description="1 = first: sales (raising cash) before purchases, each by value")
    price: Decimal
    estimated_cost: Decimal
    rationale: str


class Improvement(_Frozen):
    return_: Fraction = Field(alias="return", description="expected return after - before, fraction")
    risk: Fraction = Field(description="volatility after - before, fraction")
    sharpe: Fraction

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)


class PlanMetrics(_Frozen):
    turnover: Fraction = Field(description="sum |trade value| / portfolio value, fraction")
    expected_improvement: Improvement
    transaction_costs: Decimal = Field(description="currency")
    tax_implications: Decimal = Field(description="estimated tax the sales realise, currency")


def plan_trades(proposal: RebalanceProposal) -> tuple[PlanTrade, ...]:
    """The proposal's trades in seed 003's form, sales first, then purchases, each by value (priority 1..n)."""
    ordered = sorted(proposal.trades, key=lambda t: (t.action is not TradeAction.SELL, -t.trade_value, t.symbol))
    return tuple(
        PlanTrade(instrument_id=t.symbol, action=t.action.value.lower(), quantity=abs(t.delta_shares),
                  estimated_value=t.trade_value, weight_change=from_pct(t.target_weight_pct - t.current_weight_pct),
                  priority=i, price=t.price, estimated_cost=t.estimated_cost, rationale=t.rationale)
        for i, t in enumerate(ordered, start=1))


def plan_metrics(proposal: RebalanceProposal) -> PlanMetrics:
    """Turnover, expected improvement, costs and taxes of a proposal (all from its summary)."""
    s = proposal.summary
    return PlanMetrics(
        turnover=from_pct(s.turnover_pct),
        expected_improvement=Improvement(
            return_=from_pct(s.expected_return_after_pct - s.expected_return_before_pct),
            risk=from_pct(s.volatility_after_pct - s.volatility_before_pct),
            sharpe=s.sharpe_after - s.sharpe_before),
        transaction_costs=s.estimated_total_cost,
        tax_implications=s.estimated_tax if s.estimated_tax is not None else Decimal("0.00"))


class OptimizationMetrics(_Frozen):
    """Annualised fractions; ``max_drawdown`` of the target over the lookback (positive fraction),
    ``information_ratio`` against the portfolio's benchmark (None without one), ``turnover`` of the trades."""

    expected_return: Fraction
    expected_volatility: Fraction
    sharpe_ratio: Fraction
    max_drawdown: Fraction
    turnover: Fraction | None
    information_ratio: Fraction | None
    tracking_error: Fraction | None = None


class FrontierPoint(_Frozen):
    return_: Fraction = Field(alias="return", description="annual expected return, fraction")
    risk: Fraction = Field(description="annualised risk in the frontier's risk measure, fraction")
    sharpe: Fraction
    weights: dict[str, Fraction] | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)


def frontier_point(point: Any, *, with_weights: bool) -> FrontierPoint:
    """A :class:`~app.domain.allocation.FrontierPointOut` in seed 003's form."""
    weights = {s: fraction(w) for s, w in sorted(point.weights.items()) if w > 0} if with_weights else None
    return FrontierPoint(return_=fraction(point.return_), risk=fraction(point.risk), sharpe=fraction(point.sharpe),
                         weights=weights)


class OptimizationView(_Frozen):
    """An optimization job as ``GET /optimizations/{id}`` shows it."""

    optimization_id: str
    portfolio_id: str
    status: JobStatus
    created_at: datetime
    completed_at: datetime | None = None
    estimated_completion_time: datetime | None = None
    optimization_type: str
    objective: str
    risk_measure: str
    constraints: dict[str, Any]
    preferences: dict[str, Any]
    pricing_pack_id: str
    requested_by: str
    attempts: int
    deadline_at: datetime
    error: str | None = Field(default=None, description="the one-line reason when failed or cancelled")
    metrics: OptimizationMetrics | None = None
    current_allocation: dict[str, Fraction] | None = None
    target_allocation: dict[str, Fraction] | None = None
    trades: tuple[PlanTrade, ...] | None = None
    efficient_frontier: tuple[FrontierPoint, ...] | None = None
    details: dict[str, Any] | None = Field(default=None, description="model, solver, warnings, pack")


class OptimizationResult(_Frozen):
    """What a finished optimization run stores (the result tables)."""

    metrics: OptimizationMetrics
    current_allocation: dict[str, Fraction]
    target_allocation: dict[str, Fraction]
    trades: tuple[PlanTrade, ...]
    efficient_frontier: tuple[FrontierPoint, ...] | None
    details: dict[str, Any]


class FrontierView(_Frozen):
    """``GET /portfolios/{id}/efficient-frontier``."""

    frontier_id: str
    portfolio_id: str
    risk_measure: str
    pricing_pack_id: str
    created_at: datetime
    points: int
    efficient_frontier: tuple[FrontierPoint, ...]
    current_portfolio: FrontierPoint
    optimal_portfolio: FrontierPoint
    min_risk_portfolio: FrontierPoint
    max_return_portfolio: FrontierPoint


class RebalancePlanView(_Frozen):
    """``POST /portfolios/{id}/rebalance``: the plan (seed 003) and the proposal it is, in the one lifecycle."""

    portfolio_id: str
    rebalance_id: str
    created_at: datetime
    target_type: TargetType
    policy_id: str
    pricing_pack_id: str
    proposal_id: str
    status: str = Field(description="the proposal's lifecycle status")
    requires_approval: bool
    current_allocation: dict[str, Fraction]
    target_allocation: dict[str, Fraction]
    trades: tuple[PlanTrade, ...]
    metrics: PlanMetrics
    proposal: dict[str, Any] = Field(description="the proposal document, as `dawsos rebalance --json` prints it")
