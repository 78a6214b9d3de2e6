"""Request-scoped dependencies: the service, the request id, the authenticated principal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

if TYPE_CHECKING:
    from app.api.service import Service

#: ``Authorization: Bearer dawsos_<token id>_<secret>`` (the OpenAPI security scheme)
BEARER = HTTPBearer(auto_error=False, scheme_name="ApiToken",
                    description="An API token from `dawsos users token USER`: dawsos_<token id>_<secret>")


def service_of(request: Request) -> Service:
    return request.app.state.service


def request_id_of(request: Request) -> str:
    return request.state.request_id


async def principal(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> Any:
    """The caller, from its bearer token (401 problem when missing, malformed, unknown or revoked)."""
    token = credentials.credentials if credentials is not None else None
    who = await service_of(request).authenticate(token)
    request.state.user = who.user_id
    structlog.contextvars.bind_contextvars(user=who.user_id)
    return who


Principal = Annotated[Any, Depends(principal)]
ServiceDep = Annotated["Service", Depends(service_of)]
RequestId = Annotated[str, Depends(request_id_of)]
