"""Whole-share building: sells, buys, the rounding fix-up, the top-up and the tax lots each sell takes."""

from app.analytics.trades.build import build_trades
from app.analytics.trades.lines import CostModel, TradeLine, TradeList, TradeReason
from app.analytics.trades.lots import assign_lots, lot_order, sell_tax

__all__ = ["CostModel", "TradeLine", "TradeList", "TradeReason", "assign_lots", "build_trades", "lot_order",
           "sell_tax"]
