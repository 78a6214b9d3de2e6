"""Impact analysis: before/after metrics of a given list of trades (output of ``optimizer.analyze_impact``).

Units as in the proposal: money Decimal (cents), ``_pct`` fields percent with 2 dp, ratios 4 dp.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.enums import TradeAction


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TradeInput(BaseModel):
    """One trade to analyse: a symbol and a signed share change (+ buy, − sell).

    Accepts a :class:`~app.domain.proposal.ProposedTrade` (or its JSON) as it is: other fields are ignored.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", from_attributes=True)

    symbol: str = Field(min_length=1)
    delta_shares: Decimal = Field(description="signed: + buy, - sell")


class ImpactTrade(_Out):
    symbol: str
    action: TradeAction
    delta_shares: Decimal
    price: Decimal
    trade_value: Decimal
    estimated_cost: Decimal


class PortfolioSnapshot(_Out):
    """One side of the analysis (before or after the trades), recomputed from share counts and cash."""

    value: Decimal = Field(description="holdings at as-of prices + cash")
    cash: Decimal
    te_pct: Decimal
    volatility_pct: Decimal
    expected_return_pct: Decimal
    sharpe: Decimal
    avg_quality: Decimal
    max_position_pct: Decimal
    max_sector_pct: Decimal
    weights_pct: dict[str, Decimal] = Field(description="symbol -> percent of value (non-zero only)")
    sector_weights_pct: dict[str, Decimal]


class LimitCheck(_Out):
    """A policy limit against the portfolio after the trades (percent)."""

    name: str
    limit_pct: Decimal
    before_pct: Decimal | None
    after_pct: Decimal
    satisfied: bool


class ImpactAnalysis(_Out):
    portfolio_id: str
    policy_id: str
    policy_version: int
    pricing_pack_id: str
    trades: tuple[ImpactTrade, ...]
    turnover_pct: Decimal
    estimated_total_cost: Decimal
    before: PortfolioSnapshot
    after: PortfolioSnapshot
    limits: tuple[LimitCheck, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (Decimals as strings)."""
        return self.model_dump(mode="json")

    def to_frame(self):  # noqa: ANN201 - pandas.DataFrame (pandas imported lazily)
        """Metrics as rows, ``before`` / ``after`` / ``change`` as columns (floats, for display)."""
        import pandas as pd

        rows = ("value", "cash", "te_pct", "volatility_pct", "expected_return_pct", "sharpe", "avg_quality",
                "max_position_pct", "max_sector_pct")
        before = [float(getattr(self.before, r)) for r in rows]
        after = [float(getattr(self.after, r)) for r in rows]
        frame = pd.DataFrame({"before": before, "after": after}, index=pd.Index(rows, name="metric"))
        frame["change"] = frame["after"] - frame["before"]
        return frame
