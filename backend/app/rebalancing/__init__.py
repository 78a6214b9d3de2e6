"""Rebalancing engine, pure: triggers, exchange calendar, tax lots, harvesting, wash sales, the cost-aware
trade path, the plan and the approval life cycle. No database, no asyncio (see :mod:`app.agents.rebalancing`).
"""

from app.rebalancing.allocation import CASH, allocation_pct
from app.rebalancing.approvals import authorise, check_transition, initial_status
from app.rebalancing.calendar import due_session, is_session, next_session, scheduled_date
from app.rebalancing.harvesting import Harvest, find_harvests
from app.rebalancing.plan import PlanInputs, build_plan, sample_covariance
from app.rebalancing.tax_lots import holding_term, order_lots, realised_gains, sell_from_lots
from app.rebalancing.triggers import check_triggers
from app.rebalancing.wash_sale import WASH_SALE_WINDOW_DAYS, buy_blocked, loss_sale_blocked

__all__ = [
    "CASH",
    "Harvest",
    "PlanInputs",
    "WASH_SALE_WINDOW_DAYS",
    "allocation_pct",
    "authorise",
    "build_plan",
    "buy_blocked",
    "check_transition",
    "check_triggers",
    "due_session",
    "find_harvests",
    "holding_term",
    "initial_status",
    "is_session",
    "loss_sale_blocked",
    "next_session",
    "order_lots",
    "realised_gains",
    "sample_covariance",
    "scheduled_date",
    "sell_from_lots",
]
