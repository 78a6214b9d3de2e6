"""Trade proposal: the output contract of DESIGN.md ("Proposal (JSON)").

Money and shares are Decimal (serialised as strings). Fields ending in ``_pct`` are percents with
2 dp (``Decimal("18.50")`` = 18.5 %). Sharpe ratios are plain ratios (4 dp).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from app.domain.enums import TradeAction


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProposedTrade(_Out):
    symbol: str
    security_id: str
    action: TradeAction
    current_shares: Decimal
    target_shares: Decimal
    delta_shares: Decimal = Field(description="signed: + buy, - sell")
    price: Decimal = Field(description="as-of price used, currency per share")
    trade_value: Decimal = Field(description="|delta_shares| x price, cents")
    current_weight_pct: Decimal
    target_weight_pct: Decimal
    commission: Decimal
    market_impact: Decimal
    estimated_cost: Decimal
    rationale: str


class ProposalSummary(_Out):
    portfolio_value: Decimal = Field(description="holdings at as-of prices + cash, before trading")
    cash_before: Decimal
    cash_after: Decimal = Field(description="after trades and their costs; never negative")
    turnover_pct: Decimal = Field(description="sum |trade value| / portfolio value, percent")
    estimated_total_cost: Decimal
    te_before_pct: Decimal
    te_after_pct: Decimal
    expected_return_before_pct: Decimal
    expected_return_after_pct: Decimal
    volatility_before_pct: Decimal
    volatility_after_pct: Decimal
    sharpe_before: Decimal
    sharpe_after: Decimal
    avg_quality_before: Decimal
    avg_quality_after: Decimal
    n_trades: int
    all_constraints_satisfied: bool


class ConstraintLine(_Out):
    """One policy or structural limit, recomputed from the final whole-share trades.

    ``limit``/``before``/``after`` are in the unit named by ``unit`` ("pct" = percent 2 dp,
    "score" = quality score, "count", "bool").
    """

    name: str
    unit: str
    limit: Decimal | None
    before: Decimal | None
    after: Decimal | None
    satisfied: bool
    binding: bool = Field(description="after sits at the limit (within one lot / rounding)")
    detail: str = ""


class RebalanceProposal(_Out):
    proposal_id: str = Field(description="SHA-256 of the canonical inputs")
    portfolio_id: str
    policy_id: str
    policy_version: int
    method_version: str
    pricing_pack_id: str
    asof_date: date
    request_id: str | None = None
    trades: tuple[ProposedTrade, ...]
    summary: ProposalSummary
    constraints: tuple[ConstraintLine, ...]
    warnings: tuple[str, ...] = ()
    target_weights: dict[str, Decimal] = Field(
        default_factory=dict, description="optimiser's target, symbol -> percent (2 dp)"
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="engine/solver versions, options, stage statuses"
    )

    #: fields that differ between two runs on the same inputs (never hashed, normalised by goldens)
    VOLATILE_FIELDS: ClassVar[tuple[str, ...]] = ("request_id",)

    def body(self) -> dict[str, Any]:
        """The canonical, JSON-ready body without volatile fields (what must be byte-identical)."""
        data = self.model_dump(mode="json")
        for key in self.VOLATILE_FIELDS:
            data.pop(key, None)
        return data

    @property
    def unmet_constraints(self) -> tuple[ConstraintLine, ...]:
        return tuple(c for c in self.constraints if not c.satisfied)
