"""Triggers: drift bands (absolute, relative), calendar on the XNYS calendar (holiday, weekend), cash flow."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.domain.rebalancing import Frequency, TriggerKind
from app.rebalancing import check_triggers, due_session, is_session, next_session
from tests.unit.rebalancing_builders import settings

TARGET = {"AAA": D("0.50"), "BBB": D("0.46"), "CCC": D("0.04")}


def kinds(check) -> list[tuple[str, str | None]]:  # noqa: ANN001
    return [(r.kind.value, r.symbol) for r in check.reasons]


def test_absolute_drift_band_fires_beyond_5pp_only() -> None:
    st = settings()
    over = check_triggers(settings=st, weights={"AAA": D("0.5501"), "BBB": D("0.4099"), "CCC": D("0.04")},
                          target=TARGET, asof=date(2022, 12, 28), last_rebalance=None)
    assert over.due and kinds(over) == [("drift_absolute", "AAA"), ("drift_absolute", "BBB")]
    assert over.reasons[0].value == D("5.01") and over.reasons[0].limit == D("5.00")
    inside = check_triggers(settings=st, weights={"AAA": D("0.549"), "BBB": D("0.411"), "CCC": D("0.04")},
                            target=TARGET, asof=date(2022, 12, 28), last_rebalance=None)
    assert not inside.due and inside.reasons == ()


def test_relative_drift_band_fires_on_a_small_position() -> None:
    st = settings(drift_abs_band=None, drift_rel_band=D("0.25"))
    # CCC 4 % target: 5.1 % is 27.5 % off (fires), 4.9 % is 22.5 % off (does not); AAA/BBB move < 25 %
    fired = check_triggers(settings=st, weights={"AAA": D("0.50"), "BBB": D("0.449"), "CCC": D("0.051")},
                           target=TARGET, asof=date(2022, 12, 28), last_rebalance=None)
    assert kinds(fired) == [("drift_relative", "CCC")] and fired.reasons[0].value == D("27.50")
    quiet = check_triggers(settings=st, weights={"AAA": D("0.50"), "BBB": D("0.451"), "CCC": D("0.049")},
                           target=TARGET, asof=date(2022, 12, 28), last_rebalance=None)
    assert not quiet.due


def test_calendar_due_date_moves_across_a_holiday() -> None:
    # weekly from Thu 2022-11-17: due Thu 2022-11-24 = Thanksgiving (closed) -> Fri 2022-11-25
    assert not is_session(date(2022, 11, 24))
    assert due_session(date(2022, 11, 17), Frequency.WEEKLY) == date(2022, 11, 25)
    # monthly from 2022-11-25: 2022-12-25 is a Sunday and Mon 2022-12-26 the Christmas holiday -> Tue 12-27
    assert due_session(date(2022, 11, 25), Frequency.MONTHLY) == date(2022, 12, 27)
    st = settings(drift_abs_band=None, frequency=Frequency.MONTHLY)
    before = check_triggers(settings=st, weights={}, target={}, asof=date(2022, 12, 23),
                            last_rebalance=date(2022, 11, 25))
    on = check_triggers(settings=st, weights={}, target={}, asof=date(2022, 12, 27), last_rebalance=date(2022, 11, 25))
    assert not before.due and before.next_calendar_date == date(2022, 12, 27)
    assert on.due and kinds(on) == [("calendar", None)]


def test_calendar_due_date_moves_across_a_weekend() -> None:
    # monthly from 2022-09-15: 2022-10-15 is a Saturday -> Monday 2022-10-17
    assert due_session(date(2022, 9, 15), Frequency.MONTHLY) == date(2022, 10, 17)
    # quarterly from 2022-09-30: 2022-12-30 (Fri, open);
    # daily from Fri 2022-12-30: Sat, Sun, Mon 2 Jan (holiday) -> Tue 3 Jan
    assert due_session(date(2022, 9, 30), Frequency.QUARTERLY) == date(2022, 12, 30)
    assert due_session(date(2022, 12, 30), Frequency.DAILY) == date(2023, 1, 3)
    assert next_session(date(2022, 12, 24)) == date(2022, 12, 27)
    st = settings(drift_abs_band=None, frequency=Frequency.MONTHLY)
    sat = check_triggers(settings=st, weights={}, target={}, asof=date(2022, 10, 14), last_rebalance=date(2022, 9, 15))
    mon = check_triggers(settings=st, weights={}, target={}, asof=date(2022, 10, 17), last_rebalance=date(2022, 9, 15))
    assert not sat.due and mon.due


def test_cash_flow_trigger() -> None:
    st = settings(drift_abs_band=None, cash_flow_min=D("1000"))
    deposit = check_triggers(settings=st, weights={}, target={}, asof=date(2022, 12, 28), last_rebalance=None,
                             pending_cash_flow=D("5000"))
    withdrawal = check_triggers(settings=st, weights={}, target={}, asof=date(2022, 12, 28), last_rebalance=None,
                                pending_cash_flow=D("-2500"))
    small = check_triggers(settings=st, weights={}, target={}, asof=date(2022, 12, 28), last_rebalance=None,
                           pending_cash_flow=D("999.99"))
    assert [r.kind for r in deposit.reasons] == [TriggerKind.CASH_FLOW] and "deposit" in deposit.reasons[0].detail
    assert withdrawal.due and "withdrawal of 2500.00" in withdrawal.reasons[0].detail
    assert not small.due
