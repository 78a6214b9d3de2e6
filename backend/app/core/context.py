"""Request context: immutable, carried through every capability call."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestCtx(BaseModel):
    """Who asks, on which pricing pack, and until when. Frozen; derive children with :meth:`child`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str = Field(default_factory=new_request_id)
    trace_id: str | None = None
    user_id: str | None = None
    pricing_pack_id: str | None = None
    asof_date: date | None = None
    deadline: datetime | None = None
    require_sealed_pack: bool = True

    def child(self, **changes: object) -> "RequestCtx":
        """A derived context: new request_id, same trace (this request becomes the trace if none)."""
        data = self.model_dump()
        data["trace_id"] = self.trace_id or self.request_id
        data["request_id"] = new_request_id()
        data.update(changes)
        return RequestCtx(**data)

    def log_fields(self) -> dict[str, object]:
        return {"request_id": self.request_id, "pricing_pack_id": self.pricing_pack_id}
