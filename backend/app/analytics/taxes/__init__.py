"""Taxes of one rebalance, pure: tax lots (which lots a sale takes, realised gains, tax), wash sales and
tax-loss harvesting. No database; dates are the trade date the caller gives."""

from app.analytics.taxes.harvesting import Harvest, find_harvests, loss_fraction
from app.analytics.taxes.lots import (
    anniversary,
    holding_term,
    marginal_tax_rate,
    order_lots,
    realised_gains,
    sale_of_lot,
    sell_from_lots,
)
from app.analytics.taxes.wash_sale import WASH_SALE_WINDOW_DAYS, buy_blocked, loss_sale_blocked, within_window

__all__ = [
    "Harvest",
    "WASH_SALE_WINDOW_DAYS",
    "anniversary",
    "buy_blocked",
    "find_harvests",
    "holding_term",
    "loss_fraction",
    "loss_sale_blocked",
    "marginal_tax_rate",
    "order_lots",
    "realised_gains",
    "sale_of_lot",
    "sell_from_lots",
    "within_window",
]
