"""Optimiser configuration (AC-2.3.2), the job's progress and results (AC-2.3.3), and making a proposal under a
policy. Forms are validated by the API's own request models; the job's status is polled by ``dashboard.js``."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response

from app.api.service import CreateOptimizationRequest, FrontierQuery, RebalanceRequest
from app.core.errors import DawsosError, one_line
from app.domain.service import ObjectiveName, OptimizationType, RiskMeasureName, TargetType
from app.web.charts import NamedPoint, frontier, paired_bars
from app.web.forms import nested, validate
from app.web.render import Web, checked_form, page, redirect

CHOICES = {"optimization_type": [e.value for e in OptimizationType], "objective": [e.value for e in ObjectiveName],
           "risk_measure": [e.value for e in RiskMeasureName], "target_type": [e.value for e in TargetType]}
POINT_LABELS = (("current_portfolio", "current", "Current"), ("optimal_portfolio", "optimal", "Optimal (max Sharpe)"),
                ("min_risk_portfolio", "min_risk", "Minimum risk"), ("max_return_portfolio", "max_return",
                                                                    "Maximum return"))
OPT_CHECKBOXES = ("preferences.include_transaction_costs", "preferences.consider_tax_implications")


async def optimize_form(web: Web, portfolio_id: str, *, values: dict[str, str] | None = None,
                        errors: dict[str, str] | None = None) -> Response:
    policies = await web.service.list_policies(web.who, request_id=web.rid)
    return page(web.request, "optimize.html", web=web, portfolio_id=portfolio_id, choices=CHOICES,
                values=values or {}, errors=errors or {}, policies=policies.policies,
                status=422 if errors else 200)


async def optimize_submit(web: Web, portfolio_id: str) -> Response:
    """Validate with the API's model; 422 with the messages next to their fields, else the job's page."""
    fields = await checked_form(web)
    doc = nested(fields, checkboxes=OPT_CHECKBOXES)
    req, errors = validate(CreateOptimizationRequest, {**doc, "portfolio_id": portfolio_id})
    if req is None:
        return await optimize_form(web, portfolio_id, values=fields, errors=errors)
    view = await web.service.create_optimization(web.who, req, request_id=web.rid)
    return redirect(f"/optimizations/{view.optimization_id}")


async def optimization_status(web: Web, optimization_id: str) -> Response:
    """``{"status", "final", "error"}`` for the page's progress poller."""
    view = await web.service.get_optimization(web.who, optimization_id, request_id=web.rid)
    return JSONResponse({"status": view.status.value, "final": view.status.final, "error": view.error})


async def _frontier(web: Web, view: Any) -> tuple[Any, str | None]:
    """The portfolio's frontier under the job's risk measure and caps, with its four named points."""
    caps = {k: v for k, v in view.constraints.items() if k in FrontierQuery.model_fields and v is not None}
    try:
        query = FrontierQuery(points=20, risk_measure=view.risk_measure, pricing_pack_id=view.pricing_pack_id, **caps)
        return await web.service.efficient_frontier(web.who, view.portfolio_id, query, request_id=web.rid), None
    except (DawsosError, ValueError) as exc:
        return None, one_line(exc) if isinstance(exc, DawsosError) else str(exc)


def frontier_chart(found: Any, title: str) -> Any:
    curve = [(float(p.risk), float(p.return_)) for p in found.efficient_frontier]
    named = [NamedPoint(key=key, label=label, risk=float(getattr(found, attr).risk),
                        return_=float(getattr(found, attr).return_)) for attr, key, label in POINT_LABELS]
    return frontier(curve, named, title=title, chart_id="frontier", risk_label=f"{found.risk_measure} (annualised)")


async def optimization(web: Web, optimization_id: str) -> Response:
    """The job: progress until it is final, then metrics, allocations, trades and the frontier."""
    view = await web.service.get_optimization(web.who, optimization_id, request_id=web.rid)
    data: dict[str, Any] = {"view": view, "portfolio_id": view.portfolio_id, "points": POINT_LABELS}
    if view.status.value == "completed":
        current, target = view.current_allocation or {}, view.target_allocation or {}
        rows = [(s, current.get(s, 0) * 100, target.get(s, 0) * 100)
                for s in sorted(set(current) | set(target), key=lambda s: (-target.get(s, 0), s))
                if current.get(s, 0) or target.get(s, 0)]
        found, note = await _frontier(web, view)
        data.update(alloc_rows=rows, alloc_chart=paired_bars(rows, title="Current vs optimised allocation",
                                                             chart_id="opt-alloc"),
                    frontier=found, frontier_note=note,
                    frontier_chart=frontier_chart(found, "Efficient frontier") if found else None)
    return page(web.request, "optimization.html", web=web, **data)


async def rebalance_form(web: Web, portfolio_id: str, *, values: dict[str, str] | None = None,
                         errors: dict[str, str] | None = None) -> Response:
    policies = await web.service.list_policies(web.who, request_id=web.rid)
    return page(web.request, "rebalance.html", web=web, portfolio_id=portfolio_id, choices=CHOICES,
                policies=policies.policies, values=values or {"policy_id": "quality_focused"}, errors=errors or {},
                status=422 if errors else 200)


async def rebalance_submit(web: Web, portfolio_id: str) -> Response:
    """A proposal from the one trade engine under the chosen policy; then its page."""
    fields = await checked_form(web)
    req, errors = validate(RebalanceRequest, nested(fields, checkboxes=("strict",
                                                                        "constraints.consider_tax_implications")))
    if req is None:
        return await rebalance_form(web, portfolio_id, values=fields, errors=errors)
    plan = await web.service.rebalance(web.who, portfolio_id, req, request_id=web.rid)
    return redirect(f"/proposals/{plan.proposal_id}")
