"""A portfolio's ledger: tax lots, past transactions (for the wash-sale window) and cash flows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.decimals import ZERO
from app.db.models import CashFlowRow, PortfolioTransactionRow, TaxLotRow
from app.domain.enums import TradeAction
from app.domain.rebalancing import TaxLot, Transaction


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- lots ---------------------------------------------------------------------------------------
    async def add_lots(self, portfolio_id: str, lots: list[TaxLot]) -> None:
        for lot in lots:
            self.session.add(TaxLotRow(lot_id=lot.lot_id, portfolio_id=portfolio_id, symbol=lot.symbol,
                                       quantity=lot.quantity, cost_basis=lot.cost_basis, acquired=lot.acquired))
        await self.session.flush()

    async def replace_lots(self, portfolio_id: str, lots: list[TaxLot]) -> None:
        """Replace every tax lot of the portfolio with ``lots``."""
        await self.session.execute(delete(TaxLotRow).where(TaxLotRow.portfolio_id == portfolio_id))
        await self.add_lots(portfolio_id, lots)

    async def lot_owners(self, lot_ids: list[str]) -> dict[str, str]:
        """``lot_id -> portfolio_id`` for those of ``lot_ids`` that are stored (lot ids are unique across
        portfolios)."""
        if not lot_ids:
            return {}
        stmt = select(TaxLotRow.lot_id, TaxLotRow.portfolio_id).where(TaxLotRow.lot_id.in_(sorted(set(lot_ids))))
        return {lot_id: owner for lot_id, owner in await self.session.execute(stmt)}

    async def lots(self, portfolio_id: str) -> list[TaxLot]:
        stmt = (select(TaxLotRow).where(TaxLotRow.portfolio_id == portfolio_id)
                .order_by(TaxLotRow.symbol, TaxLotRow.lot_id))
        return [TaxLot(lot_id=r.lot_id, symbol=r.symbol, quantity=r.quantity, cost_basis=r.cost_basis,
                       acquired=r.acquired) for r in await self.session.scalars(stmt)]

    # ---- transactions -------------------------------------------------------------------------------
    async def record(self, portfolio_id: str, tx: Transaction, *, price: Decimal | None = None,
                     proposal_id: str | None = None) -> None:
        """One transaction of the ledger (the wash-sale rule reads them); ``price`` currency per share."""
        self.session.add(PortfolioTransactionRow(
            portfolio_id=portfolio_id, symbol=tx.symbol, action=tx.action.value, quantity=tx.quantity,
            trade_date=tx.trade_date, realised_gain=tx.realised_gain, price=price, proposal_id=proposal_id))
        await self.session.flush()

    async def transactions(self, portfolio_id: str, *, around: date, days: int = 62) -> list[Transaction]:
        """Transactions within ``days`` either side of ``around`` (date order)."""
        stmt = (select(PortfolioTransactionRow)
                .where(PortfolioTransactionRow.portfolio_id == portfolio_id,
                       PortfolioTransactionRow.trade_date >= around - timedelta(days=days),
                       PortfolioTransactionRow.trade_date <= around + timedelta(days=days))
                .order_by(PortfolioTransactionRow.trade_date, PortfolioTransactionRow.id))
        return [Transaction(symbol=r.symbol, action=TradeAction(r.action), quantity=r.quantity, trade_date=r.trade_date,
                            realised_gain=r.realised_gain) for r in await self.session.scalars(stmt)]

    # ---- cash flows ---------------------------------------------------------------------------------
    async def add_cash_flow(self, portfolio_id: str, amount: Decimal, flow_date: date) -> None:
        """Record a deposit (+) or withdrawal (−); a deposit is expected to be in the portfolio's cash already."""
        self.session.add(CashFlowRow(portfolio_id=portfolio_id, amount=amount, flow_date=flow_date, run_id=None))
        await self.session.flush()

    async def pending_cash_flow(self, portfolio_id: str) -> Decimal:
        """Sum of flows no rebalance has taken care of yet (+ deposit, − withdrawal)."""
        stmt = select(CashFlowRow.amount).where(CashFlowRow.portfolio_id == portfolio_id, CashFlowRow.run_id.is_(None))
        return sum(await self.session.scalars(stmt), ZERO)

    async def settle_cash_flows(self, portfolio_id: str, run_id: str) -> None:
        await self.session.execute(update(CashFlowRow).where(
            CashFlowRow.portfolio_id == portfolio_id, CashFlowRow.run_id.is_(None)).values(run_id=run_id))
