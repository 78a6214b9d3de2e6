"""The one trade engine with an account's rules (what rebalancing/plan.py used to do, now under the policy
hierarchy with the run's own risk model): halted and restricted names, cash, market-closed dates, min trade
value, max trades, sells before buys, tax lots, harvests, wash sales, withdrawals, and no made-up covariance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from app.analytics.inputs import RebalanceOptions
from app.analytics.propose import build_proposal
from app.core.errors import InputError, NoRiskModelError
from app.domain.enums import TradeAction
from app.domain.models import Policy
from app.domain.rebalancing import LotMethod, TaxRates, Transaction
from tests.unit.engine_builders import cash_identity, lot, make_inputs

SELL, BUY = TradeAction.SELL, TradeAction.BUY


def by_symbol(p):  # noqa: ANN001, ANN201
    return {t.symbol: t for t in p.trades}


def line(p, name: str):  # noqa: ANN001, ANN201
    return next(c for c in p.constraints if c.name == name)


def test_insufficient_cash_buys_only_what_the_cash_pays_for() -> None:
    # AAA (halted, 50 %) cannot be sold; the target wants 10,000 of BBB and CCC but only 5,000 cash exists
    p = build_proposal(make_inputs(target={"BBB": "0.5", "CCC": "0.5"}, holdings={"AAA": 500}, cash="5000",
                                   prices={"AAA": "10", "BBB": "1", "CCC": "1"}, halted={"AAA"}))
    buys = [t for t in p.trades if t.action is BUY]
    assert {t.symbol for t in buys} == {"BBB", "CCC"} and len(p.trades) == 2
    assert sum(t.trade_value + t.estimated_cost for t in buys) <= D("5000")
    assert p.summary.cash_after == cash_identity(p) and D("0") <= p.summary.cash_after < D("10")
    assert line(p, "no_margin").satisfied


def test_halted_stock_is_not_traded_and_its_weight_is_frozen() -> None:
    p = build_proposal(make_inputs(target={"AAA": "0.2", "BBB": "0.8"}, holdings={"AAA": 700, "BBB": 300},
                                   cash="0", prices={"AAA": 100, "BBB": 100}, halted={"AAA"}))
    assert "AAA" not in by_symbol(p)
    assert line(p, "halted_untouched").satisfied and p.summary.cash_after >= 0


def test_restricted_symbol_is_never_bought_but_may_be_sold() -> None:
    p = build_proposal(make_inputs(target={"AAA": "0.5", "BBB": "0.5"}, holdings={"BBB": 500, "CCC": 500}, cash="0",
                                   prices={"AAA": 100, "BBB": 100, "CCC": 100}, restricted=("AAA", "CCC")))
    by = by_symbol(p)
    assert "AAA" not in by
    assert by["CCC"].action is SELL  # restricted and not in the target: sold
    assert line(p, "no_buys_blocked_for_account").satisfied
    assert any(n.kind == "restricted" and n.symbol == "AAA" for n in p.account.notes)


def test_market_closed_on_the_pack_date_marks_the_next_session() -> None:
    # the caller (the agent, from the exchange calendar) says the pack's Saturday is closed: trade on Tuesday 27
    kw = dict(target={"AAA": "0.5", "BBB": "0.5"}, holdings={"AAA": 800, "BBB": 200}, cash="0",
              prices={"AAA": 100, "BBB": 100})
    p = build_proposal(make_inputs(asof=date(2022, 12, 24), trade_date=date(2022, 12, 27), market_open=False, **kw))
    assert p.account.market_open is False and p.account.trade_date == date(2022, 12, 27)
    assert any("market closed on 2022-12-24" in w for w in p.warnings)
    assert p.trades  # still proposed, for the next session
    open_p = build_proposal(make_inputs(**kw))
    assert open_p.account.market_open and open_p.account.trade_date == date(2022, 12, 28)


def test_sells_come_first_and_cash_never_goes_negative() -> None:
    p = build_proposal(make_inputs(target={"AAA": "0.25", "BBB": "0.25", "CCC": "0.25", "DDD": "0.25"},
                                   holdings={"AAA": 900, "BBB": 100}, cash="0",
                                   prices={"AAA": 100, "BBB": 100, "CCC": 50, "DDD": 20}))
    by = by_symbol(p)
    order = p.account.execution_order
    sides = [by[s].action for s in order]
    assert sides == sorted(sides, key=lambda a: a is BUY) and SELL in sides and BUY in sides
    # the buys are paid from the sells: running cash in execution order never drops below zero
    cash = p.summary.cash_before
    for s in order:
        t = by[s]
        cash += (t.trade_value if t.action is SELL else -t.trade_value) - t.estimated_cost
        assert cash >= 0
    assert p.summary.cash_after == cash_identity(p) == cash


def test_small_trades_are_skipped_and_max_trades_keeps_the_largest() -> None:
    # BBB is 0.3 % under target: a buy of ~300 is below a 1,000 min trade value
    p = build_proposal(make_inputs(target={"AAA": "0.5", "BBB": "0.5"}, holdings={"AAA": 503, "BBB": 497}, cash="0",
                                   prices={"AAA": 100, "BBB": 100}, min_trade_value="1000"))
    assert p.trades == ()
    assert any(w.startswith("dropped ") and "min trade value" in w for w in p.warnings)
    kw = dict(target={"AAA": "0.25", "BBB": "0.25", "CCC": "0.25", "DDD": "0.25"}, holdings={"AAA": 1000},
              cash="0", prices={"AAA": 100, "BBB": 100, "CCC": 100, "DDD": 100})
    free = build_proposal(make_inputs(**kw))
    capped = build_proposal(make_inputs(max_trades=2, **kw))
    assert len(free.trades) == 4 and len(capped.trades) == 2
    assert any("max_trades 2" in w for w in capped.warnings)
    assert by_symbol(capped)["AAA"].action is SELL  # the sale that funds the buys is the largest, kept
    assert capped.summary.cash_after == cash_identity(capped) >= 0


LOTS = [
    lot("L1", "AAA", "100", "50", date(2019, 1, 10)),   # long-term gain at 100
    lot("L2", "AAA", "100", "120", date(2022, 6, 1)),   # short-term loss
    lot("L3", "AAA", "100", "90", date(2021, 3, 1)),    # long-term gain
    lot("L4", "AAA", "100", "95", date(2022, 9, 1)),    # short-term gain
]


@pytest.mark.parametrize(("method", "specific", "first"), [
    (LotMethod.HIFO, {}, ["L2", "L3"]),  # losses first, then long-term gains
    (LotMethod.FIFO, {}, ["L1", "L3"]),  # oldest first
    (LotMethod.SPECIFIC, {"AAA": ("L4", "L1")}, ["L4", "L1"]),  # the lots named, in that order
])
def test_a_sale_takes_its_lots_by_the_account_method(method, specific, first) -> None:  # noqa: ANN001
    # a 25,000 withdrawal from 400 AAA at 100 (the only name): at least 250 shares are sold
    p = build_proposal(make_inputs(target={"AAA": "1.0"}, holdings={"AAA": 400}, cash="0",
                                   prices={"AAA": 100}, lots=tuple(LOTS), lot_method=method,
                                   specific_lots=specific, withdrawal=D("25000")))
    sell = by_symbol(p)["AAA"]
    sales = p.account.lots_sold["AAA"]
    assert [s.lot_id for s in sales][:2] == first
    assert sum(s.quantity for s in sales) == -sell.delta_shares >= 250
    assert p.summary.cash_after >= D("25000.00")
    assert all(s.proceeds == s.quantity * D(100) for s in sales)
    total = sum(s.gain for s in sales)
    assert p.account.realised.short_term + p.account.realised.long_term == total


def test_short_term_gain_avoided_when_another_name_serves() -> None:
    # a 3,000 withdrawal from 100,000 held half in AAA (short-term gains) and half in BBB (long-term gains);
    # cost-aware mode (λ·TE² + costs + taxes): the closest mode would sell both halves alike (taxes only
    # break ties there, and selling one name moves further from the 50/50 target)
    p = build_proposal(make_inputs(
        target={"AAA": "0.5", "BBB": "0.5"}, holdings={"AAA": 500, "BBB": 500}, cash="0",
        prices={"AAA": 100, "BBB": 100}, withdrawal=D("3000"),
        options=RebalanceOptions(lookback_days=250, objective_mode="cost_aware"),
        lots=(lot("A1", "AAA", "500", "60", date(2022, 10, 3)), lot("B1", "BBB", "500", "60", date(2020, 1, 2)))))
    assert [(t.symbol, t.action) for t in p.trades] == [("BBB", SELL)]
    assert p.account.withdrawal_reserved == D("3000.00")
    assert p.summary.cash_after >= D("3000.00") and p.summary.cash_after == cash_identity(p)
    assert p.account.realised.short_term == D("0.00") and p.account.realised.long_term > 0
    sold = -by_symbol(p)["BBB"].delta_shares
    assert p.account.realised.long_term == sold * D(40)  # 100 − 60 per share, all long-term
    assert p.account.realised.tax_total == (sold * D(40) * TaxRates().long_term).quantize(D("0.01"))
    assert p.summary.estimated_tax == p.account.realised.tax_total > 0


def test_harvest_sells_the_loss_lot_and_buys_the_substitute() -> None:
    p = build_proposal(make_inputs(
        target={"XXX": "0.5", "ZZZ": "0.5"}, holdings={"XXX": 500, "ZZZ": 500}, cash="0",
        prices={"XXX": "96.90", "ZZZ": "96.90", "YYY": "50"}, substitutes={"XXX": "YYY"},
        harvest_threshold=D("0.03"),
        lots=(lot("X1", "XXX", "500", "100", date(2022, 1, 3)), lot("Z1", "ZZZ", "500", "90", date(2020, 1, 2)))))
    by = by_symbol(p)
    assert by["XXX"].action is SELL and by["XXX"].delta_shares == D(-500) and "harvest" in by["XXX"].rationale
    assert [s.lot_id for s in p.account.lots_sold["XXX"]] == ["X1"]
    assert by["YYY"].action is BUY and "substitute" in by["YYY"].rationale
    assert [(h.symbol, h.substitute) for h in p.account.harvests] == [("XXX", "YYY")]
    # 500 x (96.90 - 100) = -1,550.00 short-term (held < 1 year)
    assert p.account.realised.short_term == D("-1550.00") and p.account.realised.tax_total == D("0.00")
    assert p.account.execution_order.index("XXX") < p.account.execution_order.index("YYY")
    assert p.summary.cash_after == cash_identity(p) >= 0


def test_wash_sale_blocks_a_buy_after_a_loss_sale_and_a_loss_sale_after_a_buy() -> None:
    loss_sale = Transaction(symbol="XXX", action=SELL, quantity=D("10"), trade_date=date(2022, 12, 1),
                            realised_gain=D("-50"))
    recent_buy = Transaction(symbol="XXX", action=BUY, quantity=D("10"), trade_date=date(2022, 11, 27))
    # XXX is far under target but was sold at a loss 27 days ago: never bought
    under = build_proposal(make_inputs(target={"XXX": "0.5", "ZZZ": "0.5"}, holdings={"ZZZ": 1000}, cash="0",
                                       prices={"XXX": 100, "ZZZ": 100}, transactions=(loss_sale,)))
    assert "XXX" not in by_symbol(under)
    assert any(n.kind == "wash_sale_buy" and n.symbol == "XXX" for n in under.account.notes)
    # a harvestable loss lot bought back within the window is neither harvested nor sold at a loss
    p = build_proposal(make_inputs(
        target={"XXX": "0.2", "ZZZ": "0.8"}, holdings={"XXX": 500, "ZZZ": 500}, cash="0",
        prices={"XXX": 90, "ZZZ": 90, "YYY": 50}, substitutes={"XXX": "YYY"}, harvest_threshold=D("0.03"),
        transactions=(recent_buy,),
        lots=(lot("X1", "XXX", "490", "100", date(2022, 1, 3)), lot("X2", "XXX", "10", "95", date(2022, 11, 27)),
              lot("Z1", "ZZZ", "500", "80", date(2020, 1, 2)))))
    assert p.account.harvests == ()
    assert all(s.gain >= 0 for sales in p.account.lots_sold.values() for s in sales)
    assert any(n.kind in ("wash_sale_loss_sale", "harvest_not_possible") for n in p.account.notes)


def test_no_risk_model_is_a_clear_refusal_not_a_made_up_covariance() -> None:
    with pytest.raises(NoRiskModelError, match="no risk model") as exc:
        build_proposal(make_inputs(target={"AAA": "0.5", "BBB": "0.5"}, holdings={"AAA": 10}, cash="0",
                                   prices={"AAA": 100, "BBB": 100}, history_days=30))
    assert isinstance(exc.value, InputError)  # exit 2, one line naming the pack
    assert "PK" in str(exc.value) and "does not make a covariance up" in str(exc.value)


def test_the_account_runs_under_the_policy_hierarchy() -> None:
    # the same account rules under a 20 % turnover limit: the limit holds (or is reported unmet)
    tight = Policy(id="tight", name="tight", min_quality_score=0.0, max_single_position_pct=1.0,
                   max_sector_pct=1.0, max_tracking_error_pct=0.99, max_turnover_pct=0.20)
    p = build_proposal(make_inputs(target={"AAA": "0.25", "BBB": "0.25", "CCC": "0.25", "DDD": "0.25"},
                                   holdings={"AAA": 1000}, cash="0", policy=tight,
                                   prices={"AAA": 100, "BBB": 100, "CCC": 100, "DDD": 100}))
    turnover = line(p, "max_turnover")
    assert turnover.satisfied and p.summary.turnover_pct <= D("20.00")
    assert p.metadata["engine_version"]
