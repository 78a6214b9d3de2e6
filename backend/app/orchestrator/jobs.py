"""Persisted jobs run by a bounded worker pool inside the server process.

:class:`JobRunner` runs ``workers`` asyncio tasks. Each claims one job at a time from a :class:`JobStore`
(rows in the database, claimed exactly once: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on
SQLite) and runs it as one capability call, ``orchestrator.call(capability, ctx, optimization_id=...)``, under a
context whose user is the job's requester, on the job's pricing pack, with the job's deadline. While it runs
the worker renews the job's lease every ``heartbeat_seconds``; a server that dies stops renewing, and once the
lease expires any server's next claim resumes the job (at most ``max_attempts`` attempts, then it is failed
with the reason). A cancellation asked of a running job is seen at the next heartbeat: the call's task is
cancelled (its transaction rolls back) and the job ends ``cancelled``. A typed error ends it ``failed`` with
its one-line message; past its deadline it fails too, whether running or still pending (the sweeper), so no
job stays pending forever.

:meth:`JobRunner.stop` stops claiming, lets running jobs finish for ``grace_seconds``, then gives the rest
back to the queue (pending again), so a restart or another server runs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from app.core.context import RequestCtx
from app.core.errors import DawsosError, one_line
from app.domain.service import JobStatus

log = structlog.get_logger()


class JobStore(Protocol):
    """Where jobs live (the OptimizationAgent implements it over ``optimization_requests``)."""

    async def claim(self, *, owner: str, lease_seconds: float, max_attempts: int) -> Any: ...

    async def heartbeat(self, job_id: str, *, owner: str, lease_seconds: float) -> bool | None: ...

    async def complete(self, job_id: str, *, owner: str, result: Any) -> bool: ...

    async def finish(self, job_id: str, *, owner: str | None, status: JobStatus, reason: str) -> bool: ...

    async def release(self, job_id: str, *, owner: str) -> bool: ...

    async def fail_overdue(self) -> list[str]: ...

    async def recover_orphans(self, *, owner: str) -> list[str]: ...


class Caller(Protocol):
    async def call(self, name: str, ctx: RequestCtx | None = None, /, **args: Any) -> Any: ...


@dataclass(frozen=True)
class JobSettings:
    """``workers``: jobs run at once in this process; seconds for the rest."""

    workers: int = 2
    lease_seconds: float = 30.0
    poll_seconds: float = 1.0
    max_attempts: int = 2
    grace_seconds: float = 10.0
    sweep_seconds: float = 5.0

    @property
    def heartbeat_seconds(self) -> float:
        return max(self.lease_seconds / 3.0, 0.05)


def new_owner() -> str:
    """This process's owner id: host, pid and a random suffix."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobRunner:
    """The bounded worker pool of one server process."""

    def __init__(self, caller: Caller, store: JobStore, *, capability: str = "optimizations.run",
                 settings: JobSettings | None = None, owner: str | None = None) -> None:
        self.caller, self.store, self.capability = caller, store, capability
        self.settings = settings or JobSettings()
        self.owner = owner or new_owner()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running: dict[str, asyncio.Task[Any]] = {}
        self.finished = 0

    @property
    def running(self) -> int:
        return len(self._running)

    async def start(self) -> None:
        """Recover jobs of a dead owner (SQLite), then start the workers and the deadline sweeper."""
        recovered = await self.store.recover_orphans(owner=self.owner)
        if recovered:
            log.warning("jobs.recovered", n_jobs=len(recovered), jobs=recovered[:20])
        self._tasks = [asyncio.create_task(self._worker(i), name=f"job-worker-{i}")
                       for i in range(self.settings.workers)]
        self._tasks.append(asyncio.create_task(self._sweeper(), name="job-sweeper"))
        log.info("jobs.started", owner=self.owner, workers=self.settings.workers,
                 lease_seconds=self.settings.lease_seconds)

    def wake(self) -> None:
        """A job was submitted: idle workers claim now instead of at their next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming; running jobs get ``grace_seconds`` to finish, then go back to the queue."""
        self._stopping.set()
        self._wake.set()
        running = list(self._running.values())
        if running:
            await asyncio.wait(running, timeout=self.settings.grace_seconds)
        for task in list(self._running.values()):  # past the grace: cancelled, and given back to the queue
            task.cancel()
        _, stuck = await asyncio.wait(self._tasks, timeout=self.settings.grace_seconds) if self._tasks else ((), ())
        for task in stuck:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        log.info("jobs.stopped", owner=self.owner, finished=self.finished)

    async def _worker(self, index: int) -> None:
        while not self._stopping.is_set():
            try:
                job = await self.store.claim(owner=self.owner, lease_seconds=self.settings.lease_seconds,
                                             max_attempts=self.settings.max_attempts)
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the worker: log, wait, retry
                log.warning("jobs.claim.failed", exc_info=True)
                job = None
            if job is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.poll_seconds)
                continue
            self._wake.set()  # there may be more: let another idle worker look too
            await self._run(job)

    async def _sweeper(self) -> None:
        while not self._stopping.is_set():
            try:
                overdue = await self.store.fail_overdue()
                if overdue:
                    log.warning("jobs.deadline_passed", n_jobs=len(overdue), jobs=overdue[:20])
            except Exception:  # noqa: BLE001 - as in _worker
                log.warning("jobs.sweep.failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.settings.sweep_seconds)

    async def _run(self, job: Any) -> None:
        ctx = RequestCtx(user_id=job.requested_by or None, pricing_pack_id=job.pricing_pack_id,
                         deadline=job.deadline_at, trace_id=job.request_id)
        with structlog.contextvars.bound_contextvars(job_id=job.id, user=job.requested_by, attempt=job.attempts):
            log.info("jobs.run.started", resumed_from=job.resumed_from)
            task = asyncio.create_task(self.caller.call(self.capability, ctx, optimization_id=job.id))
            self._running[job.id] = task
            try:
                outcome = await self._supervise(job, task)
            finally:
                self._running.pop(job.id, None)
            self.finished += 1
            log.info("jobs.run.finished", outcome=outcome)

    async def _supervise(self, job: Any, task: asyncio.Task[Any]) -> str:
        """Heartbeat until ``task`` ends; store its outcome. Returns the outcome's name."""
        cancel_reason: str | None = None
        while True:
            done, _ = await asyncio.wait({task}, timeout=self.settings.heartbeat_seconds)
            if done:
                break
            try:
                beat = await self.store.heartbeat(job.id, owner=self.owner, lease_seconds=self.settings.lease_seconds)
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
                log.warning("jobs.heartbeat.failed", exc_info=True)
                continue
            if beat is None or beat:
                cancel_reason = "lease lost" if beat is None else "cancel requested"
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                if beat is None:
                    return "lease_lost"
                await self.store.finish(job.id, owner=self.owner, status=JobStatus.CANCELLED,
                                        reason=await self._cancel_reason(job.id))
                return "cancelled"
        return await self._store_outcome(job, task, cancel_reason)

    async def _cancel_reason(self, job_id: str) -> str:
        view = await self.caller.call("optimizations.get", RequestCtx(), optimization_id=job_id)
        return view.data.error or "cancelled"

    async def _store_outcome(self, job: Any, task: asyncio.Task[Any], cancel_reason: str | None) -> str:
        try:
            envelope = task.result()
        except asyncio.CancelledError:
            if self._stopping.is_set():
                await self.store.release(job.id, owner=self.owner)
                return "released"
            await self.store.finish(job.id, owner=self.owner, status=JobStatus.CANCELLED,
                                    reason=cancel_reason or "cancelled")
            return "cancelled"
        except DawsosError as exc:
            await self.store.finish(job.id, owner=self.owner, status=JobStatus.FAILED, reason=one_line(exc))
            return "failed"
        except Exception as exc:  # noqa: BLE001 - recorded as the job's reason, never lost
            log.error("jobs.run.crashed", exc_info=True)
            await self.store.finish(job.id, owner=self.owner, status=JobStatus.FAILED,
                                    reason=f"error: {type(exc).__name__}: {exc}")
            return "failed"
        stored = await self.store.complete(job.id, owner=self.owner, result=envelope.data)
        return "completed" if stored else "lease_lost"
