"""Concurrent writers and first-time seeds in separate processes, on SQLite and PostgreSQL.

Each writer is a real ``dawsos`` subprocess; they start together (a barrier file) so their transactions
overlap. SQLite runs in WAL mode with a busy timeout and short write transactions (``BEGIN IMMEDIATE``);
PostgreSQL serialises seeding and migrations with an advisory lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.db.repositories.identity import IdentityRepository
from tests.conftest import row_counts
from tests.integration.rebalancing_setup import configure_p1

DAWSOS = str(Path(sys.executable).parent / "dawsos")
WRITERS = 8
ROUNDS = 2  # rounds of eight setup writers (before WAL + BEGIN IMMEDIATE, 1-2 of 8 failed per round)


def _start_together(url: str, commands: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command at once and wait for all of them."""
    env = {**os.environ, "DATABASE_URL": url, "DAWSOS_LOG_LEVEL": "ERROR"}
    procs = [
        subprocess.Popen([DAWSOS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for args in commands
    ]
    results = []
    for args, proc in zip(commands, procs):
        out, err = proc.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(args, proc.returncode, out, err))
    return results


async def test_eight_concurrent_proposers_all_succeed(seeded_database_url, seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory)
    before = await row_counts(seeded_session_factory)
    commands = [["rebalancing", "propose", "P1", "--force", "--json"] for _ in range(WRITERS // 2)]
    commands += [["rebalance", "--portfolio", "P1", "--policy", "quality_focused", "--json"]
                 for _ in range(WRITERS - WRITERS // 2)]
    results = _start_together(seeded_database_url, commands)
    failed = [(r.args, r.returncode, r.stderr.strip()[:300]) for r in results if r.returncode != 0]
    assert not failed, failed
    for r in results:
        json.loads(r.stdout)
        assert r.stderr == ""
    after = await row_counts(seeded_session_factory)
    assert after["rebalance_runs"] - before["rebalance_runs"] == WRITERS // 2


async def test_eight_concurrent_setup_writers_all_succeed(seeded_database_url, seeded_session_factory) -> None:  # noqa: ANN001
    """Short read-then-write transactions (a role each) from eight processes, ROUNDS rounds: none is locked out."""
    before = await row_counts(seeded_session_factory)
    for round_no in range(ROUNDS):
        users = [f"user{round_no}{i}@example.com" for i in range(WRITERS)]
        async with seeded_session_factory() as s, s.begin():  # a role is granted to an existing user
            for user in users:
                await IdentityRepository(s).create_user(user)
        results = _start_together(seeded_database_url, [
            ["rebalancing", "approvers", "set", "P1", user, "--role", "approver", "--json"] for user in users
        ])
        failed = [(r.args[3], r.returncode, r.stderr.strip()[:300]) for r in results if r.returncode != 0]
        assert not failed, failed
        assert all(r.stderr == "" for r in results)
    after = await row_counts(seeded_session_factory)
    assert after["portfolio_roles"] - before["portfolio_roles"] == ROUNDS * WRITERS


async def test_two_first_time_seeds_at_once_both_succeed(database_url, seeded_session_factory) -> None:  # noqa: ANN001
    """Two `dawsos seed` on an empty database at once: both exit 0, one writes, the other finds it done."""
    from app.db.engine import make_engine, make_session_factory

    results = _start_together(database_url, [["seed"], ["seed"]])
    assert [r.returncode for r in results] == [0, 0], [r.stderr[-400:] for r in results]
    assert all(r.stderr == "" for r in results), [r.stderr[-400:] for r in results]
    assert sum("nothing changed" in r.stdout for r in results) == 1
    engine = make_engine(database_url)
    try:
        counts = await row_counts(make_session_factory(engine))
    finally:
        await engine.dispose()
    assert counts == await row_counts(seeded_session_factory)  # exactly what one seed writes
