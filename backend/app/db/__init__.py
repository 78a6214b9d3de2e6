"""Persistence: SQLAlchemy 2.0 models, async engine and sessions, Alembic migrations, repositories.

Imports nothing heavy and touches no database at import time; build engines with
:func:`app.db.engine.make_engine` and migrate with :func:`app.db.migrate.upgrade_to_head`.
"""
