"""Domain models: the public surface notebooks and the CLI may use."""

from app.domain.enums import (
    CovEstimator,
    MeanEstimator,
    Model,
    Objective,
    RiskMeasure,
    SecurityStatus,
    TradeAction,
)
from app.domain.canonical import canonical_json, sha256_hex
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
from app.domain.proposal import ConstraintLine, ProposalSummary, ProposedTrade, RebalanceProposal

__all__ = [
    "Benchmark",
    "ConstraintLine",
    "ConstraintDefaults",
    "CovEstimator",
    "Holding",
    "MeanEstimator",
    "Model",
    "Objective",
    "Policy",
    "Portfolio",
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
    "canonical_json",
    "sha256_hex",
]
