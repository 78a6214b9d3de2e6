"""The orchestrator end to end on real databases (SQLite and PostgreSQL, seeded from data/SEEDS).

Refusals (unknown capability, bad arguments, pack guard, deadline) come back as typed errors and leave
every table as it was; persistence is idempotent; patterns take the same path as direct calls.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from pydantic import Field

from app.agents.base import Agent, CapabilityArgs, capability
from app.agents.packs import PricingPackAgent
from app.analytics.inputs import RebalanceOptions
from app.bootstrap import build_orchestrator
from app.core.context import RequestCtx
from app.core.errors import (
    ArgumentError,
    CapabilityFailedError,
    DeadlineExceededError,
    PricingPackError,
    UnknownCapabilityError,
    UnknownPortfolioError,
    UnknownPricingPackError,
)
from app.db.models import SecurityRow
from app.db.repositories import PricingPackRepository, ProposalRepository
from app.domain import ImpactAnalysis, RebalanceProposal
from app.orchestrator import Orchestrator
from tests.conftest import capture_info_logs, row_counts

PACK = "PP_2022-12-28"
FAST = RebalanceOptions(lookback_days=60)  # a short window keeps the real solve cheap


class SlowArgs(CapabilityArgs):
    seconds: float = Field(gt=0)


class SlowWriterAgent(Agent):
    """Test-only agent: writes a row in its unit of work, then takes its time."""

    name = "slow"

    @capability("slow.write_then_wait", args=SlowArgs)
    async def write_then_wait(self, ctx: RequestCtx, args: SlowArgs) -> None:
        async with self.session_factory() as session, session.begin():
            session.add(SecurityRow(symbol="ZZZZ", name="written by a call past its deadline", sector="Test"))
            await session.flush()
            await asyncio.sleep(args.seconds)

    @capability("slow.explode", args=CapabilityArgs)
    async def explode(self, ctx: RequestCtx, args: CapabilityArgs) -> None:
        raise ZeroDivisionError("boom")


@pytest.fixture
def orchestrator(seeded_session_factory) -> Orchestrator:  # noqa: ANN001
    return build_orchestrator(seeded_session_factory)


@pytest.fixture
def ctx() -> RequestCtx:
    return RequestCtx(pricing_pack_id=PACK)


@pytest.fixture
def captured():  # noqa: ANN201
    """structlog entries with the contextvars merged in (INFO and up while the test runs)."""
    with capture_info_logs() as logs:
        yield logs


PROPOSE = dict(portfolio_id="P1", policy_id="quality_focused", options=FAST)


# ---- refusals leave the database unchanged ----------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "ctx_pack", "args", "error", "message"),
    [
        ("optimizer.nope", PACK, PROPOSE, UnknownCapabilityError,
         r"unknown capability 'optimizer\.nope' \(known: .*optimizer\.propose_trades"),
        ("optimizer.propose_trades", PACK, {"portfolio_id": "P1"}, ArgumentError,
         r"optimizer\.propose_trades: missing argument 'policy_id'"),
        ("optimizer.propose_trades", PACK, {**PROPOSE, "colour": "red"}, ArgumentError,
         r"unknown argument 'colour' \(accepted: portfolio_id, policy_id"),
        ("optimizer.propose_trades", PACK, {**PROPOSE, "policy_version": "latest"}, ArgumentError,
         r"argument 'policy_version': .*integer.*value='latest'"),
        ("optimizer.propose_trades", PACK, {**PROPOSE, "options": {"lookback_days": 1}}, ArgumentError,
         r"argument 'options\.lookback_days': .*greater than or equal to 20"),
        ("optimizer.propose_trades", None, PROPOSE, PricingPackError,
         r"'optimizer\.propose_trades' needs a pricing pack: the request context names none"),
        ("optimizer.propose_trades", "PP_NOPE", PROPOSE, UnknownPricingPackError, r"unknown pricing pack 'PP_NOPE'"),
        ("optimizer.propose_trades", PACK, {**PROPOSE, "portfolio_id": "P404"}, UnknownPortfolioError,
         r"unknown portfolio 'P404'"),
    ],
    ids=["unknown-capability", "missing-arg", "unknown-arg", "wrong-type", "nested-arg", "no-pack", "unknown-pack",
         "unknown-portfolio"],
)
async def test_refusals_are_typed_and_write_nothing(
    orchestrator, seeded_session_factory, captured, name, ctx_pack, args, error, message,  # noqa: ANN001
) -> None:
    before = await row_counts(seeded_session_factory)
    call_ctx = RequestCtx(pricing_pack_id=ctx_pack)
    with pytest.raises(error, match=message):
        await orchestrator.call(name, call_ctx, **args)
    assert await row_counts(seeded_session_factory) == before
    events = [e["event"] for e in captured if e.get("request_id") == call_ctx.request_id]
    assert events[0] == "orchestrator.call.started" and events[-1] == "orchestrator.call.refused"
    if error is not UnknownPortfolioError:  # refused before any work: no input was loaded
        assert "optimizer.inputs.loaded" not in events
    envelope = await orchestrator.try_call(name, call_ctx, **args)
    assert envelope.data is None and envelope.error is not None
    assert envelope.error.type == error.__name__ and envelope.error.exit_code == error.exit_code


async def test_unsealed_pack_is_refused_before_any_work(orchestrator, seeded_session_factory, captured) -> None:  # noqa: ANN001
    async with seeded_session_factory() as session, session.begin():
        await PricingPackRepository(session).create("PP_OPEN", asof_date=date(2022, 12, 28))
    before = await row_counts(seeded_session_factory)
    ctx = RequestCtx(pricing_pack_id="PP_OPEN")
    with pytest.raises(PricingPackError, match=r"pricing pack 'PP_OPEN' is not sealed"):
        await orchestrator.call("optimizer.propose_trades", ctx, **PROPOSE)
    assert await row_counts(seeded_session_factory) == before
    assert not [e for e in captured if e["event"] == "optimizer.inputs.loaded"]
    with pytest.raises(PricingPackError, match="unknown pricing pack"):  # the guard's refusals share a base
        await orchestrator.call("optimizer.propose_trades", RequestCtx(pricing_pack_id="PP_NOPE"), **PROPOSE)


async def test_context_asof_date_must_match_the_pack(orchestrator) -> None:  # noqa: ANN001
    with pytest.raises(PricingPackError, match=r"asof_date 2020-01-02 differs from pricing pack"):
        await orchestrator.call("optimizer.propose_trades", RequestCtx(pricing_pack_id=PACK,
                                                                       asof_date=date(2020, 1, 2)), **PROPOSE)


async def test_unexpected_exceptions_are_wrapped_with_the_capability_named(seeded_session_factory) -> None:  # noqa: ANN001
    packs = PricingPackAgent(seeded_session_factory)
    orch = Orchestrator([SlowWriterAgent(seeded_session_factory), packs], packs=packs)
    with pytest.raises(CapabilityFailedError, match=r"capability 'slow\.explode' failed: ZeroDivisionError: boom"):
        await orch.call("slow.explode", RequestCtx())


# ---- deadlines -------------------------------------------------------------------------------------
async def test_deadline_cancels_a_call_mid_transaction_and_rolls_it_back(seeded_session_factory) -> None:  # noqa: ANN001
    packs = PricingPackAgent(seeded_session_factory)
    orch = Orchestrator([SlowWriterAgent(seeded_session_factory), packs], packs=packs)
    before = await row_counts(seeded_session_factory)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DeadlineExceededError, match=r"'slow\.write_then_wait' was cancelled: it ran past its deadline"):
        await orch.call("slow.write_then_wait", RequestCtx().with_timeout(0.3), seconds=30)
    assert loop.time() - started < 5
    assert await row_counts(seeded_session_factory) == before  # the flushed row was rolled back


async def test_deadline_on_a_real_propose_leaves_the_database_as_it_was(
    orchestrator, seeded_session_factory,  # noqa: ANN001
) -> None:
    before = await row_counts(seeded_session_factory)
    with pytest.raises(DeadlineExceededError):
        await orchestrator.call("optimizer.propose_trades", RequestCtx(pricing_pack_id=PACK).with_timeout(0.05),
                                **{**PROPOSE, "options": RebalanceOptions()})
    assert await row_counts(seeded_session_factory) == before
    # the pool and the database are healthy afterwards
    envelope = await orchestrator.call("optimizer.propose_trades", RequestCtx(pricing_pack_id=PACK), **PROPOSE)
    after = await row_counts(seeded_session_factory)
    assert after["rebalance_proposals"] == before["rebalance_proposals"] + 1
    assert envelope.data.proposal_id


async def test_a_context_already_past_its_deadline_is_not_started(orchestrator, captured) -> None:  # noqa: ANN001
    ctx = RequestCtx(pricing_pack_id=PACK).with_timeout(-1)
    with pytest.raises(DeadlineExceededError, match="was not started: already past its deadline"):
        await orchestrator.call("optimizer.propose_trades", ctx, **PROPOSE)
    assert not [e for e in captured if e["event"] == "optimizer.inputs.loaded"]


# ---- results -----------------------------------------------------------------------------------------
async def test_envelope_and_idempotent_persistence(orchestrator, seeded_session_factory, ctx) -> None:  # noqa: ANN001
    before = await row_counts(seeded_session_factory)
    first = await orchestrator.call("optimizer.propose_trades", ctx, **PROPOSE)
    second_ctx = ctx.child()
    second = await orchestrator.call("optimizer.propose_trades", second_ctx, **PROPOSE)
    assert isinstance(first.data, RebalanceProposal)
    assert first.capability == "optimizer.propose_trades" and first.duration_ms > 0
    assert first.ctx.asof_date == date(2022, 12, 28) and first.ctx.request_id == ctx.request_id
    assert first.warnings == first.data.warnings
    assert first.data.request_id == ctx.request_id and second.data.request_id == second_ctx.request_id
    assert first.data.body() == second.data.body()
    after = await row_counts(seeded_session_factory)
    assert after["rebalance_proposals"] == before["rebalance_proposals"] + 1
    assert after["proposal_requests"] == before["proposal_requests"] + 2
    async with seeded_session_factory() as session:
        repo = ProposalRepository(session)
        assert await repo.request_ids(first.data.proposal_id) == [ctx.request_id, second_ctx.request_id]
        assert await repo.get_body(first.data.proposal_id) == first.data.body()
    document = first.to_dict()
    assert document["data"]["proposal_id"] == first.data.proposal_id and document["ctx"]["asof_date"] == "2022-12-28"
    assert list(first.to_frame().index) == [t.symbol for t in first.data.trades]


async def test_analyze_impact_of_a_proposal_reproduces_its_after_metrics(orchestrator, ctx) -> None:  # noqa: ANN001
    proposal = (await orchestrator.call("optimizer.propose_trades", ctx, **PROPOSE, persist=False)).data
    impact = (await orchestrator.call("optimizer.analyze_impact", ctx.child(), portfolio_id="P1",
                                      policy_id="quality_focused", trades=proposal.trades, options=FAST)).data
    assert isinstance(impact, ImpactAnalysis)
    s = proposal.summary
    assert impact.after.cash == s.cash_after and impact.before.cash == s.cash_before
    assert impact.turnover_pct == s.turnover_pct and impact.estimated_total_cost == s.estimated_total_cost
    assert (impact.before.te_pct, impact.after.te_pct) == (s.te_before_pct, s.te_after_pct)
    assert (impact.before.volatility_pct, impact.after.volatility_pct) == (s.volatility_before_pct,
                                                                         s.volatility_after_pct)
    assert (impact.before.sharpe, impact.after.sharpe) == (s.sharpe_before, s.sharpe_after)
    limits = {c.name: c for c in impact.limits}
    report = {c.name: c for c in proposal.constraints}
    assert limits["max_tracking_error"].satisfied == report["max_tracking_error"].satisfied
    assert impact.to_frame().loc["te_pct", "after"] == float(s.te_after_pct)


async def test_analyze_impact_names_the_bad_trade(orchestrator, ctx) -> None:  # noqa: ANN001
    with pytest.raises(ArgumentError, match=r"trades\[1\]\.delta_shares: sells 1000 AAPL but 100 are held"):
        await orchestrator.call("optimizer.analyze_impact", ctx, portfolio_id="P1", policy_id="quality_focused",
                                trades=[{"symbol": "XOM", "delta_shares": "-10"},
                                        {"symbol": "AAPL", "delta_shares": Decimal(-1000)}], options=FAST)
    with pytest.raises(ArgumentError, match=r"trades\[0\]\.symbol: 'TSLA' is not in portfolio P1's universe"):
        await orchestrator.call("optimizer.analyze_impact", ctx, portfolio_id="P1", policy_id="quality_focused",
                                trades=[{"symbol": "TSLA", "delta_shares": 1}], options=FAST)


async def test_policy_rebalance_pattern_is_the_same_path(orchestrator, ctx, captured) -> None:  # noqa: ANN001
    direct = (await orchestrator.call("optimizer.propose_trades", RequestCtx(pricing_pack_id=PACK), **PROPOSE)).data
    result = await orchestrator.run_pattern("policy_rebalance", ctx, portfolio_id="P1",
                                            policy_id="quality_focused", options={"lookback_days": 60})
    assert result["proposal"].proposal_id == direct.proposal_id
    assert result["proposal"].body() == direct.body()
    assert result["policy"].id == "quality_focused" and result["pack"].id == PACK
    assert result["impact"].after.te_pct == direct.summary.te_after_pct
    step_ids = [e.ctx.request_id for e in result.steps.values()]
    assert len(set(step_ids)) == len(step_ids) == 4
    assert all(e.ctx.trace_id == ctx.request_id for e in result.steps.values())
    for entry in captured:
        if entry["event"].startswith("optimizer.") and entry.get("trace_id") == ctx.request_id:
            assert entry["request_id"] in step_ids and entry["pattern"] == "policy_rebalance"
    assert result.to_dict()["outputs"]["proposal"]["proposal_id"] == direct.proposal_id


# ---- concurrency (PostgreSQL) -------------------------------------------------------------------------
N_CONCURRENT = 50
#: the events one propose_trades call logs, each exactly once, from the orchestrator, the agent and the
#: analytics (the last ones in a worker thread)
PROPOSE_EVENTS = [
    "orchestrator.call.started", "optimizer.inputs.loaded", "optimizer.returns.built", "optimizer.target.solved",
    "optimizer.trade_path.solved", "optimizer.trades.built", "optimizer.report.built", "optimizer.proposal.ready",
    "orchestrator.call.finished",
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("database_backend", "n_calls"),
    [pytest.param("postgres", N_CONCURRENT, marks=pytest.mark.postgres), ("sqlite", 6)],
    indirect=["database_backend"],
)
async def test_concurrent_calls_share_nothing(orchestrator, seeded_session_factory, captured, n_calls) -> None:  # noqa: ANN001
    lone = (await orchestrator.call("optimizer.propose_trades", RequestCtx(pricing_pack_id=PACK), **PROPOSE)).data
    captured.clear()
    ctxs = [RequestCtx(pricing_pack_id=PACK) for _ in range(n_calls)]
    envelopes = await asyncio.gather(
        *(orchestrator.call("optimizer.propose_trades", c, **PROPOSE) for c in ctxs)
    )
    for c, envelope in zip(ctxs, envelopes):
        assert envelope.data.body() == lone.body()
        assert envelope.data.request_id == c.request_id == envelope.ctx.request_id
    # every line of every call carries its own request id (and the rest of the binding)
    by_request: dict[str, list[str]] = {c.request_id: [] for c in ctxs}
    for entry in captured:
        assert entry.get("request_id") in by_request, entry
        assert entry["capability"] == "optimizer.propose_trades" and entry["portfolio_id"] == "P1"
        assert entry["pricing_pack_id"] == PACK
        by_request[entry["request_id"]].append(entry["event"])
    for events in by_request.values():
        assert sorted(events) == sorted(PROPOSE_EVENTS)
    # one proposal row, every request recorded beside it
    async with seeded_session_factory() as session:
        ids = await ProposalRepository(session).request_ids(lone.proposal_id)
    assert len(ids) == n_calls + 1 and set(ids) == {lone.request_id, *by_request}
    counts = await row_counts(seeded_session_factory)
    assert counts["rebalance_proposals"] == 1
