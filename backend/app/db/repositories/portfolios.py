"""Portfolios and their holdings."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.errors import UnknownPortfolioError
from app.db.models import HoldingRow, PortfolioRow
from app.domain import Holding, Portfolio


def to_portfolio(row: PortfolioRow) -> Portfolio:
    holdings = tuple(
        Holding(symbol=h.symbol, shares=h.shares) for h in sorted(row.holdings, key=lambda h: h.symbol)
    )
    return Portfolio(
        id=row.id,
        name=row.name,
        cash=row.cash,
        base_currency=row.base_currency,
        benchmark_id=row.benchmark_id,
        holdings=holdings,
    )


class PortfolioRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, portfolio_id: str) -> Portfolio:
        """The portfolio with holdings sorted by symbol; raises UnknownPortfolioError."""
        stmt = (
            select(PortfolioRow)
            .where(PortfolioRow.id == portfolio_id)
            .options(selectinload(PortfolioRow.holdings))
        )
        row = (await self.session.scalars(stmt)).first()
        if row is None:
            raise UnknownPortfolioError(portfolio_id)
        return to_portfolio(row)

    async def list(self) -> builtins.list[Portfolio]:
        """Every portfolio, sorted by id."""
        stmt = select(PortfolioRow).options(selectinload(PortfolioRow.holdings)).order_by(PortfolioRow.id)
        return [to_portfolio(r) for r in await self.session.scalars(stmt)]

    async def set_positions(self, portfolio_id: str, *, holdings: Mapping[str, Decimal], cash: Decimal) -> None:
        """Replace the portfolio's holdings (symbol -> shares; zero positions are dropped) and cash (currency)."""
        await self.session.execute(delete(HoldingRow).where(HoldingRow.portfolio_id == portfolio_id))
        for symbol, shares in sorted(holdings.items()):
            if shares != 0:
                self.session.add(HoldingRow(portfolio_id=portfolio_id, symbol=symbol, shares=shares))
        await self.session.execute(update(PortfolioRow).where(PortfolioRow.id == portfolio_id).values(cash=cash))
        await self.session.flush()
