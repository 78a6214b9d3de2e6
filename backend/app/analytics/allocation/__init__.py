"""Allocation models: how a target portfolio is built from a risk model.

``optimize_portfolio(risk_model=..., spec=OptimizationSpec(model=..., ...)) -> OptimizationResult`` and
``efficient_frontier(risk_model=..., spec=...) -> Frontier``. Importing this package is cheap: Riskfolio-Lib,
cvxpy and matplotlib are imported inside the functions that use them.
"""

from app.analytics.allocation.black_litterman import Posterior, black_litterman_posterior
from app.analytics.allocation.evaluate import WeightsEvaluation, evaluate_weights, weight_turnover
from app.analytics.allocation.frontier import Frontier, FrontierPoint, efficient_frontier
from app.analytics.allocation.optimize import optimize_portfolio
from app.analytics.allocation.plot import plot_frontier
from app.analytics.allocation.result import ConstraintCheck, OptimizationResult
from app.analytics.allocation.spec import GroupCap, OptimizationSpec, View, group_caps

__all__ = [
    "ConstraintCheck",
    "Frontier",
    "FrontierPoint",
    "GroupCap",
    "OptimizationResult",
    "OptimizationSpec",
    "Posterior",
    "View",
    "WeightsEvaluation",
    "black_litterman_posterior",
    "efficient_frontier",
    "evaluate_weights",
    "group_caps",
    "optimize_portfolio",
    "plot_frontier",
    "weight_turnover",
]
