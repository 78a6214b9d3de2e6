"""Rebalancing: settings, approvers, restrictions, model portfolios, tax lots, ledger, runs, transitions, outbox.

Revision ID: 0002_rebalancing
Revises: 0001_initial
Create Date: 2025-01-02

Hand-written like 0001 (explicit constraint names following NAMING_CONVENTION). ``rebalance_proposals``
is unchanged: a rebalance proposal is a row there (body = the plan's canonical JSON, ``status`` its life
cycle state) with a ``rebalance_runs`` row pointing at it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_rebalancing"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def dec(precision: int, scale: int) -> sa.types.TypeEngine:
    return sa.Numeric(precision, scale).with_variant(sa.Text(), "sqlite")


def tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _fk(table: str, column: str, ref_table: str, ref_column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{ref_table}.{ref_column}"], name=f"fk_{table}_{column}_{ref_table}")


def upgrade() -> None:
    op.create_table(
        "rebalance_settings",
        sa.Column("portfolio_id", sa.String(64), nullable=False),
        sa.Column("approval_threshold", dec(20, 4), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("updated_at", tz(), nullable=False),
        _fk("rebalance_settings", "portfolio_id", "portfolios", "id"),
        sa.PrimaryKeyConstraint("portfolio_id", name="pk_rebalance_settings"),
    )
    op.create_table(
        "portfolio_approvers",
        sa.Column("portfolio_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _fk("portfolio_approvers", "portfolio_id", "portfolios", "id"),
        sa.PrimaryKeyConstraint("portfolio_id", "user_id", name="pk_portfolio_approvers"),
    )
    op.create_table(
        "restricted_symbols",
        sa.Column("portfolio_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _fk("restricted_symbols", "portfolio_id", "portfolios", "id"),
        sa.PrimaryKeyConstraint("portfolio_id", "symbol", name="pk_restricted_symbols"),
    )
    op.create_table(
        "model_portfolios",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("pricing_pack_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
        _fk("model_portfolios", "pricing_pack_id", "pricing_packs", "id"),
        sa.PrimaryKeyConstraint("id", name="pk_model_portfolios"),
    )
    op.create_table(
        "model_weights",
        sa.Column("model_portfolio_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("weight", dec(20, 12), nullable=False),
        _fk("model_weights", "model_portfolio_id", "model_portfolios", "id"),
        _fk("model_weights", "symbol", "securities", "symbol"),
        sa.PrimaryKeyConstraint("model_portfolio_id", "symbol", name="pk_model_weights"),
    )
    op.create_table(
        "tax_lots",
        sa.Column("lot_id", sa.String(64), nullable=False),
        sa.Column("portfolio_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("quantity", dec(24, 8), nullable=False),
        sa.Column("cost_basis", dec(20, 6), nullable=False),
        sa.Column("acquired", sa.Date(), nullable=False),
        _fk("tax_lots", "portfolio_id", "portfolios", "id"),
        _fk("tax_lots", "symbol", "securities", "symbol"),
        sa.PrimaryKeyConstraint("lot_id", name="pk_tax_lots"),
    )
    op.create_index("ix_tax_lots_portfolio_id", "tax_lots", ["portfolio_id", "symbol"])
    op.create_table(
        "portfolio_transactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("portfolio_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("quantity", dec(24, 8), nullable=False),
        sa.Column("trade_date", sa.Date(), nullable=False),
        sa.Column("realised_gain", dec(20, 4), nullable=False),
        _fk("portfolio_transactions", "portfolio_id", "portfolios", "id"),
        sa.PrimaryKeyConstraint("id", name="pk_portfolio_transactions"),
    )
    op.create_index("ix_portfolio_transactions_portfolio_id", "portfolio_transactions", ["portfolio_id", "trade_date"])
    op.create_table(
        "cash_flows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("portfolio_id", sa.String(64), nullable=False),
        sa.Column("amount", dec(20, 4), nullable=False),
        sa.Column("flow_date", sa.Date(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        _fk("cash_flows", "portfolio_id", "portfolios", "id"),
        sa.PrimaryKeyConstraint("id", name="pk_cash_flows"),
    )
    op.create_index("ix_cash_flows_portfolio_id", "cash_flows", ["portfolio_id"])
    op.create_table(
        "rebalance_runs",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("portfolio_id", sa.String(64), nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=True),
        sa.Column("pricing_pack_id", sa.String(64), nullable=False),
        sa.Column("asof_date", sa.Date(), nullable=False),
        sa.Column("triggers", sa.JSON(), nullable=False),
        sa.Column("before_alloc", sa.JSON(), nullable=False),
        sa.Column("after_alloc", sa.JSON(), nullable=False),
        sa.Column("n_trades", sa.Integer(), nullable=False),
        sa.Column("total_trade_value", dec(20, 4), nullable=False),
        sa.Column("total_cost", dec(20, 4), nullable=False),
        sa.Column("realised_short", dec(20, 4), nullable=False),
        sa.Column("realised_long", dec(20, 4), nullable=False),
        sa.Column("estimated_tax", dec(20, 4), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("created_at", tz(), nullable=False),
        _fk("rebalance_runs", "portfolio_id", "portfolios", "id"),
        _fk("rebalance_runs", "proposal_id", "rebalance_proposals", "proposal_id"),
        _fk("rebalance_runs", "pricing_pack_id", "pricing_packs", "id"),
        sa.PrimaryKeyConstraint("run_id", name="pk_rebalance_runs"),
    )
    op.create_index("ix_rebalance_runs_portfolio_id", "rebalance_runs", ["portfolio_id", "created_at"])
    op.create_table(
        "proposal_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("at", tz(), nullable=False),
        _fk("proposal_transitions", "proposal_id", "rebalance_proposals", "proposal_id"),
        sa.PrimaryKeyConstraint("id", name="pk_proposal_transitions"),
    )
    op.create_index("ix_proposal_transitions_proposal_id", "proposal_transitions", ["proposal_id"])
    op.create_table(
        "approval_refusals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("at", tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_approval_refusals"),
    )
    op.create_index("ix_approval_refusals_proposal_id", "approval_refusals", ["proposal_id"])
    op.create_table(
        "notification_outbox",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=True),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", tz(), nullable=False),
        sa.Column("sent_at", tz(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notification_outbox"),
    )
    op.create_index("ix_notification_outbox_status", "notification_outbox", ["status"])


def downgrade() -> None:
    op.drop_index("ix_notification_outbox_status", table_name="notification_outbox")
    op.drop_table("notification_outbox")
    op.drop_index("ix_approval_refusals_proposal_id", table_name="approval_refusals")
    op.drop_table("approval_refusals")
    op.drop_index("ix_proposal_transitions_proposal_id", table_name="proposal_transitions")
    op.drop_table("proposal_transitions")
    op.drop_index("ix_rebalance_runs_portfolio_id", table_name="rebalance_runs")
    op.drop_table("rebalance_runs")
    op.drop_index("ix_cash_flows_portfolio_id", table_name="cash_flows")
    op.drop_table("cash_flows")
    op.drop_index("ix_portfolio_transactions_portfolio_id", table_name="portfolio_transactions")
    op.drop_table("portfolio_transactions")
    op.drop_index("ix_tax_lots_portfolio_id", table_name="tax_lots")
    op.drop_table("tax_lots")
    op.drop_table("model_weights")
    op.drop_table("model_portfolios")
    op.drop_table("restricted_symbols")
    op.drop_table("portfolio_approvers")
    op.drop_table("rebalance_settings")
