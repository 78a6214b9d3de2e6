"""Domain models: the public surface notebooks and the CLI may use."""

from app.domain.canonical import canonical_json, sha256_hex
from app.domain.enums import (
    CovEstimator,
    MeanEstimator,
    Model,
    Objective,
    ObjectiveMode,
    RiskMeasure,
    SecurityStatus,
    TradeAction,
)
from app.domain.impact import ImpactAnalysis, ImpactTrade, LimitCheck, PortfolioSnapshot, TradeInput
from app.domain.models import (
    Benchmark,
    ConstraintDefaults,
    Holding,
    Policy,
    Portfolio,
    Price,
    PricingPack,
    QualityRating,
    Security,
)
from app.domain.proposal import (
    ConstraintLine,
    ConstraintSense,
    ProposalSummary,
    ProposedTrade,
    RebalanceProposal,
    compare_proposals,
)

__all__ = [
    "Benchmark",
    "ConstraintLine",
    "ConstraintDefaults",
    "ConstraintSense",
    "CovEstimator",
    "Holding",
    "ImpactAnalysis",
    "ImpactTrade",
    "LimitCheck",
    "MeanEstimator",
    "Model",
    "Objective",
    "ObjectiveMode",
    "Policy",
    "Portfolio",
    "PortfolioSnapshot",
    "ProposalSummary",
    "ProposedTrade",
    "Price",
    "PricingPack",
    "QualityRating",
    "RebalanceProposal",
    "RiskMeasure",
    "Security",
    "SecurityStatus",
    "TradeAction",
    "TradeInput",
    "canonical_json",
    "compare_proposals",
    "sha256_hex",
]
