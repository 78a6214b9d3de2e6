"""The orchestrator: one path for every capability call (CLI, patterns, notebooks, tests).

``await orchestrator.call(name, ctx, **args)``:

1. binds ``request_id``, ``trace_id``, ``capability``, ``pricing_pack_id``, ``portfolio_id`` into
   structlog's contextvars for the whole call (see :meth:`RequestCtx.bind`);
2. finds the capability (:class:`~app.core.errors.UnknownCapabilityError`) and validates the keyword
   arguments into its pydantic model (:class:`~app.core.errors.ArgumentError` naming each argument);
3. refuses a context already past its deadline, then runs the rest under ``asyncio.timeout``: past the
   deadline the call's task is cancelled, the agent's transaction rolls back, and the caller gets
   :class:`~app.core.errors.DeadlineExceededError`;
4. checks the caller may make the call (:func:`app.orchestrator.identity.check_access`, the one place
   permissions are checked): ``ctx.user_id`` must hold the role the capability declares on the portfolio its
   arguments name (or on the portfolio of the proposal they name), or be an admin where the capability
   allows admins, else :class:`~app.core.errors.PermissionDeniedError`. The interfaces (CLI, REST, gRPC)
   always put an authenticated user in the context. ``ctx.user_id is None`` is a trusted in-process library
   call (golden harness, notebooks, tests calling the orchestrator directly): nothing is checked, and the
   call's ``orchestrator.call.started`` line says ``access="trusted"`` (``"checked"`` otherwise; every line of
   the call carries ``user``);
5. for ``needs_pack`` capabilities, checks the pack before any work: missing in the context →
   :class:`~app.core.errors.PricingPackError`, unknown → :class:`~app.core.errors.UnknownPricingPackError`,
   not sealed (with ``require_sealed_pack``) or another as-of date → :class:`PricingPackError`;
6. runs the agent method (it opens its own session: concurrent calls share nothing) and returns an
   :class:`~app.orchestrator.envelope.Envelope`. Our typed errors pass through unchanged; anything else is
   wrapped in :class:`~app.core.errors.CapabilityFailedError`. :meth:`Orchestrator.try_call` returns
   errors as data (``envelope.error``) instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from pydantic import BaseModel, ValidationError

from app.agents.base import Agent, BoundCapability, CapabilitySpec
from app.core.context import RequestCtx
from app.core.errors import (
    ArgumentError,
    CapabilityFailedError,
    ConfigurationError,
    DawsosError,
    DeadlineExceededError,
    PricingPackError,
)
from app.orchestrator.envelope import Envelope, ErrorInfo
from app.orchestrator.registry import CapabilityRegistry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from app.domain.models import PricingPack
    from app.orchestrator.patterns import Pattern, PatternResult

log = structlog.get_logger()


class PackSource(Protocol):
    """Where the pack guard looks packs up (the PricingPackAgent)."""

    async def get_pack(self, pack_id: str, *, with_counts: bool = True) -> PricingPack: ...

    async def latest_sealed_pack(self) -> PricingPack: ...


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validate_arguments(spec: CapabilitySpec, args: dict[str, Any]) -> BaseModel:
    """``args`` validated into ``spec.args``; ArgumentError names every bad argument."""
    try:
        return spec.args.model_validate(args)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
            if err["type"] == "extra_forbidden" and len(err["loc"]) == 1:
                problems.append(f"unknown argument {loc!r} (accepted: {', '.join(spec.argument_names())})")
            elif err["type"] == "missing":
                problems.append(f"missing argument {loc!r}")
            else:
                msg = err["msg"].removeprefix("Value error, ")
                problems.append(f"argument {loc!r}: {msg} (value={_shown(err.get('input'))})")
        raise ArgumentError(f"{spec.name}: " + "; ".join(problems)) from None


class Orchestrator:
    """Capability registry + request-context life cycle + guards + deadlines + envelopes + patterns."""

    def __init__(self, agents: Iterable[Agent], *, packs: PackSource, patterns_dir: Path | None = None,
                 identity: async_sessionmaker[AsyncSession] | None = None) -> None:
        """``identity``: the sessions permission checks read users and roles through (None: only trusted calls,
        without a user, can be made)."""
        self.registry = CapabilityRegistry(agents)
        self._identity = identity
        for agent in self.registry.agents:  # agents reach each other only through this orchestrator
            agent.bind_caller(self.call)
        self._packs = packs
        self._patterns_dir = patterns_dir
        self._patterns: dict[str, Pattern] = {}

    # ---- contexts ---------------------------------------------------------------------------------
    async def new_context(
        self, *, pricing_pack_id: str | None = None, timeout: float | None = None, **fields: Any
    ) -> RequestCtx:
        """A fresh context on ``pricing_pack_id``, or on the newest sealed pack when None
        (PricingPackError when there is none); ``timeout`` seconds from now sets the deadline."""
        if pricing_pack_id is None:
            pricing_pack_id = (await self._packs.latest_sealed_pack()).id
        ctx = RequestCtx(pricing_pack_id=pricing_pack_id, **fields)
        return ctx.with_timeout(timeout) if timeout is not None else ctx

    # ---- calls ------------------------------------------------------------------------------------
    def capabilities(self) -> tuple[CapabilitySpec, ...]:
        return tuple(self.registry)

    async def call(self, name: str, ctx: RequestCtx | None = None, /, **args: Any) -> Envelope:
        """Run capability ``name`` with ``args`` under ``ctx`` (a fresh context when None).

        Raises UnknownCapabilityError, ArgumentError, PricingPackError / UnknownPricingPackError,
        DeadlineExceededError, the capability's own typed errors, or CapabilityFailedError.
        """
        ctx = ctx or RequestCtx()
        raw_portfolio = args.get("portfolio_id")
        started = time.perf_counter()
        with ctx.bind(capability=name, portfolio_id=raw_portfolio if isinstance(raw_portfolio, str) else None,
                      user=ctx.user_id):
            log.info("orchestrator.call.started", access="checked" if ctx.user_id is not None else "trusted")
            try:
                bound = self.registry.get(name)
                parsed = validate_arguments(bound.spec, args)
                data, ctx = await self._run(bound, ctx, parsed)
            except DawsosError as exc:
                log.info("orchestrator.call.refused", error=type(exc).__name__, message=str(exc),
                         duration_ms=_ms(started))
                raise
            except Exception as exc:  # noqa: BLE001 - wrapped with the capability named, original chained
                log.info("orchestrator.call.failed", error=type(exc).__name__, duration_ms=_ms(started),
                         exc_info=True)
                raise CapabilityFailedError(name, exc) from exc
            duration_ms = _ms(started)
            log.info("orchestrator.call.finished", duration_ms=duration_ms)
        warnings = getattr(data, "warnings", ())
        return Envelope(capability=name, ctx=ctx, data=data, duration_ms=duration_ms,
                        warnings=tuple(warnings) if isinstance(warnings, (list, tuple)) else ())

    async def try_call(self, name: str, ctx: RequestCtx | None = None, /, **args: Any) -> Envelope:
        """Like :meth:`call`, but our typed errors come back as ``envelope.error`` (``data`` None)."""
        ctx = ctx or RequestCtx()
        started = time.perf_counter()
        try:
            return await self.call(name, ctx, **args)
        except DawsosError as exc:
            return Envelope(capability=name, ctx=ctx, duration_ms=_ms(started), error=ErrorInfo.of(exc))

    async def _run(self, bound: BoundCapability, ctx: RequestCtx, args: BaseModel) -> tuple[Any, RequestCtx]:
        spec = bound.spec
        remaining = ctx.remaining_seconds()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceededError(spec.name, ctx.deadline, started=False)
        timeout = asyncio.timeout(remaining)
        try:
            async with timeout:
                if ctx.user_id is not None:
                    await self._check_access(spec, ctx, args)
                if spec.needs_pack:
                    ctx = await self._check_pack(spec.name, ctx)
                return await bound.handler(ctx, args), ctx
        except TimeoutError:
            if timeout.expired():
                log.info("orchestrator.call.deadline_exceeded", deadline=str(ctx.deadline))
                raise DeadlineExceededError(spec.name, ctx.deadline) from None
            raise

    async def _check_access(self, spec: CapabilitySpec, ctx: RequestCtx, args: BaseModel) -> None:
        """The permission guard (before the pack guard and any work)."""
        from app.orchestrator.identity import check_access

        if self._identity is None:
            raise ConfigurationError(f"capability {spec.name!r} called as {ctx.user_id!r}, but this orchestrator "
                                     "was built without identity (only calls without a user can be made)")
        await check_access(self._identity, spec.name, spec.access, str(ctx.user_id), args,
                           request_id=ctx.request_id)

    async def _check_pack(self, name: str, ctx: RequestCtx) -> RequestCtx:
        """The pack guard (before any work); returns ``ctx`` with the pack's ``asof_date``."""
        if not ctx.pricing_pack_id:
            raise PricingPackError(
                f"capability {name!r} needs a pricing pack: the request context names none "
                "(give --pack ID, or RequestCtx(pricing_pack_id=...) / orchestrator.new_context())"
            )
        pack = await self._packs.get_pack(ctx.pricing_pack_id, with_counts=False)  # id, as-of, seal only
        if ctx.require_sealed_pack and not pack.sealed:
            raise PricingPackError(
                f"pricing pack {pack.id!r} is not sealed; capability {name!r} needs a sealed (immutable) pack"
            )
        if ctx.asof_date is not None and ctx.asof_date != pack.asof_date:
            raise PricingPackError(
                f"the request context's asof_date {ctx.asof_date.isoformat()} differs from pricing pack "
                f"{pack.id!r}'s {pack.asof_date.isoformat()}"
            )
        return ctx if ctx.asof_date == pack.asof_date else ctx.replace(asof_date=pack.asof_date)

    # ---- patterns ---------------------------------------------------------------------------------
    def pattern(self, name: str | Path) -> Pattern:
        """The pattern ``name`` (a file ``<patterns_dir>/<name>.json``, or a path to a ``.json`` file),
        loaded and validated against this registry once."""
        from app.orchestrator.patterns import load_pattern, pattern_path

        path = pattern_path(name, self._patterns_dir)
        key = str(path)
        if key not in self._patterns:
            self._patterns[key] = load_pattern(path, self.registry)
        return self._patterns[key]

    def pattern_names(self) -> tuple[str, ...]:
        from app.orchestrator.patterns import pattern_names

        return pattern_names(self._patterns_dir)

    async def run_pattern(
        self, name: str | Path | Pattern, ctx: RequestCtx | None = None, /, **inputs: Any
    ) -> PatternResult:
        """Run a pattern's steps in order; each step is a :meth:`call` under a child of ``ctx``."""
        from app.orchestrator.patterns import Pattern, run_pattern

        pattern = name if isinstance(name, Pattern) else self.pattern(name)
        return await run_pattern(self, pattern, ctx or RequestCtx(), inputs)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)
