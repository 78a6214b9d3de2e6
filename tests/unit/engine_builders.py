"""Builders for the one trade engine with an account's rules: synthetic prices, a given target, plain values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import numpy as np
import pandas as pd

from app.analytics.inputs import RebalanceInputs, RebalanceOptions
from app.domain.account import AccountRules, GivenTarget
from app.domain.enums import SecurityStatus
from app.domain.models import ConstraintDefaults, Policy, PricingPack, Security
from tests.unit.rebalancing_builders import lot  # noqa: F401 - re-exported for the engine tests

ASOF = date(2022, 12, 28)  # a Wednesday, NYSE open
LOOSE = Policy(id="loose", name="no binding limit", min_quality_score=0.0, max_single_position_pct=1.0,
               max_sector_pct=1.0, max_tracking_error_pct=0.99, max_turnover_pct=2.0)


def history(prices: dict, asof: date = ASOF, days: int = 300, seed: int = 7) -> pd.DataFrame:
    """Daily closes ending at ``asof`` at exactly ``prices`` (a random walk per name, 1-2 % daily vol)."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range(end=pd.Timestamp(asof), periods=days)
    market = rng.normal(0.0003, 0.008, size=days)
    cols = {}
    for k, s in enumerate(sorted(prices)):
        rets = market * (0.8 + 0.1 * k) + rng.normal(0, 0.01, size=days)
        path = np.exp(np.cumsum(rets))
        cols[s] = path / path[-1] * float(prices[s])
    return pd.DataFrame(cols, index=index)


def make_inputs(*, target: dict, holdings: dict, cash: str, prices: dict, asof: date = ASOF, halted=(),
                policy: Policy = LOOSE, min_trade_value: str = "100", commission: str = "5.00",
                history_days: int = 300, options: RebalanceOptions | None = None,
                **rules) -> RebalanceInputs:  # noqa: ANN001, ANN003
    """Inputs of one rebalance toward ``target`` (a given model target) with the account ``rules``
    (keywords of :class:`AccountRules`); the benchmark is the target, normalised."""
    prices = {s: D(str(p)) for s, p in prices.items()}
    symbols = sorted(set(target) | set(holdings) | set(prices))
    weights = {s: D(str(w)) for s, w in target.items()}
    total = sum(float(w) for w in weights.values())
    return RebalanceInputs(
        portfolio_id="P", pack=PricingPack(id="PK", asof_date=asof, sealed=True),
        history=history(prices, asof, history_days), asof_prices=prices,
        securities={s: Security(symbol=s, name=s, sector="Test",
                                status=SecurityStatus.HALTED if s in halted else SecurityStatus.ACTIVE)
                    for s in symbols},
        quality={s: 8.0 for s in symbols}, benchmark={s: float(w) / total for s, w in weights.items()},
        holdings={s: D(str(q)) for s, q in holdings.items()}, cash=D(cash), policy=policy,
        defaults=ConstraintDefaults(commission_per_trade=D(commission), market_impact_bps=D("15"),
                                    min_trade_value=D(min_trade_value), risk_free_rate=0.0, annualization_factor=252),
        options=options or RebalanceOptions(lookback_days=250), account=AccountRules(**rules),
        target=GivenTarget(id="M", weights=weights),
    )


def cash_identity(proposal) -> D:  # noqa: ANN001
    """Cash after, recomputed from the trades: sells add value − cost, buys subtract value + cost."""
    c = proposal.summary.cash_before
    for t in proposal.trades:
        c += (t.trade_value if t.action.value == "SELL" else -t.trade_value) - t.estimated_cost
    return c
