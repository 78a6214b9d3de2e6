"""The FastAPI application: ``/api/v1`` routers, problem+json errors, request ids and one access log line per
request (``http.request`` with ``request_id``, ``user``, ``route``, ``method``, ``status``, ``duration_ms``)."""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.rest import problems
from app.core.errors import DawsosError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from app.api.service import Service

log = structlog.get_logger()
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
API_PREFIX = "/api/v1"


def _route_of(request: Request) -> str:
    """The matched route's template with its router's prefix (``/api/v1/optimizations/{optimization_id}``); the
    path itself when nothing matched."""
    template = getattr(request.scope.get("route"), "path", None)
    path = request.scope.get("path", request.url.path)
    if not template:
        return path
    try:
        concrete = template.format(**request.path_params)
    except (KeyError, IndexError, ValueError):
        return template
    return path[: len(path) - len(concrete)] + template if path.endswith(concrete) else template


async def _access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Request id (a valid ``X-Request-ID`` is kept, else a new one), structlog context, one line per request."""
    given = request.headers.get("x-request-id", "")
    request_id = given if REQUEST_ID_RE.match(given) else uuid.uuid4().hex
    request.state.request_id = request_id
    request.state.user = None
    started = time.perf_counter()
    with structlog.contextvars.bound_contextvars(request_id=request_id, method=request.method,
                                                 path=request.url.path):
        response = await call_next(request)
        response.headers["X-Request-ID"] = request_id
        log.info("http.request", route=_route_of(request), status=response.status_code, user=request.state.user,
                 duration_ms=round((time.perf_counter() - started) * 1000, 2))
    return response


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document with the problem schema among its components (error responses refer to it)."""
    from fastapi.openapi.utils import get_openapi

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            defs = problems.ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(defs.pop("$defs", {}))
            schemas["ProblemDocument"] = defs
            app.openapi_schema = doc
        return app.openapi_schema

    return build


def create_app(service: Service) -> FastAPI:
    """The ASGI app over ``service`` (its orchestrator and job runner)."""
    from app.api.rest import routes_health, routes_optimizations, routes_portfolios, routes_proposals, routes_reference

    app = FastAPI(title="DawsOS policy rebalancer", version="1.0.0", docs_url="/docs", redoc_url=None,
                  description="Optimizations (jobs), efficient frontiers, rebalance plans (proposals in one "
                  "lifecycle), approvals, history, packs and policies. Fractions of 1 and money are Decimal "
                  "strings; errors are application/problem+json with the command line's one-line message.")
    app.state.service = service
    app.middleware("http")(_access_log)
    app.add_exception_handler(RequestValidationError, problems.validation_error)
    app.add_exception_handler(StarletteHTTPException, problems.http_error)
    app.add_exception_handler(DawsosError, problems.dawsos_error)
    app.add_exception_handler(Exception, problems.unexpected_error)
    app.include_router(routes_health.router)
    for module in (routes_optimizations, routes_portfolios, routes_proposals, routes_reference):
        app.include_router(module.router, prefix=API_PREFIX)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app
