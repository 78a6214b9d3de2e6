"""Alembic environment.

The application runs migrations through :func:`app.db.migrate.upgrade_to_head`, which hands a live
(synchronous facade of an async) connection in ``config.attributes["connection"]``. Run from the
``alembic`` command line (``alembic -c backend/app/db/migrations/alembic.ini ...``), the URL comes from
``-x database_url=...`` or ``DATABASE_URL`` and an async engine is built here.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

import app.db.models  # noqa: F401  (registers every table on Base.metadata)
from app.db.base import Base
from app.db.engine import make_engine

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = make_engine(url, create=True)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("alembic: pass -x database_url=... or set DATABASE_URL")
    asyncio.run(_run_with_own_engine(url))


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
