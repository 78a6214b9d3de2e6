"""Builders of RebalanceInputs from the real seed pack (data/SEEDS/optimizer) for unit tests.

Reads files on purpose: the tests feed the pure engine, the engine never reads files.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from app.analytics.inputs import RebalanceInputs, RebalanceOptions
from app.domain.models import ConstraintDefaults, Policy, PricingPack, Security

SEEDS = Path(__file__).resolve().parents[2] / "data" / "SEEDS" / "optimizer"


def _json(name: str) -> Any:
    return json.loads((SEEDS / name).read_text())


@lru_cache(maxsize=1)
def history() -> pd.DataFrame:
    df = pd.read_csv(SEEDS / "prices" / "PP_2022-12-28.csv", index_col="Date", parse_dates=True)
    return df.astype(float)


@lru_cache(maxsize=1)
def securities() -> dict[str, Security]:
    return {s["symbol"]: Security(**s) for s in _json("securities.json")["securities"]}


@lru_cache(maxsize=1)
def quality() -> dict[str, float]:
    return {r["symbol"]: float(r["score"]) for r in _json("quality_ratings.json")["ratings"]}


@lru_cache(maxsize=1)
def benchmark() -> dict[str, float]:
    return {k: float(v) for k, v in _json("benchmarks.json")["benchmarks"][0]["weights"].items()}


def policy(policy_id: str, **overrides: Any) -> Policy:
    for p in _json("policy_templates.json")["policies"]:
        if p["id"] == policy_id:
            return Policy(**{**p, **overrides})
    raise KeyError(policy_id)


def defaults(**overrides: Any) -> ConstraintDefaults:
    return ConstraintDefaults(**{**_json("constraint_defaults.json"), **overrides})


def portfolio(portfolio_id: str) -> tuple[dict[str, Decimal], Decimal]:
    for p in _json("portfolios.json")["portfolios"]:
        if p["id"] == portfolio_id:
            return {h["symbol"]: Decimal(h["shares"]) for h in p["holdings"]}, Decimal(p["cash"])
    raise KeyError(portfolio_id)


def asof_prices() -> dict[str, Decimal]:
    last = history().iloc[-1]
    return {s: Decimal(repr(float(v))) for s, v in last.items()}


PACK = PricingPack(id="PP_2022-12-28", asof_date=date(2022, 12, 28), sealed=True, content_hash="seedpack-test")


def make_inputs(
    *,
    portfolio_id: str = "P1",
    policy_id: str = "quality_focused",
    holdings: dict[str, Decimal] | None = None,
    cash: Decimal | None = None,
    policy_overrides: dict[str, Any] | None = None,
    options: RebalanceOptions | None = None,
    strict: bool = False,
    securities_override: dict[str, Security] | None = None,
) -> RebalanceInputs:
    h, c = portfolio(portfolio_id) if portfolio_id else ({}, Decimal(0))
    return RebalanceInputs(
        portfolio_id=portfolio_id or "TEST",
        pack=PACK,
        history=history(),
        asof_prices=asof_prices(),
        securities=securities_override or securities(),
        quality=quality(),
        benchmark=benchmark(),
        holdings=holdings if holdings is not None else h,
        cash=cash if cash is not None else c,
        policy=policy(policy_id, **(policy_overrides or {})),
        defaults=defaults(),
        options=options or RebalanceOptions(),
        strict=strict,
    )


def holdings_for(weights: dict[str, float], value: float) -> dict[str, Decimal]:
    """Whole shares worth about ``weights × value`` at the pack's as-of prices."""
    prices = asof_prices()
    return {s: Decimal(int(w * value / float(prices[s]))) for s, w in weights.items() if w > 0}
