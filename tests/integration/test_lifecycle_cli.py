"""The one proposal lifecycle at the command line, in real subprocesses on real SQLite and PostgreSQL:
`dawsos history` after `dawsos rebalance`, at most one live approved proposal, `proposals execute` (the round
trip of acceptance 5 and refused fills files), scheduled runs that are per-portfolio transactions."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db.models import ModelPortfolioRow, NotificationOutboxRow, RebalanceProposalRow, RebalanceRunRow
from app.db.repositories import PortfolioRepository, ProposalRepository
from app.db.repositories.ledger import LedgerRepository
from app.db.repositories.rebalance_config import RebalanceConfigRepository
from app.domain.rebalancing import RebalanceSettings, TaxLot
from tests.cli_process import dawsos, ok_json
from tests.conftest import row_counts
from tests.integration.rebalancing_setup import APPROVER, OWNER, PACK, configure_p1, sign_in

P1_LOTS = [TaxLot(lot_id="P1-AAPL-1", symbol="AAPL", quantity=D(100), cost_basis=D("80"), acquired=date(2019, 5, 1)),
           TaxLot(lot_id="P1-XOM-1", symbol="XOM", quantity=D(120), cost_basis=D("60"), acquired=date(2020, 6, 1)),
           TaxLot(lot_id="P1-XOM-2", symbol="XOM", quantity=D(80), cost_basis=D("100"), acquired=date(2022, 9, 1)),
           TaxLot(lot_id="P1-JNJ-1", symbol="JNJ", quantity=D(150), cost_basis=D("150"), acquired=date(2018, 1, 2))]


async def _state(session_factory) -> tuple[dict[str, D], D, list[TaxLot]]:  # noqa: ANN001
    async with session_factory() as s:
        portfolio = await PortfolioRepository(s).get("P1")
        return {h.symbol: h.shares for h in portfolio.holdings}, portfolio.cash, await LedgerRepository(s).lots("P1")


# ---- history after `dawsos rebalance` -------------------------------------------------------------------------
@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_history_lists_proposals_of_dawsos_rebalance(seeded_database_url) -> None:  # noqa: ANN001
    proposal = ok_json(seeded_database_url, "rebalance", "--portfolio", "P1", "--policy", "quality_focused")
    history = ok_json(seeded_database_url, "history", "P1")
    (entry,) = history["entries"]
    assert (entry["proposal_id"], entry["source"], entry["policy_id"]) == (proposal["proposal_id"], "optimizer",
                                                                          "quality_focused")
    assert entry["outcome"] == "pending_approval" and entry["n_trades"] == len(proposal["trades"]) > 0
    assert D(entry["total_cost"]) == D(proposal["summary"]["estimated_total_cost"])
    assert D(entry["cash_after"]) == D(proposal["summary"]["cash_after"])
    assert sum(D(v) for v in entry["before_pct"].values()) == sum(D(v) for v in entry["after_pct"].values()) == 100
    assert {t["symbol"] for t in entry["trades"]} == {t["symbol"] for t in proposal["trades"]}
    table = dawsos(seeded_database_url, "history", "P1")
    assert table.returncode == 0 and proposal["proposal_id"][:12] in table.stdout and "0 runs" not in table.stdout


# ---- at most one live approved proposal per portfolio and pack ----------------------------------------------
@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_three_forced_proposals_and_approvals_leave_one_approved(seeded_database_url,
                                                                       seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory)
    approver = await sign_in(seeded_session_factory, APPROVER)
    ids = []
    for _ in range(3):
        made = ok_json(seeded_database_url, "rebalancing", "propose", "P1", "--force")
        ids.append(made["proposal_id"])
        approve = dawsos(seeded_database_url, "proposals", "approve", made["proposal_id"], **approver)
        assert approve.returncode in (0, 3), approve.stderr  # 3: the same proposal again, already approved
    listed = ok_json(seeded_database_url, "proposals", "list", "--portfolio", "P1")["proposals"]
    approved = [p for p in listed if p["status"] == "approved"]
    assert len(approved) == 1 and approved[0]["proposal_id"] == ids[-1]
    for p in listed:
        if p["proposal_id"] != ids[-1]:
            assert p["status"] == "superseded" and p["superseded_by"] is not None
            last = p["transitions"][-1]
            assert (last["to_status"], last["actor"]) == ("superseded", "system") and "newer proposal" in last["reason"]


# ---- executed step (acceptance 5) -------------------------------------------------------------------------------
async def test_execute_round_trip(seeded_database_url, seeded_session_factory) -> None:  # noqa: ANN001
    url = seeded_database_url
    async with seeded_session_factory() as s, s.begin():
        await LedgerRepository(s).replace_lots("P1", P1_LOTS)
    owner = await sign_in(seeded_session_factory, OWNER)  # a user; the local identity makes them an owner
    assert dawsos(url, "rebalancing", "approvers", "set", "P1", OWNER, "--role", "owner").returncode == 0
    proposal = ok_json(url, "rebalance", "--portfolio", "P1", "--policy", "quality_focused")
    pid = proposal["proposal_id"]
    refused = dawsos(url, "proposals", "execute", pid[:12], "--user", OWNER, "--as-proposed", **owner)
    assert refused.returncode == 3 and "needs approval first" in refused.stderr
    assert ok_json(url, "proposals", "approve", pid[:12], "--user", OWNER, **owner)["status"] == "approved"
    done = ok_json(url, "proposals", "execute", pid[:12], "--as-proposed", **owner)
    assert {t["actor"] for t in done["proposal"]["transitions"][-2:]} == {OWNER}
    assert done["proposal"]["status"] == "executed" and len(done["proposal"]["fills"]) == len(proposal["trades"])

    holdings, cash, lots = await _state(seeded_session_factory)
    expected = {t["symbol"]: D(t["target_shares"]) for t in proposal["trades"]}
    before = {"AAPL": D(100), "XOM": D(200), "JNJ": D(150)}
    assert holdings == {s: q for s, q in {**before, **expected}.items() if q > 0}
    assert cash == D(proposal["summary"]["cash_after"])  # to the cent, after the estimated costs
    in_lots: dict[str, D] = {}
    for lot in lots:
        in_lots[lot.symbol] = in_lots.get(lot.symbol, D(0)) + lot.quantity
    assert in_lots == holdings
    for t in proposal["trades"]:
        if t["action"] == "BUY":
            (lot,) = [x for x in lots if x.lot_id.startswith(pid[:12]) and x.symbol == t["symbol"]]
            expected = (D(t["delta_shares"]), D(t["price"]), date(2022, 12, 28))
            assert (lot.quantity, lot.cost_basis, lot.acquired) == expected

    again = ok_json(url, "rebalance", "--portfolio", "P1", "--policy", "quality_focused")
    assert D(again["summary"]["cash_before"]) == cash
    assert all(D(t["current_shares"]) == holdings.get(t["symbol"], D(0)) for t in again["trades"])
    history = ok_json(url, "history", "P1")["entries"]
    needs_approval = sum(D(t["trade_value"]) for t in again["trades"]) > D("10000")
    assert [e["outcome"] for e in history] == ["executed", "pending_approval" if needs_approval else "proposed"]


async def test_round_trip_to_a_reached_model_target_proposes_no_trades(seeded_database_url, seeded_session_factory,
                                                                      tmp_path: Path) -> None:  # noqa: ANN001
    """Acceptance 5 of issue 10 where the target can be reached: a model portfolio that keeps 1 % cash, no
    policy; propose → execute as proposed → the next proposal starts from the executed book and trades nothing
    (the top-up keeps the target's cash; the reinvestment rule allows it; one-lot rounding is not a trade)."""
    url = seeded_database_url
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"weights": {"AAPL": 0.3, "JNJ": 0.4, "MSFT": 0.29}}))
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"target_source": "model", "model_portfolio_id": "M_P1",
                                    "approval_threshold": "1000000"}))
    owner = await sign_in(seeded_session_factory, OWNER)
    for args in (("rebalancing", "model", "set", "M_P1", "--file", str(weights)),
                 ("rebalancing", "settings", "set", "P1", "--file", str(settings)),
                 ("rebalancing", "approvers", "set", "P1", OWNER, "--role", "owner")):
        assert dawsos(url, *args).returncode == 0
    first = ok_json(url, "rebalancing", "propose", "P1", "--force")
    assert first["proposal"]["summary"]["n_trades"] > 0
    ok_json(url, "proposals", "execute", first["proposal_id"][:12], "--as-proposed", **owner)
    holdings, cash, _ = await _state(seeded_session_factory)
    assert cash == D(first["proposal"]["summary"]["cash_after"])
    again = ok_json(url, "rebalancing", "propose", "P1", "--force")
    assert D(again["plan"]["cash_before"]) == cash
    assert again["plan"]["trades"] == [], again["plan"]["trades"]
    assert all(line["satisfied"] for line in again["proposal"]["constraints"])


def _fills(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_bad_fills_files_are_refused_with_nothing_written(seeded_database_url, seeded_session_factory,
                                                                tmp_path: Path) -> None:  # noqa: ANN001
    url = seeded_database_url
    await configure_p1(seeded_session_factory)
    approver = await sign_in(seeded_session_factory, APPROVER)
    made = ok_json(url, "rebalancing", "propose", "P1")
    pid = made["proposal_id"]
    assert ok_json(url, "proposals", "approve", pid, **approver)["status"] == "approved"
    sold = {t["symbol"]: t for t in made["plan"]["trades"] if t["action"] == "SELL"}
    bought = {t["symbol"]: t for t in made["plan"]["trades"] if t["action"] == "BUY"}
    sell, buy = next(iter(sold)), next(iter(bought))
    too_many = D(sold[sell]["quantity"]) + 1
    cases = {
        "header.csv": ("symbol,qty,price,date\n", 2, "line 1: header: missing column(s) shares"),
        "value.csv": (f"symbol,shares,price,date\n{sell},-1,abc,2022-12-28\n", 2, "line 2: price: "),
        "date.csv": (f"symbol,shares,price,date\n{sell},-1,10,28/12/2022\n", 2, "line 2: date: "),
        "zero.csv": (f"symbol,shares,price,date\n{sell},0,10,2022-12-28\n", 2, "line 2: shares: must not be 0"),
        "unknown.csv": (f"symbol,shares,price,date\n{sell},-1,10,2022-12-28\nTSLA,5,10,2022-12-28\n", 3,
                        "line 3: symbol: proposal"),
        "side.csv": (f"symbol,shares,price,date\n{buy},-1,10,2022-12-28\n", 3,
                     f"line 2: shares: the proposal buys {buy}"),
        "many.csv": (f"symbol,shares,price,date\n{sell},-1,10,2022-12-28\n{sell},-{too_many - 1},10,2022-12-29\n", 3,
                     f"line 3: shares: {sell} fills {too_many} shares in all, more than"),
    }
    counts = await row_counts(seeded_session_factory)
    for name, (text, code, message) in cases.items():
        path = _fills(tmp_path, name, text)
        done = dawsos(url, "proposals", "execute", pid[:12], "--fills", path, **approver)
        assert done.returncode == code, (name, done.stderr)
        assert done.stdout == "" and done.stderr.count("\n") == 1 and f"{path}: {message}" in done.stderr, done.stderr
    assert await row_counts(seeded_session_factory) == counts
    async with seeded_session_factory() as s:
        assert (await ProposalRepository(s).get(pid)).status.value == "approved"

    # a partial fill is recorded against the proposal: holdings, cash and the ledger move by what filled
    holdings, cash, _ = await _state(seeded_session_factory)
    price = D(sold[sell]["price"])
    path = _fills(tmp_path, "partial.csv", f"symbol,shares,price,date,fees\n{sell},-10,{price},2022-12-29,5.00\n")
    done = ok_json(url, "proposals", "execute", pid[:12], "--fills", path, **approver)
    (fill,) = done["proposal"]["fills"]
    assert (fill["line"], D(fill["shares"]), D(fill["proposed_shares"])) == (2, D(10), D(sold[sell]["quantity"]))
    after, cash_after, _ = await _state(seeded_session_factory)
    assert after[sell] == holdings[sell] - 10 and cash_after == cash + (10 * price).quantize(D("0.01")) - D("5.00")


# ---- scheduled runs: one transaction per portfolio ----------------------------------------------------------------
@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_scheduled_run_with_one_failing_portfolio(seeded_database_url, seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory)
    async with seeded_session_factory() as s, s.begin():  # P2's target model portfolio is gone: P2 fails on read
        await RebalanceConfigRepository(s).put_settings(RebalanceSettings(portfolio_id="P2",
                                                                          model_portfolio_id="M_GONE"))
    done = dawsos(seeded_database_url, "rebalancing", "scheduled", "--pack", PACK)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "P1: " in done.stdout and "P2: FAILED, nothing written" in done.stdout
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: 1 portfolio(s) failed")
    assert "P2" in done.stderr
    async with seeded_session_factory() as s:
        for row in (RebalanceProposalRow, RebalanceRunRow, ModelPortfolioRow):
            owner = row.portfolio_id if hasattr(row, "portfolio_id") else row.id
            assert not list(await s.scalars(select(row).where(owner.like("P2%")))), row.__tablename__
        about_p2 = select(NotificationOutboxRow).where(NotificationOutboxRow.subject.like("%P2%"))
        assert not list(await s.scalars(about_p2))
        assert list(await s.scalars(select(RebalanceProposalRow).where(RebalanceProposalRow.portfolio_id == "P1")))
