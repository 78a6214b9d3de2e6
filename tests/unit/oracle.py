"""Independent recomputation of a proposal's numbers from its trades (test oracle, not engine code).

Uses only the inputs, numpy and plain Decimal arithmetic written here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd

from app.analytics.inputs import RebalanceInputs
from app.domain.enums import SecurityStatus
from app.domain.proposal import RebalanceProposal

C = Decimal("0.01")
P = Decimal("0.01")


def cents(x: Decimal) -> Decimal:
    return x.quantize(C, rounding=ROUND_HALF_EVEN)


def pct2(x: float | Decimal) -> Decimal:
    return (Decimal(repr(float(x))) * 100).quantize(P, rounding=ROUND_HALF_EVEN) if not isinstance(x, Decimal) \
        else (x * 100).quantize(P, rounding=ROUND_HALF_EVEN)


def daily_cov(inputs: RebalanceInputs, symbols: list[str]) -> np.ndarray:
    h = inputs.history.loc[inputs.history.index <= pd.Timestamp(inputs.pack.asof_date), symbols]
    closes = h.iloc[-(inputs.options.lookback_days + 1):].to_numpy(float)
    rets = closes[1:] / closes[:-1] - 1
    return np.atleast_2d(np.cov(rets, rowvar=False))


def check_proposal(inputs: RebalanceInputs, prop: RebalanceProposal, *, cov_tol: float = 2e-4) -> dict:
    """Assert every structural rule and every ConstraintLine against numbers recomputed here."""
    pol, dft = inputs.policy, inputs.defaults
    held = {s: Decimal(q) for s, q in inputs.holdings.items() if Decimal(q) > 0}
    symbols = sorted(set(inputs.benchmark) | set(held))
    price = {s: Decimal(inputs.asof_prices[s]) for s in symbols}
    before = {s: held.get(s, Decimal(0)) for s in symbols}
    after = dict(before)
    cash = Decimal(inputs.cash)
    V0 = sum(before[s] * price[s] for s in symbols) + cash
    halted = {s for s in symbols if inputs.securities[s].status is SecurityStatus.HALTED}
    below = {s for s in symbols if inputs.quality.get(s) is None or inputs.quality[s] < pol.min_quality_score}
    traded_value = Decimal(0)
    seen = set()
    for t in prop.trades:
        assert t.symbol not in seen
        seen.add(t.symbol)
        lot = Decimal(inputs.securities[t.symbol].lot_size)
        assert t.current_shares == before[t.symbol]
        assert t.target_shares == t.current_shares + t.delta_shares
        assert t.delta_shares != 0
        assert (t.action.value == "BUY") == (t.delta_shares > 0)
        # lots: every trade is whole lots, except a full exit which sells everything
        assert (t.delta_shares % lot == 0) or t.target_shares == 0, (t.symbol, t.delta_shares, lot)
        assert t.target_shares >= 0
        value = cents(abs(t.delta_shares) * price[t.symbol])
        assert t.price == price[t.symbol] and t.trade_value == value
        impact = cents(value * Decimal(dft.market_impact_bps) / Decimal(10000))
        assert t.commission == cents(Decimal(dft.commission_per_trade)) and t.market_impact == impact
        assert t.estimated_cost == t.commission + t.market_impact
        cash += (value if t.delta_shares < 0 else -value) - t.estimated_cost
        after[t.symbol] = t.target_shares
        traded_value += value
        assert t.symbol not in halted, "halted name traded"
        if t.delta_shares > 0:
            assert t.symbol not in below, f"bought {t.symbol} below min quality"
    assert cash == prop.summary.cash_after
    assert cash >= 0, "negative cash"
    V1 = sum(after[s] * price[s] for s in symbols) + cash
    w0 = np.array([float(before[s] * price[s] / V0) for s in symbols])
    w1 = np.array([float(after[s] * price[s] / V1) for s in symbols])
    b = np.array([float(inputs.benchmark.get(s, 0.0)) for s in symbols])
    b = b / b.sum()
    cov = daily_cov(inputs, symbols)
    ann = inputs.defaults.annualization_factor

    def te(w: np.ndarray) -> float:
        return float(np.sqrt(max((w - b) @ cov @ (w - b), 0) * ann))

    lines = {c.name: c for c in prop.constraints}
    assert [c.name for c in prop.constraints] == [
        "long_only", "no_margin", "halted_untouched", "no_buys_below_min_quality", "forced_exits",
        "max_single_position", "max_sector", "reinvestment", "max_turnover", "max_tracking_error"]
    # every line carries its direction; no_margin (cash after >= 0) is the one floor
    assert {c.name: c.sense.value for c in prop.constraints} == {
        name: ("min" if name == "no_margin" else "max") for name in lines}
    for c in prop.constraints:  # a consumer checks a plain numeric line by its sense alone
        if c.name in ("no_margin", "max_turnover") and c.limit is not None:
            assert c.satisfied == (c.after >= c.limit if c.sense.value == "min" else c.after <= c.limit), c
    assert lines["long_only"].satisfied and lines["long_only"].after == 0
    assert lines["no_margin"].satisfied and lines["no_margin"].after == cash
    assert lines["halted_untouched"].satisfied and lines["no_buys_below_min_quality"].satisfied
    still_below = [s for s in symbols if s in below and after[s] > 0 and before[s] > 0]
    assert lines["forced_exits"].after == len(still_below)
    assert lines["forced_exits"].satisfied == (not still_below)
    too_small = 2 * Decimal(dft.commission_per_trade)
    assert all(s in halted or before[s] * price[s] < too_small for s in still_below), still_below

    cap = Decimal(repr(pol.max_single_position_pct))
    single_ok = all(
        after[s] * price[s] <= cap * V1
        or after[s] * price[s] - Decimal(inputs.securities[s].lot_size) * price[s] < cap * V1
        for s in symbols
    )
    ln = lines["max_single_position"]
    assert ln.limit == pct2(pol.max_single_position_pct)
    assert ln.after == pct2(float(w1.max())) and ln.before == pct2(float(w0.max()))
    assert ln.satisfied == single_ok, (ln, w1.max())
    if not single_ok:  # only names the engine may not sell can break the cap
        assert any(after[s] * price[s] > cap * V1 for s in halted), ln

    secs = sorted({inputs.securities[s].sector for s in symbols})
    scap = Decimal(repr(pol.max_sector_pct))
    sec_ok, sec_w0, sec_w1 = True, [], []
    for sec in secs:
        names = [s for s in symbols if inputs.securities[s].sector == sec]
        v1 = sum(after[s] * price[s] for s in names)
        sec_w0.append(sum(float(before[s] * price[s] / V0) for s in names))
        sec_w1.append(float(sum(w1[symbols.index(s)] for s in names)))
        big_lot = max(Decimal(inputs.securities[s].lot_size) * price[s] for s in names)
        if v1 > scap * V1 and v1 - big_lot >= scap * V1:
            sec_ok = False
            assert any(s in halted for s in names), f"sector {sec} over cap without halted names"
    ln = lines["max_sector"]
    assert ln.satisfied == sec_ok and ln.after == pct2(max(sec_w1)) and ln.before == pct2(max(sec_w0))

    ln = lines["reinvestment"]
    assert ln.before == Decimal(inputs.cash) and ln.after == cash
    if inputs.options.reinvest_proceeds:
        assert ln.limit is not None and ln.limit >= Decimal(inputs.cash)
        dearest_lot = max((Decimal(inputs.securities[s].lot_size) * price[s] for s in symbols
                           if s not in halted and s not in below), default=Decimal(0))
        # whole shares: one lot of the dearest buyable name plus 0.05 % of the value before
        assert ln.satisfied == (cash <= ln.limit + dearest_lot + Decimal("0.0005") * V0), (ln, cash)
    else:
        assert ln.limit is None and ln.satisfied

    to = traded_value / V0
    ln = lines["max_turnover"]
    assert ln.after == pct2(to) and prop.summary.turnover_pct == pct2(to)
    assert ln.satisfied == (traded_value <= Decimal(repr(pol.max_turnover_pct)) * V0)

    ln = lines["max_tracking_error"]
    te0, te1 = te(w0), te(w1)
    assert abs(float(ln.after) - te1 * 100) <= 0.01 + cov_tol * 100, (ln.after, te1)
    assert abs(float(ln.before) - te0 * 100) <= 0.01 + cov_tol * 100
    if abs(te1 - pol.max_tracking_error_pct) > cov_tol:
        assert ln.satisfied == (te1 <= pol.max_tracking_error_pct), (ln, te1)
    assert prop.summary.all_constraints_satisfied == all(c.satisfied for c in prop.constraints)
    return {"te_after": te1, "te_before": te0, "turnover": float(to), "w_after": dict(zip(symbols, w1)),
            "cash_after": cash, "V_after": V1, "V_before": V0, "after_shares": after}


def max_sharpe_oracle(inputs: RebalanceInputs) -> tuple[float, dict[str, float]]:
    """``(Sharpe, weights)`` of the long-only, fully invested max-Sharpe portfolio of the names the policy may
    hold (rated, quality ≥ min, not halted) under its single and sector caps, solved here in plain cvxpy
    (Charnes–Cooper: ``min yᵀΣy`` s.t. ``(μ − rf)ᵀy = 1``, caps scaled by ``Σy``) on moments computed here
    from the price history (simple daily returns, sample mean and covariance, annualised)."""
    import cvxpy as cp

    pol, ann = inputs.policy, inputs.defaults.annualization_factor
    symbols = sorted(
        s for s in set(inputs.benchmark) | set(inputs.holdings)
        if inputs.quality.get(s) is not None and inputs.quality[s] >= pol.min_quality_score
        and inputs.securities[s].status is not SecurityStatus.HALTED
    )
    h = inputs.history.loc[inputs.history.index <= pd.Timestamp(inputs.pack.asof_date), symbols]
    closes = h.iloc[-(inputs.options.lookback_days + 1):].to_numpy(float)
    rets = closes[1:] / closes[:-1] - 1
    mu = rets.mean(axis=0) * ann
    cov = np.atleast_2d(np.cov(rets, rowvar=False)) * ann
    rf = inputs.defaults.risk_free_rate
    y = cp.Variable(len(symbols), nonneg=True)
    kappa = cp.sum(y)
    cons = [(mu - rf) @ y == 1, y <= pol.max_single_position_pct * kappa]
    for sector in sorted({inputs.securities[s].sector for s in symbols}):
        mask = np.array([inputs.securities[s].sector == sector for s in symbols], dtype=float)
        cons.append(mask @ y <= pol.max_sector_pct * kappa)
    cp.Problem(cp.Minimize(cp.quad_form(y, cp.psd_wrap(cov))), cons).solve(solver="CLARABEL")
    w = np.asarray(y.value, float) / float(np.sum(y.value))
    sharpe = float((mu @ w - rf) / np.sqrt(w @ cov @ w))
    return sharpe, dict(zip(symbols, w))
