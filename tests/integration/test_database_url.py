"""`DATABASE_URL` naming a database that cannot be used: one line on stderr, exit 2, nothing created."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.cli_process import DAWSOS, assert_one_line, dawsos
from tests.conftest import PG_ADMIN_URL, _require_postgres


def assert_url_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    """One error line about DATABASE_URL (see tests/cli_process.assert_one_line)."""
    assert_one_line(result, code, "error: DATABASE_URL ", *needles)
    assert result.stderr.startswith("error: DATABASE_URL "), result.stderr


def _pg_server() -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1]


@pytest.mark.postgres
def test_missing_postgres_database_is_one_line() -> None:
    _require_postgres()
    name = f"dawsos_missing_{uuid.uuid4().hex[:8]}"
    for command in (["packs", "list"], ["seed"]):
        result = dawsos(f"postgresql+psycopg://{_pg_server()}/{name}", *command)
        assert_url_error(result, 2, name, "does not exist")


def test_refused_port_is_one_line() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on: bind, read it, close
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = dawsos(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test", "policies", "list")
    assert_url_error(result, 2, f"port {port}", "refused")


def test_file_that_is_not_sqlite_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("these are notes, not a database\n" * 100)
    before = junk.read_bytes()
    for command in (["packs", "list"], ["seed"]):
        assert_url_error(dawsos(f"sqlite+aiosqlite:///{junk}", *command), 2, str(junk), "not a database")
    assert junk.read_bytes() == before


def test_mistyped_sqlite_url_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_folder" / "dawsos.sqlite3"
    for command in (["packs", "list"], ["policies", "list", "--json"], ["rebalancing", "approvers", "list", "P1"]):
        assert_url_error(dawsos(f"sqlite+aiosqlite:///{missing}", *command), 2, str(missing), "dawsos seed")
    assert not missing.parent.exists()
    assert_url_error(dawsos(f"sqlite+aiosqlite:///{tmp_path}", "packs", "list"), 2, "is a folder")


def test_seed_and_the_default_database_may_create_one(tmp_path: Path) -> None:
    target = tmp_path / "new_folder" / "dawsos.sqlite3"
    seeded = dawsos(f"sqlite+aiosqlite:///{target}", "seed")
    assert seeded.returncode == 0 and seeded.stderr == "", seeded.stderr[-500:]
    assert target.is_file()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    default = subprocess.run([DAWSOS, "packs", "list", "--json"], capture_output=True, text=True, env=env,
                             timeout=120, cwd=tmp_path)
    assert default.returncode == 0, default.stderr[-500:]
    assert (tmp_path / "var" / "dawsos.sqlite3").is_file()


def test_a_database_written_by_a_newer_version_is_one_line_and_left_alone(tmp_path: Path,
                                                                         seeded_sqlite_template: Path) -> None:
    """A schema revision these migrations do not know (a newer dawsos wrote it): one line, exit 2, untouched."""
    import shutil
    import sqlite3

    path = tmp_path / "dawsos.sqlite3"
    shutil.copyfile(seeded_sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    before = path.read_bytes()
    assert_url_error(dawsos(url, "policies", "list"), 2, "'9999_from_the_future'", "newer than this dawsos")
    assert path.read_bytes() == before
