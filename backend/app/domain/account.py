"""What the trade engine reads about an account besides its holdings and cash (DESIGN "One trade engine").

Units: money and shares Decimal; rates and thresholds fractions of 1 (``harvest_threshold: 0.03`` = a lot 3 %
under its cost basis); dates are exchange dates.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from app.domain.models import ConstraintDefaults
from app.domain.rebalancing import LotMethod, LotSale, RealisedGains, TaxLot, TaxRates, Transaction


class AccountRules(BaseModel):
    """The account's side of one rebalance. Every field has a neutral default (no lots, nothing restricted)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trade_date: date | None = Field(default=None, description="session the trades are for; None: the pack's date")
    market_open: bool = Field(default=True, description="False: the pack's date is closed, trades on trade_date")
    restricted: tuple[str, ...] = Field(default=(), description="symbols never bought for this account")
    lots: tuple[TaxLot, ...] = Field(default=(), description="tax lots of the holdings")
    transactions: tuple[Transaction, ...] = Field(default=(), description="past trades (the wash-sale window)")
    lot_method: LotMethod = LotMethod.HIFO
    specific_lots: dict[str, tuple[str, ...]] = Field(default_factory=dict,
                                                      description="symbol -> lot ids sold first (method specific)")
    tax_rates: TaxRates = Field(default_factory=TaxRates)
    harvest_threshold: Decimal | None = Field(default=None, gt=0,
                                              description="loss fraction of cost basis; None: no harvesting")
    substitutes: dict[str, str] = Field(default_factory=dict, description="symbol -> harvest substitute")
    withdrawal: Decimal = Field(default=Decimal("0"), ge=0, description="currency to raise and keep in cash")
    max_trades: int | None = Field(default=None, ge=1, description="most trades in one proposal; None: no limit")
    commission_per_trade: Decimal | None = Field(default=None, ge=0, description="currency; None: the defaults'")
    market_impact_bps: Decimal | None = Field(default=None, ge=0, description="bps of |value|; None: the defaults'")
    min_trade_value: Decimal | None = Field(default=None, ge=0, description="currency; None: the defaults'")

    def costs_over(self, defaults: ConstraintDefaults) -> ConstraintDefaults:
        """``defaults`` (ConstraintDefaults) with the account's own cost settings where it has them."""
        update = {k: v for k in ("commission_per_trade", "market_impact_bps", "min_trade_value")
                  if (v := getattr(self, k)) is not None}
        return defaults.model_copy(update=update) if update else defaults


class GivenTarget(BaseModel):
    """A target the caller supplies (a stored model portfolio, or an allocation model's weights)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, description="where the weights come from (model portfolio id)")
    weights: dict[str, Decimal] = Field(description="symbol -> fraction of 1; the rest is cash")


class HarvestRecord(BaseModel):
    """A tax-loss harvest in a proposal: the lots sold and the substitute bought in their place."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str
    substitute: str
    lot_ids: tuple[str, ...]
    loss_fraction: Decimal = Field(description="worst lot's (price − basis) / basis, fraction (−0.031 = 3.1 % down)")


class AccountNote(BaseModel):
    """Something the account's rules made the engine skip or could not do (``kind`` is stable, ``text`` reads)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    symbol: str | None = None
    text: str


class AccountOutcome(BaseModel):
    """The account's part of a proposal (present when the run had account rules).

    ``execution_order``: symbols, every sell before any buy (buys are funded from the sells); ``lots_sold``:
    symbol → the lot sales of its sell; ``realised``: gains by term and tax after netting (currency);
    ``withdrawal_reserved``: cash kept back for pending withdrawals (currency, included in cash_after)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trade_date: date
    market_open: bool
    target_id: str | None = None
    execution_order: tuple[str, ...]
    withdrawal_reserved: Decimal
    lots_sold: dict[str, tuple[LotSale, ...]]
    realised: RealisedGains
    harvests: tuple[HarvestRecord, ...] = ()
    restricted: tuple[str, ...] = ()
    notes: tuple[AccountNote, ...] = ()
