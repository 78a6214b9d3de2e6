"""Migration 0004 on real SQLite and PostgreSQL: rows written by the old code (0003 schema) are migrated, not
dropped — both commands' proposals become records of the one lifecycle, duplicate approvals of one portfolio
and pack are superseded (recorded) so the partial unique index holds, outbox rows learn what they announce."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import make_session_factory
from app.db.migrate import current_revision, downgrade_to, head_revision, upgrade_to_head
from app.db.repositories import ProposalRepository
from app.db.repositories.outbox import OutboxRepository
from app.domain.lifecycle import ProposalSource
from app.domain.rebalancing import ProposalStatus

PACK = "PP_2022-12-28"
OPTIMIZER_BODY = {
    "proposal_id": "a" * 64, "portfolio_id": "P1",
    "summary": {"portfolio_value": "60005.55", "cash_before": "0.00", "cash_after": "285.52",
                "estimated_total_cost": "223.79"},
    "trades": [{"symbol": "XOM", "action": "SELL", "current_shares": "200", "delta_shares": "-200",
                "price": "110.50", "trade_value": "22100.00", "commission": "5.00", "market_impact": "33.15",
                "estimated_cost": "38.15", "current_weight_pct": "36.83", "target_weight_pct": "0.00"}],
}


def _plan_body(plan_id: str) -> dict:
    return {"plan_id": plan_id, "before_pct": {"AAPL": "60.00", "CASH": "40.00"},
            "after_pct": {"AAPL": "50.00", "CASH": "50.00"}, "portfolio_value": "20000.00", "cash_before": "8000.00",
            "cash_after": "9994.50", "total_trade_value": "2000.00", "total_cost": "8.00",
            "realised": {"short_term": "0", "long_term": "500.00", "tax_short_term": "0", "tax_long_term": "100.00",
                         "tax_total": "100.00"},
            "trades": [{"symbol": "AAPL", "action": "SELL", "current_shares": "100", "quantity": "16",
                        "price": "125.00", "trade_value": "2000.00", "commission": "5.00", "market_impact": "3.00",
                        "estimated_cost": "8.00", "lots": [{"lot_id": "P1-AAPL-1", "quantity": "16"}]}]}


async def _write_old_rows(engine: AsyncEngine) -> None:
    """What the 0003-era code wrote: one `dawsos rebalance` proposal, three approved rebalancing proposals of P1
    on one pack (the issue's --force x3 case) with their runs, and two outbox rows."""
    insert_proposal = text(
        "INSERT INTO rebalance_proposals (proposal_id, portfolio_id, policy_id, policy_version, pricing_pack_id, "
        "asof_date, body, status, created_at) VALUES (:p, 'P1', :pol, 1, :pack, '2022-12-28', :b, :s, :c)")
    insert_run = text(
        "INSERT INTO rebalance_runs (run_id, portfolio_id, proposal_id, pricing_pack_id, asof_date, triggers, "
        "before_alloc, after_alloc, n_trades, total_trade_value, total_cost, realised_short, realised_long, "
        "estimated_tax, outcome, request_id, created_at) VALUES (:r, 'P1', :p, :pack, '2022-12-28', '[]', '{}', "
        "'{}', 1, 2000, 8, 0, 500, 100, 'approved', NULL, :c)")
    async with engine.begin() as conn:
        await conn.execute(insert_proposal, {"p": "a" * 64, "pol": "quality_focused", "pack": PACK,
                                             "b": json.dumps(OPTIMIZER_BODY), "s": "proposed",
                                             "c": "2026-11-30 10:00:00+00:00"})
        for n, pid in enumerate(("b" * 64, "c" * 64, "d" * 64)):
            at = f"2026-11-30 11:0{n}:00+00:00"
            await conn.execute(insert_proposal, {"p": pid, "pol": "M_P1", "pack": PACK,
                                                 "b": json.dumps(_plan_body(pid)), "s": "approved", "c": at})
            await conn.execute(insert_run, {"r": f"run{n}", "p": pid, "pack": PACK, "c": at})
        for nid, subject in (("n1", f"[dawsos] P1: rebalance proposal {'b' * 12} is pending_approval"),
                             ("n2", f"[dawsos] P1: proposal {'b' * 12} approved by bob")):
            await conn.execute(text(
                "INSERT INTO notification_outbox (id, proposal_id, recipient, subject, body, status, attempts, "
                "created_at) VALUES (:i, :p, 'alice', :s, 'old body', 'pending', 0, '2026-11-30 12:00:00+00:00')"),
                {"i": nid, "p": "b" * 64, "s": subject})


async def test_0004_migrates_old_rows_and_supersedes_duplicate_approvals(seeded_engine: AsyncEngine) -> None:
    await downgrade_to(seeded_engine, "0003_pack_prices_by_date")
    await _write_old_rows(seeded_engine)
    await upgrade_to_head(seeded_engine)
    assert await current_revision(seeded_engine) == head_revision()

    async with make_session_factory(seeded_engine)() as session:
        repo = ProposalRepository(session)
        stored = {p.proposal_id: p for p in await repo.list(portfolio_id="P1")}
        outbox = {n.id: n for n in await OutboxRepository(session).all()}
    assert len(stored) == 4  # nothing dropped
    optimizer = stored["a" * 64]
    assert optimizer.source is ProposalSource.OPTIMIZER and optimizer.status is ProposalStatus.PROPOSED
    assert optimizer.trades[0].shares == D(200) and optimizer.cash_after == D("285.52")
    assert optimizer.requires_approval and optimizer.total_trade_value == D("22100.00")
    assert [t.to_status for t in optimizer.transitions] == [ProposalStatus.PROPOSED]
    # at most one approved per portfolio and pack: the newest stays, the older two are superseded, recorded
    assert [stored[p].status for p in ("b" * 64, "c" * 64, "d" * 64)] == [
        ProposalStatus.SUPERSEDED, ProposalStatus.SUPERSEDED, ProposalStatus.APPROVED]
    for older in ("b" * 64, "c" * 64):
        moved = stored[older].transitions[-1]
        assert (moved.from_status, moved.to_status, moved.actor) == (ProposalStatus.APPROVED,
                                                                     ProposalStatus.SUPERSEDED, "system")
        assert stored[older].superseded_by == "d" * 64 and ("d" * 12) in moved.reason
    plan = stored["d" * 64]
    assert plan.source is ProposalSource.REBALANCING and plan.trades[0].lots[0].lot_id == "P1-AAPL-1"
    assert plan.estimated_tax == D("100.00") and plan.before_pct == {"AAPL": D("60.00"), "CASH": D("40.00")}
    assert (outbox["n1"].kind, outbox["n1"].about_status) == ("status", "pending_approval")
    assert (outbox["n2"].kind, outbox["n2"].about_status) == ("decided", "approved")

    # the partial unique index: a second approved proposal of P1 on the pack is refused by the database
    with pytest.raises(IntegrityError):
        async with seeded_engine.begin() as conn:
            await conn.execute(text("UPDATE rebalance_proposals SET status = 'approved' WHERE proposal_id = :p"),
                               {"p": "c" * 64})
    # downgrade keeps the rows (statuses the old code knows)
    await downgrade_to(seeded_engine, "0003_pack_prices_by_date")
    async with seeded_engine.connect() as conn:
        statuses = dict((await conn.execute(text("SELECT proposal_id, status FROM rebalance_proposals"))).all())
    assert sorted(statuses.values()) == ["approved", "expired", "expired", "proposed"]
