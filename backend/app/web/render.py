"""What every dashboard page shares: the signed-in user, templates and their filters, the CSRF check, and one
way errors become pages (our typed errors keep their HTTP status: 401 goes to the sign-in page, 403/404/409/422
are shown as a page with the command line's one-line message).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.api.problems import problem_of
from app.core.errors import DawsosError, NotAuthenticatedError, one_line
from app.web.session import COOKIE, WebSession, csrf_ok, decode

log = structlog.get_logger()
HERE = Path(__file__).resolve().parent
Handler = Callable[..., Awaitable[Response]]


class CsrfRefused(Exception):
    """A state-changing form without the session's CSRF token (403)."""


@dataclass(frozen=True)
class Web:
    """One request of a signed-in user: the service, the principal, the session (token, CSRF token)."""

    request: Request
    service: Any
    who: Any
    session: WebSession

    @property
    def rid(self) -> str:
        return self.request.state.request_id


def _pct(value: Any, places: int = 2) -> str:
    try:
        return f"{Decimal(str(value)):.{places}f}"
    except (InvalidOperation, ValueError, TypeError):
        return "–"


def _frac_pct(value: Any, places: int = 2) -> str:
    """A fraction of 1 as a percent string (0.185 -> '18.50')."""
    try:
        return f"{Decimal(str(value)) * 100:.{places}f}"
    except (InvalidOperation, ValueError, TypeError):
        return "–"


def _money(value: Any) -> str:
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError, TypeError):
        return "–"


def _options(values: list[str]) -> list[tuple[str, str]]:
    """``(value, readable text)`` pairs for a select."""
    return [(v, v.replace("_", " ")) for v in values]


def _policy_options(policies: Any) -> list[tuple[str, str]]:
    return [(p.id, f"{p.id} — {p.name}") for p in policies]


def _price(value: Any) -> str:
    """A price as stored (every decimal place it has), with thousands separators."""
    try:
        return f"{Decimal(str(value)):,f}"
    except (InvalidOperation, ValueError, TypeError):
        return "–"


@cache
def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.filters.update(pct=_pct, frac_pct=_frac_pct, money=_money, price=_price)
    t.env.globals.update(quote=quote, opts=_options, policy_opts=_policy_options)
    return t


def secret_of(request: Request) -> bytes:
    return request.app.state.web_secret


def page(request: Request, name: str, *, status: int = 200, web: Web | None = None, **data: Any) -> HTMLResponse:
    """Render ``templates/name`` with the user and the CSRF token (when signed in)."""
    context = {"user": web.who.user_id if web else None, "csrf": web.session.csrf if web else "", **data}
    return templates().TemplateResponse(request, name, context, status_code=status)


def error_page(request: Request, exc: BaseException, web: Web | None = None) -> Response:
    if isinstance(exc, NotAuthenticatedError):
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    if isinstance(exc, CsrfRefused):
        status, title, detail = 403, "Refused", "error: the form's security token is missing or stale; reload the page"
    else:
        problem = problem_of(exc)
        status, title, detail = problem.status, problem.title, one_line(exc)
    log.info("web.refused", status=status, error=type(exc).__name__)
    return page(request, "error.html", status=status, web=web, title=title, detail=detail, status_code=status)


async def signed_in(request: Request) -> Web:
    """The signed-in user of this request (NotAuthenticatedError: no, bad or expired session, revoked token)."""
    session = decode(request.cookies.get(COOKIE), secret_of(request))
    if session is None:
        raise NotAuthenticatedError("not signed in")
    service = request.app.state.service
    who = await service.authenticate(session.token)
    request.state.user = who.user_id
    structlog.contextvars.bind_contextvars(user=who.user_id)
    return Web(request=request, service=service, who=who, session=session)


def guarded(handler: Handler) -> Handler:
    """A page handler ``handler(web, **path_params)``: signs the user in first; our errors become pages."""

    async def run(request: Request) -> Response:
        web: Web | None = None
        try:
            web = await signed_in(request)
            return await handler(web, **request.path_params)
        except (DawsosError, CsrfRefused) as exc:
            return error_page(request, exc, web)

    run.__name__ = run.__qualname__ = f"web_{handler.__name__}"
    run.__doc__ = handler.__doc__
    return run


async def checked_form(web: Web) -> dict[str, str]:
    """The posted form as ``{name: value}`` (first value per name) after the CSRF check (CsrfRefused)."""
    form = await web.request.form()
    fields = {k: str(v) for k, v in form.multi_items() if isinstance(v, str)}
    if not csrf_ok(web.session.csrf, fields.pop("csrf", None)):
        raise CsrfRefused()
    return fields


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
