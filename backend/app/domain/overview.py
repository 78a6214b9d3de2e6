"""What the dashboard's portfolio pages read: the caller's portfolios and one portfolio's allocation.

Units: ``*_pct`` are percent (2 dp) of the portfolio's value at the pack's as-of prices; money is Decimal
currency (cents); shares are Decimal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PortfolioAccess(_Frozen):
    """A portfolio and the caller's role there (``None`` for a trusted in-process caller)."""

    portfolio_id: str
    name: str
    role: str | None = None


class PortfolioAccessList(_Frozen):
    portfolios: tuple[PortfolioAccess, ...]


class Position(_Frozen):
    symbol: str
    name: str
    sector: str
    shares: Decimal
    price: Decimal = Field(description="as-of price, currency per share")
    value: Decimal = Field(description="shares x price, cents")
    weight_pct: Decimal
    target_pct: Decimal | None = Field(default=None, description="the target's percent (None: no target)")


class PortfolioOverview(_Frozen):
    """Current allocation at the pack's as-of prices and, when a proposal exists, the latest proposal's target
    (its allocation after trading), by security and by sector; ``CASH``/``Cash`` included in both."""

    portfolio_id: str
    name: str
    pricing_pack_id: str
    asof_date: date
    portfolio_value: Decimal
    cash: Decimal
    positions: tuple[Position, ...]
    current_pct: dict[str, Decimal] = Field(description="symbol (and CASH) -> percent")
    current_by_sector_pct: dict[str, Decimal]
    target_pct: dict[str, Decimal] = Field(default_factory=dict, description="empty without a proposal")
    target_by_sector_pct: dict[str, Decimal] = Field(default_factory=dict)
    target_proposal_id: str | None = None
    target_policy_id: str | None = None
    target_status: str | None = None
    sectors: dict[str, str] = Field(default_factory=dict, description="symbol -> sector for every symbol shown")
