"""Portfolio pages: the list of the user's portfolios, the overview (AC-2.3.1), pending proposals (AC-2.3.6),
history (AC-2.3.5); rebalancing preferences and the tax preview are :mod:`app.web.pages_preferences`."""

from __future__ import annotations

from fastapi.responses import Response

from app.domain.rebalancing import ProposalStatus
from app.web.charts import paired_bars, sector_rows
from app.web.render import Web, page

PENDING = (ProposalStatus.PENDING_APPROVAL.value, ProposalStatus.PROPOSED.value)
DECIDERS = ("approver", "owner")


async def role_on(web: Web, portfolio_id: str) -> str | None:
    """The user's role on ``portfolio_id`` (None: none), read through the service."""
    found = await web.service.list_portfolios(web.who, request_id=web.rid)
    return next((p.role for p in found.portfolios if p.portfolio_id == portfolio_id), None)


async def home(web: Web) -> Response:
    """The user's portfolios and their role on each."""
    found = await web.service.list_portfolios(web.who, request_id=web.rid)
    return page(web.request, "home.html", web=web, portfolios=found.portfolios)


async def overview(web: Web, portfolio_id: str) -> Response:
    """Current vs target allocation, by security and by sector: charts with the same numbers as tables."""
    view = await web.service.portfolio_overview(web.who, portfolio_id, request_id=web.rid)
    target = view.target_pct
    symbols = sorted(set(view.current_pct) | set(target), key=lambda s: (-view.current_pct.get(s, 0), s))
    by_security = [(s, view.current_pct.get(s, 0), target.get(s, 0) if target else None) for s in symbols]
    sectors = sector_rows(view.current_by_sector_pct, view.target_by_sector_pct)
    return page(web.request, "overview.html", web=web, view=view, portfolio_id=portfolio_id,
                role=await role_on(web, portfolio_id), by_security=by_security, by_sector=sectors,
                security_chart=paired_bars(by_security, title=f"{portfolio_id}: allocation by security",
                                           chart_id="alloc-security"),
                sector_chart=paired_bars(sectors, title=f"{portfolio_id}: allocation by sector",
                                         chart_id="alloc-sector"))


async def pending(web: Web, portfolio_id: str) -> Response:
    """Proposals waiting for a decision; approve/reject only for an approver or owner of the portfolio."""
    found = await web.service.list_proposals(web.who, portfolio_id=portfolio_id, status=None, request_id=web.rid)
    waiting = [p for p in found.proposals if p.status.value in PENDING]
    role = await role_on(web, portfolio_id)
    return page(web.request, "pending.html", web=web, portfolio_id=portfolio_id, proposals=waiting, role=role,
                can_decide=role in DECIDERS)


async def history(web: Web, portfolio_id: str) -> Response:
    """Every proposal of the portfolio: before/after allocations, trades, costs, taxes, outcome."""
    found = await web.service.history(web.who, portfolio_id, request_id=web.rid)
    return page(web.request, "history.html", web=web, portfolio_id=portfolio_id, entries=found.entries,
                role=await role_on(web, portfolio_id))
