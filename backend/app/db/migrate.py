"""Programmatic Alembic: build the Config in code and upgrade through the async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import serialize_writes

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic ``Config`` pointing at the package's migrations folder (works when installed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def _run(connection: Connection, action: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, action)(config, revision)


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision, in one transaction (a no-op when already there). Concurrent
    upgrades (two first-time commands at once) run one after the other (:func:`serialize_writes`)."""
    async with engine.begin() as connection:
        await serialize_writes(connection)
        await connection.run_sync(_run, "upgrade", "head")


async def downgrade_to(engine: AsyncEngine, revision: str = "base") -> None:
    """Undo migrations down to ``revision`` (``"base"`` drops everything the migrations created)."""
    async with engine.begin() as connection:
        await connection.run_sync(_run, "downgrade", revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_current)
