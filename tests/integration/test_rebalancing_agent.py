"""RebalancingAgent through the orchestrator on real SQLite and PostgreSQL: approvals, expiry, outbox, history."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from structlog.testing import capture_logs

from app.bootstrap import build_orchestrator
from app.core.context import RequestCtx
from app.core.errors import PermissionDeniedError, ProposalStateError
from app.db.repositories import ProposalRepository
from app.db.repositories.outbox import OutboxRepository
from app.domain.rebalancing import ProposalStatus, TriggerKind
from tests.integration.rebalancing_setup import APPROVER, OWNER, PACK, STRANGER, configure_p1, deposit, seal_newer_pack


@pytest.fixture
async def orchestrator(seeded_session_factory):  # noqa: ANN001, ANN201
    await configure_p1(seeded_session_factory)
    return build_orchestrator(seeded_session_factory)


def ctx(user: str | None = None) -> RequestCtx:
    return RequestCtx(pricing_pack_id=PACK, user_id=user)


async def test_check_says_why(orchestrator) -> None:  # noqa: ANN001
    check = (await orchestrator.call("rebalance.check", ctx(), portfolio_id="P1")).data
    assert check.due
    assert ("MSFT", TriggerKind.DRIFT_ABSOLUTE) in {(r.symbol, r.kind) for r in check.reasons}


async def test_over_threshold_pending_then_unauthorised_refused_then_approved(  # noqa: ANN001
    orchestrator, seeded_session_factory
) -> None:
    result = (await orchestrator.call("rebalance.propose", ctx(), portfolio_id="P1")).data
    plan = result.plan
    assert plan.total_trade_value > D("10000") and result.status is ProposalStatus.PENDING_APPROVAL
    assert plan.cash_after >= 0 and sum(plan.after_pct.values()) == D("100.00")
    # notifications for owner and approver were written with the proposal
    async with seeded_session_factory() as s:
        queued = await OutboxRepository(s).all()
    assert sorted(n.recipient for n in queued) == [OWNER, APPROVER]
    assert all(n.proposal_id == result.proposal_id and n.status == "pending" for n in queued)

    with capture_logs() as logs, pytest.raises(PermissionDeniedError) as refused:
        await orchestrator.call("proposals.approve", ctx(STRANGER), proposal_id=result.proposal_id)
    assert refused.value.exit_code == 3 and STRANGER in str(refused.value)
    assert any(e["event"] == "proposals.decision.refused" and e["user"] == STRANGER for e in logs)
    async with seeded_session_factory() as s:
        runs = ProposalRepository(s)
        assert [r["user"] for r in await runs.refusals(result.proposal_id)] == [STRANGER]
        assert (await runs.get(result.proposal_id)).status is ProposalStatus.PENDING_APPROVAL

    approved = (await orchestrator.call("proposals.approve", ctx(APPROVER), proposal_id=result.proposal_id[:10])).data
    assert approved.status is ProposalStatus.APPROVED
    last = approved.transitions[-1]
    assert (last.from_status, last.to_status, last.actor) == (
        ProposalStatus.PENDING_APPROVAL, ProposalStatus.APPROVED, APPROVER)
    assert last.at is not None and last.at.tzinfo is not None
    assert [t.to_status for t in approved.transitions] == [ProposalStatus.PROPOSED, ProposalStatus.PENDING_APPROVAL,
                                                         ProposalStatus.APPROVED]
    with pytest.raises(ProposalStateError):
        await orchestrator.call("proposals.reject", ctx(OWNER), proposal_id=result.proposal_id)


async def test_under_threshold_is_proposed_and_reject_records_reason(seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory, approval_threshold=D("1000000"))
    orch = build_orchestrator(seeded_session_factory)
    result = (await orch.call("rebalance.propose", ctx(), portfolio_id="P1")).data
    assert result.status is ProposalStatus.PROPOSED
    rejected = (await orch.call("proposals.reject", ctx(OWNER), proposal_id=result.proposal_id, reason="not now")).data
    assert rejected.status is ProposalStatus.REJECTED and rejected.transitions[-1].reason == "not now"


async def test_proposal_expires_when_a_newer_pack_is_sealed(orchestrator, seeded_session_factory) -> None:  # noqa: ANN001
    result = (await orchestrator.call("rebalance.propose", ctx(), portfolio_id="P1")).data
    assert (await orchestrator.call("proposals.expire", ctx())).data.expired == ()
    await seal_newer_pack(seeded_session_factory)
    expired = (await orchestrator.call("proposals.expire", ctx())).data.expired
    assert [(e.proposal_id, e.to_status, e.actor) for e in expired] == [
        (result.proposal_id, ProposalStatus.EXPIRED, "system")]
    assert "PP_2022-12-29" in expired[0].reason
    with pytest.raises(ProposalStateError):
        await orchestrator.call("proposals.approve", ctx(OWNER), proposal_id=result.proposal_id)


async def test_history_after_three_rebalances(orchestrator, seeded_session_factory) -> None:  # noqa: ANN001
    first = (await orchestrator.call("rebalance.propose", ctx(), portfolio_id="P1")).data
    await orchestrator.call("proposals.approve", ctx(OWNER), proposal_id=first.proposal_id)
    await orchestrator.call("proposals.execute", ctx(OWNER), proposal_id=first.proposal_id, as_proposed=True)
    await deposit(seeded_session_factory, D("5000"))
    second = (await orchestrator.call("rebalance.propose", ctx(), portfolio_id="P1")).data
    await deposit(seeded_session_factory, D("7000"))
    third = (await orchestrator.call("rebalance.propose", ctx(), portfolio_id="P1")).data
    assert len({first.proposal_id, second.proposal_id, third.proposal_id}) == 3
    assert TriggerKind.CASH_FLOW in {r.kind for r in second.plan.triggers}

    history = (await orchestrator.call("proposals.history", ctx(), portfolio_id="P1")).data
    assert [e.proposal_id for e in history.entries] == [first.proposal_id, second.proposal_id, third.proposal_id]
    for entry in history.entries:
        assert sum(D(v) for v in entry.before_pct.values()) == D("100.00")
        assert sum(D(v) for v in entry.after_pct.values()) == D("100.00")
        assert entry.n_trades > 0 and entry.total_cost > 0 and entry.triggers
    assert [e.outcome for e in history.entries] == ["executed", "superseded", third.status.value]
    assert [(a.to_status, a.actor) for a in history.entries[0].approvals][-2:] == [
        (ProposalStatus.APPROVED, OWNER), (ProposalStatus.EXECUTED, OWNER)]
    superseded = f"superseded by the newer proposal {third.proposal_id[:12]}"
    assert history.entries[1].approvals[-1].reason.startswith(superseded)
    assert history.entries[1].before_pct["CASH"] > D("0")


async def test_scheduled_rebalance_pattern(orchestrator) -> None:  # noqa: ANN001
    run = await orchestrator.run_pattern("scheduled_rebalance", ctx())
    results = run.steps["run"].data.results
    assert [r.check.portfolio_id for r in results] == ["P1"]
    assert results[0].proposal_id is not None
    again = await orchestrator.run_pattern("scheduled_rebalance", ctx())
    assert again.steps["run"].data.results[0].proposal_id == results[0].proposal_id  # same inputs, same proposal


@pytest.mark.slow  # the optimizer's Riskfolio target: ~15 s
@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_optimizer_target_is_stored_with_its_pack(seeded_session_factory) -> None:  # noqa: ANN001
    from app.db.repositories.model_portfolios import ModelPortfolioRepository
    from app.db.repositories.rebalance_config import RebalanceConfigRepository
    from app.domain.rebalancing import RebalanceSettings, TargetSource

    async with seeded_session_factory() as s, s.begin():
        await RebalanceConfigRepository(s).put_settings(RebalanceSettings(
            portfolio_id="P2", target_source=TargetSource.OPTIMIZER, policy_id="quality_focused"))
    orch = build_orchestrator(seeded_session_factory)
    result = (await orch.call("rebalance.propose", ctx(), portfolio_id="P2", force=True)).data
    assert result.plan.target_source is TargetSource.OPTIMIZER
    async with seeded_session_factory() as s:
        model = await ModelPortfolioRepository(s).get(result.plan.target_id)
    assert model.source is TargetSource.OPTIMIZER and model.pricing_pack_id == PACK
    assert D("0.98") <= sum(model.weights.values()) <= D("1.0000001")
    assert result.plan.cash_after >= 0
