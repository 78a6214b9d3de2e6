"""Golden scenarios: one test per file in tests/golden/optimizer/.

Each scenario is run through the real path (in-memory database + OptimizerAgent), compared with its
``expected`` block, and every reported number is recomputed independently by ``oracle.recompute``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from app.scenarios.runner import run_scenario
from tests.golden import harness
from tests.golden.oracle import recompute

GOLDEN_DIR = Path(__file__).parent / "optimizer"
SCENARIOS = sorted(GOLDEN_DIR.glob("*.json"))


def _constraint(body: dict, name: str) -> dict:
    return next(c for c in body["constraints"] if c["name"] == name)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
async def test_golden_scenario(path: Path, golden_update: str) -> None:
    scenario = json.loads(path.read_text())
    proposal = await run_scenario(path)
    body = proposal.body()

    # independent recomputation of every headline number from the final trades
    r = recompute(scenario, body, path)
    s = body["summary"]
    assert Decimal(s["portfolio_value"]) == r.value_before
    assert Decimal(s["cash_after"]) == r.cash_after
    assert Decimal(s["cash_after"]) >= 0
    assert Decimal(s["estimated_total_cost"]) == r.total_cost
    assert abs(float(s["turnover_pct"]) - r.turnover_pct) <= 0.005 + 1e-9
    assert abs(float(s["te_before_pct"]) - r.te_before_pct) <= 0.006
    assert abs(float(s["te_after_pct"]) - r.te_after_pct) <= 0.006
    single = _constraint(body, "max_single_position")
    assert abs(float(single["after"]) - max(r.weights_after.values()) * 100) <= 0.006
    sector = _constraint(body, "max_sector")
    assert abs(float(sector["after"]) - max(r.sector_after.values()) * 100) <= 0.006
    assert proposal.proposal_id == body["proposal_id"]

    harness.check(path, body, golden_update)


def _trade(body: dict, symbol: str) -> dict | None:
    return next((t for t in body["trades"] if t["symbol"] == symbol), None)


async def test_quality_policy_rebalance_story() -> None:
    """P1 under quality_focused: XOM sold to zero, AAPL and JNJ cut to the cap, proceeds into eligible names."""
    path = GOLDEN_DIR / "quality_policy_rebalance.json"
    scenario = json.loads(path.read_text())
    body = (await run_scenario(path)).body()
    xom = _trade(body, "XOM")
    assert xom and xom["action"] == "SELL" and Decimal(xom["delta_shares"]) == -200
    assert Decimal(xom["target_shares"]) == 0
    r = recompute(scenario, body, path)
    prices = {t["symbol"]: Decimal(t["price"]) for t in body["trades"]}
    for sym in ("AAPL", "JNJ"):
        one_lot = float(prices[sym] / Decimal(body["summary"]["portfolio_value"])) * 1.01
        assert r.weights_after[sym] <= 0.10 + one_lot, (sym, r.weights_after[sym])
    quality = {x["symbol"]: x["quality_score"] for x in scenario["securities"]}
    bought = [t["symbol"] for t in body["trades"] if t["action"] == "BUY"]
    assert bought and all(quality[b] >= 6.0 for b in bought)
    assert not _constraint(body, "max_turnover")["satisfied"]  # forced exits outrank the 20 % turnover limit
    assert _constraint(body, "forced_exits")["satisfied"]


async def test_te_constraint_rebalance_story() -> None:
    path = GOLDEN_DIR / "te_constraint_rebalance.json"
    body = (await run_scenario(path)).body()
    assert 3.3 <= float(body["summary"]["te_before_pct"]) <= 3.7
    assert float(body["summary"]["te_after_pct"]) <= 2.0
    assert float(body["summary"]["turnover_pct"]) <= 30.0
    assert _constraint(body, "max_tracking_error")["satisfied"]


async def test_turnover_limit_rebalance_story() -> None:
    path = GOLDEN_DIR / "turnover_limit_rebalance.json"
    body = (await run_scenario(path)).body()
    assert float(body["summary"]["turnover_pct"]) <= 20.0
    assert _constraint(body, "max_turnover")["satisfied"]
    te = _constraint(body, "max_tracking_error")
    assert not te["satisfied"] and float(body["summary"]["te_after_pct"]) > 2.0
    assert "turnover" in te["detail"]  # says what it would take
    assert float(body["summary"]["te_after_pct"]) < float(body["summary"]["te_before_pct"])
