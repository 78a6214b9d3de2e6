"""Database fixtures shared by every test suite (real SQLite and real PostgreSQL, schema from migrations).

Fixtures (all function-scoped; async ones run on the test's own event loop):

* ``database_backend`` — ``"sqlite"`` or ``"postgres"``; the parametrisation. The postgres param carries the
  ``postgres`` marker (``pytest -m "not postgres"`` runs SQLite only). PostgreSQL comes from
  ``$DAWSOS_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``); when it cannot be reached
  the postgres tests are skipped, or FAIL when ``CI=true``.
* ``database_url`` — an async SQLAlchemy URL of a fresh, EMPTY database (no tables): a file under
  ``tmp_path`` or a new PostgreSQL database ``dawsos_t_<uuid8>`` dropped ``WITH (FORCE)`` afterwards.
* ``migrated_engine`` — ``AsyncEngine`` on ``database_url`` upgraded to the Alembic head; disposed after.
* ``session_factory`` — ``async_sessionmaker`` on ``migrated_engine`` (``expire_on_commit=False``); no data.
* ``seeded_session_factory`` — ``async_sessionmaker`` on ANOTHER fresh database holding ``data/SEEDS/optimizer``
  exactly as ``app.seeding.run_seed`` writes it (cloned from a per-session seeded template, so it costs
  milliseconds). Use it alone: it is not the database behind ``session_factory``/``migrated_engine``.
* ``seeded_engine`` — the engine behind ``seeded_session_factory``.
* ``seeded_sqlite_template`` (session) — the seeded SQLite file itself, to copy (never write to it).
* ``seeds_dir`` — the repository's seed folder (read-only: never modify it);
  ``seeds_copy`` — a writable copy under ``tmp_path`` to corrupt in tests.

Helpers (import with ``from tests.conftest import row_counts, SEEDS_DIR``):

* ``await row_counts(session_factory) -> dict[table, int]`` — rows in every table of ``app.db`` models.
* ``with capture_info_logs() as logs:`` — structlog entries (INFO and up, contextvars merged) while the block
  runs, whatever level an earlier test in the same worker left configured; WARNING is restored after.
* ``SEEDS_DIR``, ``REPO_ROOT``, ``MARKET_DATA`` (``../shared/data/market/sp500_dataset.csv.gz``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db.base import Base
from app.db.engine import make_engine, make_session_factory
from app.db.migrate import upgrade_to_head

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = REPO_ROOT / "data" / "SEEDS" / "optimizer"
MARKET_DATA = REPO_ROOT.parent / "shared" / "data" / "market" / "sp500_dataset.csv.gz"
PG_ADMIN_URL = os.environ.get("DAWSOS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


# ---- helpers ------------------------------------------------------------------------------------
@contextmanager
def capture_info_logs() -> Iterator[list[dict[str, Any]]]:
    """Captured structlog entries at INFO and up. ``capture_logs`` alone replaces the processors but not the
    level filter, so after a test that configured WARNING an INFO event would never reach it."""
    import structlog

    from app.core.logging import configure_logging

    configure_logging(level="INFO", json=True, force=True)
    try:
        with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            yield logs
    finally:
        configure_logging(level="WARNING", force=True)


async def row_counts(session_factory: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """``{table: rows}`` for every table of the ORM metadata, in dependency order."""
    async with session_factory() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def _pg_url(database: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1]
    return f"postgresql+psycopg://{base}/{database}"


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


_pg_status: dict[str, str | None] = {}


def _require_postgres() -> None:
    """Skip (or fail under CI=true) when PostgreSQL cannot be reached; checked once per session."""
    if "error" not in _pg_status:
        try:
            _pg_admin("SELECT 1")
            _pg_status["error"] = None
        except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server"
            _pg_status["error"] = (
                f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
            )
    error = _pg_status["error"]
    if error is not None:
        message = f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({error})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI=true requires it", pytrace=False)
        pytest.skip(message)


def _new_pg_database(template: str | None = None) -> str:
    name = f"dawsos_t_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def _drop_pg_database(name: str) -> None:
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _migrate_and_seed(url: str) -> None:
    from app.seeding import run_seed

    engine = make_engine(url, create=True)
    try:
        await upgrade_to_head(engine)
        await run_seed(make_session_factory(engine), SEEDS_DIR)
    finally:
        await engine.dispose()


# ---- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        _require_postgres()
    return request.param


@pytest.fixture
def database_url(database_backend: str, tmp_path: Path) -> Iterator[str]:
    if database_backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'db' / 'dawsos.sqlite3'}"
        return
    name = _new_pg_database()
    try:
        yield _pg_url(name)
    finally:
        _drop_pg_database(name)


@pytest.fixture
async def migrated_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, create=True)
    try:
        await upgrade_to_head(engine)
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def session_factory(migrated_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(migrated_engine)


class _SeededTemplates:
    """One seeded database per backend per test session; tests get copies."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sqlite_file: Path | None = None
        self.pg_database: str | None = None

    def sqlite(self) -> Path:
        if self.sqlite_file is None:
            path = self.root / "seeded.sqlite3"
            asyncio.run(_migrate_and_seed(f"sqlite+aiosqlite:///{path}"))
            self.sqlite_file = path
        return self.sqlite_file

    def postgres(self) -> str:
        if self.pg_database is None:
            name = _new_pg_database()
            try:
                asyncio.run(_migrate_and_seed(_pg_url(name)))
            except BaseException:
                _drop_pg_database(name)
                raise
            self.pg_database = name
        return self.pg_database

    def close(self) -> None:
        if self.pg_database is not None:
            _drop_pg_database(self.pg_database)


@pytest.fixture(scope="session")
def _seeded_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_SeededTemplates]:
    templates = _SeededTemplates(tmp_path_factory.mktemp("seeded_templates"))
    try:
        yield templates
    finally:
        templates.close()


@pytest.fixture(scope="session")
def seeded_sqlite_template(_seeded_templates: _SeededTemplates) -> Path:
    """The session's seeded SQLite file, exactly as ``dawsos seed`` writes it. Read-only: copy it (a module-scoped
    fixture that needs a seeded database copies it instead of running ``dawsos seed`` in a subprocess)."""
    return _seeded_templates.sqlite()


@pytest.fixture
def seeded_database_url(
    database_backend: str, tmp_path: Path, _seeded_templates: _SeededTemplates
) -> Iterator[str]:
    if database_backend == "sqlite":
        target = tmp_path / "seeded" / "dawsos.sqlite3"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_seeded_templates.sqlite(), target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    name = _new_pg_database(template=_seeded_templates.postgres())
    try:
        yield _pg_url(name)
    finally:
        _drop_pg_database(name)


@pytest.fixture
async def seeded_engine(seeded_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(seeded_database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def seeded_session_factory(seeded_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(seeded_engine)


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS_DIR


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, target)
    return target


# ---- golden files ---------------------------------------------------------------------------------
GOLDEN_MODES = ("never", "missing", "always")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--golden-update",
        action="store",
        default="never",
        choices=GOLDEN_MODES,
        help="rewrite golden files: never (default), missing (write absent expected blocks), always. "
        "A written file still fails the run so a person reviews it.",
    )


@pytest.fixture
def golden_update(request: pytest.FixtureRequest) -> str:
    """The --golden-update mode: never | missing | always."""
    return str(request.config.getoption("--golden-update"))
