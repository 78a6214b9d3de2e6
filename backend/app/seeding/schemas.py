"""One pydantic model per seed file (``extra="forbid"``): the seed files' own schema, not the domain's.

Numbers: JSON is parsed with ``parse_float=Decimal`` so nothing passes through binary floats.
:data:`JsonNumber` fields must be JSON numbers (a quoted ``"0.10"`` is a type error);
:data:`DecimalText` fields (money, shares, lot sizes, weights) take a decimal string or a JSON number.
Units: policy limits and weights are fractions of 1 (``0.10`` = 10 %); scores 0-10; money in currency.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from app.domain.bounds import MAX_COMMISSION, MAX_IMPACT_BPS, MAX_MONEY, MAX_SHARES
from app.domain.enums import SecurityStatus
from app.domain.models import ID_RE, SYMBOL_RE


def _json_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"expected a JSON number, got {type(value).__name__}")
    return value


def _decimal_text(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(
            f'expected a decimal string such as "100.00" or a JSON number, got {type(value).__name__}'
        )
    return value


JsonNumber = Annotated[Decimal, BeforeValidator(_json_number)]
DecimalText = Annotated[Decimal, BeforeValidator(_decimal_text)]
Symbol = Annotated[str, Field(pattern=SYMBOL_RE.pattern)]
Identifier = Annotated[str, Field(pattern=ID_RE.pattern)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
SchemaVersion = Literal["1.0"]


class SeedModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# ---- securities.json ----------------------------------------------------------------------------
class SecuritySeed(SeedModel):
    symbol: Symbol
    name: str = Field(min_length=1)
    sector: str = Field(min_length=1, description="GICS sector")
    asset_class: str = Field(default="Equity", min_length=1)
    currency: Currency = "USD"
    lot_size: DecimalText = Field(default=Decimal(1), gt=0, le=MAX_SHARES, description="shares per tradable lot")
    status: SecurityStatus = SecurityStatus.ACTIVE


class SecuritiesFile(SeedModel):
    schema_version: SchemaVersion
    securities: list[SecuritySeed] = Field(min_length=1)


# ---- policy_templates.json ----------------------------------------------------------------------
class PolicyTemplateSeed(SeedModel):
    """The specification's template fields, unchanged; ``version`` is optional (pins a version number)."""

    id: Identifier
    name: str = Field(min_length=1)
    min_quality_score: JsonNumber = Field(ge=0, le=10)
    max_single_position_pct: JsonNumber = Field(gt=0, le=1)
    max_sector_pct: JsonNumber = Field(gt=0, le=1)
    max_tracking_error_pct: JsonNumber = Field(gt=0, le=1)
    max_turnover_pct: JsonNumber = Field(ge=0, le=2)
    method_version: str = Field(min_length=1)
    version: StrictInt | None = Field(default=None, ge=1)


class PolicyTemplatesFile(SeedModel):
    schema_version: SchemaVersion
    policies: list[PolicyTemplateSeed] = Field(min_length=1)


# ---- constraint_defaults.json -------------------------------------------------------------------
class ConstraintDefaultsFile(SeedModel):
    """The specification's cost model: cost = commission_per_trade + market_impact_bps/10,000 x |value|."""

    schema_version: SchemaVersion | None = None
    commission_per_trade: JsonNumber = Field(ge=0, le=MAX_COMMISSION, description="currency per trade")
    market_impact_bps: JsonNumber = Field(ge=0, le=MAX_IMPACT_BPS, description="basis points of |trade value|")
    min_trade_value: JsonNumber = Field(ge=0, le=MAX_MONEY, description="currency")
    risk_free_rate: JsonNumber = Field(ge=Decimal("-0.1"), le=1, description="annual, fraction of 1")
    annualization_factor: StrictInt = Field(gt=0, le=366, description="trading days per year")


# ---- quality_ratings.json -----------------------------------------------------------------------
class RatingSeed(SeedModel):
    symbol: Symbol
    score: JsonNumber = Field(ge=0, le=10)
    asof_date: date | None = Field(default=None, description="default: the file's asof_date")
    source: str | None = Field(default=None, description="default: the file's source")


class QualityRatingsFile(SeedModel):
    schema_version: SchemaVersion
    asof_date: date
    source: str = Field(min_length=1)
    ratings: list[RatingSeed] = Field(min_length=1)


# ---- benchmarks.json ----------------------------------------------------------------------------
class BenchmarkSeed(SeedModel):
    id: Identifier
    name: str = Field(min_length=1)
    note: str = ""
    weights: dict[Symbol, Annotated[DecimalText, Field(ge=0, le=1)]] = Field(min_length=1)


class BenchmarksFile(SeedModel):
    schema_version: SchemaVersion
    benchmarks: list[BenchmarkSeed] = Field(min_length=1)


# ---- portfolios.json ----------------------------------------------------------------------------
class HoldingSeed(SeedModel):
    symbol: Symbol
    shares: DecimalText = Field(ge=0, le=MAX_SHARES, decimal_places=8)


class PortfolioSeed(SeedModel):
    id: Identifier
    name: str = Field(min_length=1)
    cash: DecimalText = Field(ge=0, le=MAX_MONEY, decimal_places=4, description="currency")
    base_currency: Currency = "USD"
    benchmark_id: Identifier | None = None
    holdings: list[HoldingSeed] = Field(default_factory=list)


class PortfoliosFile(SeedModel):
    schema_version: SchemaVersion
    portfolios: list[PortfolioSeed] = Field(min_length=1)


# ---- pricing_packs.json -------------------------------------------------------------------------
class PricingPackSeed(SeedModel):
    id: Identifier
    asof_date: date
    prices_csv: str = Field(min_length=1, description="relative to the seeds folder")
    source: str = ""


class PricingPacksFile(SeedModel):
    schema_version: SchemaVersion
    pricing_packs: list[PricingPackSeed] = Field(min_length=1)


#: every seed file and its model, in the order they are read (and reported)
SEED_FILES: dict[str, type[SeedModel]] = {
    "securities.json": SecuritiesFile,
    "quality_ratings.json": QualityRatingsFile,
    "benchmarks.json": BenchmarksFile,
    "portfolios.json": PortfoliosFile,
    "policy_templates.json": PolicyTemplatesFile,
    "constraint_defaults.json": ConstraintDefaultsFile,
    "pricing_packs.json": PricingPacksFile,
}
