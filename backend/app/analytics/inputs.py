"""What one rebalance needs, gathered by the caller (agent from the database, scenario runner from a file).

Pure data: the analytics never read a database or a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.account import AccountRules, GivenTarget
from app.domain.bounds import MIN_LOOKBACK_DAYS
from app.domain.enums import CovEstimator, MeanEstimator, Model, Objective, ObjectiveMode, RiskMeasure
from app.domain.models import ConstraintDefaults, Policy, PricingPack, Security

if TYPE_CHECKING:
    import pandas as pd


class RebalanceOptions(BaseModel):
    """Engine options that change the result (all hashed into ``proposal_id``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    lookback_days: int = Field(default=756, ge=MIN_LOOKBACK_DAYS, le=10_000, description="daily returns used")
    objective: Objective = Objective.SHARPE
    risk_measure: RiskMeasure = RiskMeasure.MV
    model: Model = Model.CLASSIC
    cov_estimator: CovEstimator = CovEstimator.HIST
    mean_estimator: MeanEstimator = MeanEstimator.HIST
    risk_aversion: float = Field(default=2.0, gt=0, description="Utility objective's lambda")
    objective_mode: ObjectiveMode = Field(
        default=ObjectiveMode.CLOSEST,
        description="trade-path objective: closest (TE² to target, costs break ties) or cost_aware",
    )
    te_aversion: float = Field(
        default=10.0, gt=0, le=1e6,
        description="λ of cost_aware mode: λ·TE²_to_target + costs, both fractions of the portfolio value",
    )
    reinvest_proceeds: bool = Field(
        default=True, description="hierarchy level 4: sale proceeds are reinvested (cash does not rise)"
    )


@dataclass(frozen=True)
class RebalanceInputs:
    """Everything the pure engine needs for one proposal.

    * ``history``: daily closes (float), index ascending dates, one column per symbol; must cover the universe.
    * ``asof_prices``: Decimal price per symbol at ``pack.asof_date`` (the trade prices).
    * ``quality``: score 0-10 per symbol (missing = unrated, treated as below any minimum).
    * ``benchmark``: symbol -> fraction of 1 (sums to 1).
    * ``holdings``: symbol -> shares (Decimal, >= 0); ``cash`` in currency.
    * ``account``: the account's rules (tax lots, restrictions, wash sales, harvesting, withdrawals,
      ``max_trades``, the trade date); None: none (a plain policy rebalance).
    * ``target``: a target the caller supplies (a model portfolio); None: solved from the policy. Its symbols
      (and harvest substitutes) must be in ``securities``, ``asof_prices`` and ``history``.
    """

    portfolio_id: str
    pack: PricingPack
    history: pd.DataFrame
    asof_prices: Mapping[str, Decimal]
    securities: Mapping[str, Security]
    quality: Mapping[str, float]
    benchmark: Mapping[str, float]
    holdings: Mapping[str, Decimal]
    cash: Decimal
    policy: Policy
    defaults: ConstraintDefaults
    options: RebalanceOptions = field(default_factory=RebalanceOptions)
    strict: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    account: AccountRules | None = None
    target: GivenTarget | None = None
