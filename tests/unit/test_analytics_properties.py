"""Property tests: random universes, holdings, cash and policies always give a proposal that keeps every
structural rule and whose constraint report is true when recomputed independently, or one of our typed
errors, never anything else."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import check_proposal

from app.analytics import RebalanceInputs, RebalanceOptions, build_proposal
from app.core.errors import DawsosError
from app.domain.canonical import canonical_json
from app.domain.enums import SecurityStatus
from app.domain.models import ConstraintDefaults, Policy, PricingPack, Security

LOOKBACK = 60
ASOF = date(2024, 6, 28)


@st.composite
def scenarios(draw, min_n: int = 3, max_n: int = 15, lookbacks: tuple[int, ...] = (LOOKBACK,), broad: bool = False):
    """``broad``: every name in the benchmark, rated, and a policy minimum of at most 3 (most names buyable)."""
    n = draw(st.integers(min_n, max_n))
    lookback = draw(st.sampled_from(lookbacks))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    symbols = [f"S{i:03d}" for i in range(n)]
    sectors = [draw(st.sampled_from(["Alpha", "Beta", "Gamma", "Delta"])) for _ in symbols]
    scores = st.floats(0, 10).map(lambda x: round(x, 1))
    quality = {s: q for s in symbols if (q := draw(scores if broad else st.one_of(st.none(), scores))) is not None}
    halted = [draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()) for _ in symbols]  # ~1/8
    lots = [draw(st.sampled_from([1, 10])) for _ in symbols]
    # prices: one market factor + noise, daily, lookback + 1 closes
    mkt = rng.normal(0.0004, 0.01, lookback)
    rets = mkt[:, None] * rng.uniform(0.5, 1.5, n) + rng.normal(0.0002, 0.015, (lookback, n))
    start = rng.uniform(5, 400, n)
    closes = start * np.vstack([np.ones(n), np.cumprod(1 + rets, axis=0)])
    closes = np.round(closes, 3)
    dates = pd.bdate_range(end=pd.Timestamp(ASOF), periods=lookback + 1)
    history = pd.DataFrame(closes, index=dates, columns=symbols)
    prices = {s: Decimal(repr(float(history[s].iloc[-1]))) for s in symbols}
    in_bench = symbols if broad else ([s for s in symbols if draw(st.booleans())] or [symbols[0]])
    raw = {s: float(rng.uniform(0.1, 1.0)) for s in in_bench}
    tot = sum(raw.values())
    bench = {s: v / tot for s, v in raw.items()}
    holdings = {}
    for s in symbols:
        if draw(st.booleans()):
            holdings[s] = Decimal(draw(st.integers(0, 3000)))
    cash = Decimal(draw(st.integers(0, 200_000))) / 100 * Decimal(draw(st.sampled_from([1, 10, 100])))
    policy = Policy(
        id="prop", name="property policy",
        min_quality_score=draw(st.floats(0, 3 if broad else 9).map(lambda x: round(x, 1))),
        max_single_position_pct=draw(st.sampled_from([0.05, 0.08, 0.1, 0.15, 0.25, 0.5, 1.0])),
        max_sector_pct=draw(st.sampled_from([0.1, 0.2, 0.25, 0.4, 0.6, 1.0])),
        max_tracking_error_pct=draw(st.sampled_from([0.005, 0.02, 0.05, 0.2])),
        max_turnover_pct=draw(st.sampled_from([0.0, 0.05, 0.2, 0.5, 2.0])),
    )
    securities = {
        s: Security(symbol=s, name=s, sector=sec, lot_size=Decimal(lot),
                    status=SecurityStatus.HALTED if h else SecurityStatus.ACTIVE)
        for s, sec, lot, h in zip(symbols, sectors, lots, halted)
    }
    return RebalanceInputs(
        portfolio_id="PROP", pack=PricingPack(id="PP_PROP", asof_date=ASOF, content_hash=f"seed-{seed}"),
        history=history, asof_prices=prices, securities=securities, quality=quality, benchmark=bench,
        holdings=holdings, cash=cash, policy=policy,
        defaults=ConstraintDefaults(commission_per_trade=Decimal("5.00"), market_impact_bps=Decimal(15),
                                    min_trade_value=Decimal("100.00"), risk_free_rate=0.02, annualization_factor=252),
        options=RebalanceOptions(lookback_days=lookback),
    )


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_any_input_gives_a_sound_proposal_or_a_typed_error(inputs):
    try:
        prop = build_proposal(inputs)
    except DawsosError:
        return
    check_proposal(inputs, prop, cov_tol=1e-4)
    canonical_json(prop.body())  # serialisable, finite


@settings(max_examples=5, deadline=None, derandomize=True)
@given(scenarios())
def test_deterministic_bytes(inputs):
    try:
        a = build_proposal(inputs)
    except DawsosError:
        return
    b = build_proposal(inputs)
    assert canonical_json(a.body()) == canonical_json(b.body())


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(min_n=160, max_n=230, lookbacks=(60, 300), broad=True))
def test_large_universes_on_working_sets_give_a_sound_proposal_or_a_typed_error(inputs):
    """Above 150 names the target comes from certified working sets (app.analytics.working_set), with fewer
    days than names (60: a singular sample covariance, ridged) or more (300)."""
    try:
        prop = build_proposal(inputs)
    except DawsosError:
        return
    check_proposal(inputs, prop, cov_tol=1e-4)
    canonical_json(prop.body())
