"""Securities and their quality ratings."""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import UnknownSecurityError
from app.db.models import QualityRatingRow, SecurityRow
from app.domain import Security, SecurityStatus


def to_security(row: SecurityRow) -> Security:
    return Security(
        symbol=row.symbol,
        name=row.name,
        sector=row.sector,
        asset_class=row.asset_class,
        currency=row.currency,
        lot_size=row.lot_size,
        status=SecurityStatus(row.status),
    )


class SecurityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> builtins.list[Security]:
        """Every security, sorted by symbol."""
        rows = await self.session.scalars(select(SecurityRow).order_by(SecurityRow.symbol))
        return [to_security(r) for r in rows]

    async def get_many(self, symbols: Iterable[str]) -> dict[str, Security]:
        """``symbol -> Security`` for every requested symbol (sorted); raises UnknownSecurityError naming
        every symbol that is not stored."""
        wanted = sorted(set(symbols))
        if not wanted:
            return {}
        rows = await self.session.scalars(select(SecurityRow).where(SecurityRow.symbol.in_(wanted)))
        found = {r.symbol: to_security(r) for r in rows}
        missing = [s for s in wanted if s not in found]
        if missing:
            raise UnknownSecurityError(", ".join(missing), hint="seed or import it first")
        return {s: found[s] for s in wanted}

    async def missing(self, symbols: Iterable[str]) -> builtins.list[str]:
        """The symbols (sorted) that are not stored."""
        wanted = sorted(set(symbols))
        if not wanted:
            return []
        stored = set(
            await self.session.scalars(select(SecurityRow.symbol).where(SecurityRow.symbol.in_(wanted)))
        )
        return [s for s in wanted if s not in stored]

    async def add(self, security: Security) -> None:
        """Insert a new security (flushes; the caller's transaction commits)."""
        self.session.add(
            SecurityRow(
                symbol=security.symbol,
                name=security.name,
                sector=security.sector,
                asset_class=security.asset_class,
                currency=security.currency,
                lot_size=security.lot_size,
                status=security.status.value,
            )
        )
        await self.session.flush()

    async def quality_scores(self, symbols: Iterable[str] | None = None) -> dict[str, float]:
        """Latest quality score (0-10) per symbol; unrated symbols are absent from the result."""
        latest = select(
            QualityRatingRow.symbol, func.max(QualityRatingRow.asof_date).label("asof_date")
        ).group_by(QualityRatingRow.symbol)
        wanted = None if symbols is None else sorted(set(symbols))
        if wanted is not None:
            latest = latest.where(QualityRatingRow.symbol.in_(wanted))
        sub = latest.subquery()
        stmt = (
            select(QualityRatingRow.symbol, QualityRatingRow.score)
            .join(
                sub,
                (QualityRatingRow.symbol == sub.c.symbol) & (QualityRatingRow.asof_date == sub.c.asof_date),
            )
            .order_by(QualityRatingRow.symbol)
        )
        return {symbol: float(score) for symbol, score in await self.session.execute(stmt)}
