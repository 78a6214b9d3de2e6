"""Setting a portfolio up for rebalancing: settings, approvers, restricted symbols, model portfolios, tax lots.

Capabilities of the :class:`~app.agents.rebalancing.RebalancingAgent` (it inherits them from
:class:`RebalanceSetupCapabilities`). Each call is one session and ONE transaction: every id it names is
checked before anything is written, so a refused or failed call leaves the database unchanged.

* ``rebalance.configure`` / ``rebalance.settings`` — store / read a portfolio's RebalanceSettings;
* ``rebalance.approvers`` — who holds which role on a portfolio (roles are granted with ``users.grant``);
* ``rebalance.set_restricted`` / ``rebalance.restricted`` — symbols that may not be bought (adds to the list;
  ``replace=True`` replaces it);
* ``rebalance.set_model`` / ``rebalance.model`` — a model portfolio's target weights on the context's pack;
* ``rebalance.set_lots`` / ``rebalance.lots`` — a portfolio's tax lots (replaces them).

Refusals (exit 3): an unknown portfolio, model portfolio, policy or symbol; a target source without the id it
needs; a lot id that belongs to another portfolio. Units: weights are fractions of 1, money and shares Decimal.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from app.agents.base import Agent, CapabilityArgs, capability
from app.core.context import RequestCtx
from app.core.errors import RebalanceConfigError, UnknownSecurityError
from app.domain.identity import Access, Role
from app.domain.rebalancing import ModelPortfolio, RebalanceSettings, TargetSource, TaxLot

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger()

Symbol = Annotated[str, StringConstraints(min_length=1, max_length=16)]
Weight = Annotated[Decimal, Field(gt=0, le=1, decimal_places=12, allow_inf_nan=False)]  # model_weights NUMERIC(20, 12)
PortfolioId = Annotated[str, Field(min_length=1, description="portfolio id (e.g. P1)")]


def target_id(settings: RebalanceSettings) -> str:
    """The id the settings' target source needs (model portfolio or policy); RebalanceConfigError when unset."""
    if settings.target_source is TargetSource.MODEL:
        needed, value = "model_portfolio_id", settings.model_portfolio_id
    else:
        needed, value = "policy_id", settings.policy_id
    if not value:
        raise RebalanceConfigError(
            f"portfolio {settings.portfolio_id!r}: target source {settings.target_source.value!r} needs {needed}")
    return value


# ---- arguments ----------------------------------------------------------------------------------------
class PortfolioArgs(CapabilityArgs):
    portfolio_id: PortfolioId


class ConfigureArgs(RebalanceSettings):
    """Every :class:`RebalanceSettings` field (omitted ones take their defaults); unknown fields are refused."""

    portfolio_id: PortfolioId


class SetRestrictedArgs(CapabilityArgs):
    portfolio_id: PortfolioId
    symbols: dict[Symbol, str] = Field(description="symbol -> reason, added to the list (a listed symbol's reason "
                                                   "is updated)")
    replace: bool = Field(default=False, description="the list becomes exactly `symbols` ({} empties it)")
    remove: tuple[Symbol, ...] = Field(default=(), description="symbols taken off the list (in the same "
                                                               "transaction, before `symbols` are added)")


class ModelArgs(CapabilityArgs):
    model_portfolio_id: str = Field(min_length=1, max_length=64, description="model portfolio id")


class SetModelArgs(ModelArgs):
    name: str | None = Field(default=None, max_length=200, description="display name (default: the id)")
    weights: dict[Symbol, Weight] = Field(
        min_length=1, description="symbol -> target weight, fraction of 1 (0.25 = 25 %); the rest is cash")

    @model_validator(mode="after")
    def _at_most_one(self) -> SetModelArgs:
        total = sum(self.weights.values(), Decimal(0))
        if total > 1:
            raise ValueError(f"weights sum to {total}, more than 1 (the rest is cash, it cannot be negative)")
        return self


class SetLotsArgs(CapabilityArgs):
    portfolio_id: PortfolioId
    lots: tuple[TaxLot, ...] = Field(description="every tax lot of the portfolio (replaces the stored ones); "
                                                 "quantity in shares, cost_basis in currency per share")

    @field_validator("lots")
    @classmethod
    def _cost_basis_scale(cls, lots: tuple[TaxLot, ...]) -> tuple[TaxLot, ...]:
        """tax_lots.cost_basis is NUMERIC(20, 6): more places would be refused by the database, not here."""
        for i, lot in enumerate(lots):
            exponent = lot.cost_basis.normalize().as_tuple().exponent
            if isinstance(exponent, int) and -exponent > 6:
                raise ValueError(f"[{i}].cost_basis has more than 6 decimal places (value={lot.cost_basis})")
        return lots

    @model_validator(mode="after")
    def _ids(self) -> SetLotsArgs:
        seen: set[str] = set()
        for lot in self.lots:
            if len(lot.lot_id) > 64:
                raise ValueError(f"lot_id {lot.lot_id[:20]!r}...: longer than 64 characters")
            if lot.lot_id in seen:
                raise ValueError(f"lot_id {lot.lot_id!r} is given twice")
            seen.add(lot.lot_id)
        return self


# ---- results --------------------------------------------------------------------------------------------
class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Approver(_Result):
    user_id: str
    role: Role


class Approvers(_Result):
    portfolio_id: str
    approvers: tuple[Approver, ...]


class RestrictedList(_Result):
    portfolio_id: str
    symbols: dict[str, str] = Field(description="symbol -> reason, sorted by symbol")


class Lots(_Result):
    portfolio_id: str
    lots: tuple[TaxLot, ...]
    warnings: tuple[str, ...] = Field(default=(), description="lots that do not add up to the held shares")


# ---- capabilities -----------------------------------------------------------------------------------------
async def _portfolio(session: AsyncSession, portfolio_id: str) -> Any:
    from app.db.repositories import PortfolioRepository

    return await PortfolioRepository(session).get(portfolio_id)


async def _known_symbols(session: AsyncSession, symbols: Iterable[str], where: str) -> None:
    from app.db.repositories import SecurityRepository

    missing = await SecurityRepository(session).missing(symbols)
    if missing:
        raise UnknownSecurityError(", ".join(missing), hint=f"named by {where}; seed or import it first")


class RebalanceSetupCapabilities(Agent):
    """The set-up capabilities of the ``rebalance`` agent (a base of RebalancingAgent)."""

    @capability("rebalance.configure", args=ConfigureArgs, result=RebalanceSettings,
                access=Access.portfolio(Role.MANAGER))
    async def configure(self, ctx: RequestCtx, args: ConfigureArgs) -> RebalanceSettings:
        """Store a portfolio's rebalancing settings (replacing any) after checking every id they name."""
        from app.db.repositories import PolicyRepository
        from app.db.repositories.model_portfolios import ModelPortfolioRepository
        from app.db.repositories.rebalance_config import RebalanceConfigRepository
        from app.rebalancing.calendar import DEFAULT_CALENDAR, exchange_calendar

        settings = RebalanceSettings.model_validate(args.model_dump())
        same = sorted(s for s, sub in settings.substitutes.items() if s == sub)
        if same:
            raise RebalanceConfigError(f"substitutes: {', '.join(same)} cannot be its own harvest substitute")
        if settings.calendar != DEFAULT_CALENDAR:  # the default is known; building a calendar costs ~1 s
            await asyncio.to_thread(exchange_calendar, settings.calendar)  # unknown code: InputError (exit 2)
        async with self.session_factory() as session, session.begin():
            await _portfolio(session, settings.portfolio_id)
            wanted = target_id(settings)
            if settings.target_source is TargetSource.MODEL:
                await ModelPortfolioRepository(session).get(wanted)
            else:
                await PolicyRepository(session).get(wanted)
            await _known_symbols(session, [*settings.substitutes, *settings.substitutes.values()], "substitutes")
            await RebalanceConfigRepository(session).put_settings(settings, updated_by=ctx.user_id)
        log.info("rebalance.settings.stored", target_source=settings.target_source.value, target=wanted)
        return settings

    @capability("rebalance.settings", args=PortfolioArgs, result=RebalanceSettings,
                access=Access.portfolio(Role.VIEWER))
    async def settings(self, ctx: RequestCtx, args: PortfolioArgs) -> RebalanceSettings:
        """A portfolio's rebalancing settings (refused when the portfolio is unknown or has none)."""
        from app.db.repositories.rebalance_config import RebalanceConfigRepository

        async with self.session_factory() as session, session.begin():
            await _portfolio(session, args.portfolio_id)
            return await RebalanceConfigRepository(session).get_settings(args.portfolio_id)

    async def _approvers(self, session: AsyncSession, portfolio_id: str) -> Approvers:
        from app.db.repositories.identity import IdentityRepository

        roles = await IdentityRepository(session).holders(portfolio_id)
        return Approvers(portfolio_id=portfolio_id,
                         approvers=tuple(Approver(user_id=u, role=r) for u, r in sorted(roles.items())))

    @capability("rebalance.approvers", args=PortfolioArgs, result=Approvers, access=Access.portfolio(Role.VIEWER))
    async def approvers(self, ctx: RequestCtx, args: PortfolioArgs) -> Approvers:
        """Everyone holding a role on a portfolio (viewer, manager, approver, owner), sorted by user."""
        async with self.session_factory() as session, session.begin():
            await _portfolio(session, args.portfolio_id)
            return await self._approvers(session, args.portfolio_id)

    @capability("rebalance.set_restricted", args=SetRestrictedArgs, result=RestrictedList,
                access=Access.portfolio(Role.MANAGER))
    async def set_restricted(self, ctx: RequestCtx, args: SetRestrictedArgs) -> RestrictedList:
        """Add ``symbols`` (symbol -> reason) to a portfolio's restricted symbols (never bought), or with
        ``replace`` make the list exactly ``symbols``; ``remove`` takes symbols off first. One transaction: a
        refused symbol changes nothing."""
        from app.db.repositories.rebalance_config import RebalanceConfigRepository

        async with self.session_factory() as session, session.begin():
            await _portfolio(session, args.portfolio_id)
            await _known_symbols(session, args.symbols, "the restricted list")
            config = RebalanceConfigRepository(session)
            kept = {} if args.replace else await config.restricted_reasons(args.portfolio_id)
            kept = {s: why for s, why in kept.items() if s not in args.remove}
            await config.set_restricted(args.portfolio_id, {**kept, **args.symbols})
            stored = await config.restricted_reasons(args.portfolio_id)
        log.info("rebalance.restricted.set", n_symbols=len(stored))
        return RestrictedList(portfolio_id=args.portfolio_id, symbols=stored)

    @capability("rebalance.restricted", args=PortfolioArgs, result=RestrictedList,
                access=Access.portfolio(Role.VIEWER))
    async def restricted(self, ctx: RequestCtx, args: PortfolioArgs) -> RestrictedList:
        """A portfolio's restricted symbols and why."""
        from app.db.repositories.rebalance_config import RebalanceConfigRepository

        async with self.session_factory() as session, session.begin():
            await _portfolio(session, args.portfolio_id)
            stored = await RebalanceConfigRepository(session).restricted_reasons(args.portfolio_id)
        return RestrictedList(portfolio_id=args.portfolio_id, symbols=stored)

    @capability("rebalance.set_model", args=SetModelArgs, needs_pack=True, result=ModelPortfolio,
                access=Access.model(Role.MANAGER))
    async def set_model(self, ctx: RequestCtx, args: SetModelArgs) -> ModelPortfolio:
        """Store a model portfolio's target weights, made on the context's pack (every symbol must be priced
        there); an optimizer-made target cannot be overwritten."""
        from app.db.repositories import PricingPackRepository
        from app.db.repositories.model_portfolios import ModelPortfolioRepository, UnknownModelPortfolioError

        model = ModelPortfolio(id=args.model_portfolio_id, name=args.name or args.model_portfolio_id,
                               pricing_pack_id=ctx.pricing_pack_id, source=TargetSource.MODEL, weights=args.weights)
        async with self.session_factory() as session, session.begin():
            models = ModelPortfolioRepository(session)
            try:
                if (await models.get(model.id)).source is TargetSource.OPTIMIZER:
                    raise RebalanceConfigError(
                        f"model portfolio {model.id!r} is an optimizer target; choose another id")
            except UnknownModelPortfolioError:
                pass  # a new model
            await _known_symbols(session, model.weights, f"model portfolio {model.id!r}")
            prices = await PricingPackRepository(session).asof_prices(model.pricing_pack_id)
            unpriced = sorted(s for s in model.weights if s not in prices)
            if unpriced:
                raise RebalanceConfigError(f"model portfolio {model.id!r}: pricing pack {model.pricing_pack_id!r} "
                                           f"has no as-of price for {', '.join(unpriced)}")
            await models.save(model, created_by=ctx.user_id)
            stored = await models.get(model.id)
        log.info("rebalance.model.stored", model_portfolio_id=model.id, n_symbols=len(model.weights))
        return stored

    @capability("rebalance.model", args=ModelArgs, result=ModelPortfolio, access=Access.model(Role.VIEWER))
    async def model(self, ctx: RequestCtx, args: ModelArgs) -> ModelPortfolio:
        """A model portfolio: its weights (fractions of 1) and the pack they were made on."""
        from app.db.repositories.model_portfolios import ModelPortfolioRepository

        async with self.session_factory() as session, session.begin():
            return await ModelPortfolioRepository(session).get(args.model_portfolio_id)

    @capability("rebalance.set_lots", args=SetLotsArgs, result=Lots, access=Access.portfolio(Role.MANAGER))
    async def set_lots(self, ctx: RequestCtx, args: SetLotsArgs) -> Lots:
        """Replace a portfolio's tax lots; lots that do not add up to the held shares are reported in warnings
        (the planner gives untracked shares a zero-gain lot and caps sales at the position)."""
        from app.db.repositories.ledger import LedgerRepository

        async with self.session_factory() as session, session.begin():
            portfolio = await _portfolio(session, args.portfolio_id)
            await _known_symbols(session, {lot.symbol for lot in args.lots}, "the tax lots")
            ledger = LedgerRepository(session)
            owners = await ledger.lot_owners([lot.lot_id for lot in args.lots])
            taken = {lot_id: owner for lot_id, owner in owners.items() if owner != args.portfolio_id}
            if taken:
                raise RebalanceConfigError(
                    ", ".join(f"lot {i!r} belongs to portfolio {o!r}" for i, o in sorted(taken.items()))
                    + "; lot ids are unique across portfolios")
            await ledger.replace_lots(args.portfolio_id, list(args.lots))
            lots = tuple(await ledger.lots(args.portfolio_id))
        log.info("rebalance.lots.stored", n_lots=len(lots))
        return Lots(portfolio_id=args.portfolio_id, lots=lots, warnings=_lot_warnings(portfolio, lots))

    @capability("rebalance.lots", args=PortfolioArgs, result=Lots, access=Access.portfolio(Role.VIEWER))
    async def lots(self, ctx: RequestCtx, args: PortfolioArgs) -> Lots:
        """A portfolio's tax lots, by symbol, with warnings where they do not add up to the held shares."""
        from app.db.repositories.ledger import LedgerRepository

        async with self.session_factory() as session, session.begin():
            portfolio = await _portfolio(session, args.portfolio_id)
            lots = tuple(await LedgerRepository(session).lots(args.portfolio_id))
        return Lots(portfolio_id=args.portfolio_id, lots=lots, warnings=_lot_warnings(portfolio, lots))


def _lot_warnings(portfolio: Any, lots: Iterable[TaxLot]) -> tuple[str, ...]:
    """One line per symbol whose lots (shares) differ from the held position."""
    held = {h.symbol: h.shares for h in portfolio.holdings if h.shares > 0}
    in_lots: dict[str, Decimal] = {}
    for lot in lots:
        in_lots[lot.symbol] = in_lots.get(lot.symbol, Decimal(0)) + lot.quantity
    return tuple(f"{s}: lots hold {in_lots.get(s, 0)} shares, the position is {held.get(s, 0)}"
                 for s in sorted(set(held) | set(in_lots)) if in_lots.get(s, 0) != held.get(s, 0))
