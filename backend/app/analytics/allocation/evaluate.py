"""Evaluation of a set of target weights over the pack's history: the metrics seed 003 asks of an optimization
that an allocation model does not report itself.

* **max drawdown**: the largest fall from a running peak of the target's buy-and-rebalance-daily value over the
  lookback window, a positive fraction (0.185 = the value fell 18.5 % from its peak at worst);
* **information ratio**: annualised mean active return over annualised tracking error (ex post, daily returns of
  target minus benchmark over the same window); None without a benchmark or with zero tracking error;
* **tracking error**: the ex-post annualised σ of those active returns (fraction);
* **weight turnover**: Σ |target − current| over every name and cash (fraction; at most 2).

Weights are fractions of 1; what they leave is cash, which earns nothing here (no rate is assumed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from app.analytics.returns import daily_returns


@dataclass(frozen=True)
class WeightsEvaluation:
    """Fractions; ``information_ratio`` and ``tracking_error`` None without a benchmark."""

    max_drawdown: float
    information_ratio: float | None
    tracking_error: float | None
    annual_return: float
    annual_volatility: float
    n_days: int


def max_drawdown(*, daily: pd.Series) -> float:
    """Largest peak-to-trough fall of the compounded value of ``daily`` simple returns (positive fraction)."""
    value = np.cumprod(1.0 + daily.to_numpy(dtype=float))
    peak = np.maximum.accumulate(np.concatenate(([1.0], value)))[1:]
    falls = 1.0 - value / peak
    return float(max(falls.max(initial=0.0), 0.0))


def portfolio_daily(*, returns: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    """Daily simple returns of constant ``weights`` (rebalanced daily; the rest in cash at 0)."""
    names = [s for s in weights if s in returns.columns]
    w = np.array([float(weights[s]) for s in names])
    return pd.Series(returns[names].to_numpy(dtype=float) @ w, index=returns.index)


def evaluate_weights(
    *,
    history: pd.DataFrame,
    weights: Mapping[str, float],
    benchmark: Mapping[str, float] | None,
    asof: date,
    lookback_days: int,
    annualization: int = 252,
    pack_id: str | None = None,
) -> WeightsEvaluation:
    """Ex-post metrics of ``weights`` (and against ``benchmark``) over ``lookback_days`` daily returns of
    ``history`` (closes, one column per symbol) up to ``asof``. Raises InputError when the window is short."""
    symbols = sorted(set(weights) | set(benchmark or {}))
    returns = daily_returns(history=history, symbols=symbols, asof=asof, lookback_days=lookback_days,
                            pack_id=pack_id).astype(float)
    port = portfolio_daily(returns=returns, weights=weights)
    info = te = None
    if benchmark:
        active = port - portfolio_daily(returns=returns, weights=benchmark)
        sd = float(active.std(ddof=1))
        if sd > 0 and math.isfinite(sd):
            te = sd * math.sqrt(annualization)
            info = float(active.mean()) * annualization / te
    return WeightsEvaluation(
        max_drawdown=max_drawdown(daily=port), information_ratio=info, tracking_error=te,
        annual_return=float(port.mean()) * annualization,
        annual_volatility=float(port.std(ddof=1)) * math.sqrt(annualization), n_days=len(port))


def weight_turnover(*, current: Mapping[str, float], target: Mapping[str, float]) -> float:
    """Σ |target − current| over every name and cash (fractions; cash = 1 − Σ weights)."""
    names = set(current) | set(target)
    moves = sum(abs(float(target.get(s, 0.0)) - float(current.get(s, 0.0))) for s in names)
    cash_move = abs((1.0 - sum(map(float, target.values()))) - (1.0 - sum(map(float, current.values()))))
    return moves + cash_move
