"""The gRPC service ``portfolio_optimization.v1.PortfolioOptimizationService`` (seed 003's proto), on grpc.aio.

Each RPC authenticates the ``authorization`` metadata (``Bearer <token>`` or the bare token), turns the message
into the service's request model and calls the same :class:`~app.api.service.Service` operation as REST, so the
numbers are the same (fractions and money travel as doubles here, Decimal strings in REST). Errors map to status
codes through :mod:`app.api.problems` (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, NOT_FOUND, ...),
with the command line's one-line message as the details.

proto3 scalars cannot be absent: a ``0``/``""`` field means "not given" (the default applies). Extras travel as
metadata: ``idempotency-key`` (CreateOptimization), ``policy-id`` and ``pricing-pack-id`` (GenerateRebalancePlan,
and the pack for the others).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import grpc
import structlog
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import ValidationError

from app.api.grpc.gen.portfolio_optimization.v1 import portfolio_optimization_pb2 as pb
from app.api.grpc.gen.portfolio_optimization.v1 import portfolio_optimization_pb2_grpc as pb_grpc
from app.api.problems import problem_of
from app.api.service import CreateOptimizationRequest, FrontierQuery, RebalanceRequest, Service
from app.core.context import new_request_id
from app.core.errors import ArgumentError, DawsosError, NotImplementedYetError, one_line

log = structlog.get_logger()
T = TypeVar("T")


def _ts(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _given(**values: Any) -> dict[str, Any]:
    """The fields a proto3 message actually carries (zero values mean "not given")."""
    return {k: v for k, v in values.items() if v not in (0, 0.0, "", None) and v != {}}


def _metadata(context: grpc.aio.ServicerContext) -> dict[str, str]:
    return {k.lower(): v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}


def _token(meta: dict[str, str]) -> str | None:
    raw = meta.get("authorization", "").strip()
    return raw[7:].strip() if raw.lower().startswith("bearer ") else (raw or None)


def _invalid(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg'].removeprefix('Value error, ')}"
             for e in exc.errors()]
    return "error: " + "; ".join(parts)


def _trade(t: Any, with_priority: bool = True) -> pb.Trade:
    return pb.Trade(instrument_id=t.instrument_id, action=t.action, quantity=float(t.quantity),
                    estimated_value=float(t.estimated_value), weight_change=float(t.weight_change),
                    priority=t.priority if with_priority else 0)


def _point(p: Any) -> pb.FrontierPoint:
    return pb.FrontierPoint(**{"return": float(p.return_)}, risk=float(p.risk), sharpe=float(p.sharpe),
                            weights={s: float(w) for s, w in (p.weights or {}).items()})


def _portfolio_point(p: Any) -> pb.PortfolioPoint:
    return pb.PortfolioPoint(**{"return": float(p.return_)}, risk=float(p.risk), sharpe=float(p.sharpe))


def _floats(mapping: dict[str, Any] | None) -> dict[str, float]:
    return {k: float(v) for k, v in (mapping or {}).items()}


def optimization_response(view: Any) -> pb.GetOptimizationResponse:
    """A job view as ``GetOptimizationResponse`` (metrics, allocations, trades, frontier once completed)."""
    m = view.metrics
    metrics = pb.OptimizationMetrics(
        expected_return=float(m.expected_return), expected_volatility=float(m.expected_volatility),
        sharpe_ratio=float(m.sharpe_ratio), max_drawdown=float(m.max_drawdown), turnover=float(m.turnover or 0),
        information_ratio=float(m.information_ratio or 0)) if m is not None else None
    return pb.GetOptimizationResponse(
        optimization_id=view.optimization_id, portfolio_id=view.portfolio_id, status=view.status.value,
        created_at=_ts(view.created_at), completed_at=_ts(view.completed_at),
        optimization_type=view.optimization_type, objective=view.objective, risk_measure=view.risk_measure,
        metrics=metrics, current_allocation=_floats(view.current_allocation),
        target_allocation=_floats(view.target_allocation), trades=[_trade(t) for t in view.trades or ()],
        efficient_frontier=[_point(p) for p in view.efficient_frontier or ()])


def optimization_request(msg: Any) -> CreateOptimizationRequest:
    c, p = msg.constraints, msg.preferences
    constraints = _given(max_position_size=c.max_position_size, min_position_size=c.min_position_size,
                         max_sector_exposure=c.max_sector_exposure, max_asset_class_exposure=c.max_asset_class_exposure,
                         max_turnover=c.max_turnover, target_volatility=c.target_volatility,
                         min_weights=dict(c.min_weights), max_weights=dict(c.max_weights))
    preferences = _given(risk_aversion=p.risk_aversion, transaction_cost_model=p.transaction_cost_model)
    preferences.update(include_transaction_costs=p.include_transaction_costs,
                       consider_tax_implications=p.consider_tax_implications)
    return CreateOptimizationRequest.model_validate(
        {"portfolio_id": msg.portfolio_id, **_given(optimization_type=msg.optimization_type,
                                                    objective=msg.objective, risk_measure=msg.risk_measure),
         "constraints": constraints, "preferences": preferences})


class PortfolioOptimizationServicer(pb_grpc.PortfolioOptimizationServiceServicer):
    """Seed 003's RPCs over the transport-neutral service."""

    def __init__(self, service: Service) -> None:
        self.service = service

    async def _handle(self, rpc: str, context: grpc.aio.ServicerContext,
                      body: Callable[[Any, dict[str, str], str], Awaitable[T]]) -> T:
        meta = _metadata(context)
        request_id = meta.get("x-request-id") or new_request_id()
        with structlog.contextvars.bound_contextvars(request_id=request_id, route=f"grpc:{rpc}"):
            try:
                who = await self.service.authenticate(_token(meta))
                with structlog.contextvars.bound_contextvars(user=who.user_id):
                    result = await body(who, meta, request_id)
                    log.info("grpc.request", status="OK")
                    return result
            except ValidationError as exc:
                log.info("grpc.request", status="INVALID_ARGUMENT")
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, _invalid(exc))
            except DawsosError as exc:
                code = problem_of(exc).grpc
                log.info("grpc.request", status=code, error=type(exc).__name__)
                await context.abort(grpc.StatusCode[code], one_line(exc))
        raise AssertionError("unreachable: context.abort raises")  # pragma: no cover

    async def CreateOptimization(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        async def body(who: Any, meta: dict[str, str], rid: str) -> Any:
            req = optimization_request(request)
            pack = meta.get("pricing-pack-id")
            if pack:
                req = req.model_copy(update={"pricing_pack_id": pack})
            view = await self.service.create_optimization(who, req, idempotency_key=meta.get("idempotency-key"),
                                                          request_id=rid)
            return pb.CreateOptimizationResponse(
                optimization_id=view.optimization_id, portfolio_id=view.portfolio_id, status=view.status.value,
                created_at=_ts(view.created_at), estimated_completion_time=_ts(view.estimated_completion_time))

        return await self._handle("CreateOptimization", context, body)

    async def GetOptimization(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        async def body(who: Any, meta: dict[str, str], rid: str) -> Any:
            if not request.optimization_id:
                raise ArgumentError("optimization_id: required (value='')")
            return optimization_response(await self.service.get_optimization(who, request.optimization_id,
                                                                              request_id=rid))

        return await self._handle("GetOptimization", context, body)

    async def GenerateEfficientFrontier(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        async def body(who: Any, meta: dict[str, str], rid: str) -> Any:
            c = request.constraints
            query = FrontierQuery.model_validate(_given(
                points=request.points, min_return=request.min_return, max_risk=request.max_risk,
                risk_measure=request.risk_measure, pricing_pack_id=meta.get("pricing-pack-id"),
                max_position_size=c.max_position_size, min_position_size=c.min_position_size,
                max_sector_exposure=c.max_sector_exposure, max_asset_class_exposure=c.max_asset_class_exposure))
            view = await self.service.efficient_frontier(who, request.portfolio_id, query, request_id=rid)
            return pb.EfficientFrontierResponse(
                portfolio_id=view.portfolio_id, risk_measure=view.risk_measure,
                efficient_frontier=[_point(p) for p in view.efficient_frontier],
                current_portfolio=_portfolio_point(view.current_portfolio),
                optimal_portfolio=_portfolio_point(view.optimal_portfolio),
                min_risk_portfolio=_portfolio_point(view.min_risk_portfolio),
                max_return_portfolio=_portfolio_point(view.max_return_portfolio))

        return await self._handle("GenerateEfficientFrontier", context, body)

    async def GenerateRebalancePlan(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        async def body(who: Any, meta: dict[str, str], rid: str) -> Any:
            c = request.constraints
            constraints = _given(max_turnover=c.max_turnover, min_trade_size=c.min_trade_size,
                                 max_trades=c.max_trades)
            constraints["consider_tax_implications"] = c.consider_tax_implications
            req = RebalanceRequest.model_validate({**_given(target_type=request.target_type,
                                                            policy_id=meta.get("policy-id"),
                                                            pricing_pack_id=meta.get("pricing-pack-id")),
                                                   "constraints": constraints})
            plan = await self.service.rebalance(who, request.portfolio_id, req, request_id=rid)
            m = plan.metrics
            imp = m.expected_improvement
            return pb.RebalancePlanResponse(
                portfolio_id=plan.portfolio_id, rebalance_id=plan.rebalance_id, created_at=_ts(plan.created_at),
                current_allocation=_floats(plan.current_allocation), target_allocation=_floats(plan.target_allocation),
                trades=[_trade(t) for t in plan.trades],
                metrics=pb.RebalanceMetrics(
                    turnover=float(m.turnover), transaction_costs=float(m.transaction_costs),
                    tax_implications=float(m.tax_implications),
                    expected_improvement=pb.ImprovementMetrics(**{"return": float(imp.return_)},
                                                               risk=float(imp.risk), sharpe=float(imp.sharpe))))

        return await self._handle("GenerateRebalancePlan", context, body)

    async def AnalyzeFactorExposures(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        async def body(who: Any, meta: dict[str, str], rid: str) -> Any:
            raise NotImplementedYetError(FACTORS_MISSING)

        return await self._handle("AnalyzeFactorExposures", context, body)


FACTORS_MISSING = ("factor analytics do not exist yet: AnalyzeFactorExposures has no factor returns to compute "
                   "exposures or attribution with; it answers once factor analytics land")


async def start_grpc(service: Service, *, host: str, port: int) -> grpc.aio.Server:
    """A started grpc.aio server on ``host:port`` (PortRefused... as a ConfigurationError when it cannot bind)."""
    from app.core.errors import ConfigurationError

    server = grpc.aio.server()
    pb_grpc.add_PortfolioOptimizationServiceServicer_to_server(PortfolioOptimizationServicer(service), server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError as exc:
        raise ConfigurationError(f"--grpc-port {port}: cannot listen on {host}:{port} ({exc})") from None
    if not bound:
        raise ConfigurationError(f"--grpc-port {port}: cannot listen on {host}:{port}")
    await server.start()
    return server
