"""RequestCtx: immutable, ids, children, deadlines, and log binding through structlog contextvars."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from pydantic import ValidationError

from app.core.context import RequestCtx


def test_request_id_generated_unique_and_context_frozen() -> None:
    a, b = RequestCtx(), RequestCtx()
    assert a.request_id and b.request_id and a.request_id != b.request_id
    with pytest.raises(ValidationError):
        a.pricing_pack_id = "PP"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        RequestCtx(unknown_field=1)  # type: ignore[call-arg]
    assert RequestCtx().require_sealed_pack is True


def test_child_keeps_trace_and_inherits_everything_else() -> None:
    parent = RequestCtx(user_id="u1", pricing_pack_id="PP_1", require_sealed_pack=False)
    child = parent.child()
    assert child.request_id != parent.request_id
    assert child.trace_id == parent.request_id
    assert (child.user_id, child.pricing_pack_id, child.require_sealed_pack) == ("u1", "PP_1", False)
    grandchild = child.child(pricing_pack_id="PP_2")
    assert grandchild.trace_id == parent.request_id and grandchild.pricing_pack_id == "PP_2"


def test_deadline_helpers() -> None:
    ctx = RequestCtx()
    assert ctx.remaining_seconds() is None
    timed = ctx.with_timeout(5)
    assert timed.request_id == ctx.request_id
    assert 4 < timed.remaining_seconds() <= 5  # type: ignore[operator]
    assert timed.with_timeout(60).deadline == timed.deadline  # never extends an earlier deadline
    past = RequestCtx(deadline=datetime.now(UTC) - timedelta(seconds=1))
    assert past.remaining_seconds() < 0  # type: ignore[operator]
    naive = RequestCtx(deadline=datetime.now() + timedelta(seconds=10))
    assert naive.deadline is not None and naive.deadline.tzinfo is not None
    assert 9 < naive.remaining_seconds() <= 10  # type: ignore[operator]


def test_bind_puts_fields_in_every_line_and_restores_after() -> None:
    log = structlog.get_logger()
    ctx = RequestCtx(pricing_pack_id="PP_1")
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        with ctx.bind(capability="x.y", portfolio_id="P1"):
            log.warning("inside")
        log.warning("outside")
    inside, outside = logs
    assert inside["request_id"] == ctx.request_id
    assert (inside["capability"], inside["portfolio_id"], inside["pricing_pack_id"]) == ("x.y", "P1", "PP_1")
    assert "request_id" not in outside and "capability" not in outside


async def test_bindings_do_not_leak_between_concurrent_tasks_or_into_threads_of_others() -> None:
    log = structlog.get_logger()

    async def one(ctx: RequestCtx) -> None:
        with ctx.bind(capability="x.y"):
            await asyncio.sleep(0.01)
            await asyncio.to_thread(lambda: log.warning("in.thread"))
            await asyncio.sleep(0.01)
            log.warning("in.task")

    ctxs = [RequestCtx() for _ in range(20)]
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        await asyncio.gather(*(one(c) for c in ctxs))
    by_id: dict[str, list[str]] = {}
    for entry in logs:
        by_id.setdefault(entry["request_id"], []).append(entry["event"])
    assert set(by_id) == {c.request_id for c in ctxs}
    assert all(sorted(events) == ["in.task", "in.thread"] for events in by_id.values())
