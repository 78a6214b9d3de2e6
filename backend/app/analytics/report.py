"""The constraint report: one :class:`ConstraintLine` per structural rule and policy limit, recomputed from
the final whole-share trades (``before``/``after`` :class:`PortfolioMetrics`), never from the solver.

Line names are stable snake_case: ``long_only``, ``no_margin``, ``halted_untouched``,
``no_buys_below_min_quality``, ``forced_exits``, ``max_single_position``, ``max_sector``,
``max_turnover``, ``max_tracking_error``. ``binding``: after within 0.05 percentage points of the limit.
``max_single_position`` / ``max_sector`` allow one indivisible lot over the cap (said in ``detail``).
"""

from __future__ import annotations

import math
from decimal import Decimal

from app.analytics.metrics import PortfolioMetrics
from app.analytics.trade_path import TradePath
from app.analytics.trades import TradeList
from app.analytics.universe import Universe
from app.core.decimals import ZERO, money, pct, to_decimal
from app.domain.enums import TradeAction
from app.domain.models import Policy
from app.domain.proposal import ConstraintLine

BINDING_TOLERANCE = 0.0005  # 0.05 percentage points, as a fraction

STRUCTURAL = ("long_only", "no_margin", "halted_untouched", "no_buys_below_min_quality")
POLICY = ("forced_exits", "max_single_position", "max_sector", "max_turnover", "max_tracking_error")


def _p(x: float | Decimal) -> str:
    return f"{pct(x if isinstance(x, Decimal) else float(x))} %"


def _count(name: str, before: int | None, after: int, detail_if_unmet: str) -> ConstraintLine:
    ok = after == 0
    return ConstraintLine(
        name=name, unit="count", limit=Decimal(0), before=None if before is None else Decimal(before),
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
    lines: list[ConstraintLine] = []
    syms = universe.symbols
    traded = {t.symbol: t for t in trades.trades}
    below = {s for s, q in zip(syms, universe.quality) if q is None or q < policy.min_quality_score}

    neg = [s for s in syms if after.shares[s] < 0]
    lines.append(_count("long_only", sum(1 for s in syms if before.shares[s] < 0), len(neg),
                        "short positions: " + ", ".join(neg)))

    cash_ok = after.cash >= 0
    lines.append(ConstraintLine(
        name="no_margin", unit="money", limit=money(ZERO), before=money(before.cash), after=money(after.cash),
        satisfied=cash_ok, binding=cash_ok and after.cash <= to_decimal(BINDING_TOLERANCE) * after.total,
        detail="" if cash_ok else f"cash after {money(after.cash)} < 0",
    ))

    halted_traded = [s for i, s in enumerate(syms) if universe.halted[i] and s in traded]
    lines.append(_count("halted_untouched", None, len(halted_traded), "halted names traded: " + ", ".join(halted_traded)))

    bad_buys = [s for s, t in traded.items() if t.action is TradeAction.BUY and s in below]
    lines.append(_count(
        "no_buys_below_min_quality", None, len(bad_buys),
        f"bought below min quality {policy.min_quality_score:g}: " + ", ".join(sorted(bad_buys)),
    ))

    held_below_before = [s for s in syms if s in below and before.shares[s] > 0]
    still = [s for s in held_below_before if after.shares[s] > 0]
    why = []
    for s in still:
        i = universe.index(s)
        why.append(f"{s} is halted" if universe.halted[i] else f"{s} not sold")
    lines.append(_count("forced_exits", len(held_below_before), len(still),
                        "still held below min quality: " + "; ".join(why)))

    # single cap: every name's value <= cap x value after, allowing one indivisible lot
    cap = to_decimal(repr(policy.max_single_position_pct))
    over, within_lot = [], []
    for i, s in enumerate(syms):
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
    lines.append(ConstraintLine(
        name="max_single_position", unit="pct", limit=pct(policy.max_single_position_pct), before=pct(max_before),
        after=pct(max_after), satisfied=not over,
        binding=abs(max_after - policy.max_single_position_pct) <= BINDING_TOLERANCE, detail=detail,
    ))

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
        halted_secs = [sec for sec in s_over if (universe.sector_mask(sec) & universe.halted).any()]
        if halted_secs:
            detail += " (halted names cannot be sold)"
    elif s_lot:
        detail = "within one indivisible lot of the cap: " + ", ".join(
            f"{sec} {_p(after.sector_weights[sec])}" for sec in s_lot)
    lines.append(ConstraintLine(
        name="max_sector", unit="pct", limit=pct(policy.max_sector_pct), before=pct(sec_before),
        after=pct(sec_after), satisfied=not s_over,
        binding=abs(sec_after - policy.max_sector_pct) <= BINDING_TOLERANCE, detail=detail,
    ))

    traded_value = sum((t.trade_value for t in trades.trades), ZERO)
    to = traded_value / before.total
    to_limit = to_decimal(repr(policy.max_turnover_pct))
    to_ok = traded_value <= to_limit * before.total
    detail = ""
    if not to_ok:
        detail = f"turnover {_p(to)} > {_p(policy.max_turnover_pct)}: "
        if not path.turnover_limit_met:
            detail += f"forced exits and caps need ≈{_p(path.min_turnover_needed)} (sales plus reinvested proceeds)"
        else:
            detail += "whole-share rounding of the sells"
    lines.append(ConstraintLine(
        name="max_turnover", unit="pct", limit=pct(policy.max_turnover_pct), before=None, after=pct(to),
        satisfied=to_ok, binding=abs(float(to) - policy.max_turnover_pct) <= BINDING_TOLERANCE, detail=detail,
    ))

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
    lines.append(ConstraintLine(
        name="max_tracking_error", unit="pct", limit=pct(te_limit), before=pct(float(before.tracking_error)),
        after=pct(float(after.tracking_error)), satisfied=te_ok,
        binding=abs(after.tracking_error - te_limit) <= BINDING_TOLERANCE, detail=detail,
    ))
    return tuple(lines)
