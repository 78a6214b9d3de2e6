"""Roles are ordered; tokens have one format, are stored only as Argon2id hashes, and verified tokens are cached
for a bounded time (pure code: no database)."""

from __future__ import annotations

import time

import pytest

from app.core.errors import NotAuthenticatedError, PermissionDeniedError
from app.core.tokens import TOKEN_RE, Verified, VerifiedTokens, fingerprint, new_token, token_id_of, verify_token
from app.domain.identity import Access, Role


def test_roles_are_ordered_viewer_manager_approver_owner() -> None:
    assert Role.VIEWER < Role.MANAGER < Role.APPROVER < Role.OWNER
    assert sorted([Role.OWNER, Role.VIEWER, Role.APPROVER, Role.MANAGER]) == list(Role)
    assert Role.OWNER.includes(Role.APPROVER) and Role.APPROVER.includes(Role.APPROVER)
    assert not Role.MANAGER.includes(Role.APPROVER) and not Role.VIEWER.includes(Role.MANAGER)
    assert Role.OWNER >= "viewer" and Role("manager") > Role.VIEWER
    assert {Role.OWNER: 1}["owner"] == 1  # still a str enum: JSON and dict keys unchanged


def test_a_token_is_dawsos_id_secret_and_only_its_hash_is_kept() -> None:
    made = new_token()
    assert TOKEN_RE.match(made.text) and made.text.startswith(f"dawsos_{made.token_id}_")
    assert token_id_of(made.text) == made.token_id
    assert made.token_hash.startswith("$argon2id$") and made.text not in made.token_hash
    assert made.text.split("_", 2)[2] not in made.token_hash
    assert verify_token(made.token_hash, made.text)
    assert not verify_token(made.token_hash, made.text[:-1] + ("A" if made.text[-1] != "A" else "B"))
    assert not verify_token("not a hash", made.text)
    other = new_token()
    assert other.token_id != made.token_id and not verify_token(made.token_hash, other.text)


@pytest.mark.parametrize("text", ["", "dawsos_", "dawsos_abc_def", "Bearer xyz", "dawsos_ABCDEFGHIJKL_" + "x" * 43])
def test_malformed_tokens_have_no_id(text: str) -> None:
    assert token_id_of(text) is None


def test_the_cache_forgets_after_its_ttl_and_on_revocation() -> None:
    cache = VerifiedTokens(ttl=0.2)
    a, b = new_token(), new_token()
    cache.put(a.text, Verified("alice", a.token_id, False))
    cache.put(b.text, Verified("bob", b.token_id, True))
    assert cache.get(a.text) == Verified("alice", a.token_id, False)
    assert fingerprint(a.text) in cache._entries and a.text not in str(cache._entries)  # keyed by SHA-256 only
    cache.forget(a.token_id)
    assert cache.get(a.text) is None and cache.get(b.text) is not None
    time.sleep(0.25)
    assert cache.get(b.text) is None


def test_access_declarations_and_error_messages() -> None:
    assert Access.proposal(Role.APPROVER).describe() == "approver on the proposal's portfolio"
    assert Access.admin_only().describe() == "admin" and Access.signed_in().describe() == "any signed-in user"
    refused = PermissionDeniedError("alice", "approver", "P1")
    assert str(refused) == "not permitted: alice holds no approver role on portfolio P1" and refused.exit_code == 3
    assert str(PermissionDeniedError("bob", "admin")) == "not permitted: bob is not an admin"
    assert NotAuthenticatedError("x").exit_code == 2
