"""Repositories: thin, one per aggregate; each receives an ``AsyncSession`` and returns domain models.

They never commit: the caller owns the unit of work (``async with session_factory.begin() as s: ...``).
"""

from app.db.repositories.benchmarks import BenchmarkRepository
from app.db.repositories.constraint_defaults import ConstraintDefaultsRepository
from app.db.repositories.packs import PricingPackRepository, frame_rows, pack_content_hash
from app.db.repositories.policies import LIMIT_FIELDS, PolicyRepository, policy_content_hash
from app.db.repositories.portfolios import PortfolioRepository
from app.db.repositories.proposals import ProposalRepository
from app.db.repositories.securities import SecurityRepository

__all__ = [
    "LIMIT_FIELDS",
    "BenchmarkRepository",
    "ConstraintDefaultsRepository",
    "PolicyRepository",
    "PortfolioRepository",
    "PricingPackRepository",
    "ProposalRepository",
    "SecurityRepository",
    "frame_rows",
    "pack_content_hash",
    "policy_content_hash",
]
