"""Acceptance 1 of issue 10: `rebalancing propose` and `rebalance` are the same engine, holding the same limits.

P2 with an optimizer target under quality_focused (max turnover 20 %): before, `rebalancing propose P2`
traded ≈ 80 % of the portfolio through a second engine and never mentioned the limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.bootstrap import build_orchestrator
from app.core.context import RequestCtx
from app.db.repositories.rebalance_config import RebalanceConfigRepository
from app.domain.rebalancing import RebalanceSettings, TargetSource
from tests.integration.rebalancing_setup import PACK

DAWSOS = str(Path(sys.executable).parent / "dawsos")


async def configure_p2(session_factory) -> None:  # noqa: ANN001
    async with session_factory() as s, s.begin():
        await RebalanceConfigRepository(s).put_settings(RebalanceSettings(
            portfolio_id="P2", target_source=TargetSource.OPTIMIZER, policy_id="quality_focused"))


def limits(constraints) -> dict:  # noqa: ANN001
    """name -> (limit, unit) of every policy/structural line (the account's own line left out)."""
    return {c["name"]: (c["limit"], c["unit"]) for c in constraints if c["name"] != "no_buys_blocked_for_account"}


def holds_turnover(proposal: dict) -> None:
    line = next(c for c in proposal["constraints"] if c["name"] == "max_turnover")
    assert D(line["limit"]) == D("20.00")
    assert (line["satisfied"] and D(proposal["summary"]["turnover_pct"]) <= D("20.00")) or line["detail"]


@pytest.mark.slow  # two Riskfolio targets on the real pack
async def test_rebalancing_propose_and_rebalance_hold_the_same_limits(seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p2(seeded_session_factory)
    orch = build_orchestrator(seeded_session_factory)
    ctx = RequestCtx(pricing_pack_id=PACK)
    via_rebalancing = (await orch.call("rebalance.propose", ctx, portfolio_id="P2", force=True)).data
    via_optimizer = (await orch.call("optimizer.propose_trades", ctx, portfolio_id="P2", policy_id="quality_focused",
                                     persist=False)).data
    a, b = via_rebalancing.proposal.model_dump(mode="json"), via_optimizer.model_dump(mode="json")
    assert a["metadata"]["engine_version"] == b["metadata"]["engine_version"]
    assert limits(a["constraints"]) == limits(b["constraints"])
    holds_turnover(a)
    holds_turnover(b)
    # the record the rebalancing command stores is that proposal's trades
    plan = via_rebalancing.plan
    assert plan.plan_id == a["proposal_id"] and plan.total_trade_value == sum(
        (D(t["trade_value"]) for t in a["trades"]), D(0))
    turnover = (plan.total_trade_value / plan.portfolio_value * 100).quantize(D("0.01"))
    assert abs(turnover - D(a["summary"]["turnover_pct"])) <= D("0.01")
    assert plan.total_trade_value < D("814619.85")  # what the second engine traded (≈ 80 %)


@pytest.mark.slow
@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_both_commands_report_the_turnover_limit(seeded_database_url, seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p2(seeded_session_factory)
    env = {**os.environ, "DATABASE_URL": seeded_database_url, "DAWSOS_LOG_LEVEL": "ERROR"}

    def run(*args: str) -> dict:
        done = subprocess.run([DAWSOS, *args, "--json"], capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    propose = run("rebalancing", "propose", "P2", "--force")["proposal"]
    rebalance = run("rebalance", "--portfolio", "P2", "--policy", "quality_focused")
    assert propose["metadata"]["engine_version"] == rebalance["metadata"]["engine_version"]
    assert limits(propose["constraints"]) == limits(rebalance["constraints"])
    holds_turnover(propose)
    holds_turnover(rebalance)
