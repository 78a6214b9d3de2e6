"""Tax lots with hand-computed answers (pure functions of app.analytics.taxes): HIFO/FIFO choice, short-term
gains avoided, harvest threshold, wash sales both ways, realised gains and tax to the cent. The same rules
inside a whole rebalance are in test_engine_account_rules.py (the one engine)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.analytics.taxes import find_harvests, holding_term, realised_gains, sell_from_lots
from app.analytics.taxes.wash_sale import buy_blocked, loss_sale_blocked
from app.domain.enums import TradeAction
from app.domain.rebalancing import HoldingTerm, LotMethod, TaxRates, Transaction
from tests.unit.rebalancing_builders import ASOF, lot

RATES = TaxRates(short_term=D("0.37"), long_term=D("0.20"))
LOTS = [
    lot("L1", "AAA", "100", "50", date(2019, 1, 10)),   # long-term gain at 100
    lot("L2", "AAA", "100", "120", date(2022, 6, 1)),   # short-term loss
    lot("L3", "AAA", "100", "90", date(2021, 3, 1)),    # long-term gain
    lot("L4", "AAA", "100", "95", date(2022, 9, 1)),    # short-term gain
]


def test_term_is_long_only_after_the_first_anniversary() -> None:
    assert holding_term(date(2021, 12, 28), ASOF) is HoldingTerm.SHORT  # exactly one year: short
    assert holding_term(date(2021, 12, 27), ASOF) is HoldingTerm.LONG
    assert holding_term(date(2020, 2, 29), date(2021, 3, 1)) is HoldingTerm.SHORT


def test_hifo_takes_losses_first_then_long_term_gains() -> None:
    sales = sell_from_lots(LOTS, D("150"), price=D("100"), sale_date=ASOF, method=LotMethod.HIFO)
    assert [(s.lot_id, s.quantity) for s in sales] == [("L2", D("100")), ("L3", D("50"))]
    # L2: 100 x (100 - 120) = -2000.00 short; L3: 50 x (100 - 90) = 500.00 long
    g = realised_gains(sales, RATES)
    assert (g.short_term, g.long_term) == (D("-2000.00"), D("500.00"))
    # the short-term loss absorbs the long-term gain: no tax, 1500.00 carried forward
    assert (g.tax_total, g.loss_carryforward) == (D("0.00"), D("1500.00"))


def test_fifo_takes_the_oldest_lots() -> None:
    sales = sell_from_lots(LOTS, D("150"), price=D("100"), sale_date=ASOF, method=LotMethod.FIFO)
    assert [(s.lot_id, s.quantity) for s in sales] == [("L1", D("100")), ("L3", D("50"))]
    g = realised_gains(sales, RATES)
    # 100 x 50 + 50 x 10 = 5500.00 long-term; tax 20 % = 1100.00
    assert (g.short_term, g.long_term, g.tax_total) == (D("0.00"), D("5500.00"), D("1100.00"))


def test_specific_lots_in_the_order_named() -> None:
    sales = sell_from_lots(LOTS, D("120"), price=D("100"), sale_date=ASOF, method=LotMethod.SPECIFIC,
                           specific=["L4", "L1"])
    assert [(s.lot_id, s.quantity, s.term) for s in sales] == [
        ("L4", D("100"), HoldingTerm.SHORT), ("L1", D("20"), HoldingTerm.LONG)]


def test_short_term_gain_avoided_when_a_long_term_lot_serves() -> None:
    lots = [lot("ST", "AAA", "100", "95", date(2022, 9, 1)), lot("LT", "AAA", "100", "92", date(2020, 5, 5))]
    sales = sell_from_lots(lots, D("100"), price=D("100"), sale_date=ASOF)
    assert [s.lot_id for s in sales] == ["LT"]  # not the higher-cost short-term lot
    g = realised_gains(sales, RATES)
    assert (g.long_term, g.tax_total) == (D("800.00"), D("160.00"))  # vs 500 x 37 % = 185.00 short-term


def test_harvest_at_minus_3_1_pct_and_not_at_minus_2_9_pct() -> None:
    lots = [lot("X1", "XXX", "100", "100", date(2022, 1, 3))]
    kw = dict(lots=lots, threshold=D("0.03"), substitutes={"XXX": "YYY"}, sale_date=ASOF)
    found, _ = find_harvests(prices={"XXX": D("96.90"), "YYY": D("50")}, **kw)
    assert [(h.symbol, h.substitute, h.quantity) for h in found] == [("XXX", "YYY", D("100"))]
    assert found[0].loss_fraction == D("-0.031")
    none, _ = find_harvests(prices={"XXX": D("97.10"), "YYY": D("50")}, **kw)
    assert none == ()


def test_wash_sale_blocked_both_ways() -> None:
    loss_sale = Transaction(symbol="XXX", action=TradeAction.SELL, quantity=D("10"), trade_date=date(2022, 12, 1),
                            realised_gain=D("-50"))
    recent_buy = Transaction(symbol="XXX", action=TradeAction.BUY, quantity=D("10"), trade_date=date(2022, 11, 27))
    # a buy 27 days after a loss sale is blocked; 32 days after, it is not
    assert buy_blocked("XXX", on=ASOF, transactions=[loss_sale]) is not None
    assert buy_blocked("XXX", on=date(2023, 1, 2), transactions=[loss_sale]) is None
    # a loss sale 31 days after a buy is blocked; 32 days after, it is not
    assert loss_sale_blocked("XXX", on=ASOF, transactions=[recent_buy], lots=[]) is not None
    assert loss_sale_blocked("XXX", on=date(2022, 12, 29), transactions=[recent_buy], lots=[]) is None


def test_realised_gain_and_tax_to_the_cent() -> None:
    lots = [lot("LT", "AAA", "37", "98.7654", date(2020, 3, 3)), lot("ST", "AAA", "20", "110.1111", date(2022, 8, 8))]
    sales = sell_from_lots(lots, D("57"), price=D("123.4567"), sale_date=ASOF)
    # LT: proceeds 37 x 123.4567 = 4,567.8979 -> 4,567.90; cost 37 x 98.7654 = 3,654.3198 -> 3,654.32; gain 913.58
    # ST: proceeds 20 x 123.4567 = 2,469.134 -> 2,469.13; cost 20 x 110.1111 = 2,202.222 -> 2,202.22; gain 266.91
    assert [(s.lot_id, s.proceeds, s.cost, s.gain) for s in sales] == [
        ("LT", D("4567.90"), D("3654.32"), D("913.58")), ("ST", D("2469.13"), D("2202.22"), D("266.91"))]
    g = realised_gains(sales, RATES)
    # tax: 913.58 x 0.20 = 182.716 -> 182.72; 266.91 x 0.37 = 98.7567 -> 98.76; total 281.48
    assert (g.long_term, g.short_term) == (D("913.58"), D("266.91"))
    assert (g.tax_long_term, g.tax_short_term, g.tax_total) == (D("182.72"), D("98.76"), D("281.48"))
