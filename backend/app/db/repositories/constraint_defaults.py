"""Trading-cost model and constants (one row per id; ``default`` is the seeded one)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import UnknownConstraintDefaultsError
from app.db.models import ConstraintDefaultsRow
from app.domain import ConstraintDefaults

DEFAULT_ID = "default"


def to_constraint_defaults(row: ConstraintDefaultsRow) -> ConstraintDefaults:
    return ConstraintDefaults(
        commission_per_trade=row.commission_per_trade,
        market_impact_bps=row.market_impact_bps,
        min_trade_value=row.min_trade_value,
        risk_free_rate=float(row.risk_free_rate),
        annualization_factor=row.annualization_factor,
    )


class ConstraintDefaultsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, defaults_id: str = DEFAULT_ID) -> ConstraintDefaults:
        """The stored constants; raises UnknownConstraintDefaultsError (run the seed) when absent."""
        row = await self.session.get(ConstraintDefaultsRow, defaults_id)
        if row is None:
            raise UnknownConstraintDefaultsError(defaults_id, hint="run `dawsos seed`")
        return to_constraint_defaults(row)
