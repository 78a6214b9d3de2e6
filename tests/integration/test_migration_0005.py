"""Migration 0005 on real SQLite and PostgreSQL: a 0004 database's approvers become portfolio roles (approver ->
approver, owner -> owner; users made where missing), the approvers table goes, the command line's identity
`local` is an admin owning every portfolio; downgrade brings the approvers back."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import make_session_factory
from app.db.migrate import current_revision, downgrade_to, head_revision, upgrade_to_head
from app.db.repositories.identity import IdentityRepository
from app.domain.identity import LOCAL_USER, Role

OLD = "0004_one_proposal_lifecycle"


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def _write_0004_rows(engine: AsyncEngine) -> None:
    """What the 0004-era code wrote: alice owns P1 (and has an address), bob approves P1 and P2 (no users row)."""
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO users (user_id, email, updated_at) "
                                "VALUES ('alice', 'alice@example.org', '2026-11-30 09:00:00+00:00')"))
        for portfolio, user, role in (("P1", "alice", "owner"), ("P1", "bob", "approver"), ("P2", "bob", "approver")):
            await conn.execute(text("INSERT INTO portfolio_approvers (portfolio_id, user_id, role) "
                                    "VALUES (:p, :u, :r)"), {"p": portfolio, "u": user, "r": role})


async def test_0005_moves_approvers_into_roles_and_makes_local_an_owning_admin(seeded_engine: AsyncEngine) -> None:
    await downgrade_to(seeded_engine, OLD)
    assert "portfolio_approvers" in await _tables(seeded_engine)
    async with seeded_engine.begin() as conn:
        await conn.execute(text("DELETE FROM users"))  # a 0004 database has no `local`
    await _write_0004_rows(seeded_engine)

    await upgrade_to_head(seeded_engine)
    assert await current_revision(seeded_engine) == head_revision()
    tables = await _tables(seeded_engine)
    assert "portfolio_approvers" not in tables and {"api_tokens", "portfolio_roles"} <= tables

    async with make_session_factory(seeded_engine)() as s:
        repo = IdentityRepository(s)
        assert await repo.holders("P1") == {"alice": Role.OWNER, "bob": Role.APPROVER, LOCAL_USER: Role.OWNER}
        assert await repo.holders("P2") == {"bob": Role.APPROVER, LOCAL_USER: Role.OWNER}
        alice, bob, local = await repo.user("alice"), await repo.user("bob"), await repo.user(LOCAL_USER)
        assert await repo.user_ids() == ["alice", "bob", LOCAL_USER]
    assert alice is not None and alice.email == "alice@example.org" and not alice.is_admin
    assert alice.created_at is not None and alice.created_at.isoformat().startswith("2026-11-30T09:00")
    assert bob is not None and bob.email is None and not bob.is_admin
    assert local is not None and local.is_admin and local.tokens == ()
    assert {g.granted_by for g in alice.roles + bob.roles + local.roles} == {"migration 0005"}

    # downgrade: owners and approvers go back where the old code reads them; local's grants were the migration's
    await downgrade_to(seeded_engine, OLD)
    async with seeded_engine.connect() as conn:
        rows = sorted(tuple(r) for r in await conn.execute(text(
            "SELECT portfolio_id, user_id, role FROM portfolio_approvers")))
        columns = {c["name"] for c in await conn.run_sync(lambda c: inspect(c).get_columns("users"))}
    assert rows == [("P1", "alice", "owner"), ("P1", "bob", "approver"), ("P2", "bob", "approver")]
    assert columns == {"user_id", "email", "updated_at"}
    assert {"api_tokens", "portfolio_roles"}.isdisjoint(await _tables(seeded_engine))


async def test_0005_on_an_empty_database_makes_local(migrated_engine: AsyncEngine) -> None:
    async with make_session_factory(migrated_engine)() as s:
        local = await IdentityRepository(s).user(LOCAL_USER)
    assert local is not None and local.is_admin and local.roles == ()
