"""A portfolio's rebalancing set-up: settings (incl. approval threshold) and restricted symbols (the roles on a
portfolio are :class:`~app.db.repositories.identity.IdentityRepository`'s)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import RebalanceConfigError
from app.db.models import RebalanceSettingsRow, RestrictedSymbolRow, utcnow
from app.domain.rebalancing import RebalanceSettings


class RebalanceConfigRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_settings(self, portfolio_id: str) -> RebalanceSettings:
        """The portfolio's settings; RebalanceConfigError when it has none."""
        row = await self.session.get(RebalanceSettingsRow, portfolio_id)
        if row is None:
            raise RebalanceConfigError(
                f"portfolio {portfolio_id!r} has no rebalancing settings (set a target and thresholds first)"
            )
        return RebalanceSettings.model_validate(
            {**row.config, "portfolio_id": portfolio_id, "approval_threshold": row.approval_threshold}
        )

    async def has_settings(self, portfolio_id: str) -> bool:
        return await self.session.get(RebalanceSettingsRow, portfolio_id) is not None

    async def portfolios(self) -> list[str]:
        """Ids of portfolios with rebalancing settings, sorted."""
        return list(await self.session.scalars(select(RebalanceSettingsRow.portfolio_id).order_by(
            RebalanceSettingsRow.portfolio_id)))

    async def put_settings(self, settings: RebalanceSettings, *, updated_by: str | None = None) -> None:
        """Store the settings, recording who (``updated_by``; None for a trusted in-process call) and when."""
        config = settings.model_dump(mode="json", exclude={"portfolio_id", "approval_threshold"})
        row = await self.session.get(RebalanceSettingsRow, settings.portfolio_id)
        if row is None:
            row = RebalanceSettingsRow(portfolio_id=settings.portfolio_id)
            self.session.add(row)
        row.approval_threshold, row.config, row.updated_at = settings.approval_threshold, config, utcnow()
        row.updated_by = updated_by
        await self.session.flush()

    async def restricted(self, portfolio_id: str) -> frozenset[str]:
        stmt = select(RestrictedSymbolRow.symbol).where(RestrictedSymbolRow.portfolio_id == portfolio_id)
        return frozenset(await self.session.scalars(stmt))

    async def restricted_reasons(self, portfolio_id: str) -> dict[str, str]:
        """The restricted list with reasons: ``symbol -> reason``, sorted by symbol."""
        stmt = (select(RestrictedSymbolRow).where(RestrictedSymbolRow.portfolio_id == portfolio_id)
                .order_by(RestrictedSymbolRow.symbol))
        return {r.symbol: r.reason for r in await self.session.scalars(stmt)}

    async def set_restricted(self, portfolio_id: str, symbols: dict[str, str]) -> None:
        """Replace the restricted list: ``symbol -> reason``."""
        await self.session.execute(delete(RestrictedSymbolRow).where(RestrictedSymbolRow.portfolio_id == portfolio_id))
        for symbol, reason in sorted(symbols.items()):
            self.session.add(RestrictedSymbolRow(portfolio_id=portfolio_id, symbol=symbol, reason=reason))
        await self.session.flush()
