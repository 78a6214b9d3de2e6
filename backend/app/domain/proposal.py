"""Trade proposal: the output contract of DESIGN.md ("Proposal (JSON)").

Money and shares are Decimal (serialised as strings). Fields ending in ``_pct`` are percents with
2 dp (``Decimal("18.50")`` = 18.5 %). Sharpe ratios are plain ratios (4 dp).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from app.domain.account import AccountOutcome
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
    estimated_tax: Decimal | None = Field(
        default=None, description="tax the sales realise after netting, currency (runs with tax lots; else None)")


class ConstraintSense(StrEnum):
    """Direction of a limit: ``max`` holds when ``after <= limit``, ``min`` when ``after >= limit``."""

    MAX = "max"
    MIN = "min"


class ConstraintLine(_Out):
    """One policy or structural limit, recomputed from the final whole-share trades.

    ``limit``/``before``/``after`` are in the unit named by ``unit`` ("pct" = percent 2 dp,
    "money" = currency 2 dp, "score" = quality score, "count", "bool"); ``sense`` says which side of
    ``limit`` is allowed, so a consumer checks a line without knowing its name.
    """

    name: str
    sense: ConstraintSense
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
    account: AccountOutcome | None = Field(
        default=None, description="tax lots sold, harvests, execution date and order (runs with account rules)"
    )

    #: fields that differ between two runs on the same inputs (never hashed, normalised by goldens)
    VOLATILE_FIELDS: ClassVar[tuple[str, ...]] = ("request_id",)

    def body(self) -> dict[str, Any]:
        """The canonical, JSON-ready body without volatile fields (what must be byte-identical); ``account`` and
        ``summary.estimated_tax`` only when the run had account rules."""
        data = self.model_dump(mode="json")
        for key in self.VOLATILE_FIELDS:
            data.pop(key, None)
        if data.get("account") is None:
            data.pop("account", None)
        if data.get("summary", {}).get("estimated_tax", "") is None:
            data["summary"].pop("estimated_tax")
        return data

    @property
    def unmet_constraints(self) -> tuple[ConstraintLine, ...]:
        return tuple(c for c in self.constraints if not c.satisfied)

    # ---- notebook helpers (no effect on the fields or the JSON) --------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The whole proposal as JSON-ready data (Decimals as strings), same as the ``--json`` output."""
        return self.model_dump(mode="json")

    def to_frame(self, part: str = "trades", *, exact: bool = False):  # noqa: ANN201 - pandas.DataFrame
        """One part of the proposal as a pandas DataFrame.

        ``part``: ``"trades"`` (one row per trade, indexed by symbol), ``"constraints"`` (indexed by name),
        ``"summary"`` (one column ``value``, indexed by field) or ``"target_weights"`` (percent per symbol).
        Decimals become floats for display and plotting unless ``exact=True`` (then they stay Decimal).
        """
        return _frame(self, part, exact=exact)


PROPOSAL_PARTS = ("trades", "constraints", "summary", "target_weights")


def _cell(value: Any, exact: bool) -> Any:
    if isinstance(value, Decimal) and not exact:
        return float(value)
    return value.value if isinstance(value, Enum) else value


def _frame(proposal: RebalanceProposal, part: str, *, exact: bool):  # noqa: ANN202
    import pandas as pd

    if part == "trades":
        columns = list(ProposedTrade.model_fields)
        rows = [{k: _cell(getattr(t, k), exact) for k in columns} for t in proposal.trades]
        return pd.DataFrame(rows, columns=columns).set_index("symbol")
    if part == "constraints":
        columns = list(ConstraintLine.model_fields)
        rows = [{k: _cell(getattr(c, k), exact) for k in columns} for c in proposal.constraints]
        return pd.DataFrame(rows, columns=columns).set_index("name")
    if part == "summary":
        fields = ProposalSummary.model_fields
        return pd.DataFrame(
            {"value": [_cell(getattr(proposal.summary, k), exact) for k in fields]},
            index=pd.Index(list(fields), name="field"),
        )
    if part == "target_weights":
        return pd.DataFrame(
            {"target_weight_pct": [_cell(v, exact) for v in proposal.target_weights.values()]},
            index=pd.Index(list(proposal.target_weights), name="symbol"),
        )
    raise ValueError(f"part must be one of {', '.join(PROPOSAL_PARTS)} (value={part!r})")


def compare_proposals(proposals: list[RebalanceProposal] | tuple[RebalanceProposal, ...], *,
                      part: str = "summary", exact: bool = False):  # noqa: ANN201 - pandas.DataFrame
    """Proposals side by side: the ``summary`` fields (or a ``constraints`` column ``after``) as rows, one
    column per proposal, labelled ``policy_id`` (``policy_id@portfolio_id`` when portfolios differ)."""
    import pandas as pd

    portfolios = {p.portfolio_id for p in proposals}
    labels = [p.policy_id if len(portfolios) == 1 else f"{p.policy_id}@{p.portfolio_id}" for p in proposals]
    if len(set(labels)) != len(labels):
        labels = [f"{label} ({p.proposal_id[:8]})" for label, p in zip(labels, proposals)]
    if part == "summary":
        columns = {label: p.to_frame("summary", exact=exact)["value"] for label, p in zip(labels, proposals)}
    elif part == "constraints":
        columns = {label: p.to_frame("constraints", exact=exact)["after"] for label, p in zip(labels, proposals)}
    else:
        raise ValueError(f"part must be 'summary' or 'constraints' (value={part!r})")
    return pd.DataFrame(columns)
