"""The agent contract: an :class:`Agent` owns a session factory and declares capabilities.

A capability is an ``async`` method decorated with :func:`capability`. The declaration names the
capability (``"<agent name>.<verb>"``), its argument model (pydantic), whether it needs a pricing pack and
what it returns. The orchestrator (:mod:`app.orchestrator`) builds its registry from these declarations at
bootstrap, validates the caller's keyword arguments into the argument model, checks the pack, applies the
deadline, binds the log context and wraps the result in an envelope. The method itself receives a
checked context and a validated argument object, and does only its own work.

Adding a capability is a method and an argument model::

    class OptimizeArgs(CapabilityArgs):
        '''Target weights only (no holdings).'''
        model: Model = Model.CLASSIC
        objective: Objective = Objective.SHARPE
        risk_measure: RiskMeasure = RiskMeasure.MV
        max_weight: float = Field(default=1.0, gt=0, le=1, description="fraction of 1 (0.10 = 10 %)")

    class OptimizerAgent(Agent):
        name = "optimizer"

        @capability("optimizer.optimize", args=OptimizeArgs, needs_pack=True, result=TargetWeightsResult)
        async def optimize(self, ctx: RequestCtx, args: OptimizeArgs) -> TargetWeightsResult:
            async with self.session_factory() as session:   # one unit of work per call
                ...                                          # load through repositories
            return await asyncio.to_thread(pure_analytics_function, ...)   # CPU work off the loop

Nothing else to register: :func:`app.bootstrap.build_orchestrator` lists the agents, and every decorated
method of each becomes callable as ``await orchestrator.call("optimizer.optimize", ctx, objective="MinRisk")``,
from the CLI (``dawsos ...`` commands call the orchestrator), from pattern files and from notebooks.

Rules the registry enforces at start-up (:class:`~app.core.errors.CapabilityRegistryError`):

* the name is ``"<agent.name>.<verb>"`` in snake_case, and unique across all agents;
* the method is ``async def method(self, ctx, args)``; ``args`` is a :class:`pydantic.BaseModel` subclass.

Conventions:

* ``needs_pack=True``: the orchestrator refuses the call before any work unless ``ctx.pricing_pack_id``
  names an existing pack (sealed, unless ``ctx.require_sealed_pack`` is false) and passes a ctx whose
  ``asof_date`` is the pack's;
* an argument named ``portfolio_id`` is bound into every log line of the call;
* ``access=Access.portfolio(Role.VIEWER)`` (or ``Access.proposal(Role.APPROVER)``, ``Access.admin_only()``,
  ``Access.signed_in()``): the orchestrator refuses a caller without that role before any work
  (:class:`~app.core.errors.PermissionDeniedError`); every capability that reads or writes a portfolio
  declares the role it needs;
* the result should be a pydantic model; a ``warnings`` attribute is copied into the envelope, and
  ``to_frame()`` / ``to_dict()`` methods are used by :class:`~app.orchestrator.Envelope`'s helpers;
* one session per call, opened by the method (``async with self.session_factory() as s, s.begin():``);
  a failure or a cancellation (deadline) rolls everything back;
* raise our typed errors (:mod:`app.core.errors`); anything else reaches the caller wrapped in
  :class:`~app.core.errors.CapabilityFailedError`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from app.core.errors import CapabilityRegistryError
from app.domain.identity import Access

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from app.core.context import RequestCtx

CAPABILITY_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_MARK = "__dawsos_capability__"

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


class CapabilityArgs(BaseModel):
    """Base of argument models: frozen, unknown arguments refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class CapabilitySpec:
    """What a capability declares (see :func:`capability`)."""

    name: str
    args: type[BaseModel]
    result: Any
    needs_pack: bool
    summary: str
    attribute: str
    access: Access | None = None

    @property
    def agent_name(self) -> str:
        return self.name.split(".", 1)[0]

    def argument_names(self) -> tuple[str, ...]:
        return tuple(self.args.model_fields)

    def required_arguments(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.args.model_fields.items() if f.is_required())


def capability(
    name: str,
    *,
    args: type[BaseModel],
    needs_pack: bool = False,
    result: Any = None,
    summary: str | None = None,
    access: Access | None = None,
) -> Callable[[F], F]:
    """Declare an agent method as the capability ``name`` (``"agent.verb"``).

    ``args``: pydantic model the caller's keyword arguments are validated into (unknown, missing or
    wrongly typed arguments are refused by the orchestrator with :class:`~app.core.errors.ArgumentError`);
    ``needs_pack``: refuse the call unless the context names a usable pricing pack; ``result``: the type
    returned (documentation and introspection); ``summary``: one line (default: the docstring's first);
    ``access``: who may call it (:class:`~app.domain.identity.Access`: a portfolio role, admin, any signed-in
    user), checked by the orchestrator for every call that names a user. A capability without one may be
    called only in-process without a user (trusted library calls).
    """
    if not CAPABILITY_NAME_RE.match(name):
        raise CapabilityRegistryError(f"capability name {name!r} must be 'agent.verb' in snake_case")
    if not (isinstance(args, type) and issubclass(args, BaseModel)):
        raise CapabilityRegistryError(f"capability {name!r}: args must be a pydantic model class, got {args!r}")

    def decorate(fn: F) -> F:
        if not inspect.iscoroutinefunction(fn):
            raise CapabilityRegistryError(f"capability {name!r}: {fn.__qualname__} must be 'async def'")
        params = list(inspect.signature(fn).parameters)
        if len(params) != 3:
            raise CapabilityRegistryError(
                f"capability {name!r}: {fn.__qualname__} must take (self, ctx, args), got ({', '.join(params)})"
            )
        doc = summary or (inspect.getdoc(fn) or "").split("\n", 1)[0]
        setattr(fn, _MARK, CapabilitySpec(name=name, args=args, result=result, needs_pack=needs_pack,
                                          summary=doc, attribute=fn.__name__, access=access))
        return fn

    return decorate


@dataclass(frozen=True)
class BoundCapability:
    """A declared capability on one agent instance."""

    spec: CapabilitySpec
    agent: Agent

    @property
    def handler(self) -> Callable[[RequestCtx, BaseModel], Awaitable[Any]]:
        return getattr(self.agent, self.spec.attribute)


class Agent:
    """Base of agents: a name (the capabilities' prefix) and a session factory (one session per call)."""

    name: ClassVar[str] = ""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory
        self._caller: Callable[..., Awaitable[Any]] | None = None

    def bind_caller(self, call: Callable[..., Awaitable[Any]]) -> None:
        """Give the agent the orchestrator's ``call`` (the orchestrator does it when it is built): agents reach
        other agents' capabilities only through it, never by constructing them."""
        self._caller = call

    async def call_capability(self, name: str, ctx: RequestCtx, /, **args: Any) -> Any:
        """The ``data`` of ``orchestrator.call(name, ctx, **args)`` (argument validation, guards, logging and
        typed errors as for any caller)."""
        if self._caller is None:
            raise CapabilityRegistryError(f"{type(self).__name__} is not registered with an orchestrator: "
                                          f"it cannot call {name!r}")
        return (await self._caller(name, ctx, **args)).data

    @classmethod
    def declared_capabilities(cls) -> tuple[CapabilitySpec, ...]:
        """The capability declarations of this class and its bases, in definition order."""
        seen: dict[str, CapabilitySpec] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                spec = getattr(value, _MARK, None)
                if isinstance(spec, CapabilitySpec):
                    seen[attr] = spec
        return tuple(seen.values())

    def capabilities(self) -> tuple[BoundCapability, ...]:
        """The capabilities bound to this instance."""
        if not self.name:
            raise CapabilityRegistryError(f"{type(self).__name__} has no name")
        bound = []
        for spec in self.declared_capabilities():
            if spec.agent_name != self.name:
                raise CapabilityRegistryError(
                    f"capability {spec.name!r} is declared on agent {self.name!r}: "
                    f"its name must start with '{self.name}.'"
                )
            bound.append(BoundCapability(spec=spec, agent=self))
        return tuple(bound)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {', '.join(s.name for s in self.declared_capabilities())}>"


async def context_pack(session: AsyncSession, ctx: RequestCtx) -> tuple[Any, Any]:
    """The pricing pack named by ``ctx`` and its repository: ``(PricingPackRepository, PricingPack)``.

    Refuses (PricingPackError) a context without a pack, and an unsealed pack unless
    ``ctx.require_sealed_pack`` is off; an unknown id raises UnknownPricingPackError.
    """
    from app.core.errors import PricingPackError
    from app.db.repositories import PricingPackRepository

    if not ctx.pricing_pack_id:
        raise PricingPackError("the request context names no pricing pack")
    packs = PricingPackRepository(session)
    pack = await packs.get(ctx.pricing_pack_id, with_counts=False)
    if ctx.require_sealed_pack and not pack.sealed:
        raise PricingPackError(f"pricing pack {pack.id!r} is not sealed; seal it before using it")
    return packs, pack
