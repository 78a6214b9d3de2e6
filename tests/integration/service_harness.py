"""Helpers of the service tests: a REAL ``dawsos serve`` subprocess on 127.0.0.1 (free ports), seeded databases that
live as long as a test module, users with API tokens, and polling.

* :class:`ServerProcess` — starts ``dawsos serve --port P --grpc-port G`` with ``DATABASE_URL``, waits for
  ``/healthz``; :meth:`~ServerProcess.stop` sends SIGTERM and waits, :meth:`~ServerProcess.kill` sends SIGKILL.
* :func:`module_database` — a seeded database (SQLite file copy, or a PostgreSQL database cloned from the
  session's seeded template) for one module; dropped afterwards.
* :func:`make_users` — users, roles and tokens written through the identity repository (what ``dawsos users``
  does), returning ``{user: token}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import PG_ADMIN_URL

DAWSOS = str(Path(sys.executable).with_name("dawsos"))
PACK = "PP_2022-12-28"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dawsos_env(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "DAWSOS_LOG_LEVEL": "WARNING", **extra}


def dawsos(url: str, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    """One ``dawsos`` command in a subprocess on ``url``."""
    return subprocess.run([DAWSOS, *args], env=dawsos_env(url, **env), text=True, capture_output=True,
                          timeout=timeout)


class ServerProcess:
    """A ``dawsos serve`` subprocess on free ports (REST ``base``, gRPC ``grpc_target``)."""

    def __init__(self, url: str, log_dir: Path, *, workers: int = 2, lease_seconds: float = 30.0,
                 grpc: bool = True, name: str = "server") -> None:
        self.url, self.workers, self.lease_seconds, self.grpc = url, workers, lease_seconds, grpc
        self.port, self.grpc_port = free_port(), (free_port() if grpc else 0)
        self.log_file = log_dir / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self.stderr_file = self.log_file.with_suffix(".stderr")
        self.proc: subprocess.Popen[str] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self, timeout: float = 90.0) -> ServerProcess:
        args = [DAWSOS, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--grpc-port",
                str(self.grpc_port), "--workers", str(self.workers), "--lease-seconds", str(self.lease_seconds)]
        env = dawsos_env(self.url, DAWSOS_LOG_FILE=str(self.log_file))
        with self.stderr_file.open("w") as err:
            self.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dawsos serve exited {self.proc.returncode}: {self.stderr_file.read_text()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"dawsos serve did not answer /healthz within {timeout} s")

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then wait (graceful shutdown); returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL (no shutdown at all: what a crash or an OOM kill does)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def log_events(self) -> list[dict[str, Any]]:
        """The server's structlog lines (JSON), in order."""
        if not self.log_file.exists():
            return []
        out = []
        for line in self.log_file.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out


@contextmanager
def running_server(url: str, log_dir: Path, **kw: Any) -> Iterator[ServerProcess]:
    server = ServerProcess(url, log_dir, **kw).start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            server.kill()


# ---- databases ------------------------------------------------------------------------------------
def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


def pg_url(database: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1]
    return f"postgresql+psycopg://{base}/{database}"


@contextmanager
def module_database(backend: str, templates: Any, folder: Path) -> Iterator[str]:
    """A seeded database for one module: a copy of the session's seeded SQLite file, or a PostgreSQL database
    made from the session's seeded template (dropped afterwards)."""
    if backend == "sqlite":
        target = folder / "dawsos.sqlite3"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(templates.sqlite(), target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    name = f"dawsos_s_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{templates.postgres()}"')
    try:
        yield pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- users ----------------------------------------------------------------------------------------
async def _make_users(url: str, grants: dict[str, dict[str, str]], admins: tuple[str, ...]) -> dict[str, str]:
    from app.db.engine import make_engine, make_session_factory
    from app.db.repositories.identity import IdentityRepository
    from app.domain.identity import Role

    engine = make_engine(url)
    tokens: dict[str, str] = {}
    try:
        async with make_session_factory(engine).begin() as session:
            repo = IdentityRepository(session)
            for user in sorted(set(grants) | set(admins)):
                await repo.ensure_user(user, is_admin=user in admins)
                for portfolio_id, role in grants.get(user, {}).items():
                    await repo.grant(portfolio_id, user, Role(role), granted_by="tests")
                tokens[user] = (await repo.issue_token(user, label="tests")).token
    finally:
        await engine.dispose()
    return tokens


def make_users(url: str, grants: dict[str, dict[str, str]], admins: tuple[str, ...] = ()) -> dict[str, str]:
    """Create ``grants`` (``{user: {portfolio: role}}``) and ``admins``; ``{user: API token}``."""
    return asyncio.run(_make_users(url, grants, admins))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def poll_job(client: httpx.Client, location: str, token: str, *, timeout: float = 180.0,
             until: tuple[str, ...] = ("completed", "failed", "cancelled")) -> dict[str, Any]:
    """GET ``location`` until the job's status is one of ``until``."""
    deadline = time.monotonic() + timeout
    while True:
        doc = client.get(location, headers=bearer(token)).json()
        if doc["status"] in until:
            return doc
        if time.monotonic() > deadline:
            raise AssertionError(f"job still {doc['status']} after {timeout} s: {doc}")
        time.sleep(0.25)


def require_postgres() -> None:
    """Skip (or fail under CI=true) when PostgreSQL cannot be reached."""
    import pytest

    try:
        _pg_admin("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server"
        message = f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({type(exc).__name__})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI=true requires it", pytrace=False)
        pytest.skip(message)
