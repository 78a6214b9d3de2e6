"""Async engines and session factories. Nothing is created at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.errors import ConfigurationError


def make_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite:///path`` or ``postgresql+psycopg://...``.

    SQLite: the parent folder of the database file is created if missing; every connection runs
    ``PRAGMA foreign_keys=ON``; transactions are real (``BEGIN`` emitted by us, not deferred by the
    driver), so a failed unit of work rolls back everything it did, reads included.
    """
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.get_driver_name() != "aiosqlite":
            raise ConfigurationError(
                f"SQLite needs the async driver: sqlite+aiosqlite:///... (got {url.drivername})"
            )
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo)
        _install_sqlite_hooks(engine)
        return engine
    if backend == "postgresql":
        if url.get_driver_name() != "psycopg":
            raise ConfigurationError(
                f"PostgreSQL needs the psycopg 3 driver: postgresql+psycopg://... (got {url.drivername})"
            )
        return create_async_engine(url, echo=echo, pool_pre_ping=True)
    raise ConfigurationError(
        f"unsupported database {backend!r}: use sqlite+aiosqlite:// or postgresql+psycopg://"
    )


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # take BEGIN away from the driver (see "Serializable isolation / Savepoints / Transactional DDL"
        # in SQLAlchemy's SQLite docs); we emit it ourselves in _on_begin
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (``expire_on_commit=False``)."""
    return async_sessionmaker(engine, expire_on_commit=False)
