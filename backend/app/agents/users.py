"""UserAgent: users, their API tokens, their roles per portfolio and where their mail goes.

Who may call what is declared on each capability and checked by the orchestrator:

* ``users.create`` — a new user (optionally an admin) and a first API token (admin);
* ``users.token`` / ``users.revoke_token`` — a new token for a user, or revoke one by its token id (admin, or
  the user themself); a token's text is returned once and only its Argon2id hash is stored;
* ``users.grant`` / ``users.revoke`` — give a user a role on a portfolio (replacing the one they held there),
  or take it away (an owner of that portfolio, or an admin);
* ``users.show`` (admin, or the user themself) / ``users.list`` (admin) — users with roles and token ids
  (never a hash);
* ``users.set`` — store a user's e-mail address (admin, or the user themself); notifications to a user
  without one are recorded undeliverable, never sent to the bare name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.agents.base import Agent, CapabilityArgs, capability
from app.core.context import RequestCtx
from app.core.errors import UnknownTokenError, UnknownUserError, UserExistsError
from app.domain.identity import Access, IssuedToken, Role, RoleGrant, TokenInfo, UserInfo
from app.domain.lifecycle import UserContact

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.db.repositories.identity import IdentityRepository

log = structlog.get_logger()
UserId = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@+-]+$",
               description="user id: letters, digits and . _ @ + - (at most 64)")


class UserArgs(CapabilityArgs):
    user_id: str = UserId


class CreateUserArgs(UserArgs):
    email: EmailStr | None = Field(default=None, description="where the user's notifications go")
    is_admin: bool = Field(default=False, description="manages users, tokens and pricing packs; grants anywhere")
    label: str = Field(default="first token", max_length=200, description="label of the first token")


class TokenArgs(UserArgs):
    label: str = Field(default="", max_length=200, description="what the token is for (e.g. the host using it)")


class RevokeTokenArgs(UserArgs):
    token_id: str = Field(min_length=1, max_length=32, description="the token's public id (dawsos_<token id>_...)")


class GrantArgs(UserArgs):
    portfolio_id: str = Field(min_length=1, max_length=64)
    role: Role = Field(description="viewer | manager | approver | owner")


class RevokeRoleArgs(UserArgs):
    portfolio_id: str = Field(min_length=1, max_length=64)


class SetUserArgs(CapabilityArgs):
    user_id: str = Field(min_length=1, max_length=64, description="the user id")
    email: EmailStr | None = Field(description="e-mail address for the user's notifications; None clears it")


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CreatedUser(_Result):
    user: UserInfo
    token: IssuedToken


class RoleChange(_Result):
    """A grant or revocation and every role on the portfolio after it."""

    portfolio_id: str
    user_id: str
    role: Role | None = Field(description="the user's role now (None: revoked)")
    previous: Role | None = None
    roles: tuple[RoleGrant, ...]


class UserList(_Result):
    users: tuple[UserInfo, ...]


async def _known(repo: IdentityRepository, user_id: str) -> UserInfo:
    user = await repo.user(user_id)
    if user is None:
        raise UnknownUserError(user_id, hint=f"create it first: dawsos users create {user_id}")
    return user


async def _portfolio(session: AsyncSession, portfolio_id: str) -> None:
    from app.db.repositories import PortfolioRepository

    await PortfolioRepository(session).get(portfolio_id)


class UserAgent(Agent):
    name = "users"

    @capability("users.create", args=CreateUserArgs, result=CreatedUser, access=Access.admin_only())
    async def create(self, ctx: RequestCtx, args: CreateUserArgs) -> CreatedUser:
        """Create a user (an admin with ``is_admin``) and issue their first API token (shown once)."""
        from app.db.repositories.identity import IdentityRepository

        async with self.session_factory() as session, session.begin():
            repo = IdentityRepository(session)
            if await repo.exists(args.user_id):
                raise UserExistsError(args.user_id)
            await repo.create_user(args.user_id, email=str(args.email) if args.email else None,
                                   is_admin=args.is_admin)
            token = await repo.issue_token(args.user_id, label=args.label)
            user = await _known(repo, args.user_id)
        log.info("users.created", user=args.user_id, is_admin=args.is_admin, token_id=token.token_id,
                 by=ctx.user_id)
        return CreatedUser(user=user, token=token)

    @capability("users.token", args=TokenArgs, result=IssuedToken, access=Access.admin_only(self_arg="user_id"))
    async def token(self, ctx: RequestCtx, args: TokenArgs) -> IssuedToken:
        """Issue a new API token for a user (shown once; only its hash is stored)."""
        from app.db.repositories.identity import IdentityRepository

        async with self.session_factory() as session, session.begin():
            repo = IdentityRepository(session)
            await _known(repo, args.user_id)
            issued = await repo.issue_token(args.user_id, label=args.label)
        log.info("users.token.issued", user=args.user_id, token_id=issued.token_id, by=ctx.user_id)
        return issued

    @capability("users.revoke_token", args=RevokeTokenArgs, result=TokenInfo,
                access=Access.admin_only(self_arg="user_id"))
    async def revoke_token(self, ctx: RequestCtx, args: RevokeTokenArgs) -> TokenInfo:
        """Revoke one of the user's tokens: refused at once in this process, within 30 s in others."""
        from app.core.tokens import VERIFIED
        from app.db.repositories.identity import IdentityRepository

        async with self.session_factory() as session, session.begin():
            repo = IdentityRepository(session)
            await _known(repo, args.user_id)
            found = await repo.token(args.token_id)
            if found is None or found.user_id != args.user_id:
                raise UnknownTokenError(args.token_id, hint=f"list {args.user_id}'s with `dawsos users show "
                                                            f"{args.user_id}`")
            revoked = await repo.revoke_token(args.token_id) or found
        VERIFIED.forget(args.token_id)
        log.info("users.token.revoked", user=args.user_id, token_id=args.token_id, by=ctx.user_id)
        return revoked

    @capability("users.grant", args=GrantArgs, result=RoleChange,
                access=Access.portfolio(Role.OWNER, or_admin=True))
    async def grant(self, ctx: RequestCtx, args: GrantArgs) -> RoleChange:
        """Give a user a role on a portfolio (replacing the role they held there)."""
        from app.db.repositories.identity import IdentityRepository

        async with self.session_factory() as session, session.begin():
            await _portfolio(session, args.portfolio_id)
            repo = IdentityRepository(session)
            await _known(repo, args.user_id)
            previous = await repo.role(args.portfolio_id, args.user_id)
            await repo.grant(args.portfolio_id, args.user_id, args.role, granted_by=ctx.user_id)
            roles = tuple(await repo.grants(args.portfolio_id))
        log.info("users.role.granted", user=args.user_id, role=args.role.value, previous=previous,
                 by=ctx.user_id)
        return RoleChange(portfolio_id=args.portfolio_id, user_id=args.user_id, role=args.role, previous=previous,
                          roles=roles)

    @capability("users.revoke", args=RevokeRoleArgs, result=RoleChange,
                access=Access.portfolio(Role.OWNER, or_admin=True))
    async def revoke(self, ctx: RequestCtx, args: RevokeRoleArgs) -> RoleChange:
        """Take a user's role on a portfolio away (nothing to do when they hold none)."""
        from app.db.repositories.identity import IdentityRepository

        async with self.session_factory() as session, session.begin():
            await _portfolio(session, args.portfolio_id)
            repo = IdentityRepository(session)
            await _known(repo, args.user_id)
            previous = await repo.revoke_role(args.portfolio_id, args.user_id)
            roles = tuple(await repo.grants(args.portfolio_id))
        log.info("users.role.revoked", user=args.user_id, previous=previous, by=ctx.user_id)
        return RoleChange(portfolio_id=args.portfolio_id, user_id=args.user_id, role=None, previous=previous,
                          roles=roles)

    @capability("users.show", args=UserArgs, result=UserInfo, access=Access.admin_only(self_arg="user_id"))
    async def show(self, ctx: RequestCtx, args: UserArgs) -> UserInfo:
        """One user: address, admin flag, roles and token records (ids, labels, dates; never a hash)."""
        from app.db.repositories.identity import IdentityRepository

        async with self.session_factory() as session, session.begin():
            return await _known(IdentityRepository(session), args.user_id)

    @capability("users.list", args=CapabilityArgs, result=UserList, access=Access.admin_only())
    async def list_users(self, ctx: RequestCtx, args: CapabilityArgs) -> UserList:
        """Every user with address, admin flag, roles and token records."""
        from app.db.repositories.identity import IdentityRepository

        async with self.session_factory() as session, session.begin():
            repo = IdentityRepository(session)
            return UserList(users=tuple([await _known(repo, u) for u in await repo.user_ids()]))

    @capability("users.set", args=SetUserArgs, result=UserContact, access=Access.admin_only(self_arg="user_id"))
    async def set(self, ctx: RequestCtx, args: SetUserArgs) -> UserContact:
        """Store (or clear) a user's e-mail address; creates the user when new."""
        from app.db.repositories.users import UserRepository

        async with self.session_factory() as session, session.begin():
            contact = await UserRepository(session).set_email(args.user_id, str(args.email) if args.email else None)
        log.info("users.email.set", user=args.user_id, has_email=contact.email is not None, by=ctx.user_id)
        return contact
