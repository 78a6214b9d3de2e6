"""Model portfolios: stored target weights, each with the pricing pack it was made on."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFoundError
from app.db.models import ModelPortfolioRow, ModelWeightRow, utcnow
from app.domain.rebalancing import ModelPortfolio, TargetSource


class UnknownModelPortfolioError(NotFoundError):
    kind = "model portfolio"


class ModelPortfolioRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(self, model: ModelPortfolio, *, created_by: str | None = None) -> None:
        """Insert or replace the model's weights (one row per symbol); ``created_by``: who made the model (kept
        when its weights are replaced; None for a trusted in-process call)."""
        row = await self.session.get(ModelPortfolioRow, model.id)
        if row is None:
            self.session.add(ModelPortfolioRow(id=model.id, name=model.name, pricing_pack_id=model.pricing_pack_id,
                                               source=model.source.value, created_at=utcnow(),
                                               created_by=created_by))
        else:
            row.name, row.pricing_pack_id, row.source = model.name, model.pricing_pack_id, model.source.value
        await self.session.flush()
        await self.session.execute(delete(ModelWeightRow).where(ModelWeightRow.model_portfolio_id == model.id))
        for symbol, weight in sorted(model.weights.items()):
            self.session.add(ModelWeightRow(model_portfolio_id=model.id, symbol=symbol, weight=weight))
        await self.session.flush()

    async def get(self, model_id: str) -> ModelPortfolio:
        row = await self.session.get(ModelPortfolioRow, model_id)
        if row is None:
            raise UnknownModelPortfolioError(model_id)
        stmt = (select(ModelWeightRow).where(ModelWeightRow.model_portfolio_id == model_id)
                .order_by(ModelWeightRow.symbol))
        weights = {w.symbol: w.weight for w in await self.session.scalars(stmt)}
        return ModelPortfolio(id=row.id, name=row.name, pricing_pack_id=row.pricing_pack_id,
                              source=TargetSource(row.source), weights=weights)
