"""Read and validate every seed file before anything is written.

Every problem becomes one :class:`~app.core.errors.SeedFileError` (or
:class:`~app.core.errors.PriceFileError` for a price CSV) whose one-line message names the file, the JSON
path (``policies[1].max_sector_pct``) and the bad value. Cross-file rules are checked here too: every
symbol named by ratings, benchmarks, holdings and price files is a known security; benchmark weights sum
to 1; portfolios name known benchmarks; a pack's as-of date is a date of its price file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from app.core.errors import PriceFileError, SeedFileError
from app.db.repositories.packs import frame_rows, pack_content_hash
from app.seeding.json_files import read_json, validate
from app.seeding.prices_csv import read_price_csv
from app.seeding.schemas import (
    SEED_FILES,
    BenchmarksFile,
    ConstraintDefaultsFile,
    PolicyTemplatesFile,
    PortfoliosFile,
    PricingPackSeed,
    PricingPacksFile,
    QualityRatingsFile,
    SecuritiesFile,
)

#: benchmark weights must sum to 1 within this
WEIGHT_SUM_TOLERANCE = Decimal("0.000001")


@dataclass(frozen=True)
class PackData:
    """A pricing pack seed with its validated price table (Decimal closes) and content hash."""

    seed: PricingPackSeed
    file: str
    prices: pd.DataFrame
    content_hash: str


@dataclass(frozen=True)
class SeedBundle:
    """Every seed file, validated, ready to be written in one transaction."""

    seeds_dir: Path
    securities: SecuritiesFile
    quality_ratings: QualityRatingsFile
    benchmarks: BenchmarksFile
    portfolios: PortfoliosFile
    policies: PolicyTemplatesFile
    constraint_defaults: ConstraintDefaultsFile
    pricing_packs: PricingPacksFile
    packs: tuple[PackData, ...]


def _duplicates(file: str, items: Iterable[tuple[str, str]]) -> None:
    """``items``: (json path, key); the second occurrence of a key is an error."""
    seen: set[str] = set()
    for path, key in items:
        if key in seen:
            raise SeedFileError(file, path, "duplicate entry", key)
        seen.add(key)


def _known(file: str, path: str, symbol: str, known: set[str]) -> None:
    if symbol not in known:
        raise SeedFileError(file, path, "unknown symbol (not in securities.json)", symbol)


def _load_pack(seeds_dir: Path, i: int, seed: PricingPackSeed, known: set[str]) -> PackData:
    file = Path(seed.prices_csv).as_posix()
    csv_path = (seeds_dir / seed.prices_csv).resolve()
    if not csv_path.is_file():
        raise SeedFileError(
            "pricing_packs.json", f"pricing_packs[{i}].prices_csv", "file not found", seed.prices_csv
        )
    prices = read_price_csv(csv_path, source_name=file)
    for column, symbol in enumerate(prices.columns, start=2):
        if symbol not in known:
            raise PriceFileError(
                file, f"row 1 column {column}", "unknown symbol (not in securities.json)", symbol
            )
    asof = pd.Timestamp(seed.asof_date)
    if asof not in prices.index:
        raise SeedFileError(
            "pricing_packs.json",
            f"pricing_packs[{i}].asof_date",
            f"not a date of {file} (it runs {prices.index[0].date()} .. {prices.index[-1].date()})",
            seed.asof_date.isoformat(),
        )
    return PackData(seed=seed, file=file, prices=prices, content_hash=pack_content_hash(frame_rows(prices)))


def load_seed_bundle(seeds_dir: Path) -> SeedBundle:
    """Read and validate every seed file (and every price CSV) in ``seeds_dir``; writes nothing."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise SeedFileError(str(seeds_dir), "", "seed folder not found")
    parsed: dict[str, Any] = {}
    for name, model in SEED_FILES.items():
        parsed[name] = validate(model, read_json(seeds_dir / name, name), name)

    securities: SecuritiesFile = parsed["securities.json"]
    _duplicates(
        "securities.json",
        ((f"securities[{i}].symbol", s.symbol) for i, s in enumerate(securities.securities)),
    )
    known = {s.symbol for s in securities.securities}

    ratings: QualityRatingsFile = parsed["quality_ratings.json"]
    _check_ratings(ratings, known)
    benchmarks: BenchmarksFile = parsed["benchmarks.json"]
    _check_benchmarks(benchmarks, known)
    portfolios: PortfoliosFile = parsed["portfolios.json"]
    _check_portfolios(portfolios, known, {b.id for b in benchmarks.benchmarks})

    policies: PolicyTemplatesFile = parsed["policy_templates.json"]
    _duplicates(
        "policy_templates.json", ((f"policies[{i}].id", p.id) for i, p in enumerate(policies.policies))
    )

    packs_file: PricingPacksFile = parsed["pricing_packs.json"]
    _duplicates(
        "pricing_packs.json",
        ((f"pricing_packs[{i}].id", p.id) for i, p in enumerate(packs_file.pricing_packs)),
    )
    packs = tuple(_load_pack(seeds_dir, i, seed, known) for i, seed in enumerate(packs_file.pricing_packs))

    return SeedBundle(
        seeds_dir=seeds_dir,
        securities=securities,
        quality_ratings=ratings,
        benchmarks=benchmarks,
        portfolios=portfolios,
        policies=policies,
        constraint_defaults=parsed["constraint_defaults.json"],
        pricing_packs=packs_file,
        packs=packs,
    )


def _check_ratings(ratings: QualityRatingsFile, known: set[str]) -> None:
    """One rating per symbol and date, each for a known security."""
    _duplicates(
        "quality_ratings.json",
        (
            (f"ratings[{i}].symbol", f"{r.symbol}@{r.asof_date or ratings.asof_date}")
            for i, r in enumerate(ratings.ratings)
        ),
    )
    for i, r in enumerate(ratings.ratings):
        _known("quality_ratings.json", f"ratings[{i}].symbol", r.symbol, known)


def _check_benchmarks(benchmarks: BenchmarksFile, known: set[str]) -> None:
    """Unique ids; weights over known securities summing to 1 (within WEIGHT_SUM_TOLERANCE)."""
    _duplicates(
        "benchmarks.json", ((f"benchmarks[{i}].id", b.id) for i, b in enumerate(benchmarks.benchmarks))
    )
    for i, b in enumerate(benchmarks.benchmarks):
        for symbol in b.weights:
            _known("benchmarks.json", f"benchmarks[{i}].weights.{symbol}", symbol, known)
        total = sum(b.weights.values(), Decimal(0))
        if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
            raise SeedFileError(
                "benchmarks.json", f"benchmarks[{i}].weights", "weights must sum to 1", str(total)
            )


def _check_portfolios(portfolios: PortfoliosFile, known: set[str], benchmark_ids: set[str]) -> None:
    """Unique ids, known benchmarks, one holding per known symbol."""
    _duplicates(
        "portfolios.json", ((f"portfolios[{i}].id", p.id) for i, p in enumerate(portfolios.portfolios))
    )
    for i, p in enumerate(portfolios.portfolios):
        if p.benchmark_id is not None and p.benchmark_id not in benchmark_ids:
            raise SeedFileError(
                "portfolios.json",
                f"portfolios[{i}].benchmark_id",
                "unknown benchmark (not in benchmarks.json)",
                p.benchmark_id,
            )
        _duplicates(
            "portfolios.json",
            ((f"portfolios[{i}].holdings[{j}].symbol", h.symbol) for j, h in enumerate(p.holdings)),
        )
        for j, h in enumerate(p.holdings):
            _known("portfolios.json", f"portfolios[{i}].holdings[{j}].symbol", h.symbol, known)


def bundle_from_documents(
    *, seeds_dir: Path, documents: dict[str, Any], prices: pd.DataFrame, source: str
) -> SeedBundle:
    """A bundle of ONE pricing pack built from in-memory documents (scenario files, benchmarks).

    ``documents`` holds the parsed content of every name in ``SEED_FILES`` ("securities.json", ...);
    each is validated by the same model as the seed file, with ``source`` naming it in errors.
    ``prices`` is the pack's validated Decimal table (``read_price_csv``).
    """
    missing = sorted(set(SEED_FILES) - set(documents))
    if missing:
        raise SeedFileError(source, "", f"missing documents: {', '.join(missing)}")
    parsed = {name: validate(model, documents[name], source) for name, model in SEED_FILES.items()}
    packs_file: PricingPacksFile = parsed["pricing_packs.json"]
    if len(packs_file.pricing_packs) != 1:
        raise SeedFileError(source, "pricing_packs", "exactly one pricing pack expected")
    return SeedBundle(
        seeds_dir=seeds_dir,
        securities=parsed["securities.json"],
        quality_ratings=parsed["quality_ratings.json"],
        benchmarks=parsed["benchmarks.json"],
        portfolios=parsed["portfolios.json"],
        policies=parsed["policy_templates.json"],
        constraint_defaults=parsed["constraint_defaults.json"],
        pricing_packs=packs_file,
        packs=(
            PackData(
                seed=packs_file.pricing_packs[0], file=source, prices=prices,
                content_hash=pack_content_hash(frame_rows(prices)),
            ),
        ),
    )
