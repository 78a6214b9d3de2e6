"""Seeding: read and validate ``data/SEEDS/`` and write it idempotently; import price CSVs as sealed packs."""

from app.seeding.loader import PackData, SeedBundle, load_seed_bundle
from app.seeding.packs import import_pack
from app.seeding.prices_csv import read_price_csv
from app.seeding.seed import SeedReport, TableCounts, apply_seed_bundle, run_seed, seed_database

__all__ = [
    "PackData",
    "SeedBundle",
    "SeedReport",
    "TableCounts",
    "apply_seed_bundle",
    "import_pack",
    "load_seed_bundle",
    "read_price_csv",
    "run_seed",
    "seed_database",
]
