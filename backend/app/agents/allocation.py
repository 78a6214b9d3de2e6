"""Inputs and runs of the allocation capabilities of :class:`~app.agents.optimizer.OptimizerAgent`.

``optimizer.optimize`` (target weights only, no holdings) and ``optimizer.efficient_frontier`` read the pack's
price history, the securities (sector, asset class), the benchmark and the engine defaults through the
repositories, then call :mod:`app.analytics.allocation` off the event loop. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.agents.base import CapabilityArgs, context_pack
from app.core.context import RequestCtx
from app.core.errors import InputError
from app.domain.allocation import EvaluationOutput, FrontierOutput, OptimizationOutput
from app.domain.enums import CovEstimator, MeanEstimator, Model, Objective, RiskMeasure, UncertaintySet
from app.domain.models import PricingPack

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.ext.asyncio import AsyncSession


class ViewArg(BaseModel):
    """A Black-Litterman view: ``assets`` coefficients (``{"AAPL": 1}`` absolute, ``{"AAPL": 1, "MSFT": -1}``
    relative), ``expected_return`` annual fraction, ``confidence`` in (0, 1]."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    assets: dict[str, float]
    expected_return: float
    confidence: float = Field(default=0.5, gt=0, le=1)


class AllocationArgs(CapabilityArgs):
    """Estimators and constraints shared by ``optimizer.optimize`` and ``optimizer.efficient_frontier``."""

    model: Model = Model.CLASSIC
    objective: Objective = Objective.SHARPE
    risk_measure: RiskMeasure = RiskMeasure.MV
    symbols: tuple[str, ...] | None = Field(default=None, description="universe; default every symbol in the pack")
    lookback_days: int = Field(default=756, ge=20, le=10_000, description="daily returns used")
    cov_estimator: CovEstimator = CovEstimator.HIST
    mean_estimator: MeanEstimator = MeanEstimator.HIST
    risk_free_rate: float | None = Field(default=None, description="annual fraction; default the engine default")
    risk_aversion: float = Field(default=2.0, gt=0, description="Utility objective's lambda")
    max_weight: float = Field(default=1.0, gt=0, le=1, description="per-asset cap, fraction (0.10 = 10 %)")
    min_weight: float = Field(default=0.0, ge=0, le=1, description="per-asset floor, fraction")
    min_position: float = Field(default=0.0, ge=0, le=1, description="no dust: 0 or at least this fraction")
    max_holdings: int | None = Field(default=None, ge=1)
    max_sector_weight: float | None = Field(default=None, gt=0, le=1, description="cap per sector, fraction")
    max_asset_class_weight: float | None = Field(default=None, gt=0, le=1, description="cap per asset class")
    benchmark_id: str | None = Field(default=None, description="for BL, MaxIR and CAPM; default the only one")
    views: tuple[ViewArg, ...] = ()
    risk_budgets: dict[str, float] | None = None
    forecasts: dict[str, float] | None = Field(default=None, description="symbol -> annual expected return")
    uncertainty: UncertaintySet = UncertaintySet.BOX
    uncertainty_confidence: float = Field(default=0.95, ge=0.5, lt=1)

    @field_validator("min_weight", "min_position")
    @classmethod
    def _floor_below_cap(cls, value: float, info: ValidationInfo) -> float:
        """A floor above the per-asset cap leaves no weight any name could take."""
        cap = info.data.get("max_weight")
        if cap is not None and value > cap:
            raise ValueError(f"{info.field_name} {value:g} > max_weight {cap:g}: no name could be held between them")
        return value


class OptimizeArgs(AllocationArgs):
    """Arguments of ``optimizer.optimize``: target weights only (no holdings)."""


class FrontierArgs(AllocationArgs):
    """Arguments of ``optimizer.efficient_frontier``; ``portfolio_id`` adds the current-portfolio point."""

    points: int = Field(default=20, ge=2, le=200)
    portfolio_id: str | None = None


class EvaluateArgs(AllocationArgs):
    """Arguments of ``optimizer.evaluate_weights``: ``weights`` (symbol -> fraction of 1, the rest cash);
    ``portfolio_id`` adds the portfolio's current weights and the turnover from them."""

    weights: dict[str, float] = Field(min_length=1, description="symbol -> fraction of 1")
    portfolio_id: str | None = None

    @field_validator("weights")
    @classmethod
    def _fractions(cls, value: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in value.values()) or sum(value.values()) > 1 + 1e-6:
            raise ValueError("weights are fractions >= 0 that sum to at most 1")
        return value


@dataclass(frozen=True)
class AllocationInputs:
    pack: PricingPack
    history: pd.DataFrame
    sectors: Mapping[str, str]
    asset_classes: Mapping[str, str]
    benchmark: Mapping[str, float] | None
    risk_free_rate: float
    annualization: int
    current_weights: Mapping[str, float] | None = None


async def gather_allocation_inputs(
    session: AsyncSession, ctx: RequestCtx, args: AllocationArgs, *, portfolio_id: str | None = None
) -> AllocationInputs:
    """Load what an allocation needs on the context's pack (one read transaction, opened by the caller)."""
    from app.db.repositories import (
        BenchmarkRepository,
        ConstraintDefaultsRepository,
        PortfolioRepository,
        SecurityRepository,
    )

    packs, pack = await context_pack(session, ctx)
    history = await packs.history(pack.id, symbols=list(args.symbols) if args.symbols else None)
    symbols = list(history.columns)
    securities = await SecurityRepository(session).get_many(symbols)
    defaults = await ConstraintDefaultsRepository(session).get()
    benchmarks = BenchmarkRepository(session)
    if args.benchmark_id:
        bench = await benchmarks.get(args.benchmark_id)
    else:
        found = await benchmarks.list()
        bench = found[0] if len(found) == 1 else None
    benchmark = None
    if bench is not None:
        benchmark = {s: float(w) for s, w in bench.weights.items() if s in symbols}
        total = sum(benchmark.values())
        benchmark = {s: w / total for s, w in benchmark.items()} if total > 0 else None
    current = None
    if portfolio_id:
        portfolio = await PortfolioRepository(session).get(portfolio_id)
        prices = await packs.asof_prices(pack.id)
        values = {h.symbol: h.shares * prices[h.symbol] for h in portfolio.holdings if h.symbol in prices}
        total = sum(values.values(), Decimal(0)) + portfolio.cash
        outside = sorted(set(values) - set(symbols))
        if outside:
            raise InputError(f"portfolio {portfolio_id!r} holds {', '.join(outside)} outside the universe")
        current = {s: float(v / total) for s, v in values.items()} if total > 0 else {}
    return AllocationInputs(
        pack=pack,
        history=history,
        sectors={s: sec.sector for s, sec in securities.items() if sec.sector},
        asset_classes={s: sec.asset_class for s, sec in securities.items() if getattr(sec, "asset_class", None)},
        benchmark=benchmark,
        risk_free_rate=float(defaults.risk_free_rate if args.risk_free_rate is None else args.risk_free_rate),
        annualization=int(defaults.annualization_factor),
        current_weights=current,
    )


def _risk_model_and_spec(inputs: AllocationInputs, args: AllocationArgs):  # noqa: ANN202
    from app.analytics.allocation import OptimizationSpec, View, group_caps
    from app.analytics.estimators import estimate_risk_model
    from app.analytics.returns import daily_returns

    if args.cov_estimator is CovEstimator.FACTOR:
        raise InputError("cov_estimator='factor' needs factor returns, which the database does not hold yet")
    symbols = list(inputs.history.columns)
    returns = daily_returns(history=inputs.history, symbols=symbols, asof=inputs.pack.asof_date,
                            lookback_days=args.lookback_days, pack_id=inputs.pack.id)
    needs_bench = args.model in (Model.BL, Model.MAX_IR) or args.mean_estimator is MeanEstimator.CAPM
    if needs_bench and not inputs.benchmark:
        raise InputError(f"model {args.model.value} / mean {args.mean_estimator.value} needs a benchmark: "
                         "give benchmark_id")
    risk_model = estimate_risk_model(
        returns=returns, asof=inputs.pack.asof_date, cov_method=args.cov_estimator,
        mean_method=args.mean_estimator, benchmark=inputs.benchmark, forecasts=args.forecasts,
        risk_free_rate=inputs.risk_free_rate, annualization=inputs.annualization,
    )
    caps = ()
    if args.max_sector_weight is not None:
        caps += group_caps(kind="sector", membership=inputs.sectors, cap=args.max_sector_weight)
    if args.max_asset_class_weight is not None:
        caps += group_caps(kind="asset_class", membership=inputs.asset_classes, cap=args.max_asset_class_weight)
    spec = OptimizationSpec(
        model=args.model, objective=args.objective, risk_measure=args.risk_measure,
        risk_aversion=args.risk_aversion, risk_free_rate=inputs.risk_free_rate,
        annualization=inputs.annualization, min_weight=args.min_weight, max_weight=args.max_weight,
        min_position=args.min_position, max_holdings=args.max_holdings, group_caps=caps,
        views=tuple(View(v.assets, v.expected_return, v.confidence) for v in args.views),
        risk_budgets=args.risk_budgets, benchmark_weights=inputs.benchmark,
        uncertainty=args.uncertainty, uncertainty_confidence=args.uncertainty_confidence,
    )
    return risk_model, spec


def _header(inputs: AllocationInputs, args: AllocationArgs) -> dict[str, Any]:
    return {"pricing_pack_id": inputs.pack.id, "asof_date": inputs.pack.asof_date, "lookback_days": args.lookback_days}


def run_optimize(inputs: AllocationInputs, args: OptimizeArgs) -> OptimizationOutput:
    """Pure: estimate, optimise, report (CPU; called in a worker thread)."""
    from app.analytics.allocation import optimize_portfolio

    risk_model, spec = _risk_model_and_spec(inputs, args)
    result = optimize_portfolio(risk_model=risk_model, spec=spec)
    doc = result.to_dict()
    doc["weights"] = {s: w for s, w in doc["weights"].items() if w > 0}
    return OptimizationOutput.model_validate({**_header(inputs, args), "cov_estimator": args.cov_estimator.value,
                                              "mean_estimator": args.mean_estimator.value, **doc})


def run_frontier(inputs: AllocationInputs, args: FrontierArgs) -> FrontierOutput:
    """Pure: estimate, trace the frontier (CPU; called in a worker thread)."""
    from app.analytics.allocation import efficient_frontier

    risk_model, spec = _risk_model_and_spec(inputs, args)
    frontier = efficient_frontier(risk_model=risk_model, spec=spec, points=args.points,
                                  current_weights=inputs.current_weights)
    return FrontierOutput.model_validate({**_header(inputs, args), **frontier.to_dict(),
                                          "current_portfolio_id": args.portfolio_id})


def run_evaluate(inputs: AllocationInputs, args: EvaluateArgs) -> EvaluationOutput:
    """Pure: ex-post drawdown, information ratio and turnover of ``args.weights`` (CPU; in a worker thread)."""
    from app.analytics.allocation import evaluate_weights, weight_turnover

    unknown = sorted(set(args.weights) - set(inputs.history.columns))
    if unknown:
        raise InputError(f"weights name {', '.join(unknown)}, not in pricing pack {inputs.pack.id!r}")
    found = evaluate_weights(history=inputs.history, weights=args.weights, benchmark=inputs.benchmark,
                             asof=inputs.pack.asof_date, lookback_days=args.lookback_days,
                             annualization=inputs.annualization, pack_id=inputs.pack.id)
    current = dict(inputs.current_weights) if inputs.current_weights is not None else None
    turnover = weight_turnover(current=current, target=args.weights) if current is not None else None
    return EvaluationOutput(**_header(inputs, args), max_drawdown=found.max_drawdown,
                            information_ratio=found.information_ratio, tracking_error=found.tracking_error,
                            annual_return=found.annual_return, annual_volatility=found.annual_volatility,
                            current_weights=current, weight_turnover=turnover)
