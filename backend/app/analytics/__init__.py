"""Pure analytics: returns → risk model → target → trade path → whole-share trades → metrics → report.

Importing this package is cheap: Riskfolio-Lib and cvxpy are imported inside the functions that use them.
"""

from app.analytics.engine import TradePath, solve_trade_path
from app.analytics.estimators import RiskModel, estimate_risk_model
from app.analytics.inputs import RebalanceInputs, RebalanceOptions
from app.analytics.metrics import (
    PortfolioMetrics,
    average_quality,
    expected_return,
    portfolio_metrics,
    sharpe_ratio,
    tracking_error,
    turnover,
    volatility,
)
from app.analytics.propose import build_proposal, build_proposal_timed, proposal_id_for
from app.analytics.report import build_constraint_report
from app.analytics.returns import daily_returns
from app.analytics.riskfolio_map import RISKFOLIO_CODES, riskfolio_code
from app.analytics.target import TargetWeights, solve_target
from app.analytics.trades import TradeLine, TradeList, TradeReason, build_trades
from app.analytics.universe import Universe, build_universe

__all__ = [
    "PortfolioMetrics",
    "RISKFOLIO_CODES",
    "RebalanceInputs",
    "RebalanceOptions",
    "RiskModel",
    "TargetWeights",
    "TradeLine",
    "TradeList",
    "TradePath",
    "TradeReason",
    "Universe",
    "average_quality",
    "build_constraint_report",
    "build_proposal",
    "build_proposal_timed",
    "build_trades",
    "build_universe",
    "daily_returns",
    "estimate_risk_model",
    "expected_return",
    "portfolio_metrics",
    "proposal_id_for",
    "riskfolio_code",
    "sharpe_ratio",
    "solve_target",
    "solve_trade_path",
    "tracking_error",
    "turnover",
    "volatility",
]
