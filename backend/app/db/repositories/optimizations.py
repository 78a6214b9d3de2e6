"""Optimization requests (the job queue), their results, and the read model ``portfolio_optimizations``.

Every write updates the write tables and the read row in the caller's transaction (one unit of work), so a
reader never sees a result without its status or the other way round.

Claiming (:meth:`OptimizationRepository.claim`) takes the oldest runnable job exactly once:

* PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` — concurrent claimers in other processes skip the row a
  claimer holds, and the claim commits with the row marked ``processing`` under the claimer's lease;
* SQLite: every transaction is ``BEGIN IMMEDIATE`` (:mod:`app.db.engine`), so claims run one at a time.

A job is runnable when ``pending``, or ``processing`` under an expired lease (its owner stopped heartbeating:
the process died). Such a job is resumed (claimed again) while ``attempts < max_attempts``, else failed with
the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import UnknownOptimizationError
from app.db.models import OptimizationRequestRow, OptimizationResultRow, PortfolioOptimizationRow, utcnow
from app.db.repositories.proposals import aware
from app.domain.service import JobStatus, OptimizationResult, OptimizationView

#: the read row's columns that mirror the request's
_MIRRORED = ("portfolio_id", "optimization_type", "objective", "risk_measure", "status", "created_at",
             "pricing_pack_id", "requested_by", "constraints", "preferences", "attempts", "deadline_at", "error")


@dataclass(frozen=True)
class ClaimedJob:
    """A job this owner now holds: what the worker needs to run it."""

    id: str
    portfolio_id: str
    pricing_pack_id: str
    requested_by: str
    request_id: str
    deadline_at: datetime
    attempts: int
    resumed_from: str | None


@dataclass(frozen=True)
class NewOptimization:
    """The fields of a new request (validated by the agent)."""

    id: str
    portfolio_id: str
    optimization_type: str
    objective: str
    risk_measure: str
    constraints: dict[str, Any]
    preferences: dict[str, Any]
    pricing_pack_id: str
    requested_by: str
    request_id: str
    idempotency_key: str | None
    request_hash: str
    deadline_at: datetime


def view_of(row: PortfolioOptimizationRow) -> OptimizationView:
    data = {c: getattr(row, c) for c in (*_MIRRORED, "metrics", "current_allocation", "target_allocation", "trades",
                                         "efficient_frontier", "completed_at", "details")}
    for key in ("created_at", "deadline_at", "completed_at"):
        if data[key] is not None:
            data[key] = aware(data[key])
    return OptimizationView(optimization_id=row.optimization_id, **data)


class OptimizationRepository:
    """Requests, results and the read model of optimizations. Never commits (the caller's unit of work)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- commands ---------------------------------------------------------------------------------
    async def find_by_key(self, requested_by: str, key: str) -> OptimizationRequestRow | None:
        return await self.session.scalar(select(OptimizationRequestRow).where(
            OptimizationRequestRow.requested_by == requested_by, OptimizationRequestRow.idempotency_key == key))

    async def create(self, new: NewOptimization) -> OptimizationView:
        now = utcnow()
        fields = {k: getattr(new, k) for k in NewOptimization.__dataclass_fields__}
        self.session.add(OptimizationRequestRow(**fields, status=JobStatus.PENDING.value, created_at=now,
                                                updated_at=now, attempts=0, cancel_requested=False))
        await self.session.flush()
        read = PortfolioOptimizationRow(optimization_id=new.id, **{c: getattr(new, c) for c in _MIRRORED
                                                                   if hasattr(new, c)},
                                        status=JobStatus.PENDING.value, created_at=now, attempts=0)
        self.session.add(read)
        await self.session.flush()
        return view_of(read)

    async def claim(self, *, owner: str, lease_seconds: float, max_attempts: int) -> ClaimedJob | None:
        """The oldest runnable job, now ``processing`` under ``owner``'s lease; None when there is none.
        Jobs whose owner died ``max_attempts`` times are failed on the way (with the reason)."""
        while True:
            now = utcnow()
            row = await self.session.scalar(
                select(OptimizationRequestRow)
                .where(or_(OptimizationRequestRow.status == JobStatus.PENDING.value,
                           and_(OptimizationRequestRow.status == JobStatus.PROCESSING.value,
                                OptimizationRequestRow.lease_expires_at < now)))
                .order_by(OptimizationRequestRow.created_at, OptimizationRequestRow.id)
                .limit(1)
                .with_for_update(skip_locked=True))
            if row is None:
                return None
            previous = row.lease_owner if row.status == JobStatus.PROCESSING.value else None
            if previous is not None and row.attempts >= max_attempts:
                await self._finish(row, JobStatus.FAILED, f"its server ({previous}) stopped while running it, "
                                   f"{row.attempts} time(s); not retried (at most {max_attempts} attempts)")
                continue
            if row.cancel_requested:
                await self._finish(row, JobStatus.CANCELLED, row.error or "cancelled")
                continue
            row.status = JobStatus.PROCESSING.value
            row.lease_owner = owner
            row.lease_expires_at = now + timedelta(seconds=lease_seconds)
            row.heartbeat_at = now
            row.started_at = row.started_at or now
            row.attempts += 1
            row.updated_at = now
            await self._mirror(row)
            return ClaimedJob(id=row.id, portfolio_id=row.portfolio_id, pricing_pack_id=row.pricing_pack_id,
                              requested_by=row.requested_by, request_id=row.request_id,
                              deadline_at=aware(row.deadline_at), attempts=row.attempts, resumed_from=previous)

    async def heartbeat(self, job_id: str, *, owner: str, lease_seconds: float) -> bool | None:
        """Extend ``owner``'s lease; returns whether a cancellation was asked, or None when the lease is lost
        (another owner took the job, or it is no longer processing)."""
        now = utcnow()
        result = await self.session.execute(
            update(OptimizationRequestRow)
            .where(OptimizationRequestRow.id == job_id, OptimizationRequestRow.lease_owner == owner,
                   OptimizationRequestRow.status == JobStatus.PROCESSING.value)
            .values(heartbeat_at=now, lease_expires_at=now + timedelta(seconds=lease_seconds))
            .returning(OptimizationRequestRow.cancel_requested))
        found = result.first()
        return None if found is None else bool(found[0])

    async def request(self, job_id: str) -> OptimizationRequestRow:
        row = await self.session.get(OptimizationRequestRow, job_id)
        if row is None:
            raise UnknownOptimizationError(job_id)
        return row

    async def complete(self, job_id: str, *, owner: str, result: OptimizationResult) -> bool:
        """Store ``result`` and mark the job completed, if ``owner`` still holds it (False otherwise)."""
        row = await self.session.get(OptimizationRequestRow, job_id, with_for_update=True)
        if row is None or row.lease_owner != owner or row.status != JobStatus.PROCESSING.value:
            return False
        doc = result.model_dump(mode="json")
        now = utcnow()
        stored = await self.session.get(OptimizationResultRow, job_id)
        if stored is None:
            stored = OptimizationResultRow(optimization_id=job_id)
            self.session.add(stored)
        for key in ("metrics", "current_allocation", "target_allocation", "trades", "efficient_frontier"):
            setattr(stored, key, doc[key])
        stored.completed_at = now
        await self._finish(row, JobStatus.COMPLETED, None, at=now)
        read = await self.session.get(PortfolioOptimizationRow, job_id)
        for key in ("metrics", "current_allocation", "target_allocation", "trades", "efficient_frontier", "details"):
            setattr(read, key, doc[key])
        await self.session.flush()
        return True

    async def finish(self, job_id: str, *, owner: str | None, status: JobStatus, reason: str) -> bool:
        """Mark the job failed or cancelled with ``reason`` (if ``owner`` holds it; None: whoever does)."""
        row = await self.session.get(OptimizationRequestRow, job_id, with_for_update=True)
        if row is None or JobStatus(row.status).final or (owner is not None and row.lease_owner != owner):
            return False
        await self._finish(row, status, reason)
        return True

    async def request_cancel(self, job_id: str, *, reason: str) -> OptimizationRequestRow:
        """Pending: cancelled now. Processing: flagged (the worker stops it at its next heartbeat)."""
        row = await self.session.get(OptimizationRequestRow, job_id, with_for_update=True)
        if row is None:
            raise UnknownOptimizationError(job_id)
        if row.status == JobStatus.PENDING.value:
            await self._finish(row, JobStatus.CANCELLED, reason)
        elif row.status == JobStatus.PROCESSING.value:
            row.cancel_requested = True
            row.error = reason
            row.updated_at = utcnow()
        return row

    async def release(self, job_id: str, *, owner: str) -> bool:
        """Give a job ``owner`` holds back to the queue (a graceful shutdown that could not finish it): pending
        again, this attempt not counted."""
        row = await self.session.get(OptimizationRequestRow, job_id, with_for_update=True)
        if row is None or row.lease_owner != owner or row.status != JobStatus.PROCESSING.value:
            return False
        row.status = JobStatus.PENDING.value
        row.lease_owner = row.lease_expires_at = None
        row.attempts = max(row.attempts - 1, 0)
        row.updated_at = utcnow()
        await self._mirror(row)
        return True

    async def expire_leases(self, *, except_owner: str) -> list[str]:
        """End the leases of processing jobs not held by ``except_owner`` now (their owner is known gone)."""
        now = utcnow()
        rows = (await self.session.scalars(select(OptimizationRequestRow).where(
            OptimizationRequestRow.status == JobStatus.PROCESSING.value,
            or_(OptimizationRequestRow.lease_owner.is_(None),
                OptimizationRequestRow.lease_owner != except_owner)))).all()
        for row in rows:
            row.lease_expires_at = now - timedelta(seconds=1)
        await self.session.flush()
        return [r.id for r in rows]

    async def fail_overdue(self) -> list[str]:
        """Fail pending jobs past their deadline, and processing ones past it whose owner is gone."""
        now = utcnow()
        rows = (await self.session.scalars(
            select(OptimizationRequestRow)
            .where(OptimizationRequestRow.deadline_at < now,
                   or_(OptimizationRequestRow.status == JobStatus.PENDING.value,
                       and_(OptimizationRequestRow.status == JobStatus.PROCESSING.value,
                            OptimizationRequestRow.lease_expires_at < now)))
            .with_for_update(skip_locked=True))).all()
        for row in rows:
            pending = row.status == JobStatus.PENDING.value
            started = "before a worker started it" if pending else "while its server was gone"
            await self._finish(row, JobStatus.FAILED,
                               f"deadline {aware(row.deadline_at).isoformat()} passed {started}")
        return [r.id for r in rows]

    async def _finish(self, row: OptimizationRequestRow, status: JobStatus, reason: str | None, *,
                      at: datetime | None = None) -> None:
        now = at or utcnow()
        row.status = status.value
        row.error = reason
        row.lease_owner = None
        row.lease_expires_at = None
        row.updated_at = now
        await self._mirror(row, completed_at=now)

    async def _mirror(self, row: OptimizationRequestRow, *, completed_at: datetime | None = None) -> None:
        read = await self.session.get(PortfolioOptimizationRow, row.id)
        if read is None:
            return
        read.status, read.attempts, read.error = row.status, row.attempts, row.error
        if completed_at is not None:
            read.completed_at = completed_at
        await self.session.flush()

    # ---- queries ----------------------------------------------------------------------------------
    async def portfolio_of(self, job_id: str) -> str:
        """The portfolio an optimization is about (UnknownOptimizationError when there is no such job)."""
        found = await self.session.scalar(select(OptimizationRequestRow.portfolio_id)
                                          .where(OptimizationRequestRow.id == job_id))
        if found is None:
            raise UnknownOptimizationError(job_id)
        return found

    async def get(self, job_id: str) -> OptimizationView:
        row = await self.session.get(PortfolioOptimizationRow, job_id)
        if row is None:
            raise UnknownOptimizationError(job_id)
        return view_of(row)

    async def list(self, *, portfolio_ids: list[str] | None, status: str | None,
                   limit: int) -> list[OptimizationView]:
        query = select(PortfolioOptimizationRow)
        if portfolio_ids is not None:
            query = query.where(PortfolioOptimizationRow.portfolio_id.in_(portfolio_ids))
        if status is not None:
            query = query.where(PortfolioOptimizationRow.status == status)
        query = query.order_by(PortfolioOptimizationRow.created_at.desc(),
                               PortfolioOptimizationRow.optimization_id).limit(limit)
        return [view_of(r) for r in (await self.session.scalars(query)).all()]

    async def typical_latency(self, last: int = 20) -> timedelta | None:
        """The median time from submission to completion of the ``last`` completed jobs (None without any)."""
        rows = (await self.session.execute(
            select(PortfolioOptimizationRow.created_at, PortfolioOptimizationRow.completed_at)
            .where(PortfolioOptimizationRow.status == JobStatus.COMPLETED.value)
            .order_by(PortfolioOptimizationRow.completed_at.desc()).limit(last))).all()
        spans = sorted(aware(done) - aware(made) for made, done in rows if done is not None)
        return spans[len(spans) // 2] if spans else None

    async def counts(self) -> dict[str, int]:
        """Jobs per status (readiness and the bench)."""
        from sqlalchemy import func

        rows = await self.session.execute(select(OptimizationRequestRow.status, func.count())
                                          .group_by(OptimizationRequestRow.status))
        return {status: int(n) for status, n in rows.all()}
