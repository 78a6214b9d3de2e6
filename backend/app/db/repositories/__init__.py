"""Repositories: thin, one per aggregate; each receives an ``AsyncSession`` and returns domain models.

They never commit: the caller owns the unit of work (``async with session_factory.begin() as s: ...``).
"""

from app.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "app.db.repositories.benchmarks": ("BenchmarkRepository",),
        "app.db.repositories.constraint_defaults": ("ConstraintDefaultsRepository",),
        "app.db.repositories.packs": (
            "PricingPackRepository",
            "frame_rows",
            "pack_content_hash",
        ),
        "app.db.repositories.policies": (
            "LIMIT_FIELDS",
            "PolicyRepository",
            "policy_content_hash",
        ),
        "app.db.repositories.portfolios": ("PortfolioRepository",),
        "app.db.repositories.proposals": ("ProposalRepository",),
        "app.db.repositories.securities": ("SecurityRepository",),
    },
)
