"""The account's rules through the orchestrator on real SQLite and PostgreSQL: `rebalance.propose` reads lots,
restrictions, halts, wash-sale transactions, withdrawals and settings from the database and gets its trades
from the one engine (no second engine, no made-up covariance)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import update

from app.bootstrap import build_orchestrator
from app.core.context import RequestCtx
from app.core.errors import NoRiskModelError
from app.db.models import SecurityRow, TaxLotRow
from app.db.repositories import PricingPackRepository
from app.db.repositories.ledger import LedgerRepository
from app.db.repositories.rebalance_config import RebalanceConfigRepository
from app.domain.enums import TradeAction
from app.domain.rebalancing import TradePurpose, Transaction
from tests.conftest import row_counts
from tests.integration.rebalancing_setup import PACK, configure_p1, seal_newer_pack

SELL, BUY = TradeAction.SELL, TradeAction.BUY


async def propose(session_factory, pack: str = PACK):  # noqa: ANN001, ANN201
    orch = build_orchestrator(session_factory)
    return (await orch.call("rebalance.propose", RequestCtx(pricing_pack_id=pack), portfolio_id="P1",
                            force=True)).data


def trades(result) -> dict:  # noqa: ANN001
    return {t.symbol: t for t in result.plan.trades}


async def test_lots_taxes_and_the_engine_report(seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory)
    result = await propose(seeded_session_factory)
    plan, proposal = result.plan, result.proposal
    assert plan.plan_id == proposal.proposal_id and proposal.metadata["engine_version"]
    assert {c.name for c in proposal.constraints} >= {"no_margin", "max_turnover", "no_buys_blocked_for_account"}
    sides = [t.action for t in plan.trades]
    assert sides == sorted(sides, key=lambda a: a is BUY)  # sells first
    for t in plan.trades:
        if t.action is SELL:
            assert sum(x.quantity for x in t.lots) == t.quantity and {x.symbol for x in t.lots} == {t.symbol}
    xom = trades(result).get("XOM")
    if xom is not None and xom.action is SELL and xom.quantity <= 120:
        # HIFO: the long-term lot (2020) serves, the short-term one (2022-09) is not touched
        assert [x.lot_id for x in xom.lots] == ["P1-XOM-1"]
    gains = sum((x.gain for t in plan.trades for x in t.lots), D(0))
    assert plan.realised.short_term + plan.realised.long_term == gains
    assert plan.cash_after >= 0


async def test_restricted_halted_and_wash_sale_names_are_not_bought(seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory)
    async with seeded_session_factory() as s, s.begin():
        await RebalanceConfigRepository(s).set_restricted("P1", {"MSFT": "compliance"})
        await s.execute(update(SecurityRow).where(SecurityRow.symbol == "XOM").values(status="halted"))
        await LedgerRepository(s).record("P1", Transaction(symbol="AAPL", action=SELL, quantity=D(5),
                                                           trade_date=date(2022, 12, 10), realised_gain=D("-40")))
    result = await propose(seeded_session_factory)
    by = trades(result)
    assert "MSFT" not in by and "XOM" not in by
    assert "AAPL" not in by or by["AAPL"].action is SELL  # sold at a loss 18 days ago: never bought back
    kinds = {(n.kind, n.symbol) for n in result.proposal.account.notes}
    assert ("restricted", "MSFT") in kinds and ("wash_sale_buy", "AAPL") in kinds
    line = {c.name: c for c in result.proposal.constraints}
    assert line["halted_untouched"].satisfied and line["no_buys_blocked_for_account"].satisfied


async def test_withdrawal_is_raised_and_kept_in_cash(seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory)
    async with seeded_session_factory() as s, s.begin():
        await LedgerRepository(s).add_cash_flow("P1", D("-5000"), date(2022, 12, 28))
    result = await propose(seeded_session_factory)
    assert result.plan.cash_reserved == D("5000.00") and result.plan.cash_after >= D("5000.00")
    cash = result.plan.cash_before
    for t in result.plan.trades:
        cash += (t.trade_value if t.action is SELL else -t.trade_value) - t.estimated_cost
    assert cash == result.plan.cash_after


async def test_min_trade_value_and_max_trades_from_the_settings(seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory, max_trades=2)
    capped = await propose(seeded_session_factory)
    assert len(capped.plan.trades) == 2 and any("max_trades 2" in w for w in capped.plan.warnings)
    async with seeded_session_factory() as s, s.begin():
        settings = await RebalanceConfigRepository(s).get_settings("P1")
        await RebalanceConfigRepository(s).put_settings(settings.model_copy(
            update={"max_trades": None, "min_trade_value": D("1000000")}))
    nothing = await propose(seeded_session_factory)
    assert nothing.plan.trades == () and nothing.proposal_id is None


async def test_harvest_with_a_substitute(seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory, substitutes={"AAPL": "MSFT"})
    async with seeded_session_factory() as s, s.begin():  # AAPL bought at 200: far under water at ~126
        await s.execute(update(TaxLotRow).where(TaxLotRow.lot_id == "P1-AAPL-1").values(cost_basis=D("200")))
    result = await propose(seeded_session_factory)
    by = trades(result)
    assert by["AAPL"].action is SELL and by["AAPL"].quantity == D(100) and by["AAPL"].purpose is TradePurpose.HARVEST
    assert by["MSFT"].action is BUY and by["MSFT"].purpose is TradePurpose.HARVEST_SUBSTITUTE
    assert result.plan.realised.long_term < 0  # the harvested loss (held since 2019)


async def test_market_closed_trades_on_the_next_session(seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory)
    saturday = date(2022, 12, 31)
    async with seeded_session_factory() as s, s.begin():  # the same history, one more (closed) day
        packs = PricingPackRepository(s)
        history = await packs.history(PACK)
        rows = [(d.date(), sym, D(str(history.at[d, sym]))) for d in history.index for sym in history.columns]
        rows += [(saturday, sym, close) for sym, close in (await packs.asof_prices(PACK)).items()]
        await packs.create("PP_2022-12-31", asof_date=saturday, source="test: a Saturday pack")
        await packs.add_prices("PP_2022-12-31", rows)
        await packs.seal("PP_2022-12-31")
    result = await propose(seeded_session_factory, "PP_2022-12-31")
    assert result.plan.market_open is False and result.plan.execute_on == date(2023, 1, 3)  # Jan 2: holiday
    assert any("market closed on 2022-12-31" in w for w in result.plan.warnings)


async def test_no_risk_model_is_refused_and_writes_nothing(seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory)
    await seal_newer_pack(seeded_session_factory)  # one day of prices: no returns, no covariance
    before = await row_counts(seeded_session_factory)
    with pytest.raises(NoRiskModelError, match="no risk model on pricing pack 'PP_2022-12-29'"):
        await propose(seeded_session_factory, "PP_2022-12-29")
    assert await row_counts(seeded_session_factory) == before


async def test_the_accounts_objective_mode_and_lambda_reach_the_engine(seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory, objective_mode="cost_aware", te_penalty_lambda=D("25"))
    objective = (await propose(seeded_session_factory)).proposal.metadata["objective"]
    assert objective["mode"] == "cost_aware" and D(objective["te_aversion"]) == D("25")
