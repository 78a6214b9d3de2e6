"""Domain value objects (pydantic, frozen). Units are in each field's description.

Fractions of 1 for policy limits and weights (``0.10`` = 10 %); Decimal for money and shares.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.domain.bounds import Commission, ImpactBps, Money
from app.domain.enums import SecurityStatus

SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,15}$")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Symbol = Annotated[str, Field(pattern=SYMBOL_RE.pattern, description="ticker, upper case")]
Identifier = Annotated[str, Field(pattern=ID_RE.pattern)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Security(Frozen):
    symbol: Symbol
    name: str = Field(min_length=1)
    sector: str = Field(min_length=1, description="GICS sector")
    asset_class: str = "Equity"
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    lot_size: Decimal = Field(default=Decimal(1), gt=0, description="shares per tradable lot")
    status: SecurityStatus = SecurityStatus.ACTIVE


class QualityRating(Frozen):
    symbol: Symbol
    score: float = Field(ge=0.0, le=10.0, description="quality score on 0-10")
    asof_date: date | None = None
    source: str = "sample"


class PricingPack(Frozen):
    id: Identifier
    asof_date: date
    sealed: bool = False
    content_hash: str | None = Field(default=None, description="SHA-256 of the canonical price table")
    source: str = ""
    n_dates: int = 0
    n_symbols: int = 0
    first_date: date | None = None
    sealed_at: datetime | None = Field(default=None, description="when it was sealed (UTC); breaks as-of ties")


class Price(Frozen):
    pack_id: Identifier
    symbol: Symbol
    price_date: date
    close: Decimal = Field(gt=0, description="adjusted close, currency per share")


class Benchmark(Frozen):
    id: Identifier
    name: str
    weights: dict[str, Decimal] = Field(description="symbol -> fraction of 1; sums to 1")

    @field_validator("weights")
    @classmethod
    def _sum_to_one(cls, w: dict[str, Decimal]) -> dict[str, Decimal]:
        if not w:
            raise ValueError("benchmark needs at least one weight")
        for sym, val in w.items():
            if not SYMBOL_RE.match(sym):
                raise ValueError(f"bad symbol {sym!r}")
            if val < 0:
                raise ValueError(f"weight of {sym} is negative ({val})")
        total = sum(w.values(), Decimal(0))
        if abs(total - 1) > Decimal("0.0001"):
            raise ValueError(f"weights sum to {total}, not 1")
        return w


class Holding(Frozen):
    symbol: Symbol
    shares: Decimal = Field(ge=0, description="shares held; long only")


class Portfolio(Frozen):
    id: Identifier
    name: str
    cash: Decimal = Field(ge=0, description="cash in base currency")
    base_currency: str = "USD"
    benchmark_id: str | None = None
    holdings: tuple[Holding, ...] = ()


class Policy(Frozen):
    """A policy template. Limits are fractions of 1 (``max_single_position_pct: 0.10`` = 10 %)."""

    id: Identifier
    name: str
    min_quality_score: float = Field(ge=0.0, le=10.0)
    max_single_position_pct: float = Field(gt=0.0, le=1.0)
    max_sector_pct: float = Field(gt=0.0, le=1.0)
    max_tracking_error_pct: float = Field(gt=0.0, le=1.0, description="annualised TE, fraction")
    max_turnover_pct: float = Field(ge=0.0, le=2.0, description="sum |trade value| / value, fraction")
    method_version: str = "v1"
    version: int = Field(default=1, ge=1)


class ConstraintDefaults(Frozen):
    commission_per_trade: Commission = Field(description="currency per trade (bounds: app.domain.bounds)")
    market_impact_bps: ImpactBps = Field(description="basis points of |trade value|")
    min_trade_value: Money = Field(description="currency; smaller trades are not proposed")
    risk_free_rate: float = Field(ge=-0.1, le=1.0, description="annual, fraction")
    annualization_factor: int = Field(gt=0, description="trading days per year")
