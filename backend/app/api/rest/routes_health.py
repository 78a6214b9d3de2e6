"""``/healthz`` (the process answers) and ``/readyz`` (database, a sealed pack, the workers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.api.rest.deps import ServiceDep
from app.api.rest.problems import problem_response
from app.core.errors import one_line

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready (the reason)", "content": {
    "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}}}})
async def readyz(request: Request, svc: ServiceDep) -> Any:
    """Ready to serve: the database answers, a usable sealed pricing pack exists, the job workers run."""
    try:
        return {"status": "ready", **await svc.ready()}
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
        return problem_response(request, status=503, slug="not-ready", title="Not ready", detail=one_line(exc))
