"""Rebalancing domain: settings, tax lots, triggers, plans, approvals, history (pydantic, frozen).

Units: weights and bands are fractions of 1 (``drift_abs_band: 0.05`` = 5 percentage points); money and
shares are Decimal; fields ending in ``_pct`` are percents with 2 dp; tax rates are fractions (0.37 = 37 %).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from app.domain.bounds import MAX_LAMBDA, Band, Commission, ImpactBps, Money, PerShare, PositiveShares
from app.domain.enums import ObjectiveMode, TradeAction


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---- enums ----------------------------------------------------------------------------------------
class TriggerKind(StrEnum):
    DRIFT_ABSOLUTE = "drift_absolute"
    DRIFT_RELATIVE = "drift_relative"
    CALENDAR = "calendar"
    CASH_FLOW = "cash_flow"
    MANUAL = "manual"


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class LotMethod(StrEnum):
    """HIFO: tax-minimising (losses first, long-term before short-term, highest cost first); FIFO: oldest
    first; SPECIFIC: the lots named by the caller, in that order."""

    HIFO = "hifo"
    FIFO = "fifo"
    SPECIFIC = "specific"


class HoldingTerm(StrEnum):
    SHORT = "short_term"
    LONG = "long_term"


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTED = "executed"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class TargetSource(StrEnum):
    MODEL = "model"
    OPTIMIZER = "optimizer"


class TradePurpose(StrEnum):
    REBALANCE = "rebalance"
    HARVEST = "tax_loss_harvest"
    HARVEST_SUBSTITUTE = "harvest_substitute"


class Outcome(StrEnum):
    """What a rebalance run ended as (a run without trades has no proposal)."""

    NO_TRADE = "no_trade"
    PROPOSED = "proposed"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTED = "executed"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


# ---- configuration ----------------------------------------------------------------------------------
class TaxRates(_Frozen):
    short_term: Decimal = Field(default=Decimal("0.37"), ge=0, le=1, description="fraction (held ≤ 1 year)")
    long_term: Decimal = Field(default=Decimal("0.20"), ge=0, le=1, description="fraction (held > 1 year)")


class RebalanceSettings(_Frozen):
    """How one portfolio is rebalanced (defaults are the issue's)."""

    portfolio_id: str = Field(description="the portfolio these settings belong to")
    target_source: TargetSource = Field(default=TargetSource.MODEL,
                                        description="model: a stored model portfolio; optimizer: a policy's target")
    model_portfolio_id: str | None = Field(default=None, description="the model portfolio (target source 'model')")
    policy_id: str | None = Field(default=None, description="the policy template (target source 'optimizer')")
    drift_abs_band: Band | None = Field(default=Decimal("0.05"), description="fraction in (0, 1] (0.05 = 5 pp)")
    drift_rel_band: Band | None = Field(default=None, description="fraction of target in (0, 1] (0.25 = 25 %)")
    frequency: Frequency | None = Field(default=None, description="calendar trigger; None: no calendar trigger")
    cash_flow_min: Money = Field(default=Decimal("0"), description="currency; smaller flows wait")
    te_penalty_lambda: Decimal = Field(default=Decimal("10"), ge=0, le=MAX_LAMBDA, allow_inf_nan=False,
                                       description="λ of cost_aware mode: weight of TE² (annual) vs costs and taxes")
    objective_mode: ObjectiveMode = Field(default=ObjectiveMode.CLOSEST,
                                          description="the trade engine's objective for this account: closest, or "
                                                      "cost_aware (te_penalty_lambda · TE² + costs + taxes)")
    min_trade_value: Money = Field(default=Decimal("100"), description="currency")
    max_trades: int | None = Field(default=None, ge=1, description="most trades in one proposal; None: no limit")
    lot_method: LotMethod = Field(default=LotMethod.HIFO, description="which tax lots a sale takes first")
    tax_rates: TaxRates = Field(default_factory=TaxRates, description="fractions by holding term")
    harvest_threshold: Band = Field(default=Decimal("0.03"), description="loss fraction of cost basis, (0, 1]")
    substitutes: dict[str, str] = Field(default_factory=dict, description="symbol -> harvest substitute")
    approval_threshold: Money = Field(default=Decimal("10000"), description="currency")
    commission_per_trade: Commission = Field(default=Decimal("5.00"), description="currency per trade")
    market_impact_bps: ImpactBps = Field(default=Decimal("15"), description="basis points of trade value")
    calendar: str = Field(default="XNYS", description="exchange calendar code")


class TaxLot(_Frozen):
    lot_id: str = Field(min_length=1)
    symbol: str
    quantity: PositiveShares = Field(description="shares (bounds: app.domain.bounds)")
    cost_basis: PerShare = Field(description="currency per share")
    acquired: date


class Transaction(_Frozen):
    """A past trade (for the wash-sale window). ``realised_gain`` < 0 marks a loss sale."""

    symbol: str
    action: TradeAction
    quantity: Decimal
    trade_date: date
    realised_gain: Decimal = Decimal("0")


class ModelPortfolio(_Frozen):
    id: str
    name: str
    pricing_pack_id: str = Field(description="the pack the weights were made on")
    source: TargetSource = TargetSource.MODEL
    weights: dict[str, Decimal] = Field(description="symbol -> fraction of 1; the rest is cash")


# ---- engine output ----------------------------------------------------------------------------------
class TriggerReason(_Frozen):
    kind: TriggerKind
    detail: str
    symbol: str | None = None
    value: Decimal | None = None
    limit: Decimal | None = None


class TriggerCheck(_Frozen):
    portfolio_id: str
    asof_date: date
    due: bool
    reasons: tuple[TriggerReason, ...] = ()
    next_calendar_date: date | None = None
    drift_pct: dict[str, Decimal] = Field(default_factory=dict, description="symbol -> (weight - target), percent")


class LotSale(_Frozen):
    lot_id: str
    symbol: str
    quantity: Decimal
    acquired: date
    cost_basis: Decimal
    price: Decimal
    proceeds: Decimal
    cost: Decimal
    gain: Decimal
    term: HoldingTerm


class RealisedGains(_Frozen):
    """Gains realised by a set of lot sales, split by term, and the tax on them after netting."""

    short_term: Decimal
    long_term: Decimal
    tax_short_term: Decimal
    tax_long_term: Decimal
    tax_total: Decimal
    loss_carryforward: Decimal = Decimal("0")


class PlannedTrade(_Frozen):
    symbol: str
    action: TradeAction
    current_shares: Decimal
    quantity: Decimal = Field(gt=0, description="shares, unsigned")
    price: Decimal
    trade_value: Decimal
    commission: Decimal
    market_impact: Decimal
    estimated_cost: Decimal
    purpose: TradePurpose
    rationale: str
    lots: tuple[LotSale, ...] = ()
    realised_gain_short: Decimal = Decimal("0")
    realised_gain_long: Decimal = Decimal("0")


class RebalancePlan(_Frozen):
    """A rebalance proposal: trades (sells first), allocations before/after (percent, each sums to 100),
    costs, taxes, and when it can execute. ``plan_id`` is the SHA-256 of the canonical inputs."""

    plan_id: str
    portfolio_id: str
    pricing_pack_id: str
    asof_date: date
    execute_on: date = Field(description="the exchange session the trades are for")
    market_open: bool
    target_source: TargetSource
    target_id: str
    triggers: tuple[TriggerReason, ...]
    trades: tuple[PlannedTrade, ...]
    before_pct: dict[str, Decimal] = Field(description="symbol (and CASH) -> percent of value before")
    after_pct: dict[str, Decimal]
    target_pct: dict[str, Decimal]
    portfolio_value: Decimal
    cash_before: Decimal
    cash_after: Decimal
    cash_reserved: Decimal = Field(description="withdrawals to be paid out of cash_after")
    total_trade_value: Decimal
    total_cost: Decimal
    realised: RealisedGains
    te_before_pct: Decimal
    te_after_pct: Decimal
    status: ProposalStatus
    warnings: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    VOLATILE_FIELDS: ClassVar[tuple[str, ...]] = ()

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Notification(_Frozen):
    id: str = Field(description="idempotency key; also the e-mail Message-ID")
    proposal_id: str | None
    recipient: str
    subject: str
    body: str
    status: str
    attempts: int
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    kind: str = Field(default="status", description="status (true only while the proposal is in it) | decided")
    about_status: str | None = Field(default=None, description="the proposal status the message is about")
    address: str | None = Field(default=None, description="the e-mail address it was sent to")
