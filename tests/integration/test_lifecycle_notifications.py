"""Notifications rendered from the proposal's state when sent, to the user's configured e-mail address (real SQLite
and PostgreSQL, a real SMTP server on loopback)."""

from __future__ import annotations

import pytest

from app.bootstrap import build_orchestrator
from app.core.context import RequestCtx
from app.db.repositories.outbox import OutboxRepository
from app.domain.rebalancing import ProposalStatus
from tests.integration.rebalancing_setup import APPROVER, OWNER, PACK, configure_p1, seal_newer_pack
from tests.integration.test_rebalancing_notifications import FlakyHandler, running_smtp

OWNER_MAIL = "alice.owner@example.org"


@pytest.fixture
async def orchestrator(seeded_session_factory):  # noqa: ANN001, ANN201
    await configure_p1(seeded_session_factory)
    return build_orchestrator(seeded_session_factory)


async def _send(orchestrator, smtp) -> object:  # noqa: ANN001
    from app.agents.notifications import NotificationAgent

    agent = next(a for a in orchestrator.registry.agents if isinstance(a, NotificationAgent))
    agent.smtp = smtp
    return (await orchestrator.call("notifications.send", RequestCtx())).data


async def test_expired_proposal_is_not_mailed_as_pending(orchestrator, seeded_session_factory) -> None:  # noqa: ANN001
    proposed = (await orchestrator.call("rebalance.propose", RequestCtx(pricing_pack_id=PACK), portfolio_id="P1")).data
    assert proposed.status is ProposalStatus.PENDING_APPROVAL and proposed.notifications == 2
    for user in (OWNER, APPROVER):
        await orchestrator.call("users.set", RequestCtx(), user_id=user, email=f"{user.split('@')[0]}@example.org")
    await seal_newer_pack(seeded_session_factory)
    expired = (await orchestrator.call("proposals.expire", RequestCtx())).data.expired
    assert [e.proposal_id for e in expired] == [proposed.proposal_id]

    handler = FlakyHandler(fail_first=0)
    with running_smtp(handler) as smtp:
        result = await _send(orchestrator, smtp)
    assert handler.received == [] and result.sent == ()
    assert len(result.skipped) == 2 and all("is expired" in s.error and "pricing pack superseded" in s.error
                                            for s in result.skipped)
    async with seeded_session_factory() as s:
        rows = await OutboxRepository(s).all()
    assert {r.status for r in rows} == {"skipped"} and all("no longer pending_approval" in r.last_error for r in rows)


async def test_mail_goes_to_the_configured_address_and_a_user_without_one_is_undeliverable(
        orchestrator, seeded_session_factory) -> None:  # noqa: ANN001
    proposed = (await orchestrator.call("rebalance.propose", RequestCtx(pricing_pack_id=PACK), portfolio_id="P1")).data
    await orchestrator.call("users.set", RequestCtx(), user_id=OWNER, email=OWNER_MAIL)  # the approver has none
    handler = FlakyHandler(fail_first=0)
    with running_smtp(handler) as smtp:
        result = await _send(orchestrator, smtp)
    assert [m["To"] for m in handler.received] == [OWNER_MAIL]
    (message,) = handler.received
    assert "Status: pending_approval" in message.get_payload() and proposed.proposal_id[:12] in message["Subject"]
    assert len(result.sent) == 1 and not result.ok
    (undeliverable,) = result.undeliverable
    assert APPROVER in undeliverable.error and "no e-mail address" in undeliverable.error
    async with seeded_session_factory() as s:
        rows = {r.recipient: r for r in await OutboxRepository(s).all()}
    assert (rows[OWNER].status, rows[OWNER].address) == ("sent", OWNER_MAIL)
    assert rows[APPROVER].status == "undeliverable" and rows[APPROVER].address is None
