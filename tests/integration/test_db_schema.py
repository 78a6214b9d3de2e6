"""Schema from migrations: matches the ORM models, downgrades cleanly, stores Decimals exactly on both dialects."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.base import Base
from app.db.migrate import current_revision, downgrade_to, head_revision, upgrade_to_head
from app.db.models import (
    HoldingRow,
    PackPriceRow,
    PortfolioRow,
    PricingPackRow,
    SecurityRow,
)

TABLES = {
    "securities",
    "quality_ratings",
    "pricing_packs",
    "pack_prices",
    "benchmarks",
    "benchmark_weights",
    "portfolios",
    "holdings",
    "optimizer_policies",
    "constraint_defaults",
    "rebalance_proposals",
    "proposal_requests",
    # 0002_rebalancing
    "rebalance_settings",
    "restricted_symbols",
    "model_portfolios",
    "model_weights",
    "tax_lots",
    "portfolio_transactions",
    "cash_flows",
    "rebalance_runs",
    "proposal_transitions",
    "approval_refusals",
    "notification_outbox",
    # 0004_one_proposal_lifecycle
    "proposal_fills",
    "users",
    # 0005_identity (portfolio_approvers moved into portfolio_roles)
    "api_tokens",
    "portfolio_roles",
    # 0006_service (seed 003's CQRS tables)
    "optimization_requests",
    "optimization_results",
    "efficient_frontier_requests",
    "efficient_frontier_results",
    "rebalance_requests",
    "rebalance_results",
    "portfolio_optimizations",
    "efficient_frontiers",
    "rebalance_plans",
}


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_migrations_create_exactly_the_models(migrated_engine: AsyncEngine) -> None:
    assert await current_revision(migrated_engine) == head_revision() == "0006_service"
    assert await _tables(migrated_engine) == TABLES | {"alembic_version"}

    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with migrated_engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_upgrade_is_idempotent_and_downgrade_removes_everything(migrated_engine: AsyncEngine) -> None:
    await upgrade_to_head(migrated_engine)  # already at head: no-op
    await downgrade_to(migrated_engine, "base")
    assert await current_revision(migrated_engine) is None
    assert await _tables(migrated_engine) <= {"alembic_version"}
    async with migrated_engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            functions = await conn.scalar(text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'dawsos_%'"))
        else:
            functions = await conn.scalar(text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"))
        assert functions == 0
    await upgrade_to_head(migrated_engine)
    assert await _tables(migrated_engine) == TABLES | {"alembic_version"}


async def test_foreign_keys_are_enforced(session_factory) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="(?i)foreign key"):
        async with session_factory.begin() as session:
            session.add(PortfolioRow(id="PX", name="x", cash=Decimal(0), base_currency="USD"))
            session.add(HoldingRow(portfolio_id="PX", symbol="NOPE", shares=Decimal(1)))


# Stored -> read back, identical strings on SQLite (TEXT) and PostgreSQL (NUMERIC(p, s)).
DECIMALS = [
    ("100.000000", "100"),
    ("125.674000", "125.674"),
    ("125.674", "125.674"),
    ("0.000001", "0.000001"),
    ("99999999999999.999999", "99999999999999.999999"),
    ("1E+2", "100"),
    ("0.10", "0.1"),
]


async def test_decimals_read_back_identical_on_both_dialects(session_factory) -> None:  # type: ignore[no-untyped-def]
    async with session_factory.begin() as session:
        session.add(
            SecurityRow(
                symbol="TST",
                name="Test",
                sector="Test",
                asset_class="Equity",
                currency="USD",
                lot_size=Decimal("1.00000000"),
                status="active",
            )
        )
        session.add(PricingPackRow(id="PK", asof_date=date(2024, 1, 1), sealed=False, source=""))
        await session.flush()
        for day, (stored, _) in enumerate(DECIMALS, start=1):
            session.add(
                PackPriceRow(pack_id="PK", symbol="TST", price_date=date(2024, 1, day), close=Decimal(stored))
            )
        session.add(PortfolioRow(id="P", name="p", cash=Decimal("25000.0000"), base_currency="USD"))
        await session.flush()
        session.add(HoldingRow(portfolio_id="P", symbol="TST", shares=Decimal("100.000000")))
    async with session_factory() as session:
        closes = (await session.scalars(select(PackPriceRow.close).order_by(PackPriceRow.price_date))).all()
        assert [str(c) for c in closes] == [expected for _, expected in DECIMALS]
        assert all(isinstance(c, Decimal) for c in closes)
        assert str(await session.scalar(select(SecurityRow.lot_size))) == "1"
        assert str(await session.scalar(select(PortfolioRow.cash))) == "25000"
        assert str(await session.scalar(select(HoldingRow.shares))) == "100"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "not float"),
        (Decimal("1.0000001"), "more than 6 decimal places"),
        (Decimal("100000000000000"), "does not fit"),
        (Decimal("NaN"), "non-finite"),
    ],
)
async def test_decimal_type_refuses_floats_and_values_the_column_cannot_hold(
    session_factory,
    value: object,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    async with session_factory.begin() as session:
        session.add(
            SecurityRow(
                symbol="TST",
                name="Test",
                sector="Test",
                asset_class="Equity",
                currency="USD",
                lot_size=Decimal(1),
                status="active",
            )
        )
        session.add(PricingPackRow(id="PK", asof_date=date(2024, 1, 1), sealed=False, source=""))
    with pytest.raises(StatementError, match=message):
        async with session_factory.begin() as session:
            session.add(PackPriceRow(pack_id="PK", symbol="TST", price_date=date(2024, 1, 1), close=value))
