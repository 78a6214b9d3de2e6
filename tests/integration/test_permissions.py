"""The orchestrator's permission checks on real SQLite and PostgreSQL: each role's allowed and refused capability
set on a portfolio, approvals refused for viewers, managers and other portfolios' users (and recorded), allowed
for approvers and owners; admins manage users and packs but hold no portfolio role; trusted library calls (no
user) are not checked; every capability declares who may call it."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs

from app.analytics.inputs import RebalanceOptions
from app.bootstrap import build_orchestrator
from app.core.context import RequestCtx
from app.core.errors import ArgumentError, DawsosError, PermissionDeniedError
from app.db.repositories import ProposalRepository
from app.db.repositories.identity import IdentityRepository
from app.domain.identity import Role
from app.domain.rebalancing import ProposalStatus
from tests.conftest import capture_info_logs

PACK = "PP_2022-12-28"
FAST = RebalanceOptions(lookback_days=60)
#: who holds what: a user per role on P1, the owner of P2 only, and an admin holding no role
PEOPLE = {"vic": Role.VIEWER, "max": Role.MANAGER, "amy": Role.APPROVER, "olga": Role.OWNER}
OTHER, ADMIN = "pete", "root"

#: (capability, arguments, the least role on P1 it needs); cheap calls only (refused ones do no work)
CALLS: list[tuple[str, dict[str, Any], Role]] = [
    ("rebalance.settings", {"portfolio_id": "P1"}, Role.VIEWER),
    ("rebalance.approvers", {"portfolio_id": "P1"}, Role.VIEWER),
    ("rebalance.restricted", {"portfolio_id": "P1"}, Role.VIEWER),
    ("rebalance.lots", {"portfolio_id": "P1"}, Role.VIEWER),
    ("proposals.history", {"portfolio_id": "P1"}, Role.VIEWER),
    ("proposals.list", {"portfolio_id": "P1"}, Role.VIEWER),
    ("rebalance.set_restricted", {"portfolio_id": "P1", "symbols": {"XOM": "test"}}, Role.MANAGER),
    ("rebalance.propose", {"portfolio_id": "P1"}, Role.MANAGER),  # allowed: refused later (no settings)
    ("users.grant", {"portfolio_id": "P1", "user_id": "newbie", "role": "viewer"}, Role.OWNER),
    ("users.revoke", {"portfolio_id": "P1", "user_id": "newbie"}, Role.OWNER),
]


async def _people(factory) -> None:  # noqa: ANN001
    async with factory() as s, s.begin():
        repo = IdentityRepository(s)
        for user, role in PEOPLE.items():
            await repo.create_user(user)
            await repo.grant("P1", user, role, granted_by="test")
        await repo.create_user(OTHER)
        await repo.grant("P2", OTHER, Role.OWNER, granted_by="test")
        await repo.create_user(ADMIN, is_admin=True)
        await repo.create_user("newbie")


def ctx(user: str | None) -> RequestCtx:
    return RequestCtx(pricing_pack_id=PACK, user_id=user)


async def _allowed(orchestrator, user: str) -> set[str]:  # noqa: ANN001
    """The capabilities of CALLS that ``user`` gets past the permission check for."""
    allowed = set()
    for name, args, _ in CALLS:
        try:
            await orchestrator.call(name, ctx(user), **args)
        except PermissionDeniedError as exc:
            assert str(exc).startswith(f"not permitted: {user} holds no "), exc
            continue
        except DawsosError:
            pass  # past the check, refused by the capability itself (e.g. no rebalancing settings)
        allowed.add(name)
    return allowed


async def test_each_role_allows_its_capabilities_and_refuses_the_rest(seeded_session_factory) -> None:  # noqa: ANN001
    await _people(seeded_session_factory)
    orchestrator = build_orchestrator(seeded_session_factory)
    for user, role in PEOPLE.items():
        assert await _allowed(orchestrator, user) == {n for n, _, needed in CALLS if role >= needed}, user
    assert await _allowed(orchestrator, OTHER) == set()  # owner of P2: nothing on P1
    assert await _allowed(orchestrator, ADMIN) == {"users.grant", "users.revoke"}  # grants anywhere, reads nothing


async def test_approve_is_refused_for_viewer_manager_and_strangers_and_allowed_for_approver_and_owner(  # noqa: ANN001
    seeded_session_factory,
) -> None:
    await _people(seeded_session_factory)
    orchestrator = build_orchestrator(seeded_session_factory)
    made = (await orchestrator.call("optimizer.propose_trades", ctx(None), portfolio_id="P1",
                                    policy_id="quality_focused", options=FAST)).data
    pid = made.proposal_id
    for user in ("vic", "max", OTHER, ADMIN, "nobody"):
        with capture_logs() as logs, pytest.raises(PermissionDeniedError) as refused:
            await orchestrator.call("proposals.approve", ctx(user), proposal_id=pid[:12])
        assert str(refused.value).startswith(f"not permitted: {user} holds no approver role on portfolio P1")
        assert refused.value.exit_code == 3
        assert any(e["event"] == "proposals.decision.refused" and e["user"] == user for e in logs)
    with pytest.raises(PermissionDeniedError):
        await orchestrator.call("proposals.execute", ctx("max"), proposal_id=pid, as_proposed=True)
    async with seeded_session_factory() as s:
        repo = ProposalRepository(s)
        assert [r["user"] for r in await repo.refusals(pid)] == ["vic", "max", OTHER, ADMIN, "nobody", "max"]
        assert (await repo.get(pid)).status is not ProposalStatus.APPROVED

    approved = (await orchestrator.call("proposals.approve", ctx("amy"), proposal_id=pid, reason="fine")).data
    assert approved.status is ProposalStatus.APPROVED and approved.transitions[-1].actor == "amy"
    done = (await orchestrator.call("proposals.execute", ctx("olga"), proposal_id=pid, as_proposed=True)).data
    assert done.proposal.status is ProposalStatus.EXECUTED and done.proposal.transitions[-1].actor == "olga"
    # the caller is who decides: naming someone else is refused
    with pytest.raises(ArgumentError, match="'amy' is not the signed-in user 'olga'"):
        await orchestrator.call("proposals.reject", ctx("olga"), proposal_id=pid, user="amy")


async def test_viewers_see_only_their_portfolios_proposals(seeded_session_factory) -> None:  # noqa: ANN001
    await _people(seeded_session_factory)
    orchestrator = build_orchestrator(seeded_session_factory)
    for portfolio in ("P1", "P2"):
        await orchestrator.call("optimizer.propose_trades", ctx(None), portfolio_id=portfolio,
                                policy_id="quality_focused", options=FAST)
    seen = {u: {p.portfolio_id for p in (await orchestrator.call("proposals.list", ctx(u))).data.proposals}
            for u in ("vic", OTHER, ADMIN)}
    assert seen == {"vic": {"P1"}, OTHER: {"P2"}, ADMIN: set()}
    assert len((await orchestrator.call("proposals.list", ctx(None))).data.proposals) == 2  # trusted: all
    p2 = next(p for p in (await orchestrator.call("proposals.list", ctx(OTHER))).data.proposals)
    with pytest.raises(PermissionDeniedError, match="vic holds no viewer role on portfolio P2"):
        await orchestrator.call("proposals.show", ctx("vic"), proposal_id=p2.proposal_id)


async def test_trusted_calls_are_not_checked_and_say_so(seeded_session_factory) -> None:  # noqa: ANN001
    orchestrator = build_orchestrator(seeded_session_factory)
    with capture_info_logs() as logs:
        await orchestrator.call("rebalance.set_restricted", ctx(None), portfolio_id="P1", symbols={"XOM": "t"})
    started = [e for e in logs if e["event"] == "orchestrator.call.started"]
    assert [e["access"] for e in started] == ["trusted"]


async def test_every_capability_declares_its_access(seeded_session_factory) -> None:  # noqa: ANN001
    orchestrator = build_orchestrator(seeded_session_factory)
    undeclared = [s.name for s in orchestrator.capabilities() if s.access is None]
    assert undeclared == []
    portfolio_args = [s for s in orchestrator.capabilities()
                      if {"portfolio_id", "portfolio_ids", "proposal_id"} & set(s.argument_names())]
    assert all(s.access is not None and s.access.role is not None for s in portfolio_args), [
        s.name for s in portfolio_args if s.access is None or s.access.role is None]


async def test_the_identity_of_each_call_is_in_what_it_writes(seeded_session_factory) -> None:  # noqa: ANN001
    await _people(seeded_session_factory)
    orchestrator = build_orchestrator(seeded_session_factory)
    await orchestrator.call("rebalance.configure", ctx("max"), portfolio_id="P1", target_source="optimizer",
                            policy_id="quality_focused", approval_threshold=D("1000000"))
    made = (await orchestrator.call("optimizer.propose_trades", ctx("max"), portfolio_id="P1",
                                    policy_id="quality_focused", options=FAST)).data
    again = await orchestrator.call("optimizer.propose_trades", ctx(None), portfolio_id="P1",
                                    policy_id="quality_focused", options=FAST)
    assert again.data.proposal_id == made.proposal_id
    async with seeded_session_factory() as s:
        repo = ProposalRepository(s)
        stored = await repo.get(made.proposal_id)
        assert await repo.requesters(made.proposal_id) == ["max", None]  # the second, a trusted call
        updated_by = await s.scalar(text("SELECT updated_by FROM rebalance_settings WHERE portfolio_id = 'P1'"))
    assert stored.transitions[0].actor == "max" and updated_by == "max"
    settings = (await orchestrator.call("rebalance.settings", ctx("vic"), portfolio_id="P1")).data
    assert settings.approval_threshold == D("1000000")


async def test_pack_import_is_for_admins_from_text_or_a_file(seeded_session_factory, tmp_path) -> None:  # noqa: ANN001
    await _people(seeded_session_factory)
    orchestrator = build_orchestrator(seeded_session_factory)
    source = Path(__file__).resolve().parents[2] / "data" / "SEEDS" / "optimizer" / "prices" / f"{PACK}.csv"
    text_csv = source.read_text(encoding="utf-8")
    with pytest.raises(PermissionDeniedError, match="olga is not an admin"):  # an owner is no admin
        await orchestrator.call("packs.import", ctx("olga"), pack_id="PP_OLGA", prices_csv=text_csv)
    with pytest.raises(ArgumentError, match="exactly one of prices_csv"):
        await orchestrator.call("packs.import", ctx(ADMIN), pack_id="PP_BOTH", prices_csv=text_csv, csv_path=source)
    from_text = (await orchestrator.call("packs.import", ctx(ADMIN), pack_id="PP_TEXT", prices_csv=text_csv,
                                         source_name="upload.csv")).data
    from_file = (await orchestrator.call("packs.import", ctx(ADMIN), pack_id="PP_FILE", csv_path=source)).data
    assert from_text.sealed and from_file.sealed and from_text.content_hash == from_file.content_hash
