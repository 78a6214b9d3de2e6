"""The Riskfolio target against closed forms with the policy bounds relaxed (oracle: linear algebra)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from app.analytics.estimators import RiskModel
from app.analytics.riskfolio_map import NO_RISKFOLIO_CODE, RISKFOLIO_CODES, riskfolio_code
from app.analytics.target import solve_target
from app.analytics.universe import build_universe
from app.core.errors import InputError
from app.domain.enums import CovEstimator, MeanEstimator, Model, Objective, RiskMeasure
from app.domain.models import Policy, Security

SYMS = ("AAA", "BBB", "CCC", "DDD")
VOL = np.array([0.010, 0.020, 0.015, 0.012])
CORR = np.array([
    [1.0, 0.2, 0.1, 0.3],
    [0.2, 1.0, 0.3, 0.1],
    [0.1, 0.3, 1.0, 0.2],
    [0.3, 0.1, 0.2, 1.0],
])
COV = CORR * np.outer(VOL, VOL)
MU = np.array([0.0005, 0.0009, 0.0007, 0.0006])
RF_ANNUAL = 0.02


def relaxed_setup():
    policy = Policy(id="relaxed", name="relaxed", min_quality_score=0, max_single_position_pct=1.0,
                    max_sector_pct=1.0, max_tracking_error_pct=1.0, max_turnover_pct=2.0)
    secs = {s: Security(symbol=s, name=s, sector=f"S{i}") for i, s in enumerate(SYMS)}
    universe = build_universe(
        benchmark={s: 0.25 for s in SYMS}, holdings={}, cash=Decimal("1000"), securities=secs,
        quality={s: 9.0 for s in SYMS}, asof_prices={s: Decimal("10") for s in SYMS}, policy=policy,
    )
    rng = np.random.default_rng(0)
    rets = pd.DataFrame(rng.normal(size=(50, len(SYMS))) * 0.01, columns=list(SYMS))
    model = RiskModel(symbols=SYMS, mu=MU, cov=COV, factor=np.linalg.cholesky(COV).T, returns=rets,
                      asof=date(2022, 12, 28), lookback_days=50, cov_method=CovEstimator.HIST,
                      mean_method=MeanEstimator.HIST)
    return universe, model


def test_min_variance_matches_closed_form():
    inv1 = np.linalg.solve(COV, np.ones(len(SYMS)))
    expected = inv1 / inv1.sum()
    assert (expected > 0).all(), "choose a covariance whose minimum-variance portfolio is long-only"
    universe, model = relaxed_setup()
    tw = solve_target(risk_model=model, universe=universe, objective=Objective.MIN_RISK)
    np.testing.assert_allclose(tw.weights.to_numpy(), expected, atol=1e-4)
    assert tw.cash_weight == pytest.approx(0.0, abs=1e-9)


def test_tangency_matches_closed_form():
    rf_daily = RF_ANNUAL / 252
    raw = np.linalg.solve(COV, MU - rf_daily)
    assert (raw > 0).all(), "choose mu so that the tangency portfolio is long-only"
    expected = raw / raw.sum()
    universe, model = relaxed_setup()
    tw = solve_target(risk_model=model, universe=universe, objective=Objective.SHARPE, risk_free_rate=RF_ANNUAL)
    np.testing.assert_allclose(tw.weights.to_numpy(), expected, atol=1e-4)


def test_caps_bind_and_hold_after_riskfolio_renormalisation():
    universe, model = relaxed_setup()
    capped = build_universe(
        benchmark={s: 0.25 for s in SYMS}, holdings={}, cash=Decimal("1000"),
        securities={s: Security(symbol=s, name=s, sector="One" if i < 2 else "Two") for i, s in enumerate(SYMS)},
        quality={s: 9.0 for s in SYMS}, asof_prices={s: Decimal("10") for s in SYMS},
        policy=Policy(id="p", name="p", min_quality_score=0, max_single_position_pct=0.3, max_sector_pct=0.55,
                      max_tracking_error_pct=1.0, max_turnover_pct=2.0),
    )
    tw = solve_target(risk_model=model, universe=capped, risk_free_rate=RF_ANNUAL)
    w = tw.weights
    assert (w <= 0.3 + 1e-12).all() and (w >= 0).all()
    assert w["AAA"] + w["BBB"] <= 0.55 + 1e-12 and w["CCC"] + w["DDD"] <= 0.55 + 1e-12
    assert w.sum() == pytest.approx(1.0, abs=1e-6)


def test_capacity_below_one_keeps_cash_in_target():
    universe, model = relaxed_setup()
    tight = build_universe(
        benchmark={s: 0.25 for s in SYMS}, holdings={}, cash=Decimal("1000"),
        securities={s: Security(symbol=s, name=s, sector=f"S{i}") for i, s in enumerate(SYMS)},
        quality={s: 9.0 for s in SYMS}, asof_prices={s: Decimal("10") for s in SYMS},
        policy=Policy(id="p", name="p", min_quality_score=0, max_single_position_pct=0.2, max_sector_pct=1.0,
                      max_tracking_error_pct=1.0, max_turnover_pct=2.0),
    )
    assert tight.capacity == pytest.approx(0.8)
    tw = solve_target(risk_model=model, universe=tight, risk_free_rate=RF_ANNUAL)
    assert tw.cash_weight == pytest.approx(0.2, abs=1e-6)
    assert any("cash" in w for w in tw.warnings)


def test_every_option_member_maps_to_riskfolio_and_unknowns_fail_loudly():
    enums = (Model, Objective, RiskMeasure, CovEstimator, MeanEstimator)
    for enum in enums:
        for member in enum:
            if (enum, member) in NO_RISKFOLIO_CODE:  # our own options: asking for a code fails loudly
                with pytest.raises(InputError, match="no Riskfolio mapping"):
                    riskfolio_code(member)
            else:
                assert isinstance(riskfolio_code(member), str)
    own = sum(1 for t, _ in NO_RISKFOLIO_CODE if t in enums)
    assert len([k for k in RISKFOLIO_CODES if k[0] in enums]) == sum(len(e) for e in enums) - own
    with pytest.raises(InputError, match="no Riskfolio mapping"):
        riskfolio_code("Sharpe")  # a bare string is not an option member


def test_unsupported_model_is_an_input_error():
    universe, model = relaxed_setup()
    with pytest.raises(InputError, match="not supported"):
        solve_target(risk_model=model, universe=universe, model=Model.FM)  # needs factor series
