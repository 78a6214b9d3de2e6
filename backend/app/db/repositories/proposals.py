"""Rebalance proposals: stored once per ``proposal_id``, every request that asked for it recorded beside it."""

from __future__ import annotations

import builtins
import json
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ProposalConflictError, UnknownProposalError
from app.db.models import ProposalRequestRow, RebalanceProposalRow, utcnow
from app.domain import canonical_json


class ProposalRecord(BaseModel):
    """A stored proposal's header (the body is fetched with :meth:`ProposalRepository.get`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal_id: str
    portfolio_id: str
    policy_id: str
    policy_version: int
    pricing_pack_id: str
    asof_date: date
    status: str
    created_at: datetime
    n_requests: int


def _insert(session: AsyncSession, model: type) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the session's dialect."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    if name == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing()
    raise NotImplementedError(f"proposals repository supports sqlite and postgresql, not {name}")


class ProposalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(
        self,
        body: dict[str, Any],
        *,
        proposal_id: str,
        portfolio_id: str,
        policy_id: str,
        policy_version: int,
        pricing_pack_id: str,
        asof_date: date,
        request_id: str,
    ) -> bool:
        """Store the proposal once (its canonical JSON) and record ``request_id`` beside it.

        Idempotent: saving the same proposal again keeps the one proposal row and adds the request (the
        same request twice is recorded once). Returns True when the proposal row was new. Raises
        ProposalConflictError when ``proposal_id`` is stored with a different body.
        """
        text = canonical_json(body)
        now = utcnow()
        inserted = await self.session.execute(
            _insert(self.session, RebalanceProposalRow)
            .values(
                proposal_id=proposal_id,
                portfolio_id=portfolio_id,
                policy_id=policy_id,
                policy_version=policy_version,
                pricing_pack_id=pricing_pack_id,
                asof_date=asof_date,
                body=text,
                status="proposed",
                created_at=now,
            )
            .returning(RebalanceProposalRow.proposal_id)
        )
        created = inserted.scalar_one_or_none() is not None  # no row back: it was already stored
        if not created:
            stored = await self.session.scalar(
                select(RebalanceProposalRow.body).where(RebalanceProposalRow.proposal_id == proposal_id)
            )
            if stored != text:
                raise ProposalConflictError(proposal_id)
        await self.session.execute(
            _insert(self.session, ProposalRequestRow).values(
                proposal_id=proposal_id, request_id=request_id, created_at=now
            )
        )
        return created

    async def get(self, proposal_id: str) -> dict[str, Any]:
        """The stored body (parsed canonical JSON); raises UnknownProposalError."""
        return json.loads(await self.get_text(proposal_id))

    async def get_text(self, proposal_id: str) -> str:
        """The stored body exactly as stored (canonical JSON text); raises UnknownProposalError."""
        text = await self.session.scalar(
            select(RebalanceProposalRow.body).where(RebalanceProposalRow.proposal_id == proposal_id)
        )
        if text is None:
            raise UnknownProposalError(proposal_id)
        return text

    async def list(self, portfolio_id: str | None = None) -> builtins.list[ProposalRecord]:
        """Stored proposals (newest first, then by id), optionally for one portfolio."""
        n_requests = (
            select(ProposalRequestRow.proposal_id, func.count().label("n"))
            .group_by(ProposalRequestRow.proposal_id)
            .subquery()
        )
        stmt = select(RebalanceProposalRow, n_requests.c.n).outerjoin(
            n_requests, n_requests.c.proposal_id == RebalanceProposalRow.proposal_id
        )
        if portfolio_id is not None:
            stmt = stmt.where(RebalanceProposalRow.portfolio_id == portfolio_id)
        stmt = stmt.order_by(RebalanceProposalRow.created_at.desc(), RebalanceProposalRow.proposal_id)
        return [
            ProposalRecord(
                proposal_id=row.proposal_id,
                portfolio_id=row.portfolio_id,
                policy_id=row.policy_id,
                policy_version=row.policy_version,
                pricing_pack_id=row.pricing_pack_id,
                asof_date=row.asof_date,
                status=row.status,
                created_at=row.created_at,
                n_requests=n or 0,
            )
            for row, n in await self.session.execute(stmt)
        ]

    async def request_ids(self, proposal_id: str) -> builtins.list[str]:
        """Every request recorded for a proposal, in the order they came."""
        stmt = (
            select(ProposalRequestRow.request_id)
            .where(ProposalRequestRow.proposal_id == proposal_id)
            .order_by(ProposalRequestRow.id)
        )
        return list(await self.session.scalars(stmt))
