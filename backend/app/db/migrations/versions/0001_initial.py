"""Initial schema: reference data, sealed pricing packs, policy versions, proposals.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01

Written by hand with explicit operations and explicit constraint names (they follow NAMING_CONVENTION in
app/db/base.py, so autogenerate comparisons stay clean). Decimal columns are NUMERIC(p, s) on PostgreSQL
and TEXT on SQLite (see app.db.base.DecimalType).

Sealed pricing packs are immutable in the database as well as in the repository: triggers refuse any
INSERT/UPDATE/DELETE of ``pack_prices`` rows that belong to a sealed pack, and any un-sealing, deletion or
change of ``id``/``asof_date``/``content_hash`` of a sealed ``pricing_packs`` row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def dec(precision: int, scale: int) -> sa.types.TypeEngine:
    return sa.Numeric(precision, scale).with_variant(sa.Text(), "sqlite")


def tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER trg_pack_prices_sealed_insert BEFORE INSERT ON pack_prices
    WHEN (SELECT sealed FROM pricing_packs WHERE id = NEW.pack_id) = 1
    BEGIN SELECT RAISE(ABORT, 'pricing pack is sealed: its prices cannot be added, changed or removed'); END
    """,
    """
    CREATE TRIGGER trg_pack_prices_sealed_update BEFORE UPDATE ON pack_prices
    WHEN (SELECT sealed FROM pricing_packs WHERE id = OLD.pack_id) = 1
      OR (SELECT sealed FROM pricing_packs WHERE id = NEW.pack_id) = 1
    BEGIN SELECT RAISE(ABORT, 'pricing pack is sealed: its prices cannot be added, changed or removed'); END
    """,
    """
    CREATE TRIGGER trg_pack_prices_sealed_delete BEFORE DELETE ON pack_prices
    WHEN (SELECT sealed FROM pricing_packs WHERE id = OLD.pack_id) = 1
    BEGIN SELECT RAISE(ABORT, 'pricing pack is sealed: its prices cannot be added, changed or removed'); END
    """,
    """
    CREATE TRIGGER trg_pricing_packs_sealed_update BEFORE UPDATE ON pricing_packs
    WHEN OLD.sealed = 1 AND (
        NEW.sealed IS NOT 1 OR NEW.id IS NOT OLD.id OR NEW.asof_date IS NOT OLD.asof_date
        OR NEW.content_hash IS NOT OLD.content_hash)
    BEGIN SELECT RAISE(ABORT, 'pricing pack is sealed: it cannot be unsealed or have its id, asof_date or content_hash changed'); END
    """,
    """
    CREATE TRIGGER trg_pricing_packs_sealed_delete BEFORE DELETE ON pricing_packs
    WHEN OLD.sealed = 1
    BEGIN SELECT RAISE(ABORT, 'pricing pack is sealed: it cannot be deleted'); END
    """,
]
SQLITE_TRIGGER_NAMES = [
    "trg_pack_prices_sealed_insert",
    "trg_pack_prices_sealed_update",
    "trg_pack_prices_sealed_delete",
    "trg_pricing_packs_sealed_update",
    "trg_pricing_packs_sealed_delete",
]

POSTGRES_UP = [
    """
    CREATE FUNCTION dawsos_refuse_sealed_pack_prices() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        is_sealed boolean;
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            -- FOR SHARE: a concurrent seal of the same pack waits for this transaction
            SELECT sealed INTO is_sealed FROM pricing_packs WHERE id = OLD.pack_id FOR SHARE;
            IF is_sealed THEN
                RAISE EXCEPTION 'pricing pack % is sealed: its prices cannot be added, changed or removed',
                    OLD.pack_id USING ERRCODE = 'integrity_constraint_violation';
            END IF;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            SELECT sealed INTO is_sealed FROM pricing_packs WHERE id = NEW.pack_id FOR SHARE;
            IF is_sealed THEN
                RAISE EXCEPTION 'pricing pack % is sealed: its prices cannot be added, changed or removed',
                    NEW.pack_id USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END IF;
        RETURN OLD;
    END
    $$
    """,
    """
    CREATE TRIGGER trg_pack_prices_sealed BEFORE INSERT OR UPDATE OR DELETE ON pack_prices
    FOR EACH ROW EXECUTE FUNCTION dawsos_refuse_sealed_pack_prices()
    """,
    """
    CREATE FUNCTION dawsos_refuse_truncate_sealed_pack_prices() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM pricing_packs WHERE sealed) THEN
            RAISE EXCEPTION 'pricing pack is sealed: pack_prices cannot be truncated while sealed packs exist'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER trg_pack_prices_sealed_truncate BEFORE TRUNCATE ON pack_prices
    FOR EACH STATEMENT EXECUTE FUNCTION dawsos_refuse_truncate_sealed_pack_prices()
    """,
    """
    CREATE FUNCTION dawsos_refuse_sealed_pack_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.sealed THEN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'pricing pack % is sealed: it cannot be deleted', OLD.id
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF NEW.sealed IS DISTINCT FROM TRUE OR NEW.id IS DISTINCT FROM OLD.id
               OR NEW.asof_date IS DISTINCT FROM OLD.asof_date
               OR NEW.content_hash IS DISTINCT FROM OLD.content_hash THEN
                RAISE EXCEPTION 'pricing pack % is sealed: it cannot be unsealed or have its id, asof_date or content_hash changed',
                    OLD.id USING ERRCODE = 'integrity_constraint_violation';
            END IF;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER trg_pricing_packs_sealed BEFORE UPDATE OR DELETE ON pricing_packs
    FOR EACH ROW EXECUTE FUNCTION dawsos_refuse_sealed_pack_change()
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS trg_pricing_packs_sealed ON pricing_packs",
    "DROP TRIGGER IF EXISTS trg_pack_prices_sealed_truncate ON pack_prices",
    "DROP TRIGGER IF EXISTS trg_pack_prices_sealed ON pack_prices",
    "DROP FUNCTION IF EXISTS dawsos_refuse_sealed_pack_change()",
    "DROP FUNCTION IF EXISTS dawsos_refuse_truncate_sealed_pack_prices()",
    "DROP FUNCTION IF EXISTS dawsos_refuse_sealed_pack_prices()",
]


def upgrade() -> None:
    op.create_table(
        "securities",
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sector", sa.String(100), nullable=False),
        sa.Column("asset_class", sa.String(50), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("lot_size", dec(24, 8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name="pk_securities"),
    )
    op.create_table(
        "quality_ratings",
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("asof_date", sa.Date(), nullable=False),
        sa.Column("score", dec(6, 3), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["symbol"], ["securities.symbol"], name="fk_quality_ratings_symbol_securities"
        ),
        sa.PrimaryKeyConstraint("symbol", "asof_date", name="pk_quality_ratings"),
    )
    op.create_table(
        "pricing_packs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("asof_date", sa.Date(), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
        sa.Column("sealed_at", tz(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_pricing_packs"),
    )
    op.create_table(
        "pack_prices",
        sa.Column("pack_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("price_date", sa.Date(), nullable=False),
        sa.Column("close", dec(20, 6), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack_id"], ["pricing_packs.id"], name="fk_pack_prices_pack_id_pricing_packs"
        ),
        sa.ForeignKeyConstraint(["symbol"], ["securities.symbol"], name="fk_pack_prices_symbol_securities"),
        sa.PrimaryKeyConstraint("pack_id", "symbol", "price_date", name="pk_pack_prices"),
    )
    op.create_index("ix_pack_prices_pack_id", "pack_prices", ["pack_id", "price_date"])
    op.create_table(
        "benchmarks",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_benchmarks"),
    )
    op.create_table(
        "benchmark_weights",
        sa.Column("benchmark_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("weight", dec(20, 12), nullable=False),
        sa.ForeignKeyConstraint(
            ["benchmark_id"], ["benchmarks.id"], name="fk_benchmark_weights_benchmark_id_benchmarks"
        ),
        sa.ForeignKeyConstraint(
            ["symbol"], ["securities.symbol"], name="fk_benchmark_weights_symbol_securities"
        ),
        sa.PrimaryKeyConstraint("benchmark_id", "symbol", name="pk_benchmark_weights"),
    )
    op.create_table(
        "portfolios",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("cash", dec(20, 4), nullable=False),
        sa.Column("base_currency", sa.String(3), nullable=False),
        sa.Column("benchmark_id", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["benchmark_id"], ["benchmarks.id"], name="fk_portfolios_benchmark_id_benchmarks"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_portfolios"),
    )
    op.create_table(
        "holdings",
        sa.Column("portfolio_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("shares", dec(24, 8), nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"], ["portfolios.id"], name="fk_holdings_portfolio_id_portfolios"
        ),
        sa.ForeignKeyConstraint(["symbol"], ["securities.symbol"], name="fk_holdings_symbol_securities"),
        sa.PrimaryKeyConstraint("portfolio_id", "symbol", name="pk_holdings"),
    )
    op.create_table(
        "optimizer_policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("method_version", sa.String(32), nullable=False),
        sa.Column("constraints", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_optimizer_policies"),
        sa.UniqueConstraint("policy_id", "version", name="uq_optimizer_policies_policy_id_version"),
    )
    op.create_table(
        "constraint_defaults",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("commission_per_trade", dec(20, 4), nullable=False),
        sa.Column("market_impact_bps", dec(12, 4), nullable=False),
        sa.Column("min_trade_value", dec(20, 4), nullable=False),
        sa.Column("risk_free_rate", dec(12, 8), nullable=False),
        sa.Column("annualization_factor", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_constraint_defaults"),
    )
    op.create_table(
        "rebalance_proposals",
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("portfolio_id", sa.String(64), nullable=False),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("pricing_pack_id", sa.String(64), nullable=False),
        sa.Column("asof_date", sa.Date(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
        sa.PrimaryKeyConstraint("proposal_id", name="pk_rebalance_proposals"),
    )
    op.create_index("ix_rebalance_proposals_portfolio_id", "rebalance_proposals", ["portfolio_id"])
    op.create_table(
        "proposal_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["rebalance_proposals.proposal_id"],
            name="fk_proposal_requests_proposal_id_rebalance_proposals",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_proposal_requests"),
        sa.UniqueConstraint("proposal_id", "request_id", name="uq_proposal_requests_proposal_id_request_id"),
    )

    dialect = op.get_bind().dialect.name
    statements = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRES_UP}.get(dialect)
    if statements is None:
        raise NotImplementedError(
            f"sealed-pack triggers are written for sqlite and postgresql, not {dialect}"
        )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("proposal_requests")
    op.drop_index("ix_rebalance_proposals_portfolio_id", table_name="rebalance_proposals")
    op.drop_table("rebalance_proposals")
    op.drop_table("constraint_defaults")
    op.drop_table("optimizer_policies")
    op.drop_table("holdings")
    op.drop_table("portfolios")
    op.drop_table("benchmark_weights")
    op.drop_table("benchmarks")
    op.drop_index("ix_pack_prices_pack_id", table_name="pack_prices")
    op.drop_table("pack_prices")
    op.drop_table("pricing_packs")
    op.drop_table("quality_ratings")
    op.drop_table("securities")
