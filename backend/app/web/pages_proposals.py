"""One proposal (its results: expected return, risk, Sharpe, the constraint report, trades, costs and taxes) and
the approve / reject decisions (AC-2.3.6). The buttons are shown to approvers and owners only; the decision is
``proposals.approve|reject`` through the service, so the orchestrator refuses anyone else (403) whatever the
page showed."""

from __future__ import annotations

from fastapi.responses import Response

from app.api.service import DecisionRequest
from app.web.forms import validate
from app.web.pages_portfolio import DECIDERS, PENDING, role_on
from app.web.render import Web, checked_form, page, redirect


async def proposal(web: Web, proposal_id: str) -> Response:
    stored = await web.service.show_proposal(web.who, proposal_id, request_id=web.rid)
    role = await role_on(web, stored.portfolio_id)
    body = stored.body
    notice = web.request.query_params.get("done")
    return page(web.request, "proposal.html", web=web, p=stored, body=body, summary=body.get("summary", {}),
                constraints=body.get("constraints", []), trades=body.get("trades", []), role=role,
                portfolio_id=stored.portfolio_id, notice=notice if notice in ("approved", "rejected") else None,
                can_decide=role in DECIDERS and stored.status.value in PENDING)


async def decide(web: Web, proposal_id: str, decision: str) -> Response:
    """POST approve | reject with the CSRF token and an optional reason."""
    fields = await checked_form(web)
    req, errors = validate(DecisionRequest, {"reason": fields.get("reason", "")})
    if req is None:
        return page(web.request, "error.html", web=web, status=422, title="Invalid input",
                    detail="; ".join(f"{k}: {v}" for k, v in errors.items()), status_code=422)
    stored = await web.service.decide(web.who, proposal_id, decision, req, request_id=web.rid)
    return redirect(f"/proposals/{stored.proposal_id}?done={stored.status.value}")


async def approve(web: Web, proposal_id: str) -> Response:
    return await decide(web, proposal_id, "approve")


async def reject(web: Web, proposal_id: str) -> Response:
    return await decide(web, proposal_id, "reject")
