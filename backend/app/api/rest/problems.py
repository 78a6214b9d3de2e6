"""Errors as ``application/problem+json`` (RFC 9457): ``type``, ``title``, ``status``, ``detail`` (the command
line's one line), ``instance`` (the path), ``request_id``; a validation error also lists each field at fault."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.problems import INTERNAL, PROBLEM_BASE, problem_of
from app.core.errors import DawsosError, one_line

log = structlog.get_logger()
PROBLEM_JSON = "application/problem+json"


class FieldProblem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="where: body.constraints.max_position_size, query.points, header.idempotency-key")
    message: str


class ProblemDocument(BaseModel):
    """An error (RFC 9457 problem details)."""

    model_config = ConfigDict(extra="forbid")

    type: str
    title: str
    status: int
    detail: str = Field(description="one line: the same as the command line's")
    instance: str
    request_id: str
    errors: list[FieldProblem] | None = None


def problem_response(request: Request, *, status: int, slug: str, title: str, detail: str,
                     errors: list[FieldProblem] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    doc = ProblemDocument(type=PROBLEM_BASE + slug, title=title, status=status, detail=detail,
                          instance=request.url.path, request_id=getattr(request.state, "request_id", ""),
                          errors=errors)
    return JSONResponse(doc.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON,
                        headers=headers)


async def dawsos_error(request: Request, exc: Exception) -> JSONResponse:
    problem = problem_of(exc)
    headers = {"WWW-Authenticate": 'Bearer realm="dawsos"'} if problem.status == 401 else None
    log.info("http.refused", status=problem.status, error=type(exc).__name__, message=str(exc))
    return problem_response(request, status=problem.status, slug=problem.slug, title=problem.title,
                            detail=one_line(exc), headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "request"


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each field, its problem and (briefly) the value given."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        value = f" (value={_shown(err['input'])})" if "input" in err and err["type"] != "missing" else ""
        problems.append(FieldProblem(field=_field(tuple(err.get("loc", ()))), message=msg + value))
    detail = "error: " + "; ".join(f"{p.field}: {p.message}" for p in problems)
    return problem_response(request, status=422, slug="invalid-input", title="Invalid input", detail=detail,
                            errors=problems)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "error"
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem_response(request, status=exc.status_code, slug=slug, title=detail,
                            detail=f"error: {detail} ({request.method} {request.url.path})",
                            headers=getattr(exc, "headers", None))


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything that is not ours: 500, logged with its traceback, never shown to the caller."""
    if isinstance(exc, DawsosError):
        return await dawsos_error(request, exc)
    log.error("http.crashed", error=type(exc).__name__, exc_info=exc)
    return problem_response(request, status=500, slug=INTERNAL.slug, title=INTERNAL.title,
                            detail=f"error: internal error {type(exc).__name__} (request "
                            f"{getattr(request.state, 'request_id', '')}; see the server log)")
