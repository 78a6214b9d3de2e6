"""Rebalancing, pure: triggers, exchange calendar, the cost-aware plan and the approval life cycle (tax lots,
harvesting and wash sales are in :mod:`app.analytics.taxes`). No database, no asyncio (see :mod:`app.agents.rebalancing`).
"""

from app.rebalancing.allocation import CASH, allocation_pct
from app.rebalancing.approvals import authorise, check_transition, initial_status
from app.rebalancing.calendar import due_session, is_session, next_session, scheduled_date
from app.rebalancing.plan import PlanInputs, build_plan, sample_covariance
from app.rebalancing.triggers import check_triggers

__all__ = [
    "CASH",
    "PlanInputs",
    "allocation_pct",
    "authorise",
    "build_plan",
    "check_transition",
    "check_triggers",
    "due_session",
    "initial_status",
    "is_session",
    "next_session",
    "sample_covariance",
    "scheduled_date",
]
