"""Rebalancing, pure, and not about making trades: triggers (is a rebalance due, and why), the exchange calendar,
allocations in percent and the approval rules. The trades come from the one trade engine
(:mod:`app.analytics.propose`; tax lots, harvesting and wash sales in :mod:`app.analytics.taxes`).
"""

from app.rebalancing.allocation import CASH, allocation_pct
from app.rebalancing.approvals import check_transition, initial_status
from app.rebalancing.calendar import due_session, is_session, next_session, scheduled_date
from app.rebalancing.triggers import check_triggers

__all__ = [
    "CASH",
    "allocation_pct",
    "check_transition",
    "check_triggers",
    "due_session",
    "initial_status",
    "is_session",
    "next_session",
    "scheduled_date",
]
