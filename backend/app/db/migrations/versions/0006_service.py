"""The service's CQRS tables (seed 003) and its job queue.

Revision ID: 0006_service
Revises: 0005_identity
Create Date: 2026-12-01

Write side: ``optimization_requests`` (also the job queue: status, lease, heartbeat, attempts, deadline,
cancellation, the one-line error, the idempotency key per user) / ``optimization_results``,
``efficient_frontier_requests`` / ``efficient_frontier_results``, ``rebalance_requests`` / ``rebalance_results``
(the latter name the proposal in the one proposal table). Read side: ``portfolio_optimizations``,
``efficient_frontiers``, ``rebalance_plans``. JSON columns are JSONB on PostgreSQL. The factor-analysis tables
come with factor analytics.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0006_service"
down_revision: str | None = "0005_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def js() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(JSONB(), "postgresql")


def tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def col(name: str, type_: sa.types.TypeEngine, nullable: bool = False) -> sa.Column:
    return sa.Column(name, type_, nullable=nullable)


def s(n: int) -> sa.String:
    return sa.String(n)


def fk(name: str, column: str, ref: str, ref_column: str = "id") -> sa.ForeignKeyConstraint:
    """A foreign key named as seed 003 names them (``<table>_<what>_fk``)."""
    return sa.ForeignKeyConstraint([column], [f"{ref}.{ref_column}"], name=name)


def _request_columns() -> list[sa.Column]:
    """Columns every request table shares (after its own)."""
    return [col("status", s(20)), col("created_at", tz()), col("updated_at", tz()),
            col("pricing_pack_id", s(64)), col("requested_by", s(64)), col("request_id", s(64))]


def _write_side() -> None:
    op.create_table(
        "optimization_requests",
        col("id", s(64)), col("portfolio_id", s(64)), col("optimization_type", s(30)), col("objective", s(30)),
        col("risk_measure", s(20)), col("constraints", js()), col("preferences", js()), *_request_columns(),
        col("idempotency_key", s(200), True), col("request_hash", s(64)), col("attempts", sa.Integer()),
        col("lease_owner", s(120), True), col("lease_expires_at", tz(), True), col("heartbeat_at", tz(), True),
        col("started_at", tz(), True), col("deadline_at", tz()), col("cancel_requested", sa.Boolean()),
        col("error", sa.Text(), True),
        sa.PrimaryKeyConstraint("id", name="pk_optimization_requests"),
        fk("optimization_requests_portfolio_fk", "portfolio_id", "portfolios"),
        fk("optimization_requests_pack_fk", "pricing_pack_id", "pricing_packs"),
        sa.UniqueConstraint("requested_by", "idempotency_key", name="uq_optimization_requests_idempotency"),
    )
    op.create_index("optimization_requests_portfolio_idx", "optimization_requests", ["portfolio_id"])
    op.create_index("optimization_requests_status_idx", "optimization_requests", ["status", "created_at"])
    op.create_table(
        "optimization_results",
        col("optimization_id", s(64)), col("metrics", js()), col("current_allocation", js()),
        col("target_allocation", js()), col("trades", js()), col("efficient_frontier", js(), True),
        col("completed_at", tz()),
        sa.PrimaryKeyConstraint("optimization_id", name="pk_optimization_results"),
        fk("optimization_results_optimization_fk", "optimization_id", "optimization_requests"),
    )
    op.create_table(
        "efficient_frontier_requests",
        col("id", s(64)), col("portfolio_id", s(64)), col("risk_measure", s(20)), col("points", sa.Integer()),
        col("min_return", sa.Numeric(10, 8).with_variant(sa.Text(), "sqlite"), True),
        col("max_risk", sa.Numeric(10, 8).with_variant(sa.Text(), "sqlite"), True),
        col("constraints", js()), *_request_columns(), col("request_hash", s(64)), col("error", sa.Text(), True),
        sa.PrimaryKeyConstraint("id", name="pk_efficient_frontier_requests"),
        fk("efficient_frontier_requests_portfolio_fk", "portfolio_id", "portfolios"),
        fk("efficient_frontier_requests_pack_fk", "pricing_pack_id", "pricing_packs"),
    )
    op.create_index("efficient_frontier_requests_portfolio_idx", "efficient_frontier_requests", ["portfolio_id"])
    op.create_index("efficient_frontier_requests_status_idx", "efficient_frontier_requests", ["status"])
    op.create_table(
        "efficient_frontier_results",
        col("frontier_id", s(64)), col("frontier_points", js()), col("current_portfolio", js()),
        col("optimal_portfolio", js()), col("min_risk_portfolio", js()), col("max_return_portfolio", js()),
        col("completed_at", tz()),
        sa.PrimaryKeyConstraint("frontier_id", name="pk_efficient_frontier_results"),
        fk("efficient_frontier_results_frontier_fk", "frontier_id", "efficient_frontier_requests"),
    )
    op.create_table(
        "rebalance_requests",
        col("id", s(64)), col("portfolio_id", s(64)), col("target_type", s(20)), col("constraints", js()),
        *_request_columns(), col("policy_id", s(64)), col("proposal_id", s(64), True), col("error", sa.Text(), True),
        sa.PrimaryKeyConstraint("id", name="pk_rebalance_requests"),
        fk("rebalance_requests_portfolio_fk", "portfolio_id", "portfolios"),
        fk("rebalance_requests_pack_fk", "pricing_pack_id", "pricing_packs"),
        fk("rebalance_requests_proposal_fk", "proposal_id", "rebalance_proposals", "proposal_id"),
    )
    op.create_index("rebalance_requests_portfolio_idx", "rebalance_requests", ["portfolio_id"])
    op.create_index("rebalance_requests_status_idx", "rebalance_requests", ["status"])
    op.create_table(
        "rebalance_results",
        col("rebalance_id", s(64)), col("current_allocation", js()), col("target_allocation", js()),
        col("trades", js()), col("metrics", js()), col("completed_at", tz()),
        sa.PrimaryKeyConstraint("rebalance_id", name="pk_rebalance_results"),
        fk("rebalance_results_rebalance_fk", "rebalance_id", "rebalance_requests"),
    )


def _read_side() -> None:
    op.create_table(
        "portfolio_optimizations",
        col("optimization_id", s(64)), col("portfolio_id", s(64)), col("optimization_type", s(30)),
        col("objective", s(30)), col("risk_measure", s(20)), col("status", s(20)), col("metrics", js(), True),
        col("current_allocation", js(), True), col("target_allocation", js(), True), col("trades", js(), True),
        col("created_at", tz()), col("completed_at", tz(), True), col("efficient_frontier", js(), True),
        col("pricing_pack_id", s(64)), col("requested_by", s(64)), col("constraints", js()),
        col("preferences", js()), col("attempts", sa.Integer()), col("deadline_at", tz()),
        col("error", sa.Text(), True), col("details", js(), True),
        sa.PrimaryKeyConstraint("optimization_id", name="pk_portfolio_optimizations"),
        fk("portfolio_optimizations_portfolio_fk", "portfolio_id", "portfolios"),
    )
    op.create_index("portfolio_optimizations_portfolio_idx", "portfolio_optimizations", ["portfolio_id"])
    op.create_index("portfolio_optimizations_created_idx", "portfolio_optimizations", ["created_at"])
    op.create_table(
        "efficient_frontiers",
        col("frontier_id", s(64)), col("portfolio_id", s(64)), col("risk_measure", s(20)),
        col("frontier_points", js()), col("current_portfolio", js()), col("optimal_portfolio", js()),
        col("min_risk_portfolio", js()), col("max_return_portfolio", js()), col("created_at", tz()),
        col("pricing_pack_id", s(64)), col("request_hash", s(64)), col("points", sa.Integer()),
        sa.PrimaryKeyConstraint("frontier_id", name="pk_efficient_frontiers"),
        fk("efficient_frontiers_portfolio_fk", "portfolio_id", "portfolios"),
    )
    op.create_index("efficient_frontiers_portfolio_idx", "efficient_frontiers", ["portfolio_id"])
    op.create_index("efficient_frontiers_created_idx", "efficient_frontiers", ["created_at"])
    op.create_index("efficient_frontiers_request_hash_idx", "efficient_frontiers", ["request_hash"])
    op.create_table(
        "rebalance_plans",
        col("rebalance_id", s(64)), col("portfolio_id", s(64)), col("target_type", s(20)),
        col("current_allocation", js()), col("target_allocation", js()), col("trades", js()), col("metrics", js()),
        col("created_at", tz()), col("proposal_id", s(64)), col("pricing_pack_id", s(64)), col("policy_id", s(64)),
        col("requested_by", s(64)),
        sa.PrimaryKeyConstraint("rebalance_id", name="pk_rebalance_plans"),
        fk("rebalance_plans_portfolio_fk", "portfolio_id", "portfolios"),
    )
    op.create_index("rebalance_plans_portfolio_idx", "rebalance_plans", ["portfolio_id"])
    op.create_index("rebalance_plans_created_idx", "rebalance_plans", ["created_at"])


def upgrade() -> None:
    _write_side()
    _read_side()


def downgrade() -> None:
    for table in ("rebalance_plans", "efficient_frontiers", "portfolio_optimizations", "rebalance_results",
                  "rebalance_requests", "efficient_frontier_results", "efficient_frontier_requests",
                  "optimization_results", "optimization_requests"):
        op.drop_table(table)
