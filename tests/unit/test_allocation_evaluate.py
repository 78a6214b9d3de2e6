"""Ex-post evaluation of target weights (analytics.allocation.evaluate): closed forms on hand-made price paths."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from app.analytics.allocation import evaluate_weights, weight_turnover
from app.analytics.allocation.evaluate import max_drawdown


def test_max_drawdown_of_a_known_path() -> None:
    # value 1 -> 1.1 -> 0.88 -> 0.968 -> 1.2: the worst fall is 1.1 -> 0.88, i.e. 20 %
    daily = pd.Series([0.10, -0.20, 0.10, 0.2397])
    assert max_drawdown(daily=daily) == pytest.approx(0.20)
    assert max_drawdown(daily=pd.Series([0.01, 0.02, 0.0])) == 0.0


def _history(columns: dict[str, list[float]]) -> pd.DataFrame:
    index = pd.bdate_range("2024-01-01", periods=len(next(iter(columns.values()))))
    return pd.DataFrame(columns, index=index)


def test_information_ratio_and_tracking_error_against_the_benchmark() -> None:
    rng = np.random.default_rng(7)
    n = 300
    a = 100 * np.cumprod(1 + rng.normal(0.001, 0.01, n))
    b = 100 * np.cumprod(1 + rng.normal(0.0, 0.01, n))
    history = _history({"A": list(a), "B": list(b)})
    asof = history.index[-1].date()
    out = evaluate_weights(history=history, weights={"A": 1.0}, benchmark={"B": 1.0}, asof=asof, lookback_days=250)
    ra = history["A"].pct_change().iloc[-250:]
    rb = history["B"].pct_change().iloc[-250:]
    active = ra - rb
    te = active.std(ddof=1) * math.sqrt(252)
    assert out.tracking_error == pytest.approx(te)
    assert out.information_ratio == pytest.approx(active.mean() * 252 / te)
    assert out.n_days == 250
    alone = evaluate_weights(history=history, weights={"A": 0.5}, benchmark=None, asof=asof, lookback_days=250)
    assert alone.information_ratio is None and alone.tracking_error is None
    assert alone.annual_return == pytest.approx(0.5 * ra.mean() * 252)  # the other half is cash at 0


def test_weight_turnover_counts_cash() -> None:
    assert weight_turnover(current={"A": 0.5}, target={"A": 0.5, "B": 0.5}) == pytest.approx(1.0)
    assert weight_turnover(current={"A": 1.0}, target={"B": 1.0}) == pytest.approx(2.0)
    assert weight_turnover(current={}, target={}) == 0.0


def test_short_history_is_refused() -> None:
    from app.core.errors import InputError

    history = _history({"A": [1.0, 1.1, 1.2]})
    with pytest.raises(InputError):
        evaluate_weights(history=history, weights={"A": 1.0}, benchmark=None, asof=date(2024, 1, 3), lookback_days=10)
