"""The job queue behind the service (optimization_requests) on real SQLite and PostgreSQL: a job is claimed exactly
once by concurrent claimers, a dead owner's job is resumed (then failed with the reason), deadlines fail pending
jobs, cancellation, leases guard every write, and the JobRunner runs a job to completion through the orchestrator."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.bootstrap import bootstrap
from app.core.context import RequestCtx
from app.core.errors import JobStateError, UnknownPortfolioError
from app.domain.service import JobStatus
from app.orchestrator.jobs import JobRunner, JobSettings

PACK = "PP_2022-12-28"


@pytest.fixture
async def running(seeded_engine: AsyncEngine):  # type: ignore[no-untyped-def]
    app = bootstrap(engine=seeded_engine, migrate_on_start=False)
    yield app


async def submit(app, **kw) -> str:  # type: ignore[no-untyped-def]
    ctx = RequestCtx(pricing_pack_id=PACK)
    args = {"portfolio_id": "P1", "optimization_type": "equal_weight", "frontier_points": 0, **kw}
    return (await app.orchestrator.call("optimizations.submit", ctx, **args)).data.optimization_id


async def test_concurrent_claimers_take_each_job_once(running) -> None:  # type: ignore[no-untyped-def]
    ids = {await submit(running) for _ in range(12)}
    store = running.jobs

    async def claimer(n: int) -> list[str]:
        got = []
        while (job := await store.claim(owner=f"w{n}", lease_seconds=60, max_attempts=2)) is not None:
            got.append(job.id)
        return got

    claimed = [j for batch in await asyncio.gather(*(claimer(n) for n in range(6))) for j in batch]
    assert sorted(claimed) == sorted(ids)  # every job once, none twice
    views = [(await running.orchestrator.call("optimizations.get", None, optimization_id=i)).data for i in ids]
    assert {v.status for v in views} == {JobStatus.PROCESSING} and {v.attempts for v in views} == {1}


async def test_a_dead_owners_job_is_resumed_then_failed_with_the_reason(running) -> None:  # type: ignore[no-untyped-def]
    job_id = await submit(running)
    store = running.jobs
    first = await store.claim(owner="dead-1", lease_seconds=0.05, max_attempts=2)
    assert first.id == job_id and first.resumed_from is None
    assert await store.claim(owner="other", lease_seconds=60, max_attempts=2) is None  # lease still held
    await asyncio.sleep(0.2)
    second = await store.claim(owner="dead-2", lease_seconds=0.05, max_attempts=2)
    assert second.id == job_id and second.resumed_from == "dead-1" and second.attempts == 2
    assert await store.heartbeat(job_id, owner="dead-1", lease_seconds=60) is None  # the old owner lost it
    await asyncio.sleep(0.2)
    assert await store.claim(owner="third", lease_seconds=60, max_attempts=2) is None
    view = (await running.orchestrator.call("optimizations.get", None, optimization_id=job_id)).data
    assert view.status is JobStatus.FAILED
    assert view.error == "its server (dead-2) stopped while running it, 2 time(s); not retried (at most 2 attempts)"


async def test_pending_past_its_deadline_fails_with_the_reason(running) -> None:  # type: ignore[no-untyped-def]
    job_id = await submit(running, timeout_seconds=0.01)
    await asyncio.sleep(0.1)
    assert await running.jobs.fail_overdue() == [job_id]
    view = (await running.orchestrator.call("optimizations.get", None, optimization_id=job_id)).data
    assert view.status is JobStatus.FAILED and "passed before a worker started it" in view.error


async def test_cancel_pending_and_running_jobs(running) -> None:  # type: ignore[no-untyped-def]
    o, store = running.orchestrator, running.jobs
    pending = await submit(running)
    running_id = await submit(running)
    await o.call("optimizations.cancel", None, optimization_id=pending, reason="typo")
    assert (await store.claim(owner="w", lease_seconds=60, max_attempts=2)).id == running_id
    view = (await o.call("optimizations.cancel", None, optimization_id=running_id)).data
    assert view.status is JobStatus.PROCESSING  # a running job stops at its worker's next heartbeat
    assert await store.heartbeat(running_id, owner="w", lease_seconds=60) is True
    done = (await o.call("optimizations.get", None, optimization_id=pending)).data
    assert done.status is JobStatus.CANCELLED and done.error == "cancelled by a caller: typo"
    with pytest.raises(JobStateError, match="is cancelled: it cannot be cancelled"):
        await o.call("optimizations.cancel", None, optimization_id=pending)


async def test_idempotency_key_and_unknown_portfolio(running) -> None:  # type: ignore[no-untyped-def]
    a = await submit(running, idempotency_key="k-1")
    assert await submit(running, idempotency_key="k-1") == a
    assert await submit(running, idempotency_key="k-2") != a
    with pytest.raises(UnknownPortfolioError):
        await submit(running, portfolio_id="NOPE")


async def test_runner_runs_a_job_to_completion(running) -> None:  # type: ignore[no-untyped-def]
    job_id = await submit(running)
    runner = JobRunner(running.orchestrator, running.jobs, settings=JobSettings(workers=1, lease_seconds=5,
                                                                                poll_seconds=0.1))
    await runner.start()
    try:
        for _ in range(600):
            view = (await running.orchestrator.call("optimizations.get", None, optimization_id=job_id)).data
            if view.status.final:
                break
            await asyncio.sleep(0.1)
    finally:
        await runner.stop()
    assert view.status is JobStatus.COMPLETED, view.error
    assert len(view.target_allocation) == 20 and view.metrics.max_drawdown > 0
    assert view.trades and all(t.priority == i for i, t in enumerate(view.trades, start=1))
