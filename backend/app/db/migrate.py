"""Programmatic Alembic: build the Config in code and upgrade through the async engine.

Every command opens the database through :func:`upgrade_to_head`. Loading Alembic and its migration scripts
costs a command-line process about half a second, so a database already at the newest script's revision is
recognised with one query and Alembic is not loaded at all. That check reads the revision from the scripts'
file names (``NNNN_name.py`` holds revision ``NNNN_name``; a unit test holds every script to it).
A database at a revision these scripts do not know was written by a newer dawsos: one error line, no upgrade.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.errors import DatabaseUnavailableError
from app.db.engine import serialize_writes, shown_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"


def script_head() -> str:
    """The newest migration's revision, from the file names alone (``0005_identity.py`` -> ``0005_identity``)."""
    return max(path.stem for path in VERSIONS_DIR.glob("[0-9]*.py"))


def alembic_config() -> Config:
    """An Alembic ``Config`` pointing at the package's migrations folder (works when installed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def _run(connection: Connection, action: str, revision: str) -> None:
    from alembic import command
    from alembic.util.exc import CommandError

    config = alembic_config()
    config.attributes["connection"] = connection
    try:
        getattr(command, action)(config, revision)
    except CommandError:
        found = _stored_revision(connection)
        if found is not None and found not in _known_revisions():
            raise DatabaseUnavailableError(
                shown_url(connection.engine.url),
                f"schema revision {found!r} is newer than this dawsos knows (its newest is {script_head()!r}): "
                "the database was written by a newer version; upgrade dawsos to use it",
            ) from None
        raise


def _stored_revision(connection: Connection) -> str | None:
    """The revision in ``alembic_version`` (None for a database with no schema yet)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision, in one transaction (a no-op when already there). Concurrent
    upgrades (two first-time commands at once) run one after the other (:func:`serialize_writes`)."""
    async with engine.connect() as connection:
        if await connection.run_sync(_stored_revision) == script_head():
            return
    async with engine.begin() as connection:
        await serialize_writes(connection)
        await connection.run_sync(_run, "upgrade", "head")


async def downgrade_to(engine: AsyncEngine, revision: str = "base") -> None:
    """Undo migrations down to ``revision`` (``"base"`` drops everything the migrations created)."""
    async with engine.begin() as connection:
        await connection.run_sync(_run, "downgrade", revision)


def head_revision() -> str | None:
    """The newest revision of the migration scripts, read by Alembic (slow; :func:`script_head` is the same)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""

    def _current(connection: Connection) -> str | None:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_current)
