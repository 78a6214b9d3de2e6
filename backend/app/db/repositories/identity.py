"""Users, API tokens and portfolio roles (rows of :mod:`app.db.models.identity` as domain models).

Token hashes are read here only to verify a token (:meth:`IdentityRepository.token_hash`); nothing this
repository returns carries one.
"""

from __future__ import annotations

import asyncio
import builtins
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import UnknownProposalError
from app.core.tokens import new_token
from app.db.models import (
    ApiTokenRow,
    PortfolioRoleRow,
    PortfolioRow,
    RebalanceProposalRow,
    RebalanceSettingsRow,
    UserRow,
    utcnow,
)
from app.db.repositories.packs import aware_utc as aware
from app.domain.identity import IssuedToken, Role, RoleGrant, TokenInfo, UserInfo


def _grant(row: PortfolioRoleRow) -> RoleGrant:
    return RoleGrant(portfolio_id=row.portfolio_id, user_id=row.user_id, role=Role(row.role),
                     granted_by=row.granted_by, granted_at=aware(row.granted_at))


def _token(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(token_id=row.token_id, user_id=row.user_id, label=row.label, created_at=aware(row.created_at),
                     revoked_at=aware(row.revoked_at), last_used_at=aware(row.last_used_at))


class IdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- users --------------------------------------------------------------------------------------------
    async def user(self, user_id: str) -> UserInfo | None:
        """The user with roles and token records (no hashes), or None."""
        row = await self.session.get(UserRow, user_id)
        if row is None:
            return None
        return UserInfo(user_id=row.user_id, email=row.email, is_admin=row.is_admin, created_at=aware(row.created_at),
                        roles=tuple(await self.roles_of(user_id)), tokens=tuple(await self.tokens_of(user_id)))

    async def is_admin(self, user_id: str) -> bool:
        """True for an existing admin user (False for an unknown one)."""
        return bool(await self.session.scalar(select(UserRow.is_admin).where(UserRow.user_id == user_id)))

    async def exists(self, user_id: str) -> bool:
        return await self.session.get(UserRow, user_id) is not None

    async def create_user(self, user_id: str, *, email: str | None = None, is_admin: bool = False) -> None:
        """A new user (the caller checked it does not exist)."""
        now = utcnow()
        self.session.add(UserRow(user_id=user_id, email=email, is_admin=is_admin, created_at=now, updated_at=now))
        await self.session.flush()

    async def ensure_user(self, user_id: str, *, is_admin: bool = False) -> bool:
        """Create the user when missing (an admin when ``is_admin``; an existing one is made admin then).
        True when something changed."""
        row = await self.session.get(UserRow, user_id)
        if row is None:
            await self.create_user(user_id, is_admin=is_admin)
            return True
        if is_admin and not row.is_admin:
            row.is_admin, row.updated_at = True, utcnow()
            await self.session.flush()
            return True
        return False

    async def user_ids(self) -> builtins.list[str]:
        return list(await self.session.scalars(select(UserRow.user_id).order_by(UserRow.user_id)))

    # ---- tokens -------------------------------------------------------------------------------------------
    async def issue_token(self, user_id: str, *, label: str = "") -> IssuedToken:
        """A new API token for the (existing) user: only its Argon2id hash is stored; the returned token text
        is the one time it exists outside the caller."""
        made = await asyncio.to_thread(new_token)  # hashing costs tens of ms of CPU: off the event loop
        self.session.add(ApiTokenRow(token_id=made.token_id, user_id=user_id, token_hash=made.token_hash,
                                     label=label, created_at=utcnow()))
        await self.session.flush()
        return IssuedToken(user_id=user_id, token_id=made.token_id, label=label, token=made.text)

    async def token_hash(self, token_id: str) -> tuple[str, str] | None:
        """``(user_id, token_hash)`` of an active (not revoked) token, or None."""
        found = (await self.session.execute(
            select(ApiTokenRow.user_id, ApiTokenRow.token_hash).where(
                ApiTokenRow.token_id == token_id, ApiTokenRow.revoked_at.is_(None)))).first()
        return (found[0], found[1]) if found else None

    async def token(self, token_id: str) -> TokenInfo | None:
        row = await self.session.get(ApiTokenRow, token_id)
        return _token(row) if row else None

    async def touch_token(self, token_id: str, at: datetime | None = None) -> None:
        row = await self.session.get(ApiTokenRow, token_id)
        if row is not None:
            row.last_used_at = at or utcnow()
            await self.session.flush()

    async def revoke_token(self, token_id: str) -> TokenInfo | None:
        """Mark the token revoked (kept, with when); None when there is no such token. Revoking twice keeps the
        first time. The caller drops it from this process's verified-token cache after committing
        (``app.core.tokens.VERIFIED.forget(token_id)``)."""
        row = await self.session.get(ApiTokenRow, token_id)
        if row is None:
            return None
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            await self.session.flush()
        return _token(row)

    async def tokens_of(self, user_id: str) -> builtins.list[TokenInfo]:
        stmt = select(ApiTokenRow).where(ApiTokenRow.user_id == user_id).order_by(ApiTokenRow.created_at,
                                                                                 ApiTokenRow.token_id)
        return [_token(r) for r in await self.session.scalars(stmt)]

    async def proposal_portfolio(self, proposal_id: str) -> str:
        """The portfolio of the proposal named by ``proposal_id`` (an id or a unique prefix of 6+ characters);
        UnknownProposalError when there is none."""
        from app.db.repositories.proposals import ProposalRepository

        resolved = await ProposalRepository(self.session).resolve_id(proposal_id)
        portfolio = await self.session.scalar(
            select(RebalanceProposalRow.portfolio_id).where(RebalanceProposalRow.proposal_id == resolved))
        if portfolio is None:
            raise UnknownProposalError(proposal_id, hint="list proposals with `dawsos proposals list`")
        return portfolio

    async def portfolio_exists(self, portfolio_id: str) -> bool:
        return await self.session.get(PortfolioRow, portfolio_id) is not None

    async def model_users(self, model_portfolio_id: str) -> builtins.list[str]:
        """Ids of the portfolios whose rebalancing settings use the model portfolio, sorted."""
        rows = await self.session.execute(select(RebalanceSettingsRow.portfolio_id, RebalanceSettingsRow.config))
        return sorted(p for p, config in rows if (config or {}).get("model_portfolio_id") == model_portfolio_id)

    # ---- roles --------------------------------------------------------------------------------------------
    async def role(self, portfolio_id: str, user_id: str) -> Role | None:
        """The user's role on the portfolio, or None."""
        value = await self.session.scalar(select(PortfolioRoleRow.role).where(
            PortfolioRoleRow.portfolio_id == portfolio_id, PortfolioRoleRow.user_id == user_id))
        return Role(value) if value else None

    async def holders(self, portfolio_id: str) -> dict[str, Role]:
        """``user_id -> role`` of everyone holding a role on the portfolio."""
        stmt = select(PortfolioRoleRow).where(PortfolioRoleRow.portfolio_id == portfolio_id)
        return {r.user_id: Role(r.role) for r in await self.session.scalars(stmt)}

    async def grants(self, portfolio_id: str) -> builtins.list[RoleGrant]:
        stmt = (select(PortfolioRoleRow).where(PortfolioRoleRow.portfolio_id == portfolio_id)
                .order_by(PortfolioRoleRow.user_id))
        return [_grant(r) for r in await self.session.scalars(stmt)]

    async def roles_of(self, user_id: str) -> builtins.list[RoleGrant]:
        stmt = (select(PortfolioRoleRow).where(PortfolioRoleRow.user_id == user_id)
                .order_by(PortfolioRoleRow.portfolio_id))
        return [_grant(r) for r in await self.session.scalars(stmt)]

    async def portfolios_of(self, user_id: str, at_least: Role = Role.VIEWER) -> frozenset[str]:
        """Ids of the portfolios on which the user holds ``at_least`` (or a higher role)."""
        return frozenset(g.portfolio_id for g in await self.roles_of(user_id) if g.role.includes(at_least))

    async def grant(self, portfolio_id: str, user_id: str, role: Role, *, granted_by: str | None) -> RoleGrant:
        """Give the user ``role`` on the portfolio (replacing the role they held there)."""
        row = await self.session.get(PortfolioRoleRow, (portfolio_id, user_id))
        if row is None:
            row = PortfolioRoleRow(portfolio_id=portfolio_id, user_id=user_id)
            self.session.add(row)
        row.role, row.granted_by, row.granted_at = Role(role).value, granted_by, utcnow()
        await self.session.flush()
        return _grant(row)

    async def revoke_role(self, portfolio_id: str, user_id: str) -> Role | None:
        """Remove the user's role on the portfolio; the role they held, or None when they held none."""
        held = await self.role(portfolio_id, user_id)
        if held is not None:
            await self.session.execute(delete(PortfolioRoleRow).where(
                PortfolioRoleRow.portfolio_id == portfolio_id, PortfolioRoleRow.user_id == user_id))
            await self.session.flush()
        return held
