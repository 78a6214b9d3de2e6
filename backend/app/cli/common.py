"""Shared pieces of every `dawsos` command: running a command body, errors to exit codes, settings, the
capability call, JSON output and the common options. Command modules import from here, never from each other.

Identity: every command acts as one user — the owner of the API token in ``DAWSOS_TOKEN`` when it is set (a
malformed, unknown or revoked token: one line, exit 2), else the built-in local identity ``local`` (an admin
that ``dawsos seed`` and migration 0005 make the owner of every seeded portfolio). The orchestrator checks that
user's roles for each call (refused: exit 3).

Contract (DESIGN.md): ``--json`` prints exactly one JSON document on stdout; without it, readable tables.
Exit codes: 0 success, 1 a partial batch or delivery failure, 2 bad usage or invalid input, 3 a domain
refusal, 4 a solver failure. Errors are one clear line on stderr; never a traceback.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from app.core.errors import DawsosError, InputError, exit_code_of, one_line

if TYPE_CHECKING:
    from app.core.settings import Settings

T = TypeVar("T")

#: ``--json`` of every command: one JSON document on stdout
JSON_OPTION: Any = typer.Option(False, "--json", help="One JSON document on stdout.")
#: ``--pack`` of every command that reads prices
PACK_OPTION: Any = typer.Option(None, "--pack", help="Pricing pack id; default the newest sealed pack.")

_database_url: dict[str, str | None] = {"value": None}


def set_database_url(url: str | None) -> None:
    """Remember the root ``--database-url`` (or ``DATABASE_URL``) for :func:`settings`."""
    _database_url["value"] = url


def fail(exc: BaseException) -> typer.Exit:
    """Print one line for ``exc`` on stderr and return the Exit carrying its code (raise it)."""
    typer.echo(one_line(exc), err=True)
    return typer.Exit(exit_code_of(exc))


def run(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an async command body, mapping our errors to exit codes (never a traceback)."""
    try:
        return asyncio.run(coro_fn())
    except DawsosError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None


def settings(database_url: str | None = None) -> Settings:
    """The application settings, with ``database_url`` (or the root option's) applied; exit 2 when invalid."""
    from pydantic import ValidationError

    from app.core.settings import Settings

    url = database_url or _database_url["value"]
    try:
        return Settings(database_url=url) if url else Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        raise fail(InputError(f"{field}: {err['msg'].removeprefix('Value error, ')}")) from None


def print_json(document: Any) -> None:
    """Write ``document`` as canonical JSON (sorted keys, Decimals as strings) on stdout."""
    from app.domain.canonical import canonical_json

    sys.stdout.write(canonical_json(document, indent=2) + "\n")


def emit(result: Any, json_out: bool, render: Callable[[Any], None]) -> None:
    """``result`` as one JSON document (``--json``) or through ``render``."""
    if json_out:
        print_json(result.model_dump(mode="json"))
    else:
        render(result)


TOKEN_ENV = "DAWSOS_TOKEN"


async def cli_user(session_factory: Any, claimed: str | None = None) -> str:
    """The command line's identity: the user of ``DAWSOS_TOKEN`` when it is set (NotAuthenticatedError, exit 2,
    when the token is bad), else ``local``. ``claimed`` (a command's ``--user``) must be that user: InputError
    (exit 2) naming both otherwise."""
    import os

    from app.domain.identity import LOCAL_USER
    from app.orchestrator.identity import authenticate

    token = os.environ.get(TOKEN_ENV, "").strip()
    user = (await authenticate(session_factory, token)).user_id if token else LOCAL_USER
    if claimed is not None and claimed != user:
        source = f"the user of {TOKEN_ENV}" if token else f"the local identity: {TOKEN_ENV} is not set"
        raise InputError(f"--user {claimed!r} is not the signed-in user {user!r} ({source}); "
                         f"drop --user, or set {TOKEN_ENV} to a token of {claimed!r}")
    return user


def call_capability(capability: str, *, as_user: str | None = None, pack: str | None = None, **args: Any) -> Any:
    """One orchestrator call of ``capability`` as the command line's identity (:func:`cli_user`; ``as_user``
    is a ``--user`` that must name it); a capability that needs a pricing pack runs on ``pack`` (default: the
    newest sealed pack). Returns the envelope's data; our errors exit with their code and one line on stderr."""

    async def body() -> Any:
        from app.bootstrap import bootstrap
        from app.core.context import RequestCtx

        async with bootstrap(settings()) as running:
            user = await cli_user(running.session_factory, as_user)
            orchestrator = running.orchestrator
            if orchestrator.registry.spec(capability).needs_pack:
                ctx = await orchestrator.new_context(pricing_pack_id=pack, user_id=user)
            else:
                ctx = RequestCtx(user_id=user, pricing_pack_id=pack)
            return (await orchestrator.call(capability, ctx, **args)).data

    return run(body)
