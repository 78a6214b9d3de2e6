"""One proposal lifecycle: every command's proposals in rebalance_proposals, fills, users' e-mail addresses.

Revision ID: 0004_one_proposal_lifecycle
Revises: 0003_pack_prices_by_date
Create Date: 2026-12-01

* ``rebalance_proposals`` gains ``source`` (optimizer | rebalancing), ``requires_approval``, ``record`` (the
  uniform trades/allocations/cash/totals every reader needs), ``superseded_by`` and ``updated_at``, and a
  partial unique index: at most one approved proposal per portfolio and pack.
* ``proposal_fills`` (what filled against what was proposed), ``users`` (where a user's mail goes).
* ``notification_outbox`` gains ``kind``, ``about_status`` and ``address`` (messages are rendered when sent).
* ``portfolio_transactions`` gains ``price`` and ``proposal_id``.

Existing rows are migrated, never dropped: a proposal with a ``rebalance_runs`` row came from the rebalancing
engine (its plan body gives the record), any other from ``dawsos rebalance`` (its proposal body gives the record;
before/after allocations of such rows name the traded symbols and cash only, the body holds no other
holdings) and gets a first transition. Where several proposals of one portfolio and pack are approved, the
newest stays approved and the older become ``superseded`` (recorded as transitions) before the index is built.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004_one_proposal_lifecycle"
down_revision: str | None = "0003_pack_prices_by_date"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPROVED_ONLY = sa.text("status = 'approved'")
DEFAULT_THRESHOLD = Decimal("10000")
MIGRATED = "recorded by migration 0004"


def dec(precision: int, scale: int) -> sa.types.TypeEngine:
    return sa.Numeric(precision, scale).with_variant(sa.Text(), "sqlite")


def tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _add_columns() -> None:
    op.add_column("rebalance_proposals", sa.Column("source", sa.String(16), nullable=False, server_default="optimizer"))
    op.add_column("rebalance_proposals", sa.Column("requires_approval", sa.Boolean(), nullable=False,
                                                   server_default=sa.false()))
    op.add_column("rebalance_proposals", sa.Column("record", sa.JSON(), nullable=False, server_default="{}"))
    op.add_column("rebalance_proposals", sa.Column("superseded_by", sa.String(64), nullable=True))
    # a constant default (SQLite adds no column with a non-constant one); every row gets its created_at below
    op.add_column("rebalance_proposals", sa.Column("updated_at", tz(), nullable=False,
                                                   server_default="1970-01-01 00:00:00+00:00"))
    op.add_column("notification_outbox", sa.Column("kind", sa.String(16), nullable=False, server_default="status"))
    op.add_column("notification_outbox", sa.Column("about_status", sa.String(16), nullable=True))
    op.add_column("notification_outbox", sa.Column("address", sa.String(320), nullable=True))
    op.add_column("portfolio_transactions", sa.Column("price", dec(20, 6), nullable=True))
    op.add_column("portfolio_transactions", sa.Column("proposal_id", sa.String(64), nullable=True))


def _create_tables() -> None:
    op.create_table(
        "proposal_fills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("proposed_shares", dec(24, 8), nullable=False),
        sa.Column("shares", dec(24, 8), nullable=False),
        sa.Column("price", dec(20, 6), nullable=False),
        sa.Column("fill_date", sa.Date(), nullable=False),
        sa.Column("fees", dec(20, 4), nullable=False),
        sa.Column("realised_gain", dec(20, 4), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("at", tz(), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["rebalance_proposals.proposal_id"],
                                name="fk_proposal_fills_proposal_id_rebalance_proposals"),
        sa.PrimaryKeyConstraint("id", name="pk_proposal_fills"),
    )
    op.create_index("ix_proposal_fills_proposal_id", "proposal_fills", ["proposal_id"])
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("updated_at", tz(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_users"),
    )


# ---- data ---------------------------------------------------------------------------------------------
def _plan_record(body: dict[str, Any]) -> dict[str, Any]:
    trades = [{"symbol": t["symbol"], "action": t["action"], "current_shares": t["current_shares"],
               "shares": t["quantity"], "price": t["price"], "trade_value": t["trade_value"],
               "commission": t["commission"], "market_impact": t["market_impact"],
               "estimated_cost": t["estimated_cost"],
               "lots": [{"lot_id": s["lot_id"], "quantity": s["quantity"]} for s in t.get("lots", [])]}
              for t in body.get("trades", [])]
    return {"trades": trades, "before_pct": body["before_pct"], "after_pct": body["after_pct"],
            "portfolio_value": body["portfolio_value"], "cash_before": body["cash_before"],
            "cash_after": body["cash_after"], "total_trade_value": body["total_trade_value"],
            "total_cost": body["total_cost"], "estimated_tax": body["realised"]["tax_total"]}


def _proposal_record(body: dict[str, Any]) -> dict[str, Any]:
    summary = body.get("summary", {})
    value = Decimal(summary.get("portfolio_value", "0"))
    trades, before, after = [], {}, {}
    for t in body.get("trades", []):
        trades.append({"symbol": t["symbol"], "action": t["action"], "current_shares": t["current_shares"],
                       "shares": str(abs(Decimal(t["delta_shares"]))), "price": t["price"],
                       "trade_value": t["trade_value"], "commission": t["commission"],
                       "market_impact": t["market_impact"], "estimated_cost": t["estimated_cost"], "lots": []})
        before[t["symbol"]], after[t["symbol"]] = t["current_weight_pct"], t["target_weight_pct"]
    if value > 0:
        before["CASH"] = str((Decimal(summary["cash_before"]) * 100 / value).quantize(Decimal("0.01")))
        after["CASH"] = str((Decimal(summary["cash_after"]) * 100 / value).quantize(Decimal("0.01")))
    total = sum((Decimal(t["trade_value"]) for t in trades), Decimal(0))
    return {"trades": trades, "before_pct": before, "after_pct": after, "portfolio_value": str(value),
            "cash_before": summary.get("cash_before", "0"), "cash_after": summary.get("cash_after", "0"),
            "total_trade_value": str(total), "total_cost": summary.get("estimated_total_cost", "0"),
            "estimated_tax": summary.get("estimated_tax", "0")}


def _migrate_proposals(conn: sa.Connection) -> None:
    with_runs = {r[0] for r in conn.execute(sa.text(
        "SELECT DISTINCT proposal_id FROM rebalance_runs WHERE proposal_id IS NOT NULL"))}
    thresholds = {p: Decimal(str(t)) for p, t in conn.execute(sa.text(
        "SELECT portfolio_id, approval_threshold FROM rebalance_settings"))}
    rows = conn.execute(sa.text(
        "SELECT proposal_id, portfolio_id, body, status, created_at FROM rebalance_proposals")).fetchall()
    for proposal_id, portfolio_id, body, status, created_at in rows:
        doc = json.loads(body)
        source = "rebalancing" if proposal_id in with_runs else "optimizer"
        record = _plan_record(doc) if source == "rebalancing" else _proposal_record(doc)
        threshold = thresholds.get(portfolio_id, DEFAULT_THRESHOLD)
        needs = status == "pending_approval" or Decimal(record["total_trade_value"]) > threshold
        conn.execute(sa.text("UPDATE rebalance_proposals SET source = :s, requires_approval = :n, record = :r, "
                             "updated_at = :c WHERE proposal_id = :p"),
                     {"s": source, "n": needs, "r": json.dumps(record, sort_keys=True), "c": created_at,
                      "p": proposal_id})
        if source == "optimizer":
            conn.execute(sa.text("INSERT INTO proposal_transitions (proposal_id, from_status, to_status, actor, "
                                 "reason, request_id, at) VALUES (:p, NULL, :s, 'system', :r, NULL, :c)"),
                         {"p": proposal_id, "s": status, "c": created_at,
                          "r": f"{MIGRATED}: made by dawsos rebalance before it had a lifecycle"})


def _supersede_duplicate_approvals(conn: sa.Connection) -> None:
    rows = conn.execute(sa.text(
        "SELECT proposal_id, portfolio_id, pricing_pack_id FROM rebalance_proposals WHERE status = 'approved' "
        "ORDER BY portfolio_id, pricing_pack_id, created_at DESC, proposal_id DESC")).fetchall()
    kept: dict[tuple[str, str], str] = {}
    for proposal_id, portfolio_id, pack_id in rows:
        newest = kept.setdefault((portfolio_id, pack_id), proposal_id)
        if newest == proposal_id:
            continue
        conn.execute(sa.text("UPDATE rebalance_proposals SET status = 'superseded', superseded_by = :n "
                             "WHERE proposal_id = :p"), {"n": newest, "p": proposal_id})
        conn.execute(sa.text("UPDATE rebalance_runs SET outcome = 'superseded' WHERE proposal_id = :p"),
                     {"p": proposal_id})
        conn.execute(sa.text("INSERT INTO proposal_transitions (proposal_id, from_status, to_status, actor, reason, "
                             "request_id, at) VALUES (:p, 'approved', 'superseded', 'system', :r, NULL, "
                             "CURRENT_TIMESTAMP)"),
                     {"p": proposal_id, "r": f"{MIGRATED}: proposal {newest[:12]} is the newer approved one "
                                             f"for {portfolio_id} on {pack_id}"})


_STATUS_SUBJECT = re.compile(r" is (\w+)$")
_DECIDED_SUBJECT = re.compile(r"proposal \w+ (\w+) by ")


def _migrate_outbox(conn: sa.Connection) -> None:
    for notification_id, subject in conn.execute(sa.text("SELECT id, subject FROM notification_outbox")).fetchall():
        status_match, decided_match = _STATUS_SUBJECT.search(subject), _DECIDED_SUBJECT.search(subject)
        kind, about = ("decided", decided_match.group(1)) if decided_match else (
            "status", status_match.group(1) if status_match else None)
        conn.execute(sa.text("UPDATE notification_outbox SET kind = :k, about_status = :a WHERE id = :i"),
                     {"k": kind, "a": about, "i": notification_id})


def upgrade() -> None:
    _add_columns()
    _create_tables()
    conn = op.get_bind()
    _migrate_proposals(conn)
    _supersede_duplicate_approvals(conn)
    _migrate_outbox(conn)
    op.create_index("uq_rebalance_proposals_live_approved", "rebalance_proposals", ["portfolio_id", "pricing_pack_id"],
                    unique=True, sqlite_where=APPROVED_ONLY, postgresql_where=APPROVED_ONLY)


def downgrade() -> None:
    """Drops the new tables and columns; statuses the old code does not know become the nearest it does
    (executed -> approved, superseded -> expired)."""
    for new, old in (("executed", "approved"), ("superseded", "expired")):
        for table, column in (("rebalance_proposals", "status"), ("rebalance_runs", "outcome")):
            op.execute(sa.text(f"UPDATE {table} SET {column} = '{old}' WHERE {column} = '{new}'"))
    op.drop_index("uq_rebalance_proposals_live_approved", table_name="rebalance_proposals")
    op.drop_table("users")
    op.drop_index("ix_proposal_fills_proposal_id", table_name="proposal_fills")
    op.drop_table("proposal_fills")
    for table, column in (("portfolio_transactions", "proposal_id"), ("portfolio_transactions", "price"),
                          ("notification_outbox", "address"), ("notification_outbox", "about_status"),
                          ("notification_outbox", "kind"), ("rebalance_proposals", "updated_at"),
                          ("rebalance_proposals", "superseded_by"), ("rebalance_proposals", "record"),
                          ("rebalance_proposals", "requires_approval"), ("rebalance_proposals", "source")):
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.drop_column(column)
