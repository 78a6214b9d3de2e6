"""A seeded synthetic universe + historical risk model for the analytics unit tests (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from app.analytics.estimators import RiskModel
from app.analytics.universe import build_universe
from app.domain.enums import CovEstimator, MeanEstimator, SecurityStatus
from app.domain.models import Policy, Security

SECTORS = ("Energy", "Financials", "Health Care", "Information Technology")


def synthetic_universe(n: int = 24, seed: int = 3, *, te: float = 0.03, halted: int = 1, low_quality: int = 4,
                       max_single: float = 0.12, max_sector: float = 0.35):
    """``(universe, risk_model, policy)``: one market factor + noise over 300 days, names S00.., 4 sectors in
    turn, the first ``low_quality`` below the 6.0 minimum, the next ``halted`` halted, half the names held."""
    rng = np.random.default_rng(seed)
    syms = tuple(f"S{i:03d}" for i in range(n))
    t = 300
    market = rng.normal(0.0004, 0.01, size=t)
    rets = np.outer(market, rng.normal(1, 0.2, size=n)) + rng.normal(size=(t, n)) * rng.uniform(0.008, 0.02, n)
    returns = pd.DataFrame(rets, columns=list(syms))
    cov = np.cov(rets, rowvar=False)
    mu = rets.mean(axis=0)
    model = RiskModel(symbols=syms, mu=mu, cov=cov, factor=np.linalg.cholesky(cov).T, returns=returns,
                      asof=date(2024, 12, 31), lookback_days=t, cov_method=CovEstimator.HIST,
                      mean_method=MeanEstimator.HIST)
    quality = {s: (4.0 if i < low_quality else 8.0) for i, s in enumerate(syms)}
    secs = {
        s: Security(symbol=s, name=s, sector=SECTORS[i % len(SECTORS)],
                    status=(SecurityStatus.HALTED if low_quality <= i < low_quality + halted
                            else SecurityStatus.ACTIVE))
        for i, s in enumerate(syms)
    }
    held = {s: Decimal(int(rng.integers(50, 400))) for s in syms[: n // 2]}
    prices = {s: Decimal(str(round(float(rng.uniform(20, 200)), 2))) for s in syms}
    bench = rng.uniform(0.5, 1.5, size=n)
    bench = bench / bench.sum()
    policy = Policy(id="p", name="p", min_quality_score=6.0, max_single_position_pct=max_single,
                    max_sector_pct=max_sector, max_tracking_error_pct=te, max_turnover_pct=0.3)
    universe = build_universe(benchmark=dict(zip(syms, bench)), holdings=held, cash=Decimal("5000"),
                              securities=secs, quality=quality, asof_prices=prices, policy=policy)
    return universe, model, policy
