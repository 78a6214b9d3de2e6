"""The outbox sender against a real SMTP server (aiosmtpd on loopback, ephemeral port): one message per
notification even when the first delivery attempt fails."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiosmtpd.controller import Controller

from app.db.repositories.outbox import OutboxRepository
from app.db.repositories.users import UserRepository
from app.notifications.smtp import SmtpSettings, deliver_pending, message_id


class FlakyHandler:
    """Refuses the first ``fail_first`` messages with a temporary error (451), then accepts and keeps them."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.received: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001 - aiosmtpd hook
        if self.fail_first > 0:
            self.fail_first -= 1
            return "451 4.3.0 temporary failure, try again later"
        self.received.append(email.message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_smtp(handler: FlakyHandler) -> Iterator[SmtpSettings]:
    """An aiosmtpd server on a free loopback port, handled by ``handler``, for the ``with`` block."""
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpSettings(host="127.0.0.1", port=port, DAWSOS_SMTP_FROM="dawsos@test", timeout=5)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[FlakyHandler, SmtpSettings]]:
    handler = FlakyHandler(fail_first=1)
    with running_smtp(handler) as smtp:
        yield handler, smtp


async def test_one_message_per_notification_even_when_the_first_attempt_fails(session_factory, smtp_server) -> None:  # noqa: ANN001
    handler, smtp = smtp_server
    async with session_factory() as s, s.begin():
        for user in ("alice@example.com", "bob@example.com"):
            await UserRepository(s).set_email(user, user)
        outbox = OutboxRepository(s)
        first = {"notification_id": "n1", "proposal_id": "p", "recipient": "alice@example.com", "subject": "one",
                 "body": "b1"}
        assert await outbox.add(**first)
        assert await outbox.add(notification_id="n2", proposal_id="p", recipient="bob@example.com", subject="two",
                                body="b2")
        assert not await outbox.add(**first)

    first = await deliver_pending(session_factory, smtp)
    assert [f[0] for f in first.failed] == ["n1"] and "451" in first.failed[0][1]
    assert first.sent == ("n2",)
    second = await deliver_pending(session_factory, smtp)
    assert second.sent == ("n1",) and second.failed == ()
    third = await deliver_pending(session_factory, smtp)
    assert third.sent == () and third.failed == ()

    ids = sorted(m["Message-ID"] for m in handler.received)
    assert ids == [message_id("n1"), message_id("n2")]  # exactly one each
    async with session_factory() as s:
        rows = {n.id: n for n in await OutboxRepository(s).all()}
    assert {k: (v.status, v.attempts) for k, v in rows.items()} == {"n1": ("sent", 2), "n2": ("sent", 1)}
    assert rows["n1"].sent_at is not None and rows["n1"].last_error is None


async def test_unreachable_server_leaves_notifications_pending(session_factory) -> None:  # noqa: ANN001
    async with session_factory() as s, s.begin():
        await UserRepository(s).set_email("a", "a@example.com")
        await OutboxRepository(s).add(notification_id="n1", proposal_id=None, recipient="a", subject="s", body="b")
    report = await deliver_pending(session_factory, SmtpSettings(host="127.0.0.1", port=_free_port(), timeout=2))
    assert report.sent == () and [f[0] for f in report.failed] == ["n1"]
    async with session_factory() as s:
        (n,) = await OutboxRepository(s).pending()
    assert n.attempts == 1 and n.last_error
