"""Authentication and authorisation, the same for every interface (CLI, REST, gRPC, dashboard).

An interface turns what the caller presents into a :class:`Principal` and puts its ``user_id`` in the request
context; the orchestrator then checks each call against the capability's declared :class:`Access`
(:func:`check_access`) with :func:`require_role` / :func:`require_admin`. Nothing here knows about HTTP.

* :func:`authenticate` — ``dawsos_<token_id>_<secret>`` → :class:`Principal`, or
  :class:`~app.core.errors.NotAuthenticatedError` (missing, malformed, unknown or revoked token). The token row
  is looked up by its ``token_id`` and the token verified against its Argon2id hash. Successful verifications
  are cached in-process for at most 30 s, keyed by the token's SHA-256 (:data:`app.core.tokens.VERIFIED`): a
  revocation takes effect at once in the process that revoked the token and within 30 s in other processes.
* :func:`require_role` — :class:`~app.core.errors.PermissionDeniedError` unless the user holds ``role`` (or a
  higher one) on the portfolio. Admins are not implicitly role holders.
* :func:`require_admin` — PermissionDeniedError unless the user is an admin.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import structlog

from app.core.errors import DawsosError, NotAuthenticatedError, PermissionDeniedError, UnknownPortfolioError
from app.core.tokens import VERIFIED, Verified, token_id_of, verify_token
from app.domain.identity import LOCAL_USER, Access, Principal, Role

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = ["LOCAL_USER", "Access", "Principal", "Role", "authenticate", "check_access", "principal_of",
           "require_admin", "require_role"]

log = structlog.get_logger()


async def authenticate(session_factory: async_sessionmaker[AsyncSession], token: str | None) -> Principal:
    """The user whose API token ``token`` is; NotAuthenticatedError when it is missing, malformed, unknown or
    revoked (the message names the token id at most, never the secret). Updates the token's
    ``last_used_at`` when it is verified (not on a cache hit)."""
    from app.db.repositories.identity import IdentityRepository

    if not token or not token.strip():
        raise NotAuthenticatedError("no API token given (expected dawsos_<token id>_<secret>)")
    token_id = token_id_of(token)
    if token_id is None:
        raise NotAuthenticatedError("malformed API token (expected dawsos_<token id>_<secret>)")
    cached = VERIFIED.get(token)
    if cached is not None:
        return Principal(user_id=cached.user_id, is_admin=cached.is_admin)
    async with session_factory() as session, session.begin():
        repo = IdentityRepository(session)
        found = await repo.token_hash(token_id)
        if found is None:
            raise NotAuthenticatedError(f"unknown or revoked API token {token_id}")
        user_id, token_hash = found
        if not await asyncio.to_thread(verify_token, token_hash, token):
            raise NotAuthenticatedError(f"API token {token_id} does not verify (unknown or revoked token)")
        await repo.touch_token(token_id)
        is_admin = await repo.is_admin(user_id)
    VERIFIED.put(token, Verified(user_id=user_id, token_id=token_id, is_admin=is_admin))
    log.info("identity.authenticated", user=user_id, token_id=token_id)
    return Principal(user_id=user_id, is_admin=is_admin)


async def principal_of(session: AsyncSession, user_id: str) -> Principal | None:
    """The existing user ``user_id`` as a Principal (None when there is no such user)."""
    from app.db.repositories.identity import IdentityRepository

    repo = IdentityRepository(session)
    if not await repo.exists(user_id):
        return None
    return Principal(user_id=user_id, is_admin=await repo.is_admin(user_id))


def _user_id(who: Principal | str) -> str:
    return who.user_id if isinstance(who, Principal) else who


async def require_role(session: AsyncSession, who: Principal | str, portfolio_id: str, role: Role) -> Role:
    """The role ``who`` holds on ``portfolio_id`` when it includes ``role``; else PermissionDeniedError
    ("not permitted: alice holds no approver role on portfolio P1")."""
    from app.db.repositories.identity import IdentityRepository

    user_id, needed = _user_id(who), Role(role)
    held = await IdentityRepository(session).role(portfolio_id, user_id)
    if held is None or not held.includes(needed):
        raise PermissionDeniedError(user_id, needed.value, portfolio_id,
                                    detail=f"their role there: {held.value}" if held else "")
    return held


async def require_admin(session: AsyncSession, who: Principal | str) -> None:
    """PermissionDeniedError ("not permitted: bob is not an admin") unless ``who`` is an admin now (read from
    the database, not from the Principal)."""
    from app.db.repositories.identity import IdentityRepository

    user_id = _user_id(who)
    if not await IdentityRepository(session).is_admin(user_id):
        raise PermissionDeniedError(user_id, "admin")


def _named(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value) if isinstance(value, Iterable) else (str(value),)


async def _portfolios(session: AsyncSession, access: Access, args: BaseModel) -> tuple[str, ...]:
    """The portfolios the call addresses: those named, a proposal's, or those whose settings use a model."""
    from app.db.repositories.identity import IdentityRepository

    named = _named(getattr(args, access.on, None))
    if access.owner_of is not None:
        return tuple([await _resource_portfolio(session, access.owner_of, r) for r in named])
    if access.via == "proposal":
        return tuple([await IdentityRepository(session).proposal_portfolio(p) for p in named])
    if access.via == "model":
        return tuple(sorted({p for m in named for p in await IdentityRepository(session).model_users(m)}))
    return named


async def _resource_portfolio(session: AsyncSession, kind: str, identifier: str) -> str:
    """The portfolio of a service resource (an unknown id is its NotFoundError, before any permission check)."""
    from app.db.repositories.optimizations import OptimizationRepository
    from app.db.repositories.service_records import RebalancePlanRepository

    repositories: dict[str, Any] = {"optimization": OptimizationRepository, "rebalance_plan": RebalancePlanRepository}
    if kind not in repositories:
        raise ValueError(f"Access.owner_of {kind!r}: not one of {', '.join(sorted(repositories))}")
    return await repositories[kind](session).portfolio_of(identifier)


async def check_access(session_factory: async_sessionmaker[AsyncSession], capability: str, access: Access | None,
                       user_id: str, args: BaseModel, *, request_id: str | None = None) -> None:
    """Refuse (PermissionDeniedError) a call of ``capability`` by ``user_id`` that ``access`` does not allow.

    No declared access: only trusted in-process callers (no user) may call it. An admin refused on a portfolio
    that does not exist is told so (UnknownPortfolioError); anyone else only learns they are not permitted. A
    refusal of a call on a proposal whose access says ``record_refusal`` is recorded against the proposal, in
    its own transaction."""
    if access is None:
        raise PermissionDeniedError(user_id, "admin", detail=f"capability {capability!r} declares no access rule")
    async with session_factory() as session:
        async with session.begin():
            refused = await _refusal(session, access, user_id, args)
        if refused is not None and access.record_refusal:
            await _record_refusal(session, capability, user_id, args, refused, request_id)
    if refused is not None:
        raise refused


async def _refusal(session: AsyncSession, access: Access, user_id: str, args: BaseModel) -> DawsosError | None:
    """Why ``user_id`` may not make this call (None: they may)."""
    from app.db.repositories.identity import IdentityRepository

    repo = IdentityRepository(session)
    is_admin = await repo.is_admin(user_id)
    if (access.admin and is_admin) or (access.self_arg and getattr(args, access.self_arg, None) == user_id):
        return None
    needed = access.needed(args)
    if needed is None:
        return PermissionDeniedError(user_id, "admin") if access.admin else None
    for portfolio_id in await _portfolios(session, access, args):
        try:
            await require_role(session, user_id, portfolio_id, needed)
        except PermissionDeniedError as exc:
            if is_admin and access.via == "portfolio" and not await repo.portfolio_exists(portfolio_id):
                return UnknownPortfolioError(portfolio_id)
            return exc
    return None


async def _record_refusal(session: AsyncSession, capability: str, user_id: str, args: BaseModel,
                          exc: DawsosError, request_id: str | None) -> None:
    """The refusal as a row of ``approval_refusals`` (its own transaction: it stays though the call fails)."""
    from app.db.repositories import ProposalRepository

    action = capability.split(".", 1)[1]
    async with session.begin():
        repo = ProposalRepository(session)
        proposal_id = await repo.resolve_id(str(getattr(args, "proposal_id", "")))
        await repo.record_refusal(proposal_id, user=user_id, action=action, reason=str(exc), request_id=request_id)
    log.warning("proposals.decision.refused", proposal_id=proposal_id, user=user_id, action=action,
                portfolio_id=getattr(exc, "portfolio_id", None))
