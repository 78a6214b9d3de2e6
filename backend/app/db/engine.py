"""Async engines and session factories. Nothing is created at import time.

Concurrency (several ``dawsos`` processes on one database):

* SQLite runs in WAL mode (readers never block the writer) with a busy timeout of
  :data:`SQLITE_BUSY_TIMEOUT_S` seconds, and every transaction starts with ``BEGIN IMMEDIATE``: it takes
  the write lock at its start (waiting for it up to the busy timeout) instead of failing with ``database
  is locked`` when a transaction that has read tries to write after another writer committed. Agents keep
  their transactions short (read, solve outside any transaction, write), so waiting is brief.
* PostgreSQL: transactions that read and then insert the same keys as a concurrent one (seeding,
  migrations, storing a rebalance run) call :func:`serialize_writes` first, which takes a transaction-level
  advisory lock (one such writer at a time; released at commit or rollback).

Only ``dawsos seed`` (and the default database) may create a SQLite file: :func:`make_engine` with
``create=False`` refuses a URL naming a file that does not exist, so a mistyped ``DATABASE_URL`` is an
error, not a new empty database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.errors import ConfigurationError, DatabaseUnavailableError

#: seconds a SQLite connection waits for another process's write lock before giving up
SQLITE_BUSY_TIMEOUT_S = 60.0
#: key of the PostgreSQL advisory lock taken by :func:`serialize_writes` ("dawsos" in ASCII)
WRITE_LOCK_KEY = 0x646177736F73


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names, or None (in-memory, ``file:`` URIs, PostgreSQL)."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def make_engine(database_url: str, *, echo: bool = False, create: bool = False) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite:///path`` or ``postgresql+psycopg://...``.

    SQLite: with ``create`` the parent folder of the database file is made when missing; without it a file
    that does not exist is a :class:`DatabaseUnavailableError` (nothing is created). Every connection runs
    ``PRAGMA foreign_keys=ON``, ``journal_mode=WAL`` and a busy timeout; transactions are real
    (``BEGIN IMMEDIATE`` emitted by us, not deferred by the driver), so a failed unit of work rolls back
    everything it did, reads included.
    """
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.get_driver_name() != "aiosqlite":
            raise ConfigurationError(
                f"SQLite needs the async driver: sqlite+aiosqlite:///... (got {url.drivername})"
            )
        path = sqlite_file(url)
        if path is not None and create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif path is not None and not path.is_file():
            what = "is a folder, not a file" if path.is_dir() else "does not exist"
            raise DatabaseUnavailableError(
                shown_url(url), f"{path} {what}; only `dawsos seed` creates a database (or leave DATABASE_URL "
                "unset for the default one)"
            )
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _install_sqlite_hooks(engine, wal=path is not None)
        return engine
    if backend == "postgresql":
        if url.get_driver_name() != "psycopg":
            raise ConfigurationError(
                f"PostgreSQL needs the psycopg 3 driver: postgresql+psycopg://... (got {url.drivername})"
            )
        return create_async_engine(url, echo=echo, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    raise ConfigurationError(
        f"unsupported database {backend!r}: use sqlite+aiosqlite:// or postgresql+psycopg://"
    )


def _install_sqlite_hooks(engine: AsyncEngine, *, wal: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # take BEGIN away from the driver (see "Serializable isolation / Savepoints / Transactional DDL"
        # in SQLAlchemy's SQLite docs); we emit it ourselves in _on_begin
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def serialize_writes(connection: AsyncSession | AsyncConnection) -> None:
    """Inside a transaction: wait until no other :func:`serialize_writes` transaction runs (PostgreSQL
    advisory transaction lock). SQLite needs nothing: ``BEGIN IMMEDIATE`` already holds its write lock."""
    bind = connection.get_bind() if isinstance(connection, AsyncSession) else connection
    if bind.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})


def shown_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _first_line(error: BaseException) -> str:
    orig = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return " ".join(lines[0].split()) if lines else type(orig).__name__


@asynccontextmanager
async def database_errors(engine: AsyncEngine) -> AsyncIterator[None]:
    """Turn a database that cannot be opened (no such PostgreSQL database, a refused port, a file that is
    not SQLite) into one :class:`DatabaseUnavailableError` line naming the URL (password hidden)."""
    try:
        yield
    except exc.DatabaseError as error:
        if not isinstance(error, exc.OperationalError) and type(error) is not exc.DatabaseError:
            raise  # integrity, data, programming errors are ours to report, not the database's absence
        raise DatabaseUnavailableError(shown_url(engine.url), _first_line(error)) from None


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (``expire_on_commit=False``)."""
    return async_sessionmaker(engine, expire_on_commit=False)
