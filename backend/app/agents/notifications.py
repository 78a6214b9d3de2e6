"""NotificationAgent: ``notifications.send`` delivers pending outbox notifications by SMTP.

Each message is rendered from its proposal's state when it is sent and goes to the recipient's configured
e-mail address (``dawsos users set USER --email ADDRESS``); one whose proposal moved on is skipped, one whose
user has no address is recorded undeliverable.

The SMTP server comes from :class:`~app.notifications.smtp.SmtpSettings` (``DAWSOS_SMTP_*``), read when the
call runs unless the agent was given settings. Each notification is claimed, sent and marked in its own
short transaction (see :func:`~app.notifications.smtp.deliver_pending`): a failed send stays pending with
its error, a sent one is never sent again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from pydantic import BaseModel, ConfigDict, Field

from app.agents.base import Agent, CapabilityArgs, capability
from app.core.context import RequestCtx
from app.core.errors import ConfigurationError
from app.domain.identity import Access

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from app.notifications.smtp import SmtpSettings

log = structlog.get_logger()


class SendArgs(CapabilityArgs):
    limit: int = Field(default=100, ge=1, le=10_000, description="most notifications sent by this call, oldest first")


class FailedDelivery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    notification_id: str
    error: str


class DeliveryResult(BaseModel):
    """What one delivery run did; ``failed`` ones stay pending for the next run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    smtp_server: str = Field(description="host:port")
    sent: tuple[str, ...] = Field(description="notification ids sent, in order")
    failed: tuple[FailedDelivery, ...] = Field(description="sends that failed; they stay pending")
    skipped: tuple[FailedDelivery, ...] = Field(default=(), description="not sent: the proposal moved on")
    undeliverable: tuple[FailedDelivery, ...] = Field(default=(), description="not sent: no e-mail address")

    @property
    def ok(self) -> bool:
        return not self.failed and not self.undeliverable


def smtp_settings() -> SmtpSettings:
    """``SmtpSettings()`` from the environment; a bad ``DAWSOS_SMTP_*`` value is a ConfigurationError naming it."""
    from pydantic import ValidationError

    from app.notifications.smtp import SmtpSettings

    try:
        return SmtpSettings()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "settings"
        var = name if name.startswith("DAWSOS_") else f"DAWSOS_SMTP_{name.upper()}"
        raise ConfigurationError(f"{var}: {err['msg']} (value={err.get('input')!r})") from None


class NotificationAgent(Agent):
    name = "notifications"

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], smtp: SmtpSettings | None = None) -> None:
        super().__init__(session_factory)
        self.smtp = smtp

    @capability("notifications.send", args=SendArgs, result=DeliveryResult, access=Access.admin_only())
    async def send(self, ctx: RequestCtx, args: SendArgs) -> DeliveryResult:
        """Send pending outbox notifications (at most ``limit``); failures stay pending with their error."""
        from app.notifications.smtp import deliver_pending

        smtp = self.smtp or smtp_settings()
        report = await deliver_pending(self.session_factory, smtp, limit=args.limit)
        log.info("notifications.send.done", sent=len(report.sent), failed=len(report.failed),
                 skipped=len(report.skipped), undeliverable=len(report.undeliverable))

        def listed(pairs: tuple[tuple[str, str], ...]) -> tuple[FailedDelivery, ...]:
            return tuple(FailedDelivery(notification_id=i, error=e) for i, e in pairs)

        return DeliveryResult(smtp_server=f"{smtp.host}:{smtp.port}", sent=report.sent, failed=listed(report.failed),
                              skipped=listed(report.skipped), undeliverable=listed(report.undeliverable))
