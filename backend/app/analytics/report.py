"""The constraint report: one :class:`ConstraintLine` per structural rule and policy limit, recomputed from
the final whole-share trades (``before``/``after`` :class:`PortfolioMetrics`), never from the solver.

Line names are stable snake_case, in hierarchy order: ``long_only``, ``no_margin``, ``halted_untouched``,
``no_buys_below_min_quality``, ``forced_exits``, ``max_single_position``, ``max_sector``, ``reinvestment``,
``max_turnover``, ``max_tracking_error``. Every line carries its ``sense``: ``max`` (after ≤ limit) or
``min`` (after ≥ limit; ``no_margin``: cash after ≥ 0). ``binding``: after within 0.05 percentage points of
the limit. ``max_single_position`` / ``max_sector`` allow one indivisible lot over the cap, and
``reinvestment`` (cash after ≤ max(cash before, what the caps leave uninvestable, the cash the target keeps))
whole-share rounding
(:func:`reinvestment_allowance`), each said in ``detail``.
"""

from __future__ import annotations

import math
from decimal import Decimal

from app.analytics.engine import TradePath
from app.analytics.metrics import PortfolioMetrics
from app.analytics.trades import TradeList
from app.analytics.universe import Universe
from app.core.decimals import ZERO, money, pct, to_decimal
from app.domain.enums import TradeAction
from app.domain.models import Policy
from app.domain.proposal import ConstraintLine, ConstraintSense

BINDING_TOLERANCE = 0.0005  # 0.05 percentage points, as a fraction

STRUCTURAL = ("long_only", "no_margin", "halted_untouched", "no_buys_below_min_quality")
POLICY = ("forced_exits", "max_single_position", "max_sector", "reinvestment", "max_turnover",
          "max_tracking_error")

MAX, MIN = ConstraintSense.MAX, ConstraintSense.MIN


def _p(x: float | Decimal) -> str:
    return f"{pct(x if isinstance(x, Decimal) else float(x))} %"


def _count(name: str, before: int | None, after: int, detail_if_unmet: str) -> ConstraintLine:
    ok = after == 0
    return ConstraintLine(
        name=name, sense=MAX, unit="count", limit=Decimal(0), before=None if before is None else Decimal(before),
        after=Decimal(after), satisfied=ok, binding=False, detail="" if ok else detail_if_unmet,
    )


def build_constraint_report(
    *,
    universe: Universe,
    policy: Policy,
    trades: TradeList,
    before: PortfolioMetrics,
    after: PortfolioMetrics,
    path: TradePath,
) -> tuple[ConstraintLine, ...]:
    """Every constraint line, recomputed from share counts, cash and prices (see the module docstring)."""
    traded = {t.symbol: t for t in trades.trades}
    return (
        *_structural(universe, policy, traded, before, after),
        _forced_exits(universe, policy, before, after),
        _single_cap(universe, policy, before, after),
        _sector_cap(universe, policy, before, after),
        _reinvestment(universe, before, after, path),
        _turnover(policy, trades, before, path),
        _tracking_error(policy, before, after, path),
    )


def _below_min_quality(universe: Universe, policy: Policy) -> set[str]:
    return {s for s, q in zip(universe.symbols, universe.quality) if q is None or q < policy.min_quality_score}


def _structural(universe: Universe, policy: Policy, traded: dict, before: PortfolioMetrics,
                after: PortfolioMetrics) -> tuple[ConstraintLine, ...]:
    """Level 1: ``long_only``, ``no_margin`` (cash after ≥ 0, a ``min``), ``halted_untouched``,
    ``no_buys_below_min_quality``."""
    syms = universe.symbols
    neg = [s for s in syms if after.shares[s] < 0]
    long_only = _count("long_only", sum(1 for s in syms if before.shares[s] < 0), len(neg),
                       "short positions: " + ", ".join(neg))
    cash_ok = after.cash >= 0
    no_margin = ConstraintLine(
        name="no_margin", sense=MIN, unit="money", limit=money(ZERO), before=money(before.cash),
        after=money(after.cash), satisfied=cash_ok,
        binding=cash_ok and after.cash <= to_decimal(BINDING_TOLERANCE) * after.total,
        detail="" if cash_ok else f"cash after {money(after.cash)} < 0",
    )
    halted_traded = [s for i, s in enumerate(syms) if universe.halted[i] and s in traded]
    halted = _count("halted_untouched", None, len(halted_traded), "halted names traded: " + ", ".join(halted_traded))
    below = _below_min_quality(universe, policy)
    bad_buys = [s for s, t in traded.items() if t.action is TradeAction.BUY and s in below]
    no_bad_buys = _count(
        "no_buys_below_min_quality", None, len(bad_buys),
        f"bought below min quality {policy.min_quality_score:g}: " + ", ".join(sorted(bad_buys)),
    )
    return long_only, no_margin, halted, no_bad_buys


def _forced_exits(universe: Universe, policy: Policy, before: PortfolioMetrics,
                  after: PortfolioMetrics) -> ConstraintLine:
    """Level 2: holdings below ``min_quality_score`` still held after (count, ``max`` 0)."""
    below = _below_min_quality(universe, policy)
    held_below_before = [s for s in universe.symbols if s in below and before.shares[s] > 0]
    still = [s for s in held_below_before if after.shares[s] > 0]
    why = [f"{s} is halted" if universe.halted[universe.index(s)] else f"{s} not sold" for s in still]
    return _count("forced_exits", len(held_below_before), len(still), "still held below min quality: " + "; ".join(why))


def _single_cap(universe: Universe, policy: Policy, before: PortfolioMetrics,
                after: PortfolioMetrics) -> ConstraintLine:
    """Level 3: every name's value ≤ cap × value after, allowing one indivisible lot."""
    cap = to_decimal(repr(policy.max_single_position_pct))
    over, within_lot = [], []
    for i, s in enumerate(universe.symbols):
        v = after.values[s]
        if v > cap * after.total:
            lot_value = universe.lot_sizes[i] * universe.prices[i]
            (within_lot if v - lot_value < cap * after.total else over).append(s)
    max_before = max((float(w) for w in before.weights), default=0.0)
    max_after = max((float(w) for w in after.weights), default=0.0)
    detail = ""
    if over:
        detail = "over the cap: " + ", ".join(
            f"{s} {_p(after.weights[universe.index(s)])}"
            + (" (halted)" if universe.halted[universe.index(s)] else "") for s in over
        )
    elif within_lot:
        detail = "within one indivisible lot of the cap: " + ", ".join(
            f"{s} {_p(after.weights[universe.index(s)])}" for s in within_lot
        )
    return ConstraintLine(
        name="max_single_position", sense=MAX, unit="pct", limit=pct(policy.max_single_position_pct),
        before=pct(max_before), after=pct(max_after), satisfied=not over,
        binding=abs(max_after - policy.max_single_position_pct) <= BINDING_TOLERANCE, detail=detail,
    )


def _sector_cap(universe: Universe, policy: Policy, before: PortfolioMetrics,
                after: PortfolioMetrics) -> ConstraintLine:
    """Level 3: every sector's value ≤ sector cap × value after, allowing its biggest lot."""
    syms = universe.symbols
    scap = to_decimal(repr(policy.max_sector_pct))
    s_over, s_lot = [], []
    for sec in universe.sector_names:
        names = [s for s, ss in zip(syms, universe.sectors) if ss == sec]
        v = sum((after.values[s] for s in names), ZERO)
        if v > scap * after.total:
            biggest_lot = max(universe.lot_sizes[universe.index(s)] * universe.prices[universe.index(s)] for s in names)
            (s_lot if v - biggest_lot < scap * after.total else s_over).append(sec)
    sec_before = max(before.sector_weights.values(), default=0.0)
    sec_after = max(after.sector_weights.values(), default=0.0)
    detail = ""
    if s_over:
        detail = "over the cap: " + ", ".join(f"{sec} {_p(after.sector_weights[sec])}" for sec in s_over)
        if any((universe.sector_mask(sec) & universe.halted).any() for sec in s_over):
            detail += " (halted names cannot be sold)"
    elif s_lot:
        detail = "within one indivisible lot of the cap: " + ", ".join(
            f"{sec} {_p(after.sector_weights[sec])}" for sec in s_lot)
    return ConstraintLine(
        name="max_sector", sense=MAX, unit="pct", limit=pct(policy.max_sector_pct), before=pct(sec_before),
        after=pct(sec_after), satisfied=not s_over,
        binding=abs(sec_after - policy.max_sector_pct) <= BINDING_TOLERANCE, detail=detail,
    )


def reinvestment_limit(universe: Universe, target_cash: float = 0.0) -> Decimal:
    """The most cash the reinvestment rule leaves after trading (currency, cents): ``max(cash before, (1 −
    capacity) × value before, target_cash × value before)`` — the part the caps leave uninvestable, or the
    cash the target itself holds (``target_cash``: fraction)."""
    uninvestable = to_decimal(repr(max(1.0 - float(universe.capacity), 0.0))) * universe.value
    kept_by_target = to_decimal(repr(max(float(target_cash), 0.0))) * universe.value
    return money(max(universe.cash, uninvestable, kept_by_target))


def reinvestment_allowance(universe: Universe) -> Decimal:
    """What whole shares may leave over :func:`reinvestment_limit` (currency): one lot of the dearest buyable
    name plus 0.05 % of the value before (the commission reserve the path keeps for names it does not trade,
    and lots a binding turnover limit leaves unbought)."""
    lots = [universe.lot_sizes[i] * universe.prices[i] for i in range(universe.n) if universe.buyable[i]]
    return max(lots, default=ZERO) + to_decimal(BINDING_TOLERANCE) * universe.value


def _reinvestment(universe: Universe, before: PortfolioMetrics, after: PortfolioMetrics,
                  path: TradePath) -> ConstraintLine:
    """Level 4: cash after ≤ :func:`reinvestment_limit` (``max``, money), allowing
    :func:`reinvestment_allowance`; switched off by ``reinvest_proceeds: false`` (then no limit, always satisfied)."""
    cash_after = money(after.cash)
    if not path.reinvest_proceeds:
        return ConstraintLine(
            name="reinvestment", sense=MAX, unit="money", limit=None, before=money(before.cash), after=cash_after,
            satisfied=True, binding=False,
            detail="switched off (reinvest_proceeds: false): sale proceeds may stay cash",
        )
    limit = reinvestment_limit(universe, path.target_cash)
    ok = cash_after <= limit + reinvestment_allowance(universe)
    detail = ""
    if not ok:
        detail = f"cash after {cash_after} > {limit}: sale proceeds not reinvested"
        if path.reinvestment_dropped:
            detail += " (reinvesting them is infeasible under the caps and halted names)"
    elif cash_after > limit:
        detail = f"within whole-share rounding of the limit: cash after {cash_after}"
    return ConstraintLine(
        name="reinvestment", sense=MAX, unit="money", limit=limit, before=money(before.cash), after=cash_after,
        satisfied=ok, binding=ok and cash_after >= limit - to_decimal(BINDING_TOLERANCE) * after.total,
        detail=detail,
    )


def _turnover(policy: Policy, trades: TradeList, before: PortfolioMetrics, path: TradePath) -> ConstraintLine:
    """Level 5: Σ|trade value| / value before ≤ ``max_turnover_pct``; when the higher levels need more, the
    detail splits it into the sales they need and what reinvesting the proceeds adds (from the trades)."""
    sold = sum((t.trade_value for t in trades.trades if t.action is TradeAction.SELL), ZERO)
    bought = sum((t.trade_value for t in trades.trades if t.action is TradeAction.BUY), ZERO)
    to = (sold + bought) / before.total
    to_limit = to_decimal(repr(policy.max_turnover_pct))
    to_ok = sold + bought <= to_limit * before.total
    detail = ""
    if not to_ok:
        detail = f"turnover {_p(to)} > {_p(policy.max_turnover_pct)}: "
        if not path.turnover_limit_met:
            detail += f"forced exits and caps need {_p(sold / before.total)} in sales"
            if bought > 0:
                reinvesting = path.reinvest_proceeds and not path.reinvestment_dropped
                detail += (f"; reinvesting the proceeds adds {_p(bought / before.total)}" if reinvesting
                           else f"; buys add {_p(bought / before.total)}")
        else:
            detail += "whole-share rounding of the sells"
    return ConstraintLine(
        name="max_turnover", sense=MAX, unit="pct", limit=pct(policy.max_turnover_pct), before=None, after=pct(to),
        satisfied=to_ok, binding=abs(float(to) - policy.max_turnover_pct) <= BINDING_TOLERANCE, detail=detail,
    )


def _tracking_error(policy: Policy, before: PortfolioMetrics, after: PortfolioMetrics,
                    path: TradePath) -> ConstraintLine:
    """Level 6: ex-ante TE to the benchmark after ≤ ``max_tracking_error_pct`` (annual, the run's Σ)."""
    te_limit = policy.max_tracking_error_pct
    te_ok = after.tracking_error <= te_limit
    detail = ""
    if not te_ok:
        detail = f"TE {_p(after.tracking_error)} > {_p(te_limit)}: "
        need = path.turnover_needed_for_te
        if path.te_limit_met:
            detail += "whole-share rounding"
        elif need is None or math.isinf(need):
            lowest = path.te_min_unbounded
            detail += "not reachable under the caps at any turnover" + (
                f" (lowest {_p(lowest)})" if lowest is not None else "")
        else:
            detail += f"needs ≈{pct(need).quantize(Decimal(1))} % turnover"
    return ConstraintLine(
        name="max_tracking_error", sense=MAX, unit="pct", limit=pct(te_limit), before=pct(float(before.tracking_error)),
        after=pct(float(after.tracking_error)), satisfied=te_ok,
        binding=abs(after.tracking_error - te_limit) <= BINDING_TOLERANCE, detail=detail,
    )
