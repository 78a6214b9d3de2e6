"""Costs and metrics against hand-computed values."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from app.analytics.metrics import (
    average_quality,
    expected_return,
    sharpe_ratio,
    tracking_error,
    turnover,
    volatility,
)
from app.core.decimals import pct, trade_cost


def test_product_cost_example_sell_100_aapl():
    value = Decimal("100") * Decimal("232.50")
    commission, impact, total = trade_cost(value, commission_per_trade=Decimal("5.00"), market_impact_bps=Decimal(15))
    assert value == Decimal("23250.00")
    assert (commission, impact, total) == (Decimal("5.00"), Decimal("34.88"), Decimal("39.88"))
    assert pct(total / value) == Decimal("0.17")


# three assets, daily covariance: vols 1 %, 2 %, 1.5 % per day, correlations 0.2 / 0.1 / 0.3
VOL = np.array([0.01, 0.02, 0.015])
CORR = np.array([[1.0, 0.2, 0.1], [0.2, 1.0, 0.3], [0.1, 0.3, 1.0]])
COV = CORR * np.outer(VOL, VOL)
MU = np.array([0.0004, 0.0008, 0.0006])  # daily


def test_tracking_error_by_hand():
    w = np.array([0.5, 0.3, 0.2])
    b = np.array([0.4, 0.4, 0.2])
    # active a = (0.1, -0.1, 0): aᵀΣa = 0.01·1e-4 + 0.01·4e-4 − 2·0.01·(0.2·0.01·0.02) = 1e-6 + 4e-6 − 0.8e-6
    var = 1e-6 + 4e-6 - 2 * 0.01 * 0.2 * 0.01 * 0.02
    assert tracking_error(weights=w, benchmark=b, cov=COV, annualization=252) == pytest.approx(math.sqrt(var * 252))
    assert tracking_error(weights=b, benchmark=b, cov=COV) == 0.0


def test_volatility_expected_return_sharpe_by_hand():
    w = np.array([0.5, 0.3, 0.2])
    var = sum(w[i] * w[j] * COV[i, j] for i in range(3) for j in range(3))
    vol = math.sqrt(var * 252)
    assert volatility(weights=w, cov=COV, annualization=252) == pytest.approx(vol, rel=1e-12)
    ret = (0.5 * 0.0004 + 0.3 * 0.0008 + 0.2 * 0.0006) * 252
    assert expected_return(weights=w, mu=MU, annualization=252) == pytest.approx(ret, rel=1e-12)
    assert sharpe_ratio(expected_return=ret, volatility=vol, risk_free_rate=0.02) == pytest.approx((ret - 0.02) / vol)
    assert sharpe_ratio(expected_return=0.1, volatility=0.0, risk_free_rate=0.02) == 0.0


def test_cash_has_no_risk_and_no_return():
    w = np.array([0.25, 0.15, 0.10])  # 50 % cash
    assert volatility(weights=w, cov=COV) == pytest.approx(0.5 * volatility(weights=2 * w, cov=COV))
    assert expected_return(weights=w, mu=MU) == pytest.approx(0.5 * expected_return(weights=2 * w, mu=MU))


def test_turnover_counts_buys_and_sells():
    assert turnover(trade_values=[Decimal("300"), Decimal("-200"), Decimal("500")], portfolio_value=Decimal("10000")) \
        == Decimal("0.1")


def test_average_quality_value_weighted_ignores_unrated_and_cash():
    values = {"A": Decimal(300), "B": Decimal(100), "C": Decimal(50), "D": Decimal(0)}
    q = {"A": 9.0, "B": 5.0, "C": None, "D": 1.0}
    assert average_quality(values=values, quality=q) == pytest.approx((300 * 9 + 100 * 5) / 400)
    assert average_quality(values={}, quality={}) == 0.0
