"""``/api/v1/portfolios/{id}``: efficient frontier, rebalance (a proposal in the one lifecycle), history; and
``/api/v1/rebalance-plans/{id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.agents.proposals import History
from app.agents.rebalancing import TaxPreview
from app.api.rest.deps import Principal, RequestId, ServiceDep
from app.api.rest.responses import errors
from app.api.service import FrontierQuery, RebalanceRequest, TaxPreviewRequest
from app.domain.overview import PortfolioAccessList, PortfolioOverview
from app.domain.service import FrontierView, RebalancePlanView

router = APIRouter(tags=["portfolios"])
PortfolioId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/portfolios/{portfolio_id}/efficient-frontier", response_model=FrontierView,
            responses=errors(403, 404, 409))
async def efficient_frontier(portfolio_id: PortfolioId, query: Annotated[FrontierQuery, Query()], who: Principal,
                             svc: ServiceDep, rid: RequestId) -> FrontierView:
    """The frontier (points ordered by risk) with the current, optimal (max Sharpe), min-risk and max-return
    points; ``min_return``/``max_risk`` keep the points that satisfy them."""
    return await svc.efficient_frontier(who, portfolio_id, query, request_id=rid)


@router.post("/portfolios/{portfolio_id}/rebalance", status_code=201, response_model=RebalancePlanView,
             responses=errors(403, 404, 409))
async def rebalance(portfolio_id: PortfolioId, body: RebalanceRequest, response: Response, who: Principal,
                    svc: ServiceDep, rid: RequestId) -> RebalancePlanView:
    """A rebalance plan: the one trade engine's proposal, stored in the one proposal lifecycle (approve or
    reject it under /proposals). ``proposal`` is the document `dawsos rebalance --json` prints."""
    plan = await svc.rebalance(who, portfolio_id, body, request_id=rid)
    response.headers["Location"] = f"/api/v1/rebalance-plans/{plan.rebalance_id}"
    return plan


@router.post("/portfolios/{portfolio_id}/tax-preview", response_model=TaxPreview, responses=errors(403, 404, 409))
async def tax_preview(portfolio_id: PortfolioId, who: Principal, svc: ServiceDep, rid: RequestId,
                      body: TaxPreviewRequest | None = None) -> TaxPreview:
    """The trades a rebalance of the portfolio would make now (its rebalancing settings' target, lot method and
    tax rates) with the realised gains short- and long-term and the estimated tax, by tax lot. Nothing is
    stored: no proposal, no run (a viewer may ask)."""
    return await svc.tax_preview(who, portfolio_id, body or TaxPreviewRequest(), request_id=rid)


@router.get("/rebalance-plans/{rebalance_id}", response_model=RebalancePlanView, responses=errors(403, 404))
async def get_plan(rebalance_id: Annotated[str, Path(min_length=1, max_length=64)], who: Principal,
                   svc: ServiceDep, rid: RequestId) -> RebalancePlanView:
    """A recorded rebalance plan, with its proposal's current status."""
    return await svc.get_plan(who, rebalance_id, request_id=rid)


@router.get("/portfolios/{portfolio_id}/history", response_model=History, responses=errors(403, 404))
async def history(portfolio_id: PortfolioId, who: Principal, svc: ServiceDep, rid: RequestId) -> History:
    """Every proposal of the portfolio (any command) and the rebalancing runs that traded nothing."""
    return await svc.history(who, portfolio_id, request_id=rid)


@router.get("/portfolios", response_model=PortfolioAccessList, responses=errors())
async def list_portfolios(who: Principal, svc: ServiceDep, rid: RequestId) -> PortfolioAccessList:
    """The portfolios the caller holds a role on, with the role."""
    return await svc.list_portfolios(who, request_id=rid)


@router.get("/portfolios/{portfolio_id}/overview", response_model=PortfolioOverview, responses=errors(403, 404, 409))
async def overview(portfolio_id: PortfolioId, who: Principal, svc: ServiceDep, rid: RequestId,
                   pricing_pack_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
                   ) -> PortfolioOverview:
    """Current allocation at the pack's as-of prices (default: the newest sealed pack) vs the target of the
    portfolio's newest proposal, by security and by sector (percent)."""
    return await svc.portfolio_overview(who, portfolio_id, pricing_pack_id=pricing_pack_id, request_id=rid)
