"""Pure analytics: returns → risk model → target → trade path → whole-share trades → metrics → report.

Importing this package is cheap: Riskfolio-Lib and cvxpy are imported inside the functions that use them.
"""

from app.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "app.analytics.engine": (
            "TradePath",
            "solve_trade_path",
        ),
        "app.analytics.estimators": (
            "RiskModel",
            "estimate_risk_model",
        ),
        "app.analytics.inputs": (
            "RebalanceInputs",
            "RebalanceOptions",
        ),
        "app.analytics.metrics": (
            "PortfolioMetrics",
            "average_quality",
            "expected_return",
            "portfolio_metrics",
            "sharpe_ratio",
            "tracking_error",
            "turnover",
            "volatility",
        ),
        "app.analytics.propose": (
            "build_proposal",
            "build_proposal_timed",
            "proposal_id_for",
        ),
        "app.analytics.report": ("build_constraint_report",),
        "app.analytics.returns": ("daily_returns",),
        "app.analytics.riskfolio_map": (
            "RISKFOLIO_CODES",
            "riskfolio_code",
        ),
        "app.analytics.target": (
            "TargetWeights",
            "solve_target",
        ),
        "app.analytics.trades": (
            "TradeLine",
            "TradeList",
            "TradeReason",
            "build_trades",
        ),
        "app.analytics.universe": (
            "Universe",
            "build_universe",
        ),
    },
)
