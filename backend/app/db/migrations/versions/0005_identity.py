"""Identity: admins, API tokens (hashed), roles per portfolio; the approvers table goes.

Revision ID: 0005_identity
Revises: 0004_one_proposal_lifecycle
Create Date: 2026-12-01

* ``users`` gains ``is_admin`` and ``created_at`` (existing users: their ``updated_at``).
* ``api_tokens``: ``token_id`` (public lookup id), ``user_id``, ``token_hash`` (Argon2id of the whole token),
  ``label``, ``created_at``, ``revoked_at``, ``last_used_at``.
* ``portfolio_roles``: one role (viewer | manager | approver | owner) per (portfolio, user), who granted it
  and when. Every ``portfolio_approvers`` row moves in (approver -> approver, owner -> owner; a user named
  there and not yet in ``users`` becomes one), then ``portfolio_approvers`` is dropped.
* Who made each record: ``proposal_requests.user_id`` (who asked for the proposal), ``rebalance_runs.user_id``,
  ``rebalance_settings.updated_by``, ``model_portfolios.created_by`` (NULL for rows written before, and for
  trusted in-process calls that name no user).
* The command line's built-in identity ``local`` exists, is an admin, and holds ``owner`` on every portfolio
  of the database (it keeps a role it already holds there).

Downgrade moves owner and approver roles back into ``portfolio_approvers`` (viewer and manager roles, and the
roles ``local`` was given here, have no place there and go).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_identity"
down_revision: str | None = "0004_one_proposal_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCAL = "local"
MIGRATED = "migration 0005"
WHO = (("proposal_requests", "user_id"), ("rebalance_runs", "user_id"), ("rebalance_settings", "updated_by"),
       ("model_portfolios", "created_by"))


def tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _fk(table: str, column: str, ref_table: str, ref_column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{ref_table}.{ref_column}"], name=f"fk_{table}_{column}_{ref_table}")


def _schema() -> None:
    op.add_column("users", sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false()))
    # a constant default (SQLite adds no column with a non-constant one); every row gets its updated_at below
    op.add_column("users", sa.Column("created_at", tz(), nullable=False, server_default="1970-01-01 00:00:00+00:00"))
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(255), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
        sa.Column("revoked_at", tz(), nullable=True),
        sa.Column("last_used_at", tz(), nullable=True),
        _fk("api_tokens", "user_id", "users", "user_id"),
        sa.PrimaryKeyConstraint("token_id", name="pk_api_tokens"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "portfolio_roles",
        sa.Column("portfolio_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("granted_by", sa.String(64), nullable=True),
        sa.Column("granted_at", tz(), nullable=False),
        _fk("portfolio_roles", "portfolio_id", "portfolios", "id"),
        _fk("portfolio_roles", "user_id", "users", "user_id"),
        sa.PrimaryKeyConstraint("portfolio_id", "user_id", name="pk_portfolio_roles"),
    )
    op.create_index("ix_portfolio_roles_user_id", "portfolio_roles", ["user_id"])
    for table, column in WHO:
        op.add_column(table, sa.Column(column, sa.String(64), nullable=True))


def _ensure_user(conn: sa.Connection, user_id: str, *, admin: bool = False) -> None:
    exists = conn.execute(sa.text("SELECT 1 FROM users WHERE user_id = :u"), {"u": user_id}).first()
    if exists is None:
        conn.execute(sa.text("INSERT INTO users (user_id, email, is_admin, created_at, updated_at) "
                             "VALUES (:u, NULL, :a, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"u": user_id, "a": admin})
    elif admin:
        conn.execute(sa.text("UPDATE users SET is_admin = :a WHERE user_id = :u"), {"u": user_id, "a": True})


def _data() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE users SET created_at = updated_at"))
    approvers = conn.execute(sa.text(
        "SELECT portfolio_id, user_id, role FROM portfolio_approvers ORDER BY portfolio_id, user_id")).fetchall()
    for user_id in sorted({u for _, u, _ in approvers}):
        _ensure_user(conn, user_id)
    for portfolio_id, user_id, role in approvers:
        conn.execute(sa.text("INSERT INTO portfolio_roles (portfolio_id, user_id, role, granted_by, granted_at) "
                             "VALUES (:p, :u, :r, :by, CURRENT_TIMESTAMP)"),
                     {"p": portfolio_id, "u": user_id, "r": "owner" if role == "owner" else "approver", "by": MIGRATED})
    _ensure_user(conn, LOCAL, admin=True)
    held = {p for (p,) in conn.execute(sa.text("SELECT portfolio_id FROM portfolio_roles WHERE user_id = :u"),
                                       {"u": LOCAL})}
    for (portfolio_id,) in conn.execute(sa.text("SELECT id FROM portfolios ORDER BY id")).fetchall():
        if portfolio_id not in held:
            conn.execute(sa.text("INSERT INTO portfolio_roles (portfolio_id, user_id, role, granted_by, granted_at) "
                                 "VALUES (:p, :u, 'owner', :by, CURRENT_TIMESTAMP)"),
                         {"p": portfolio_id, "u": LOCAL, "by": MIGRATED})


def upgrade() -> None:
    _schema()
    _data()
    op.drop_table("portfolio_approvers")


def downgrade() -> None:
    op.create_table(
        "portfolio_approvers",
        sa.Column("portfolio_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _fk("portfolio_approvers", "portfolio_id", "portfolios", "id"),
        sa.PrimaryKeyConstraint("portfolio_id", "user_id", name="pk_portfolio_approvers"),
    )
    op.execute(sa.text(
        "INSERT INTO portfolio_approvers (portfolio_id, user_id, role) SELECT portfolio_id, user_id, role "
        f"FROM portfolio_roles WHERE role IN ('owner', 'approver') AND NOT (user_id = '{LOCAL}' "
        f"AND granted_by = '{MIGRATED}')"))
    op.drop_index("ix_portfolio_roles_user_id", table_name="portfolio_roles")
    op.drop_table("portfolio_roles")
    op.drop_index("ix_api_tokens_user_id", table_name="api_tokens")
    op.drop_table("api_tokens")
    for table, column in (*WHO, ("users", "created_at"), ("users", "is_admin")):
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.drop_column(column)
