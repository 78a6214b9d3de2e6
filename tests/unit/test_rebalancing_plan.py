"""Plan edge cases: insufficient cash, halted stock, restricted symbol, market closed; cost-aware rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.domain.enums import TradeAction
from app.rebalancing import build_plan

from tests.unit.rebalancing_builders import make_inputs


def cash_identity(plan) -> D:  # noqa: ANN001
    """cash after, recomputed from the trades: sells add value - cost, buys subtract value + cost."""
    c = plan.cash_before
    for t in plan.trades:
        c += (t.trade_value if t.action is TradeAction.SELL else -t.trade_value) - t.estimated_cost
    return c


def test_insufficient_cash_scales_buys_to_the_cash_available() -> None:
    # AAA (halted, 50 %) cannot be sold; the target wants 10,000 of BBB and CCC but only 5,000 cash exists.
    # The QP spends the cash net of impact; the two $5 commissions then do not fit: buys are scaled down.
    plan = build_plan(make_inputs(target={"BBB": "0.5", "CCC": "0.5"}, holdings={"AAA": 500}, cash="5000",
                                  prices={"AAA": "10", "BBB": "1", "CCC": "1"}, halted={"AAA"}))
    assert any(w.startswith("insufficient cash") for w in plan.warnings)
    buys = [t for t in plan.trades if t.action is TradeAction.BUY]
    assert [t.symbol for t in buys] == ["BBB", "CCC"] and len(plan.trades) == 2
    assert sum(t.trade_value + t.estimated_cost for t in buys) <= D("5000")
    assert plan.cash_after == cash_identity(plan) and D("0") <= plan.cash_after < D("5")


def test_halted_stock_is_not_traded_and_its_weight_is_frozen() -> None:
    plan = build_plan(make_inputs(target={"AAA": "0.2", "BBB": "0.8"}, holdings={"AAA": 700, "BBB": 300}, cash="0",
                                  prices={"AAA": 100, "BBB": 100}, halted={"AAA"}))
    assert all(t.symbol != "AAA" for t in plan.trades)
    assert plan.before_pct["AAA"] == plan.after_pct["AAA"] == D("70.00")
    assert any("AAA: halted" in w for w in plan.warnings)
    assert plan.cash_after >= 0


def test_restricted_symbol_is_never_bought_but_may_be_sold() -> None:
    plan = build_plan(make_inputs(target={"AAA": "0.5", "BBB": "0.5"}, holdings={"BBB": 500, "CCC": 500}, cash="0",
                                  prices={"AAA": 100, "BBB": 100, "CCC": 100}, restricted={"AAA", "CCC"}))
    by = {t.symbol: t for t in plan.trades}
    assert "AAA" not in by
    assert by["CCC"].action is TradeAction.SELL  # restricted and not in the target: sold
    assert any("AAA: restricted" in s for s in plan.skipped)


def test_market_closed_on_the_pack_date_marks_the_next_session() -> None:
    # Saturday 2022-12-24; Monday 26 is the Christmas holiday -> Tuesday 27
    plan = build_plan(make_inputs(target={"AAA": "0.5", "BBB": "0.5"}, holdings={"AAA": 800, "BBB": 200}, cash="0",
                                  prices={"AAA": 100, "BBB": 100}, asof=date(2022, 12, 24)))
    assert plan.market_open is False and plan.execute_on == date(2022, 12, 27)
    assert any("market closed on 2022-12-24" in w for w in plan.warnings)
    assert plan.trades  # still proposed, for the next session
    open_plan = build_plan(make_inputs(target={"AAA": "0.5", "BBB": "0.5"}, holdings={"AAA": 800, "BBB": 200},
                                       cash="0", prices={"AAA": 100, "BBB": 100}))
    assert open_plan.market_open and open_plan.execute_on == date(2022, 12, 28)


def test_sells_come_first_and_cash_never_goes_negative() -> None:
    plan = build_plan(make_inputs(target={"AAA": "0.25", "BBB": "0.25", "CCC": "0.25", "DDD": "0.25"},
                                  holdings={"AAA": 900, "BBB": 100}, cash="0",
                                  prices={"AAA": 100, "BBB": 100, "CCC": 50, "DDD": 20}))
    actions = [t.action for t in plan.trades]
    assert actions == sorted(actions, key=lambda a: a is TradeAction.BUY)
    assert plan.cash_after == cash_identity(plan) >= 0
    assert sum(plan.before_pct.values()) == sum(plan.after_pct.values()) == D("100.00")


def test_small_trades_and_trades_not_worth_their_cost_are_skipped() -> None:
    # BBB is 0.3 % under target: the buy (~$300) costs $5.45 and improves TE by far less -> skipped
    plan = build_plan(make_inputs(target={"AAA": "0.5", "BBB": "0.5"}, holdings={"AAA": 503, "BBB": 497}, cash="0",
                                  prices={"AAA": 100, "BBB": 100}))
    assert plan.trades == ()
    assert plan.skipped  # each skip says why
    capped = build_plan(make_inputs(target={"AAA": "0.25", "BBB": "0.25", "CCC": "0.25", "DDD": "0.25"},
                                    holdings={"AAA": 1000}, cash="0",
                                    prices={"AAA": 100, "BBB": 100, "CCC": 100, "DDD": 100}, max_trades=2))
    assert len(capped.trades) == 2 and any("max_trades 2" in s for s in capped.skipped)
    assert capped.trades[0].symbol == "AAA" and capped.trades[0].action is TradeAction.SELL
