"""``/api/v1/proposals``: the one proposal lifecycle (list, show, approve, reject)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.agents.proposals import ProposalList
from app.api.rest.deps import Principal, RequestId, ServiceDep
from app.api.rest.responses import errors
from app.api.service import DecisionRequest
from app.domain.lifecycle import StoredProposal
from app.domain.rebalancing import ProposalStatus

router = APIRouter(tags=["proposals"])
ProposalId = Annotated[str, Path(min_length=6, max_length=64, description="full id or a unique prefix (6+)")]


@router.get("/proposals", response_model=ProposalList, responses=errors(403, 404))
async def list_proposals(who: Principal, svc: ServiceDep, rid: RequestId,
                         portfolio_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
                         status: ProposalStatus | None = None) -> ProposalList:
    """Proposals of every command, newest first."""
    return await svc.list_proposals(who, portfolio_id=portfolio_id, status=status, request_id=rid)


@router.get("/proposals/{proposal_id}", response_model=StoredProposal, responses=errors(403, 404))
async def show_proposal(proposal_id: ProposalId, who: Principal, svc: ServiceDep, rid: RequestId) -> StoredProposal:
    """One proposal: trades, status, transitions (who, when, why), fills."""
    return await svc.show_proposal(who, proposal_id, request_id=rid)


@router.post("/proposals/{proposal_id}/approve", response_model=StoredProposal, responses=errors(403, 404, 409))
async def approve(proposal_id: ProposalId, who: Principal, svc: ServiceDep, rid: RequestId,
                  body: DecisionRequest | None = None) -> StoredProposal:
    """Approve (an approver or owner of the proposal's portfolio; anyone else 403, recorded)."""
    return await svc.decide(who, proposal_id, "approve", body or DecisionRequest(), request_id=rid)


@router.post("/proposals/{proposal_id}/reject", response_model=StoredProposal, responses=errors(403, 404, 409))
async def reject(proposal_id: ProposalId, who: Principal, svc: ServiceDep, rid: RequestId,
                 body: DecisionRequest | None = None) -> StoredProposal:
    """Reject (an approver or owner of the proposal's portfolio; anyone else 403, recorded)."""
    return await svc.decide(who, proposal_id, "reject", body or DecisionRequest(), request_id=rid)
