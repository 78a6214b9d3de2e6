"""Request context: immutable, carried through every capability call.

A :class:`RequestCtx` says who asks (``user_id``), which request this is (``request_id``, generated) and
which larger piece of work it belongs to (``trace_id``), on which pricing pack (``pricing_pack_id``,
``asof_date``), until when (``deadline``, an aware datetime) and whether the pack must be sealed.

Binding (:meth:`RequestCtx.bind`) puts ``request_id``, ``trace_id``, ``pricing_pack_id`` and any extra
fields (the orchestrator adds ``capability`` and ``portfolio_id``) into ``structlog.contextvars`` for the
duration of a ``with`` block. Every log line inside carries them, including lines logged in a worker
thread started with ``asyncio.to_thread`` (it copies the context) and deep in analytics; concurrent calls
run in their own asyncio tasks, each with its own copy of the context, so bindings never leak between them,
and leaving the block restores what was bound before.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator


def new_request_id() -> str:
    """A fresh request id (32 hex characters)."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class RequestCtx(BaseModel):
    """Who asks, on which pricing pack, and until when. Frozen; derive children with :meth:`child`.

    * ``request_id``: generated when absent; unique per capability call (children get a new one).
    * ``trace_id``: the request that started the whole piece of work (a pattern run, a notebook cell).
    * ``pricing_pack_id`` / ``asof_date``: the pack the call runs on; the orchestrator checks it exists
      (and is sealed when ``require_sealed_pack``) and fills ``asof_date`` from it.
    * ``deadline``: aware datetime (a naive one is read as local time); past it a call is cancelled.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str = Field(default_factory=new_request_id, min_length=1)
    trace_id: str | None = None
    user_id: str | None = None
    pricing_pack_id: str | None = None
    asof_date: date | None = None
    deadline: datetime | None = None
    require_sealed_pack: bool = True

    @field_validator("deadline")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.astimezone()

    # ---- derived contexts -------------------------------------------------------------------
    def child(self, **changes: Any) -> RequestCtx:
        """A derived context for a sub-call: new ``request_id``, same trace (this request becomes the
        trace when there is none), everything else inherited unless given in ``changes``."""
        data = self.model_dump()
        data["trace_id"] = self.trace_id or self.request_id
        data["request_id"] = new_request_id()
        data.update(changes)
        return RequestCtx(**data)

    def replace(self, **changes: Any) -> RequestCtx:
        """The same request with some fields changed (validated; ``request_id`` kept unless given)."""
        return RequestCtx(**{**self.model_dump(), **changes})

    def with_timeout(self, seconds: float) -> RequestCtx:
        """The same request with ``deadline`` = now + ``seconds`` (or the current deadline if earlier)."""
        deadline = utcnow() + timedelta(seconds=seconds)
        if self.deadline is not None and self.deadline < deadline:
            deadline = self.deadline
        return self.replace(deadline=deadline)

    def remaining_seconds(self, now: datetime | None = None) -> float | None:
        """Seconds left until ``deadline`` (negative when past); None without a deadline."""
        if self.deadline is None:
            return None
        return (self.deadline - (now or utcnow())).total_seconds()

    # ---- logging ----------------------------------------------------------------------------
    def log_fields(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "trace_id": self.trace_id,
            "pricing_pack_id": self.pricing_pack_id,
        }

    def bind(self, **extra: Any) -> AbstractContextManager[None]:
        """Bind this context (and ``extra``) into structlog's contextvars for a ``with`` block."""
        return structlog.contextvars.bound_contextvars(**self.log_fields(), **extra)
