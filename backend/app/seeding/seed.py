"""Write a validated seed bundle in one transaction: idempotent upserts, policy versions, sealed packs.

* Reference rows (securities, ratings, benchmarks, portfolios, constraint defaults) are upserted by key;
  a seeded benchmark's weights and a seeded portfolio's holdings become exactly what the file says.
  Rows the files do not mention are left alone.
* The command line's built-in identity ``local`` (an admin) holds ``owner`` on every seeded portfolio.
* Policies keep history: a template whose values differ from its newest stored version is stored as
  version N+1; older versions stay (proposals name the version they used). A template with an explicit
  ``version`` must match that stored version or be a new, higher one.
* A pricing pack is created, filled (bulk insert) and sealed. Re-seeding a sealed pack with the same
  content is "unchanged"; with different content it is a :class:`SealedPackConflictError` and nothing at
  all is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.errors import SealedPackConflictError, SeedFileError
from app.core.logging import get_logger
from app.db.engine import database_errors, make_engine, make_session_factory, serialize_writes
from app.db.migrate import upgrade_to_head
from app.db.models import (
    BenchmarkRow,
    BenchmarkWeightRow,
    ConstraintDefaultsRow,
    HoldingRow,
    OptimizerPolicyRow,
    PackPriceRow,
    PortfolioRow,
    PricingPackRow,
    QualityRatingRow,
    SecurityRow,
)
from app.db.repositories import LIMIT_FIELDS, PolicyRepository, PricingPackRepository, policy_content_hash
from app.db.repositories.constraint_defaults import DEFAULT_ID
from app.domain import Policy
from app.seeding.loader import PackData, SeedBundle, load_seed_bundle

log = get_logger("app.seeding")

#: tables in the order they are written and reported
SEEDED_TABLES: tuple[str, ...] = (
    "securities",
    "quality_ratings",
    "benchmarks",
    "benchmark_weights",
    "portfolios",
    "holdings",
    "portfolio_roles",
    "optimizer_policies",
    "constraint_defaults",
    "pricing_packs",
    "pack_prices",
)


@dataclass
class TableCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted)


@dataclass
class SeedReport:
    """What a seed run did, per table. ``lines()`` is what ``scripts/seed.py`` / ``dawsos seed`` print."""

    seeds_dir: Path
    tables: dict[str, TableCounts] = field(default_factory=lambda: {t: TableCounts() for t in SEEDED_TABLES})

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.tables.values())

    def totals(self) -> TableCounts:
        total = TableCounts()
        for c in self.tables.values():
            total.inserted += c.inserted
            total.updated += c.updated
            total.unchanged += c.unchanged
            total.deleted += c.deleted
        return total

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            name: {
                "inserted": c.inserted,
                "updated": c.updated,
                "unchanged": c.unchanged,
                "deleted": c.deleted,
            }
            for name, c in self.tables.items()
        }

    def lines(self) -> list[str]:
        width = max(len(t) for t in self.tables)
        out = [f"seeded from {self.seeds_dir}"]
        for name, c in self.tables.items():
            deleted = f"  deleted {c.deleted:>5}" if c.deleted else ""
            out.append(
                f"  {name:<{width}}  inserted {c.inserted:>5}  updated {c.updated:>5}  "
                f"unchanged {c.unchanged:>5}{deleted}"
            )
        if not self.changed:
            out.append(f"nothing changed ({self.totals().unchanged} rows already up to date)")
        return out


async def _sync_rows(
    session: AsyncSession,
    model: type[Any],
    key: tuple[str, ...],
    wanted: Iterable[Mapping[str, Any]],
    counts: TableCounts,
    *,
    scope: ColumnElement[bool] | None = None,
    delete_missing: bool = False,
) -> None:
    """Insert, update or leave each wanted row (compared by value); optionally delete rows in ``scope``
    that are not wanted."""
    stmt = select(model) if scope is None else select(model).where(scope)
    existing = {tuple(getattr(row, k) for k in key): row for row in await session.scalars(stmt)}
    seen: set[tuple[Any, ...]] = set()
    for values in wanted:
        k = tuple(values[f] for f in key)
        seen.add(k)
        row = existing.get(k)
        if row is None:
            session.add(model(**values))
            counts.inserted += 1
            continue
        changes = {f: v for f, v in values.items() if getattr(row, f) != v}
        if changes:
            for f, v in changes.items():
                setattr(row, f, v)
            counts.updated += 1
        else:
            counts.unchanged += 1
    if delete_missing:
        for k, row in existing.items():
            if k not in seen:
                await session.delete(row)
                counts.deleted += 1
    await session.flush()


async def _seed_reference(session: AsyncSession, bundle: SeedBundle, report: SeedReport) -> None:
    """Securities, ratings, benchmarks, portfolios and cost defaults, in dependency order."""
    await _seed_securities(session, bundle, report.tables)
    await _seed_benchmarks(session, bundle, report.tables)
    await _seed_portfolios(session, bundle, report.tables)
    await _seed_local_owner(session, [p.id for p in bundle.portfolios.portfolios], report.tables["portfolio_roles"])


async def _seed_securities(session: AsyncSession, bundle: SeedBundle, t: dict[str, TableCounts]) -> None:
    """Securities and their quality ratings."""
    await _sync_rows(
        session,
        SecurityRow,
        ("symbol",),
        (
            {
                "symbol": s.symbol,
                "name": s.name,
                "sector": s.sector,
                "asset_class": s.asset_class,
                "currency": s.currency,
                "lot_size": s.lot_size,
                "status": s.status.value,
            }
            for s in bundle.securities.securities
        ),
        t["securities"],
    )
    ratings = bundle.quality_ratings
    await _sync_rows(
        session,
        QualityRatingRow,
        ("symbol", "asof_date"),
        (
            {
                "symbol": r.symbol,
                "asof_date": r.asof_date or ratings.asof_date,
                "score": r.score,
                "source": r.source if r.source is not None else ratings.source,
            }
            for r in ratings.ratings
        ),
        t["quality_ratings"],
    )


async def _seed_benchmarks(session: AsyncSession, bundle: SeedBundle, t: dict[str, TableCounts]) -> None:
    """Benchmarks and their weights (weights no longer in the file are deleted)."""
    benchmarks = bundle.benchmarks.benchmarks
    await _sync_rows(
        session,
        BenchmarkRow,
        ("id",),
        ({"id": b.id, "name": b.name, "note": b.note} for b in benchmarks),
        t["benchmarks"],
    )
    await _sync_rows(
        session,
        BenchmarkWeightRow,
        ("benchmark_id", "symbol"),
        ({"benchmark_id": b.id, "symbol": s, "weight": w} for b in benchmarks for s, w in b.weights.items()),
        t["benchmark_weights"],
        scope=BenchmarkWeightRow.benchmark_id.in_([b.id for b in benchmarks]),
        delete_missing=True,
    )


async def _seed_local_owner(session: AsyncSession, portfolio_ids: list[str], counts: TableCounts) -> None:
    """``local`` (made an admin when missing) owns every seeded portfolio (a lower role there is raised)."""
    from app.db.repositories.identity import IdentityRepository
    from app.domain.identity import LOCAL_USER, Role

    repo = IdentityRepository(session)
    await repo.ensure_user(LOCAL_USER, is_admin=True)
    for portfolio_id in portfolio_ids:
        held = await repo.role(portfolio_id, LOCAL_USER)
        if held is Role.OWNER:
            counts.unchanged += 1
            continue
        await repo.grant(portfolio_id, LOCAL_USER, Role.OWNER, granted_by="seed")
        if held is None:
            counts.inserted += 1
        else:
            counts.updated += 1


async def _seed_portfolios(session: AsyncSession, bundle: SeedBundle, t: dict[str, TableCounts]) -> None:
    """Portfolios and their holdings (holdings no longer in the file are deleted) and the cost defaults."""
    portfolios = bundle.portfolios.portfolios
    await _sync_rows(
        session,
        PortfolioRow,
        ("id",),
        (
            {
                "id": p.id,
                "name": p.name,
                "cash": p.cash,
                "base_currency": p.base_currency,
                "benchmark_id": p.benchmark_id,
            }
            for p in portfolios
        ),
        t["portfolios"],
    )
    await _sync_rows(
        session,
        HoldingRow,
        ("portfolio_id", "symbol"),
        (
            {"portfolio_id": p.id, "symbol": h.symbol, "shares": h.shares}
            for p in portfolios
            for h in p.holdings
        ),
        t["holdings"],
        scope=HoldingRow.portfolio_id.in_([p.id for p in portfolios]),
        delete_missing=True,
    )
    d = bundle.constraint_defaults
    await _sync_rows(
        session,
        ConstraintDefaultsRow,
        ("id",),
        [
            {
                "id": DEFAULT_ID,
                "commission_per_trade": d.commission_per_trade,
                "market_impact_bps": d.market_impact_bps,
                "min_trade_value": d.min_trade_value,
                "risk_free_rate": d.risk_free_rate,
                "annualization_factor": d.annualization_factor,
            }
        ],
        t["constraint_defaults"],
    )


async def _seed_policies(session: AsyncSession, bundle: SeedBundle, counts: TableCounts) -> None:
    repo = PolicyRepository(session)
    for i, tpl in enumerate(bundle.policies.policies):
        constraints = {k: float(getattr(tpl, k)) for k in LIMIT_FIELDS}
        content_hash = policy_content_hash(tpl.id, tpl.name, tpl.method_version, constraints)
        stored = {
            row.version: row.content_hash
            for row in await session.scalars(
                select(OptimizerPolicyRow).where(OptimizerPolicyRow.policy_id == tpl.id)
            )
        }
        latest = max(stored, default=0)
        if tpl.version is not None:
            if tpl.version in stored:
                if stored[tpl.version] != content_hash:
                    raise SeedFileError(
                        "policy_templates.json",
                        f"policies[{i}].version",
                        f"version {tpl.version} of {tpl.id!r} is already stored with different values; "
                        f"versions are immutable: use version {latest + 1} or drop 'version'",
                        tpl.version,
                    )
                counts.unchanged += 1
                continue
            if tpl.version < latest:
                raise SeedFileError(
                    "policy_templates.json",
                    f"policies[{i}].version",
                    f"{tpl.id!r} is already at version {latest}; a new version must be higher",
                    tpl.version,
                )
            version = tpl.version
        elif latest and stored[latest] == content_hash:
            counts.unchanged += 1
            continue
        else:
            version = latest + 1
        await repo.add_version(
            Policy(
                id=tpl.id, name=tpl.name, method_version=tpl.method_version, version=version, **constraints
            )
        )
        counts.inserted += 1
        log.info("seed.policy.version_added", policy_id=tpl.id, version=version)


async def _seed_pack(session: AsyncSession, pack: PackData, report: SeedReport) -> None:
    packs, prices = report.tables["pricing_packs"], report.tables["pack_prices"]
    n_cells = pack.prices.size
    repo = PricingPackRepository(session)
    row = await session.get(PricingPackRow, pack.seed.id)
    if row is not None and row.sealed:
        if row.content_hash != pack.content_hash or row.asof_date != pack.seed.asof_date:
            raise SealedPackConflictError(
                pack.seed.id, stored_hash=row.content_hash, new_hash=pack.content_hash, source=pack.file
            )
        if row.source != pack.seed.source:
            row.source = pack.seed.source
            packs.updated += 1
        else:
            packs.unchanged += 1
        prices.unchanged += n_cells
        return
    if row is None:
        await repo.create(pack.seed.id, asof_date=pack.seed.asof_date, source=pack.seed.source)
        packs.inserted += 1
    else:  # left unsealed by someone else: the seed file is the truth, replace its prices
        removed = await session.execute(delete(PackPriceRow).where(PackPriceRow.pack_id == pack.seed.id))
        prices.deleted += removed.rowcount or 0
        row.asof_date, row.source = pack.seed.asof_date, pack.seed.source
        packs.updated += 1
    prices.inserted += await repo.add_prices(pack.seed.id, pack.prices)
    sealed = await repo.seal(pack.seed.id)
    if sealed.content_hash != pack.content_hash:  # the database changed what we wrote: never seal silently
        raise RuntimeError(f"pricing pack {pack.seed.id!r}: stored prices hash differently from {pack.file}")


async def apply_seed_bundle(
    session_factory: async_sessionmaker[AsyncSession], bundle: SeedBundle
) -> SeedReport:
    """Write a validated bundle in ONE transaction (any failure rolls everything back)."""
    report = SeedReport(seeds_dir=bundle.seeds_dir)
    async with session_factory() as session, session.begin():
        await serialize_writes(session)  # two first-time seeds at once: the second sees the first's rows
        await _seed_reference(session, bundle, report)
        await _seed_policies(session, bundle, report.tables["optimizer_policies"])
        await session.flush()
        for pack in bundle.packs:
            await _seed_pack(session, pack, report)
    log.info("seed.completed", changed=report.changed, tables=report.as_dict())
    return report


async def run_seed(session_factory: async_sessionmaker[AsyncSession], seeds_dir: Path) -> SeedReport:
    """Validate every file in ``seeds_dir`` (nothing written on any error), then write them in one
    transaction. Idempotent: a second run reports every row unchanged."""
    return await apply_seed_bundle(session_factory, load_seed_bundle(Path(seeds_dir)))


async def seed_database(database_url: str, seeds_dir: Path, *, echo: bool = False) -> SeedReport:
    """What ``scripts/seed.py`` and ``dawsos seed`` do: validate the seeds, upgrade the schema to head,
    seed. The seed files are validated before the database is touched."""
    bundle = load_seed_bundle(Path(seeds_dir))
    engine = make_engine(database_url, echo=echo, create=True)
    try:
        async with database_errors(engine):
            await upgrade_to_head(engine)
        return await apply_seed_bundle(make_session_factory(engine), bundle)
    finally:
        await engine.dispose()
