"""PortfolioAgent: what the dashboard's portfolio pages read.

* ``portfolios.list`` — the portfolios the caller holds a role on, with that role (every portfolio for a
  trusted in-process caller; an admin sees only the ones they hold a role on, as elsewhere).
* ``portfolios.overview`` — the current allocation at the context pack's as-of prices, by security and by sector
  (:mod:`app.analytics.exposure`), beside the target of the portfolio's newest proposal (its allocation after
  trading, as the proposal records it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import Field

from app.agents.base import Agent, CapabilityArgs, capability
from app.core.context import RequestCtx
from app.domain.identity import Access, Role
from app.domain.overview import PortfolioAccess, PortfolioAccessList, PortfolioOverview, Position

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.domain.lifecycle import StoredProposal
    from app.domain.models import Security


class OverviewArgs(CapabilityArgs):
    portfolio_id: str = Field(min_length=1, max_length=64)


class PortfolioAgent(Agent):
    name = "portfolios"

    @capability("portfolios.list", args=CapabilityArgs, result=PortfolioAccessList, access=Access.signed_in())
    async def list_portfolios(self, ctx: RequestCtx, args: CapabilityArgs) -> PortfolioAccessList:
        """The caller's portfolios (id, name, role), sorted by id."""
        from app.db.repositories import PortfolioRepository
        from app.db.repositories.identity import IdentityRepository

        async with self.session_factory() as session, session.begin():
            every = await PortfolioRepository(session).list()
            roles = ({} if ctx.user_id is None else
                     {g.portfolio_id: g.role.value for g in await IdentityRepository(session).roles_of(ctx.user_id)})
        shown = [p for p in every if ctx.user_id is None or p.id in roles]
        return PortfolioAccessList(portfolios=tuple(
            PortfolioAccess(portfolio_id=p.id, name=p.name, role=roles.get(p.id)) for p in shown))

    @capability("portfolios.overview", args=OverviewArgs, needs_pack=True, result=PortfolioOverview,
                access=Access.portfolio(Role.VIEWER))
    async def overview(self, ctx: RequestCtx, args: OverviewArgs) -> PortfolioOverview:
        """Current vs target allocation of one portfolio, by security and by sector."""
        from app.analytics.exposure import CASH, by_sector, position_values, weights_pct
        from app.db.repositories import PortfolioRepository, PricingPackRepository, ProposalRepository

        async with self.session_factory() as session, session.begin():
            portfolio = await PortfolioRepository(session).get(args.portfolio_id)
            prices = await PricingPackRepository(session).asof_prices(str(ctx.pricing_pack_id))
            newest = next(iter(await ProposalRepository(session).list(args.portfolio_id)), None)
            shares = {h.symbol: h.shares for h in portfolio.holdings}
            target = {s: Decimal(v) for s, v in (newest.after_pct if newest else {}).items()}
            securities = await _securities(session, {*shares, *target} - {CASH})
        values = position_values(shares=shares, prices=prices)
        current = weights_pct(values=values, cash=portfolio.cash)
        sectors = {s: sec.sector for s, sec in securities.items()}
        positions = tuple(
            Position(symbol=s, name=securities[s].name if s in securities else s, sector=sectors.get(s, "Unclassified"),
                     shares=shares[s], price=prices[s], value=v, weight_pct=current[s], target_pct=target.get(s))
            for s, v in values.items())
        return PortfolioOverview(
            portfolio_id=portfolio.id, name=portfolio.name, pricing_pack_id=str(ctx.pricing_pack_id),
            asof_date=ctx.asof_date, portfolio_value=sum(values.values(), Decimal(0)) + portfolio.cash,
            cash=portfolio.cash, positions=positions, current_pct=current,
            current_by_sector_pct=by_sector(weights=current, sectors=sectors), target_pct=target,
            target_by_sector_pct=by_sector(weights=target, sectors=sectors) if target else {},
            **_target_fields(newest), sectors=sectors)


async def _securities(session: AsyncSession, symbols: set[str]) -> dict[str, Security]:
    from app.db.repositories import SecurityRepository

    return await SecurityRepository(session).get_many(sorted(symbols))


def _target_fields(newest: StoredProposal | None) -> dict[str, str | None]:
    if newest is None:
        return {}
    return {"target_proposal_id": newest.proposal_id, "target_policy_id": newest.policy_id,
            "target_status": newest.status.value}
