"""Authentication and role checks on real SQLite and PostgreSQL: tokens stored only as Argon2id hashes, revoked
and unknown tokens refused, the 30-second verification cache, each role against each needed role."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.errors import NotAuthenticatedError, PermissionDeniedError
from app.core.tokens import VERIFIED
from app.db.repositories.identity import IdentityRepository
from app.domain.identity import LOCAL_USER, Role
from app.orchestrator.identity import Principal, authenticate, require_admin, require_role

pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def fresh_cache():  # noqa: ANN201
    VERIFIED.forget()
    yield
    VERIFIED.forget()


async def _user_with_token(factory: async_sessionmaker[AsyncSession], user: str, *, admin: bool = False) -> str:
    async with factory() as s, s.begin():
        repo = IdentityRepository(s)
        await repo.create_user(user, email=f"{user}@example.org", is_admin=admin)
        return (await repo.issue_token(user, label="laptop")).token


async def _all_text(factory: async_sessionmaker[AsyncSession]) -> str:
    """Every value of every row of the identity tables, as one string."""
    out = []
    async with factory() as s:
        for table in ("users", "api_tokens", "portfolio_roles"):
            out += [repr(tuple(r)) for r in (await s.execute(text(f"SELECT * FROM {table}"))).all()]
    return "\n".join(out)


async def test_a_token_authenticates_its_user_and_is_stored_only_hashed(seeded_session_factory) -> None:  # noqa: ANN001
    token = await _user_with_token(seeded_session_factory, "alice")
    secret = token.split("_", 2)[2]
    stored = await _all_text(seeded_session_factory)
    assert token not in stored and secret not in stored and "$argon2id$" in stored

    assert await authenticate(seeded_session_factory, token) == Principal(user_id="alice", is_admin=False)
    async with seeded_session_factory() as s:
        info = await IdentityRepository(s).user("alice")
    assert info is not None and [t.label for t in info.tokens] == ["laptop"]
    assert info.tokens[0].last_used_at is not None and info.tokens[0].active
    assert token not in info.model_dump_json() and "argon2" not in info.model_dump_json()


@pytest.mark.parametrize("bad", [None, "", "   ", "dawsos_nope", "Bearer dawsos_x", "dawsos_abcdefghijkl_" + "x" * 43])
async def test_missing_malformed_and_unknown_tokens_are_not_authenticated(seeded_session_factory, bad) -> None:  # noqa: ANN001
    with pytest.raises(NotAuthenticatedError) as refused:
        await authenticate(seeded_session_factory, bad)
    assert refused.value.exit_code == 2 and "x" * 43 not in str(refused.value)


async def test_a_wrong_secret_for_a_real_token_id_is_refused(seeded_session_factory) -> None:  # noqa: ANN001
    token = await _user_with_token(seeded_session_factory, "alice")
    forged = token[: token.rindex("_") + 1] + "A" * 43
    with pytest.raises(NotAuthenticatedError, match="does not verify"):
        await authenticate(seeded_session_factory, forged)


async def test_revoked_token_is_refused_at_once_in_this_process(seeded_session_factory) -> None:  # noqa: ANN001
    token = await _user_with_token(seeded_session_factory, "alice")
    await authenticate(seeded_session_factory, token)  # verified and cached
    token_id = token.split("_")[1]
    async with seeded_session_factory() as s, s.begin():
        revoked = await IdentityRepository(s).revoke_token(token_id)
    assert revoked is not None and revoked.revoked_at is not None
    # another process revoked it: this process's cache still vouches for it (for at most 30 s) ...
    assert (await authenticate(seeded_session_factory, token)).user_id == "alice"
    VERIFIED.forget(token_id)  # ... the revoking process forgets it at once
    with pytest.raises(NotAuthenticatedError, match="revoked"):
        await authenticate(seeded_session_factory, token)


async def test_the_cache_expires(seeded_session_factory, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(VERIFIED, "ttl", 0.0)
    token = await _user_with_token(seeded_session_factory, "alice")
    await authenticate(seeded_session_factory, token)
    async with seeded_session_factory() as s, s.begin():
        await IdentityRepository(s).revoke_token(token.split("_")[1])
    with pytest.raises(NotAuthenticatedError):
        await authenticate(seeded_session_factory, token)


NEEDED = list(Role)


@pytest.mark.parametrize("held", [None, *Role])
async def test_each_role_allows_what_it_includes_and_no_more(seeded_session_factory, held) -> None:  # noqa: ANN001
    async with seeded_session_factory() as s, s.begin():
        repo = IdentityRepository(s)
        await repo.create_user("u")
        if held is not None:
            await repo.grant("P1", "u", held, granted_by="test")
    allowed = []
    async with seeded_session_factory() as s:
        for needed in NEEDED:
            try:
                await require_role(s, Principal("u"), "P1", needed)
                allowed.append(needed)
            except PermissionDeniedError as exc:
                assert str(exc).startswith(f"not permitted: u holds no {needed.value} role on portfolio P1")
                assert exc.exit_code == 3
            with pytest.raises(PermissionDeniedError):  # a role on P1 is no role on P2
                await require_role(s, "u", "P2", needed)
    assert allowed == ([] if held is None else [r for r in Role if r <= held])


async def test_admin_is_a_flag_not_a_role(seeded_session_factory) -> None:  # noqa: ANN001
    async with seeded_session_factory() as s, s.begin():
        repo = IdentityRepository(s)
        await repo.create_user("root", is_admin=True)
        await repo.create_user("bob")
    async with seeded_session_factory() as s:
        await require_admin(s, "root")
        await require_admin(s, LOCAL_USER)  # the command line's identity (migration 0005)
        with pytest.raises(PermissionDeniedError, match="not permitted: bob is not an admin"):
            await require_admin(s, "bob")
        with pytest.raises(PermissionDeniedError, match="root holds no viewer role"):
            await require_role(s, "root", "P1", Role.VIEWER)


async def test_grant_replaces_and_revoke_removes_a_role(seeded_session_factory) -> None:  # noqa: ANN001
    async with seeded_session_factory() as s, s.begin():
        repo = IdentityRepository(s)
        await repo.create_user("u")
        await repo.grant("P1", "u", Role.VIEWER, granted_by="local")
        grant = await repo.grant("P1", "u", Role.APPROVER, granted_by="local")
        assert (grant.role, grant.granted_by) == (Role.APPROVER, "local")
        assert await repo.holders("P1") == {"u": Role.APPROVER, LOCAL_USER: Role.OWNER}  # local: `dawsos seed`
        assert await repo.portfolios_of("u", Role.MANAGER) == {"P1"}
        assert await repo.revoke_role("P1", "u") is Role.APPROVER
        assert await repo.revoke_role("P1", "u") is None and await repo.holders("P1") == {LOCAL_USER: Role.OWNER}
