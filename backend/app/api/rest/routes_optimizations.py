"""``/api/v1/optimizations``: submit (202 + ``Location``; ``Idempotency-Key``), poll, list, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from app.agents.optimizations import OptimizationList
from app.api.rest.deps import Principal, RequestId, ServiceDep
from app.api.rest.responses import errors
from app.api.service import CancelRequest, CreateOptimizationRequest
from app.domain.service import JobStatus, OptimizationView

router = APIRouter(tags=["optimizations"])
JobId = Annotated[str, "optimization id"]


@router.post("/optimizations", status_code=202, response_model=OptimizationView, responses=errors(403, 404, 409),
             summary="Submit an optimization (a job: poll its Location)")
async def create_optimization(
    body: CreateOptimizationRequest, response: Response, who: Principal, svc: ServiceDep, rid: RequestId,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                                  pattern=r"^[\x21-\x7e]+$")] = None,
) -> OptimizationView:
    """``202 Accepted`` with the job (``pending``) and ``Location``. A retried request with the same
    ``Idempotency-Key`` (same user, same body) returns the same job; another body under it is a 422."""
    view = await svc.create_optimization(who, body, idempotency_key=idempotency_key, request_id=rid)
    response.headers["Location"] = f"/api/v1/optimizations/{view.optimization_id}"
    response.headers["Retry-After"] = "1"
    return view


@router.get("/optimizations", response_model=OptimizationList, responses=errors(403, 404))
async def list_optimizations(
    who: Principal, svc: ServiceDep, rid: RequestId,
    portfolio_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: JobStatus | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> OptimizationList:
    """Optimizations of the portfolios the caller may read, newest first."""
    return await svc.list_optimizations(who, portfolio_id=portfolio_id, status=status, limit=limit, request_id=rid)


@router.get("/optimizations/{optimization_id}", response_model=OptimizationView, responses=errors(403, 404))
async def get_optimization(optimization_id: str, who: Principal, svc: ServiceDep, rid: RequestId) -> OptimizationView:
    """``pending → processing → completed | failed | cancelled``; results when completed, the reason when not."""
    return await svc.get_optimization(who, optimization_id, request_id=rid)


@router.post("/optimizations/{optimization_id}/cancel", response_model=OptimizationView,
             responses=errors(403, 404, 409))
async def cancel_optimization(optimization_id: str, who: Principal, svc: ServiceDep, rid: RequestId,
                              body: CancelRequest | None = None) -> OptimizationView:
    """Cancel: a pending job at once, a running one at its worker's next heartbeat (409 when finished)."""
    reason = body.reason if body is not None else ""
    return await svc.cancel_optimization(who, optimization_id, reason, request_id=rid)


@router.delete("/optimizations/{optimization_id}", response_model=OptimizationView, responses=errors(403, 404, 409))
async def delete_optimization(optimization_id: str, who: Principal, svc: ServiceDep,
                              rid: RequestId) -> OptimizationView:
    """The same as ``POST .../cancel`` (the job's record stays)."""
    return await svc.cancel_optimization(who, optimization_id, request_id=rid)
