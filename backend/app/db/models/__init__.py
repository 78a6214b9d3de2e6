"""ORM rows (SQLAlchemy 2.0 typed mappings), one module per concern. Repositories turn them into ``app.domain``
models. Importing this package registers every table on ``Base.metadata`` (Alembic's ``env.py`` relies on it).

Column precisions (``DecimalType(precision, scale)``), all exact:

* prices and cost bases ``(20, 6)``; shares and lot sizes ``(24, 8)``; cash and money ``(20, 4)``;
* benchmark and model weights ``(20, 12)`` (fractions of 1); quality scores ``(6, 3)`` (0-10);
* ``risk_free_rate`` ``(12, 8)`` (annual fraction), ``market_impact_bps`` ``(12, 4)``.

The schema itself is created by the Alembic migrations in ``app/db/migrations`` (never by
``create_all``); a test checks that migrations and these models agree.
"""

from app.db.base import utcnow
from app.db.models.identity import ApiTokenRow, PortfolioRoleRow, UserRow
from app.db.models.ledger import CashFlowRow, PortfolioTransactionRow, TaxLotRow
from app.db.models.market import (
    BenchmarkRow,
    BenchmarkWeightRow,
    PackPriceRow,
    PricingPackRow,
    QualityRatingRow,
    SecurityRow,
)
from app.db.models.notification import NotificationOutboxRow
from app.db.models.policy import ConstraintDefaultsRow, OptimizerPolicyRow
from app.db.models.portfolio import HoldingRow, PortfolioRow
from app.db.models.proposal import (
    ApprovalRefusalRow,
    ProposalFillRow,
    ProposalRequestRow,
    ProposalTransitionRow,
    RebalanceProposalRow,
    RebalanceRunRow,
)
from app.db.models.rebalancing import (
    ModelPortfolioRow,
    ModelWeightRow,
    RebalanceSettingsRow,
    RestrictedSymbolRow,
)
from app.db.models.service import (
    EfficientFrontierRequestRow,
    EfficientFrontierResultRow,
    EfficientFrontierRow,
    OptimizationRequestRow,
    OptimizationResultRow,
    PortfolioOptimizationRow,
    RebalancePlanRow,
    RebalanceRequestRow,
    RebalanceResultRow,
)

__all__ = [
    "ApiTokenRow",
    "ApprovalRefusalRow",
    "BenchmarkRow",
    "BenchmarkWeightRow",
    "CashFlowRow",
    "ConstraintDefaultsRow",
    "EfficientFrontierRequestRow",
    "EfficientFrontierResultRow",
    "EfficientFrontierRow",
    "HoldingRow",
    "ModelPortfolioRow",
    "ModelWeightRow",
    "NotificationOutboxRow",
    "OptimizationRequestRow",
    "OptimizationResultRow",
    "OptimizerPolicyRow",
    "PackPriceRow",
    "PortfolioOptimizationRow",
    "PortfolioRoleRow",
    "PortfolioRow",
    "PortfolioTransactionRow",
    "PricingPackRow",
    "ProposalFillRow",
    "ProposalRequestRow",
    "ProposalTransitionRow",
    "QualityRatingRow",
    "RebalancePlanRow",
    "RebalanceProposalRow",
    "RebalanceRequestRow",
    "RebalanceResultRow",
    "RebalanceRunRow",
    "RebalanceSettingsRow",
    "RestrictedSymbolRow",
    "SecurityRow",
    "TaxLotRow",
    "UserRow",
    "utcnow",
]
