"""The account's per-name rules in the trade path: sell-only names, shares kept, shares that must be sold."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from app.analytics.engine import solve_trade_path
from app.analytics.universe import AccountLimits, build_universe
from tests.unit.analytics_builders import synthetic_universe


def _rebuild(universe, policy, account: AccountLimits):  # noqa: ANN001
    """The same synthetic universe with the account's rules."""
    return build_universe(
        benchmark=dict(zip(universe.symbols, universe.bench)),
        holdings=dict(zip(universe.symbols, universe.shares)), cash=universe.cash,
        securities=_securities(universe), quality=dict(zip(universe.symbols, universe.quality)),
        asof_prices=dict(zip(universe.symbols, universe.prices)), policy=policy, account=account)


def _securities(universe):  # noqa: ANN001
    from app.domain.enums import SecurityStatus
    from app.domain.models import Security

    return {s: Security(symbol=s, name=s, sector=universe.sectors[i],
                        status=SecurityStatus.HALTED if universe.halted[i] else SecurityStatus.ACTIVE)
            for i, s in enumerate(universe.symbols)}


def _path(universe, model):  # noqa: ANN001
    t = pd.Series(np.where(universe.buyable | universe.sell_only, 1.0, 0.0), index=list(universe.symbols))
    t = t / t.sum() * 0.95
    return t, solve_trade_path(universe=universe, risk_model=model, target=t, max_turnover=2.0,
                               max_tracking_error=0.99, market_impact_bps=15.0, commission_per_trade=5.0)


def test_restricted_names_are_never_bought_and_a_held_one_is_sold_only_toward_its_target() -> None:
    base, model, policy = synthetic_universe(n=24, halted=0, low_quality=0, max_single=0.5, max_sector=1.0)
    held = next(s for i, s in enumerate(base.symbols) if base.w0[i] > 0.06)
    unheld = next(s for i, s in enumerate(base.symbols) if base.w0[i] == 0)
    u = _rebuild(base, policy, AccountLimits(no_buy={held: "restricted", unheld: "restricted"}))
    i, j = u.index(held), u.index(unheld)
    assert u.sell_only[i] and not u.buyable[i] and not u.forced_exit[i] and not u.sell_only[j]
    t, path = _path(u, model)
    assert path.weights[unheld] == 0.0
    # sold toward the ~4 % target, but not to zero (it is no forced exit) and never bought
    assert t[held] < path.weights[held] < u.w0[i] - 0.005


def test_kept_shares_floor_and_harvested_shares_ceiling_hold_in_the_path() -> None:
    base, model, policy = synthetic_universe(n=24, halted=0, low_quality=0, max_single=0.5, max_sector=1.0)
    held = [s for i, s in enumerate(base.symbols) if base.w0[i] > 0.03][:2]
    keep, sell = held
    k, m = base.index(keep), base.index(sell)
    account = AccountLimits(keep_shares={keep: base.shares[k]},
                            sell_shares={sell: base.shares[m] - Decimal(10)}, no_buy={sell: "harvested"})
    u = _rebuild(base, policy, account)
    _, path = _path(u, model)
    assert path.weights[keep] >= u.w0[k] - 1e-9  # nothing of the kept lots sold
    assert path.weights[sell] <= float(Decimal(10) * u.prices[m] / u.value) + 1e-9  # the harvest sold


def test_a_withdrawal_is_netted_out_of_cash_and_value() -> None:
    base, _, policy = synthetic_universe(n=24)
    u = _rebuild(base, policy, AccountLimits(withdrawal=Decimal("8000")))
    assert u.cash == base.cash - Decimal("8000") < 0
    assert u.value == base.value - Decimal("8000") and u.withdrawal == Decimal("8000")
