"""The dashboard's routes on the service's FastAPI app (:func:`mount`): sign-in, pages, static files."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from app.core.errors import NotAuthenticatedError, one_line
from app.web import pages_optimize, pages_portfolio, pages_preferences, pages_proposals
from app.web.render import HERE, guarded, page, redirect, secret_of
from app.web.session import COOKIE, LOGIN_COOKIE, MAX_AGE_S, csrf_ok, decode, encode, new_session, server_secret

PAGES: tuple[tuple[str, str, Any], ...] = (
    ("GET", "/", pages_portfolio.home),
    ("GET", "/portfolios/{portfolio_id}", pages_portfolio.overview),
    ("GET", "/portfolios/{portfolio_id}/pending", pages_portfolio.pending),
    ("GET", "/portfolios/{portfolio_id}/history", pages_portfolio.history),
    ("GET", "/portfolios/{portfolio_id}/preferences", pages_preferences.preferences),
    ("POST", "/portfolios/{portfolio_id}/preferences", pages_preferences.save_settings),
    ("POST", "/portfolios/{portfolio_id}/restricted", pages_preferences.add_restricted),
    ("POST", "/portfolios/{portfolio_id}/restricted/remove", pages_preferences.remove_restricted),
    ("GET", "/portfolios/{portfolio_id}/tax-preview", pages_preferences.tax_preview),
    ("GET", "/portfolios/{portfolio_id}/optimize", pages_optimize.optimize_form),
    ("POST", "/portfolios/{portfolio_id}/optimize", pages_optimize.optimize_submit),
    ("GET", "/portfolios/{portfolio_id}/rebalance", pages_optimize.rebalance_form),
    ("POST", "/portfolios/{portfolio_id}/rebalance", pages_optimize.rebalance_submit),
    ("GET", "/optimizations/{optimization_id}", pages_optimize.optimization),
    ("GET", "/optimizations/{optimization_id}/status", pages_optimize.optimization_status),
    ("GET", "/proposals/{proposal_id}", pages_proposals.proposal),
    ("POST", "/proposals/{proposal_id}/approve", pages_proposals.approve),
    ("POST", "/proposals/{proposal_id}/reject", pages_proposals.reject),
)
SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


async def login_form(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    """The sign-in form; a random login token in a cookie and in the form (double submit)."""
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", status=status, error=error, login_csrf=token,
                    next=_safe_next(request.query_params.get("next")))
    response.set_cookie(LOGIN_COOKIE, token, max_age=600, httponly=True, samesite="strict", path="/login")
    return response


async def login_page(request: Request) -> Response:
    return await login_form(request)


async def login(request: Request) -> Response:
    """Check the API token with the service; on success the signed session cookie."""
    form = await request.form()
    if not csrf_ok(request.cookies.get(LOGIN_COOKIE), str(form.get("csrf", ""))):
        return await login_form(request, error="The form expired; please sign in again.", status=403)
    token = str(form.get("token", "")).strip()
    try:
        who = await request.app.state.service.authenticate(token)
    except NotAuthenticatedError as exc:
        return await login_form(request, error=one_line(exc).removeprefix("error: "), status=401)
    request.state.user = who.user_id
    response = RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)
    response.set_cookie(COOKIE, encode(new_session(token), secret_of(request)), max_age=MAX_AGE_S, httponly=True,
                        samesite="strict", path="/", secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


async def logout(request: Request) -> Response:
    session = decode(request.cookies.get(COOKIE), secret_of(request))
    form = await request.form()
    if session is not None and not csrf_ok(session.csrf, str(form.get("csrf", ""))):
        return page(request, "error.html", status=403, title="Refused", status_code=403,
                    detail="error: the form's security token is missing or stale; reload the page")
    response = redirect("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


async def _headers(request: Request, call_next: Any) -> Response:
    response = await call_next(request)
    if not request.url.path.startswith(("/api/", "/docs", "/openapi")):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def mount(app: FastAPI) -> FastAPI:
    """Add the dashboard to ``app`` (whose ``state.service`` is the :class:`~app.api.service.Service`)."""
    app.state.web_secret = server_secret()
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_api_route("/login", login_page, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route("/login", login, methods=["POST"], include_in_schema=False)
    app.add_api_route("/logout", logout, methods=["POST"], include_in_schema=False)
    for method, path, handler in PAGES:
        app.add_api_route(path, guarded(handler), methods=[method], include_in_schema=False)
    app.middleware("http")(_headers)
    return app
