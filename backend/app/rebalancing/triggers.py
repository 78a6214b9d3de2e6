"""When is a rebalance due, and why: drift (absolute and relative bands), calendar, cash flow.

* drift, absolute: ``|w − t| > drift_abs_band`` on any position (fractions; 0.05 = 5 percentage points);
* drift, relative: ``|w − t| > drift_rel_band · t`` on any position with a target (0.25 = 25 % of target);
* calendar: the pack's date is on or after the session the schedule makes due (closed days roll forward
  on the exchange calendar); a portfolio never rebalanced is due;
* cash flow: uninvested deposits or withdrawals of at least ``cash_flow_min`` (and not zero).

Weights are fractions of the portfolio value (holdings at as-of prices + cash); cash is not a position.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from app.core.decimals import ZERO, money, pct
from app.domain.rebalancing import RebalanceSettings, TriggerCheck, TriggerKind, TriggerReason
from app.rebalancing.calendar import due_session


def check_triggers(
    *,
    settings: RebalanceSettings,
    weights: Mapping[str, Decimal],
    target: Mapping[str, Decimal],
    asof: date,
    last_rebalance: date | None,
    pending_cash_flow: Decimal = ZERO,
) -> TriggerCheck:
    """Whether a rebalance is due on ``asof`` and every reason why (sorted: drift by symbol, calendar, cash).

    ``weights``/``target``: symbol → fraction of 1; ``pending_cash_flow``: currency, + deposit, − withdrawal.
    """
    reasons: list[TriggerReason] = []
    drift: dict[str, Decimal] = {}
    for symbol in sorted(set(weights) | set(target)):
        w, t = weights.get(symbol, ZERO), target.get(symbol, ZERO)
        d = w - t
        drift[symbol] = pct(d)
        band = settings.drift_abs_band
        if band is not None and abs(d) > band:
            reasons.append(TriggerReason(
                kind=TriggerKind.DRIFT_ABSOLUTE, symbol=symbol, value=pct(d), limit=pct(band),
                detail=f"{symbol} weight {pct(w)} % vs target {pct(t)} %: drift {pct(d)} pp beyond ±{pct(band)} pp",
            ))
        rel = settings.drift_rel_band
        if rel is not None and t > 0 and abs(d) > rel * t:
            reasons.append(TriggerReason(
                kind=TriggerKind.DRIFT_RELATIVE, symbol=symbol, value=pct(d / t), limit=pct(rel),
                detail=f"{symbol} drift {pct(d / t)} % of its target {pct(t)} % beyond ±{pct(rel)} %",
            ))
    next_date: date | None = None
    if settings.frequency is not None:
        if last_rebalance is None:
            reasons.append(TriggerReason(kind=TriggerKind.CALENDAR,
                                         detail=f"{settings.frequency} schedule: never rebalanced"))
        else:
            next_date = due_session(last_rebalance, settings.frequency, calendar=settings.calendar)
            if asof >= next_date:
                reasons.append(TriggerReason(
                    kind=TriggerKind.CALENDAR,
                    detail=f"{settings.frequency} schedule: last {last_rebalance.isoformat()}, "
                    f"due on session {next_date.isoformat()}",
                ))
    flow = money(pending_cash_flow)
    if flow != 0 and abs(flow) >= settings.cash_flow_min:
        kind = "deposit" if flow > 0 else "withdrawal"
        reasons.append(TriggerReason(kind=TriggerKind.CASH_FLOW, value=flow, limit=money(settings.cash_flow_min),
                                     detail=f"uninvested {kind} of {abs(flow)}"))
    return TriggerCheck(
        portfolio_id=settings.portfolio_id, asof_date=asof, due=bool(reasons), reasons=tuple(reasons),
        next_calendar_date=next_date, drift_pct=drift,
    )
