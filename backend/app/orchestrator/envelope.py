"""The result envelope of a capability call: ``{data, ctx, capability, duration_ms, warnings, error}``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.context import RequestCtx
from app.core.errors import DawsosError


class ErrorInfo(BaseModel):
    """A typed error as data: its class name, exit code and one-line message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    exit_code: int
    message: str

    @classmethod
    def of(cls, exc: DawsosError) -> ErrorInfo:
        return cls(type=type(exc).__name__, exit_code=exc.exit_code, message=str(exc))


def json_ready(value: Any) -> Any:
    """``value`` with pydantic models dumped in JSON mode, recursively through dicts, lists and tuples."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


class Envelope(BaseModel):
    """What :meth:`Orchestrator.call` returns. ``data`` is the capability's result (a pydantic model, as
    declared by ``@capability(result=...)``); ``ctx`` the context the call ran with (``asof_date`` filled
    from the pack); ``error`` is set (and ``data`` None) only with ``raise_errors=False``."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    capability: str
    ctx: RequestCtx
    data: Any = None
    duration_ms: float = Field(ge=0)
    warnings: tuple[str, ...] = ()
    error: ErrorInfo | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (Decimals as strings, dates ISO)."""
        return {
            "capability": self.capability,
            "ctx": self.ctx.model_dump(mode="json"),
            "data": json_ready(self.data),
            "duration_ms": round(self.duration_ms, 3),
            "warnings": list(self.warnings),
            "error": None if self.error is None else self.error.model_dump(mode="json"),
        }

    def to_frame(self, *args: Any, **kwargs: Any):  # noqa: ANN201 - pandas.DataFrame
        """``data.to_frame(...)`` (e.g. a proposal's trades); TypeError when the result has no frame form."""
        to_frame = getattr(self.data, "to_frame", None)
        if to_frame is None:
            raise TypeError(f"the result of {self.capability!r} ({type(self.data).__name__}) has no to_frame()")
        return to_frame(*args, **kwargs)
