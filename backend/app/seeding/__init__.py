"""Seeding: read and validate ``data/SEEDS/`` and write it idempotently; import price CSVs as sealed packs."""

from app.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "app.seeding.loader": (
            "PackData",
            "SeedBundle",
            "load_seed_bundle",
        ),
        "app.seeding.packs": ("import_pack",),
        "app.seeding.prices_csv": ("read_price_csv",),
        "app.seeding.seed": (
            "SeedReport",
            "TableCounts",
            "apply_seed_bundle",
            "run_seed",
            "seed_database",
        ),
    },
)
