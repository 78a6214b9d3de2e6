"""The one proposal lifecycle: a proposal as recorded (whichever command made it), its transitions, its fills.

States (DESIGN.md "Proposal lifecycle")::

    proposed ──> pending_approval ──> approved ──> executed
        │               │     └─────> rejected
        │               │
        └── approved | rejected | executed (when it needs no approval)
    live (proposed, pending_approval, approved) ──> expired    (its pricing pack superseded)
                                                └─> superseded (a newer proposal, same portfolio and pack)

Units: money and shares are Decimal (currency, shares); fields ending in ``_pct`` are percents with 2 dp.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from app.domain.enums import TradeAction
from app.domain.rebalancing import ProposalStatus, TriggerReason


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProposalSource(StrEnum):
    """Which capability made a proposal."""

    OPTIMIZER = "optimizer"  # optimizer.propose_trades (`dawsos rebalance`)
    REBALANCING = "rebalancing"  # rebalance.propose / rebalance.scheduled (`dawsos rebalancing ...`)


LIVE = frozenset({ProposalStatus.PROPOSED, ProposalStatus.PENDING_APPROVAL, ProposalStatus.APPROVED})


class LotPick(_Frozen):
    """Shares a sell takes from one tax lot (the proposal's choice)."""

    lot_id: str
    quantity: Decimal = Field(gt=0, description="shares")


class RecordedTrade(_Frozen):
    """One proposed trade as the lifecycle records it (unsigned ``shares``; ``action`` gives the side)."""

    symbol: str
    action: TradeAction
    current_shares: Decimal = Field(description="shares held when the proposal was made")
    shares: Decimal = Field(gt=0, description="shares to trade, unsigned")
    price: Decimal = Field(description="the pack's as-of price, currency per share")
    trade_value: Decimal = Field(description="shares x price, currency")
    commission: Decimal
    market_impact: Decimal
    estimated_cost: Decimal = Field(description="commission + market impact, currency")
    lots: tuple[LotPick, ...] = Field(default=(), description="lots a sell takes, in order (when chosen)")


class ProposalRecord(_Frozen):
    """A proposal as the one proposal table holds it: the uniform fields every reader needs (history, approvals,
    execution) plus ``body``, the producing engine's canonical JSON document."""

    proposal_id: str
    portfolio_id: str
    policy_id: str = Field(description="the policy, or the rebalancing target (model portfolio id)")
    policy_version: int
    pricing_pack_id: str
    asof_date: date
    source: ProposalSource
    trades: tuple[RecordedTrade, ...]
    before_pct: dict[str, Decimal] = Field(description="symbol (and CASH) -> percent of value before, sums to 100")
    after_pct: dict[str, Decimal] = Field(description="symbol (and CASH) -> percent of value after, sums to 100")
    portfolio_value: Decimal
    cash_before: Decimal
    cash_after: Decimal = Field(description="after the trades and their estimated costs")
    total_trade_value: Decimal
    total_cost: Decimal
    estimated_tax: Decimal
    requires_approval: bool = Field(description="total trade value over the account's approval threshold")
    body: dict[str, Any] = Field(description="the engine's proposal document (canonical JSON-ready)")

    #: the fields kept in the table's ``record`` column (the rest are columns of their own, or ``body``)
    RECORD_FIELDS: ClassVar[tuple[str, ...]] = (
        "trades", "before_pct", "after_pct", "portfolio_value", "cash_before", "cash_after", "total_trade_value",
        "total_cost", "estimated_tax")

    def record_json(self) -> dict[str, Any]:
        """The ``record`` column: JSON-ready (Decimals as strings)."""
        return self.model_dump(mode="json", include=set(self.RECORD_FIELDS))


class TransitionRecord(_Frozen):
    proposal_id: str
    from_status: ProposalStatus | None
    to_status: ProposalStatus
    actor: str
    reason: str = ""
    at: datetime


class FillRecord(_Frozen):
    """What filled against what was proposed (one row per fill line; ``line`` is the fills file's line, None
    for ``--as-proposed``)."""

    line: int | None
    symbol: str
    action: TradeAction
    proposed_shares: Decimal
    shares: Decimal = Field(gt=0, description="filled shares, unsigned")
    price: Decimal = Field(description="fill price, currency per share")
    fill_date: date
    fees: Decimal = Field(description="the actual cost charged to cash for this fill, currency")
    realised_gain: Decimal = Field(description="(price - cost basis) x shares over the lots it sold; 0 for buys")


class StoredProposal(ProposalRecord):
    """A proposal as stored: the record, its status, every transition (who, when, why) and its fills."""

    status: ProposalStatus
    created_at: datetime
    superseded_by: str | None = None
    triggers: tuple[TriggerReason, ...] = Field(default=(), description="why a rebalancing run proposed it")
    transitions: tuple[TransitionRecord, ...] = ()
    fills: tuple[FillRecord, ...] = ()

    @property
    def live(self) -> bool:
        return self.status in LIVE


class HistoryEntry(_Frozen):
    """One line of a portfolio's history: a proposal (from any command) or a rebalancing run without trades."""

    created_at: datetime
    portfolio_id: str
    pricing_pack_id: str
    asof_date: date
    source: ProposalSource
    proposal_id: str | None
    policy_id: str
    triggers: tuple[TriggerReason, ...] = ()
    before_pct: dict[str, Decimal]
    after_pct: dict[str, Decimal]
    trades: tuple[RecordedTrade, ...] = ()
    n_trades: int
    total_trade_value: Decimal
    total_cost: Decimal
    estimated_tax: Decimal
    cash_before: Decimal | None = Field(default=None, description="None for a run without trades")
    cash_after: Decimal | None = None
    outcome: str = Field(description="the proposal's status, or no_trade")
    approvals: tuple[TransitionRecord, ...] = ()
    fills: tuple[FillRecord, ...] = ()


class Fill(_Frozen):
    """One line of a fills file: ``shares`` signed (+ bought, − sold), ``price`` currency per share."""

    line: int | None = Field(default=None, description="line in the fills file (1 = header), None when as proposed")
    symbol: str = Field(min_length=1, max_length=16)
    shares: Decimal = Field(description="signed: + bought, - sold; never 0")
    price: Decimal = Field(gt=0, description="currency per share")
    date: date
    fees: Decimal | None = Field(default=None, ge=0, description="actual fees, currency (default: the proposal's "
                                                                  "commission for the symbol's first fill)")


class UserContact(_Frozen):
    user_id: str
    email: str | None = None
