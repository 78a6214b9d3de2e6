"""One rebalance, pure: targets + holdings + lots + prices → a :class:`RebalancePlan` (whole-share trades).

Steps (deterministic, symbol order everywhere):

1. the trade date is the pack's date when the exchange is open, else the next session (``market_open``
   false: the proposal is marked for that session); lots' terms and the wash-sale window use it;
2. not buyable: restricted symbols, halted securities (also never sold: weight frozen), wash-sale buys;
3. tax-loss harvests (:mod:`app.analytics.taxes.harvesting`): their lots are sold, the substitute takes the
   symbol's target;
4. withdrawals waiting to be paid become a cash reserve; targets apply to the value left after it;
5. the cost-aware QP (:mod:`app.rebalancing.cost_aware`) gives buys and sells; sells are rounded up to
   the lot, buys down;
6. trades below ``min_trade_value`` and trades whose benefit (the fall in λ·TE² in currency) is below
   their cost (commission + impact + tax) are skipped, then the ``max_trades`` best are kept; skipping never
   touches harvests or the sells a withdrawal needs;
7. sells come first; buys are scaled to the cash the sells leave (after costs and the reserve): cash never
   goes negative, nothing is shorted;
8. sold shares are assigned to lots (HIFO by default; FIFO or specific lots selectable); realised gains and
   tax are exact to the cent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from app.core.decimals import ZERO, floor_to_lot, money, pct, to_decimal, trade_cost
from app.core.errors import InputError
from app.domain.canonical import sha256_hex
from app.domain.enums import SecurityStatus, TradeAction
from app.domain.models import Security
from app.domain.rebalancing import (
    LotMethod,
    LotSale,
    PlannedTrade,
    RebalancePlan,
    RebalanceSettings,
    TaxLot,
    TradePurpose,
    Transaction,
    TriggerReason,
)
from app.rebalancing.allocation import CASH, allocation_pct
from app.rebalancing.approvals import initial_status
from app.rebalancing.calendar import next_session
from app.rebalancing.cost_aware import LotSlice, solve_trade_weights, te_squared
from app.analytics.taxes.harvesting import find_harvests
from app.analytics.taxes.lots import marginal_tax_rate, realised_gains, sell_from_lots
from app.analytics.taxes.wash_sale import buy_blocked, loss_sale_blocked

ENGINE_VERSION = "rebalancing-1"
ANNUALIZATION = 252
#: annual variance used per name when no covariance is given (20 % volatility, no correlation)
DEFAULT_ANNUAL_VARIANCE = 0.04


@dataclass(frozen=True)
class PlanInputs:
    """Everything one rebalance needs. Weights are fractions of 1; money and shares Decimal.

    * ``target``: symbol → fraction (the rest is cash); ``holdings``: symbol → shares; ``cash``: currency;
    * ``prices``: as-of price per symbol (every target and held symbol, and every substitute);
    * ``cov``: daily covariance (DataFrame over symbols) or None (see DEFAULT_ANNUAL_VARIANCE);
    * ``pending_cash_flow``: uninvested flows, + deposit (already in ``cash``), − withdrawal (to be raised);
    * ``specific_lots``: symbol → lot ids, used when ``settings.lot_method`` is SPECIFIC.
    """

    portfolio_id: str
    pricing_pack_id: str
    asof: date
    settings: RebalanceSettings
    target: Mapping[str, Decimal]
    target_id: str
    holdings: Mapping[str, Decimal]
    cash: Decimal
    prices: Mapping[str, Decimal]
    securities: Mapping[str, Security]
    lots: Sequence[TaxLot] = ()
    transactions: Sequence[Transaction] = ()
    restricted: frozenset[str] = frozenset()
    pending_cash_flow: Decimal = ZERO
    triggers: Sequence[TriggerReason] = ()
    cov: pd.DataFrame | None = None
    specific_lots: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def hashed(self) -> dict:
        return {
            "engine": ENGINE_VERSION, "portfolio_id": self.portfolio_id, "pack": self.pricing_pack_id,
            "asof": self.asof, "settings": self.settings.model_dump(mode="json"), "target": dict(self.target),
            "target_id": self.target_id, "holdings": dict(self.holdings), "cash": self.cash,
            "prices": dict(self.prices), "lots": [l.model_dump(mode="json") for l in self.lots],
            "transactions": [t.model_dump(mode="json") for t in self.transactions],
            "restricted": sorted(self.restricted), "flow": self.pending_cash_flow,
            "triggers": [t.model_dump(mode="json") for t in self.triggers],
            "cov": None if self.cov is None else np.round(self.cov.to_numpy(dtype=float), 14).tolist(),
            "specific": {k: list(v) for k, v in self.specific_lots.items()},
        }


@dataclass
class _Trade:
    symbol: str
    action: TradeAction
    qty: Decimal
    purpose: TradePurpose
    required: bool = False


def _ceil_lot(shares: Decimal, lot: Decimal) -> Decimal:
    return (shares / lot).to_integral_value(rounding=ROUND_CEILING) * lot


def _dec(x: float) -> Decimal:
    return to_decimal(float(x))


def build_plan(inputs: PlanInputs) -> RebalancePlan:
    """The rebalance proposal for ``inputs`` (see the module docstring)."""
    st = inputs.settings
    warnings: list[str] = []
    skipped: list[str] = []
    trade_date = next_session(inputs.asof, calendar=st.calendar)
    market_open = trade_date == inputs.asof
    if not market_open:
        warnings.append(f"market closed on {inputs.asof.isoformat()}: proposal marked for the next session "
                        f"{trade_date.isoformat()}")
    held = {s: to_decimal(q) for s, q in inputs.holdings.items() if to_decimal(q) > 0}
    target = {s: to_decimal(w) for s, w in inputs.target.items() if to_decimal(w) > 0}
    if sum(target.values(), ZERO) > Decimal("1.000001"):
        raise InputError(f"target weights sum to {sum(target.values(), ZERO)} > 1")
    substitutes = {k: v for k, v in st.substitutes.items()}

    def status_of(s: str) -> SecurityStatus:
        sec = inputs.securities.get(s)
        return sec.status if sec is not None else SecurityStatus.ACTIVE

    def lot_of(s: str) -> Decimal:
        sec = inputs.securities.get(s)
        return sec.lot_size if sec is not None else Decimal(1)

    halted = {s for s in set(held) | set(target) | set(substitutes.values()) if status_of(s) is SecurityStatus.HALTED}
    not_buyable: dict[str, str] = {}
    for s in sorted(inputs.restricted):
        not_buyable[s] = f"{s}: restricted for this account, never bought"
    for s in sorted(halted):
        not_buyable.setdefault(s, f"{s}: halted, weight frozen (no trade)")
    for s in sorted(set(target) | set(substitutes.values())):
        why = buy_blocked(s, on=trade_date, transactions=inputs.transactions)
        if why:
            not_buyable.setdefault(s, why)

    # ---- harvests -------------------------------------------------------------------------------------
    lots_by: dict[str, list[TaxLot]] = {}
    for lot in inputs.lots:
        lots_by.setdefault(lot.symbol, []).append(lot)
    harvests, notes = find_harvests(
        lots=[l for l in inputs.lots if l.symbol not in halted], prices=inputs.prices,
        threshold=st.harvest_threshold, substitutes=substitutes, sale_date=trade_date,
        transactions=inputs.transactions, not_buyable=set(not_buyable),
    )
    skipped.extend(str(n) for n in notes)
    harvest_lots: dict[str, set[str]] = {}
    for h in harvests:
        harvest_lots[h.symbol] = {l.lot_id for l in h.lots}
        target[h.substitute] = target.get(h.substitute, ZERO) + target.pop(h.symbol, ZERO)
        not_buyable.setdefault(h.symbol, f"{h.symbol}: harvested at a loss, not bought back (wash sale)")

    symbols = sorted(set(held) | set(target))
    skipped.extend(not_buyable[s] for s in symbols if s in not_buyable and s not in halted and s in target)
    missing = [s for s in symbols if s not in inputs.prices or to_decimal(inputs.prices[s]) <= 0]
    if missing:
        raise InputError(f"prices: no as-of price for {', '.join(missing)}")
    price = {s: to_decimal(inputs.prices[s]) for s in symbols}
    shares = {s: held.get(s, ZERO) for s in symbols}
    cash = to_decimal(inputs.cash)
    value = sum((shares[s] * price[s] for s in symbols), ZERO) + cash
    if value <= 0:
        raise InputError("portfolio value (holdings at as-of prices + cash) is zero: nothing to rebalance")
    reserve = max(-money(inputs.pending_cash_flow), ZERO)

    # lots reconciled with holdings: shares without lots get a zero-gain lot (cost basis = price)
    for s in symbols:
        in_lots = sum((l.quantity for l in lots_by.get(s, [])), ZERO)
        if shares[s] > in_lots:
            lots_by.setdefault(s, []).append(TaxLot(
                lot_id=f"{s}-untracked", symbol=s, quantity=shares[s] - in_lots, cost_basis=price[s], acquired=trade_date))
            if in_lots > 0:
                warnings.append(f"{s}: {shares[s] - in_lots} shares have no tax lot; cost basis taken at the price")
        elif in_lots > shares[s]:
            warnings.append(f"{s}: lots hold {in_lots} shares but the position is {shares[s]}; sales capped")

    # loss lots that a wash sale forbids selling
    blocked_lots: set[str] = set()
    for s in symbols:
        if s in harvest_lots:
            continue
        losers = [l for l in lots_by.get(s, []) if l.cost_basis > price[s]]
        if losers and loss_sale_blocked(s, on=trade_date, transactions=inputs.transactions,
                                        lots=[l for l in lots_by.get(s, []) if l.cost_basis <= price[s]]):
            blocked_lots |= {l.lot_id for l in losers}
            skipped.append(f"{s}: {len(losers)} loss lot(s) not sold (wash sale: bought within 31 days)")

    # ---- the QP ---------------------------------------------------------------------------------------
    V = float(value)
    investable = (value - reserve) / value if value > reserve else ZERO
    w0 = np.array([float(shares[s] * price[s] / value) for s in symbols])
    t = np.array([float(target.get(s, ZERO) * investable) for s in symbols])
    cov_annual = _cov_annual(inputs.cov, symbols)
    kappa = float(st.market_impact_bps) / 1e4
    slices: list[list[LotSlice]] = []
    slice_lots: list[list[TaxLot]] = []
    for s in symbols:
        usable = [l for l in lots_by.get(s, []) if l.lot_id not in blocked_lots]
        usable = sorted(usable, key=lambda l: l.lot_id)
        slice_lots.append(usable)
        slices.append([
            LotSlice(cap=float(l.quantity * price[s]) / V,
                     tax=float(marginal_tax_rate(l, price=price[s], sale_date=trade_date, rates=st.tax_rates)),
                     forced=l.lot_id in harvest_lots.get(s, set()))
            for l in usable
        ])
    frozen = np.array([s in halted for s in symbols])
    buyable = np.array([s not in not_buyable for s in symbols])
    max_cash = float(cash) / V + sum(sl.cap for i, row in enumerate(slices) if not frozen[i] for sl in row) * (1 - kappa)
    reserve_f = float(reserve) / V
    if reserve_f > max_cash:
        warnings.append(f"withdrawal of {reserve} cannot be raised in full (halted or blocked holdings)")
        reserve_f = max_cash * (1 - 1e-9)
    path = solve_trade_weights(
        w0=w0, target=t, cov_annual=cov_annual, lots=slices, buyable=buyable, frozen=frozen,
        cash0=float(cash) / V, reserve=reserve_f, impact=kappa, te_lambda=float(st.te_penalty_lambda),
    )

    # ---- whole shares ---------------------------------------------------------------------------------
    trades: dict[str, _Trade] = {}
    sellable = {s: min(shares[s], sum((l.quantity for l in slice_lots[i]), ZERO)) for i, s in enumerate(symbols)}
    for i, s in enumerate(symbols):
        if frozen[i]:
            continue
        forced_qty = sum((l.quantity for l in slice_lots[i] if l.lot_id in harvest_lots.get(s, set())), ZERO)
        if path.sell[i] * V > 1e-6 * V or forced_qty > 0:
            qty = _ceil_lot(_dec(path.sell[i] * V) / price[s], lot_of(s)) if path.sell[i] * V > 1e-6 * V else ZERO
            qty = min(max(qty, forced_qty), sellable[s])
            if qty > 0:
                purpose = TradePurpose.HARVEST if forced_qty > 0 else TradePurpose.REBALANCE
                trades[s] = _Trade(s, TradeAction.SELL, qty, purpose, required=forced_qty > 0)
        elif path.buy[i] * V > 1e-6 * V and buyable[i]:
            qty = floor_to_lot(_dec(path.buy[i] * V) / price[s], lot_of(s))
            if qty > 0:
                is_sub = s in {h.substitute for h in harvests}
                purpose = TradePurpose.HARVEST_SUBSTITUTE if is_sub else TradePurpose.REBALANCE
                trades[s] = _Trade(s, TradeAction.BUY, qty, purpose)

    def sales_of(tr: _Trade) -> tuple[LotSale, ...]:
        i = symbols.index(tr.symbol)
        usable = slice_lots[i]
        if tr.purpose is TradePurpose.HARVEST:
            first = [l for l in usable if l.lot_id in harvest_lots[tr.symbol]]
            rest = [l for l in usable if l.lot_id not in harvest_lots[tr.symbol]]
            spec = [l.lot_id for l in sorted(first, key=lambda l: l.lot_id)]
            if rest:
                spec += [l.lot_id for l in _ordered(rest, st, tr.symbol, price[tr.symbol], trade_date, inputs)]
            return sell_from_lots(usable, tr.qty, price=price[tr.symbol], sale_date=trade_date,
                                  method=LotMethod.SPECIFIC, specific=spec)
        spec = [l.lot_id for l in _ordered(usable, st, tr.symbol, price[tr.symbol], trade_date, inputs)]
        return sell_from_lots(usable, tr.qty, price=price[tr.symbol], sale_date=trade_date,
                              method=LotMethod.SPECIFIC, specific=spec)

    def costs(tr: _Trade) -> tuple[Decimal, Decimal, Decimal]:
        return trade_cost(money(tr.qty * price[tr.symbol]), commission_per_trade=st.commission_per_trade,
                          market_impact_bps=st.market_impact_bps)

    def cash_after(ts: Mapping[str, _Trade], *, buys: bool = True) -> Decimal:
        c = cash
        for tr in ts.values():
            v = money(tr.qty * price[tr.symbol])
            if tr.action is TradeAction.SELL:
                c += v - costs(tr)[2]
            elif buys:
                c -= v + costs(tr)[2]
        return c

    def weights_of(ts: Mapping[str, _Trade]) -> np.ndarray:
        after = dict(shares)
        for tr in ts.values():
            after[tr.symbol] += tr.qty if tr.action is TradeAction.BUY else -tr.qty
        return np.array([float(after[s] * price[s] / value) for s in symbols])

    lam = float(st.te_penalty_lambda)

    def penalty(ts: Mapping[str, _Trade]) -> float:
        return lam * te_squared(weights_of(ts), t, cov_annual) * V

    def tax_cost(tr: _Trade) -> Decimal:
        if tr.action is not TradeAction.SELL:
            return ZERO
        g = realised_gains(sales_of(tr), st.tax_rates)
        return g.tax_total

    def net_benefit(ts: Mapping[str, _Trade], s: str) -> float:
        without = {k: v for k, v in ts.items() if k != s}
        benefit = penalty(without) - penalty(ts)
        return benefit - float(costs(ts[s])[2] + tax_cost(ts[s]))

    def can_drop(ts: Mapping[str, _Trade], s: str) -> bool:
        tr = ts[s]
        if tr.required:
            return False
        if tr.action is TradeAction.SELL and reserve > 0:
            without = {k: v for k, v in ts.items() if k != s}
            return cash_after(without, buys=False) >= reserve
        return True

    # (6) skip small trades, then trades not worth their cost, then keep the best max_trades
    for s in sorted(trades):
        v = money(trades[s].qty * price[s])
        if v < st.min_trade_value and can_drop(trades, s):
            skipped.append(f"{s}: {trades[s].action.value.lower()} {trades[s].qty} worth {v} < min trade value "
                           f"{money(st.min_trade_value)}")
            del trades[s]
    while True:
        scored = sorted(((net_benefit(trades, s), s) for s in trades if can_drop(trades, s)))
        if not scored or scored[0][0] >= 0:
            break
        nb, s = scored[0]
        skipped.append(f"{s}: {trades[s].action.value.lower()} {trades[s].qty} skipped: benefit below its cost "
                       f"(net {money(_dec(nb))})")
        del trades[s]
    if st.max_trades is not None and len(trades) > st.max_trades:
        fixed = [s for s in trades if not can_drop(trades, s)]
        ranked = sorted((s for s in trades if s not in fixed), key=lambda s: (-net_benefit(trades, s), s))
        keep = set(fixed) | set(ranked[: max(st.max_trades - len(fixed), 0)])
        for s in sorted(set(trades) - keep):
            skipped.append(f"{s}: {trades[s].action.value.lower()} {trades[s].qty} skipped: max_trades {st.max_trades}")
            del trades[s]

    # (7) buys scaled to the cash the sells leave, after costs and the reserve
    available = cash_after(trades, buys=False) - reserve
    buy_syms = sorted(s for s in trades if trades[s].action is TradeAction.BUY)
    needed = sum((money(trades[s].qty * price[s]) + costs(trades[s])[2] for s in buy_syms), ZERO)
    if buy_syms and needed > available:
        factor = max(available, ZERO) / needed
        warnings.append(f"insufficient cash: buys need {needed}, {money(max(available, ZERO))} available after "
                        f"sells; buys scaled by {factor:.4f}")
        for s in buy_syms:
            trades[s].qty = floor_to_lot(trades[s].qty * factor, lot_of(s))
        for s in reversed(buy_syms):
            while trades[s].qty > 0 and cash_after(trades) - reserve < 0:
                trades[s].qty -= lot_of(s)
        for s in buy_syms:
            if trades[s].qty <= 0:
                skipped.append(f"{s}: buy dropped: no cash left")
                del trades[s]
            elif money(trades[s].qty * price[s]) < st.min_trade_value:
                skipped.append(f"{s}: buy scaled below min trade value {money(st.min_trade_value)}")
                del trades[s]

    # ---- the plan ------------------------------------------------------------------------------------
    planned: list[PlannedTrade] = []
    all_sales: list[LotSale] = []
    order = sorted(trades.values(), key=lambda tr: (tr.action is TradeAction.BUY, tr.symbol))  # sells first
    for tr in order:
        c, i, total = costs(tr)
        sales = sales_of(tr) if tr.action is TradeAction.SELL else ()
        all_sales.extend(sales)
        g = realised_gains(sales, st.tax_rates)
        planned.append(PlannedTrade(
            symbol=tr.symbol, action=tr.action, current_shares=shares[tr.symbol], quantity=tr.qty,
            price=price[tr.symbol], trade_value=money(tr.qty * price[tr.symbol]), commission=c, market_impact=i,
            estimated_cost=total, purpose=tr.purpose, rationale=_rationale(tr, target, symbols, w0, t),
            lots=sales, realised_gain_short=g.short_term, realised_gain_long=g.long_term,
        ))
    cash_end = money(cash_after(trades))
    if cash_end < 0:  # pragma: no cover - guarded above
        raise InputError("internal: cash would go negative")
    after_shares = dict(shares)
    for tr in trades.values():
        after_shares[tr.symbol] += tr.qty if tr.action is TradeAction.BUY else -tr.qty
    before_vals = {**{s: shares[s] * price[s] for s in symbols}, CASH: cash}
    after_vals = {**{s: after_shares[s] * price[s] for s in symbols}, CASH: cash_end}
    w_after = weights_of(trades)
    total_value = sum((p.trade_value for p in planned), ZERO)
    realised = realised_gains(all_sales, st.tax_rates)
    target_pct = allocation_pct({**{s: target.get(s, ZERO) for s in symbols},
                                 CASH: max(Decimal(1) - sum(target.values(), ZERO), ZERO)})
    return RebalancePlan(
        plan_id=sha256_hex(inputs.hashed()), portfolio_id=inputs.portfolio_id, pricing_pack_id=inputs.pricing_pack_id,
        asof_date=inputs.asof, execute_on=trade_date, market_open=market_open, target_source=st.target_source,
        target_id=inputs.target_id, triggers=tuple(inputs.triggers), trades=tuple(planned),
        before_pct=allocation_pct(before_vals), after_pct=allocation_pct(after_vals), target_pct=target_pct,
        portfolio_value=money(value), cash_before=money(cash), cash_after=cash_end, cash_reserved=reserve,
        total_trade_value=total_value, total_cost=sum((p.estimated_cost for p in planned), ZERO), realised=realised,
        te_before_pct=pct(math.sqrt(max(te_squared(w0, t, cov_annual), 0.0))),
        te_after_pct=pct(math.sqrt(max(te_squared(w_after, t, cov_annual), 0.0))),
        status=initial_status(total_value, st.approval_threshold),
        warnings=tuple(warnings + [not_buyable[s] for s in symbols if s in halted]),
        skipped=tuple(skipped),
    )


def _ordered(lots: list[TaxLot], st: RebalanceSettings, symbol: str, price: Decimal, day: date,
             inputs: PlanInputs) -> list[TaxLot]:
    from app.analytics.taxes.lots import order_lots

    if st.lot_method is LotMethod.SPECIFIC:
        named = [i for i in inputs.specific_lots.get(symbol, ()) if any(l.lot_id == i for l in lots)]
        first = order_lots(lots, method=LotMethod.SPECIFIC, price=price, sale_date=day, specific=named) if named else []
        rest = order_lots([l for l in lots if l.lot_id not in set(named)], method=LotMethod.HIFO, price=price,
                          sale_date=day)
        return first + rest
    return order_lots(lots, method=st.lot_method, price=price, sale_date=day)


def _rationale(tr: _Trade, target: Mapping[str, Decimal], symbols: list[str], w0: np.ndarray, t: np.ndarray) -> str:
    i = symbols.index(tr.symbol)
    if tr.purpose is TradePurpose.HARVEST:
        return f"tax-loss harvest: lots under water beyond the threshold; weight {pct(w0[i])} %"
    if tr.purpose is TradePurpose.HARVEST_SUBSTITUTE:
        return f"substitute for a harvested position; target {pct(t[i])} %"
    return f"toward target: weight {pct(w0[i])} % vs target {pct(t[i])} %"


def _cov_annual(cov: pd.DataFrame | None, symbols: list[str]) -> np.ndarray:
    if cov is None:
        return np.eye(len(symbols)) * DEFAULT_ANNUAL_VARIANCE
    missing = [s for s in symbols if s not in cov.index]
    if missing:
        raise InputError(f"covariance: no row for {', '.join(missing)}")
    return cov.loc[symbols, symbols].to_numpy(dtype=float) * ANNUALIZATION


def sample_covariance(history: pd.DataFrame, *, lookback_days: int = 252, min_days: int = 20) -> pd.DataFrame | None:
    """Daily sample covariance of simple returns over the last ``lookback_days`` (a small ridge keeps it PD);
    None when fewer than ``min_days`` returns exist (the plan then uses DEFAULT_ANNUAL_VARIANCE)."""
    returns = history.sort_index().pct_change().dropna(how="all").tail(lookback_days).fillna(0.0)
    if len(returns) < min_days:
        return None
    cov = returns.cov()
    ridge = 1e-8 * float(np.trace(cov.to_numpy())) / max(len(cov), 1)
    return cov + np.eye(len(cov)) * ridge
