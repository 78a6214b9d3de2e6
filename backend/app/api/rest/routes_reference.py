"""``/api/v1/packs`` and ``/api/v1/policies``: reference data (read by any signed-in user; packs imported by an
admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.agents.packs import PackList, PackWithPrices
from app.agents.policies import PolicyList
from app.api.rest.deps import Principal, RequestId, ServiceDep
from app.api.rest.responses import errors
from app.api.service import PackImportRequest
from app.domain.models import Policy, PricingPack

router = APIRouter(tags=["reference data"])
Identifier = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/packs", response_model=PackList, responses=errors())
async def list_packs(who: Principal, svc: ServiceDep, rid: RequestId) -> PackList:
    """Every pricing pack."""
    return await svc.list_packs(who, request_id=rid)


@router.get("/packs/{pack_id}", response_model=PackWithPrices, responses=errors(404))
async def show_pack(pack_id: Identifier, who: Principal, svc: ServiceDep, rid: RequestId) -> PackWithPrices:
    """One pricing pack and its as-of prices."""
    return await svc.show_pack(who, pack_id, request_id=rid)


@router.post("/packs", status_code=201, response_model=PricingPack, responses=errors(403, 404, 409))
async def import_pack(body: PackImportRequest, response: Response, who: Principal, svc: ServiceDep,
                      rid: RequestId) -> PricingPack:
    """Build and seal a pricing pack from CSV text (admins only; packs are immutable, ids never reused)."""
    pack = await svc.import_pack(who, body, request_id=rid)
    response.headers["Location"] = f"/api/v1/packs/{pack.id}"
    return pack


@router.get("/policies", response_model=PolicyList, responses=errors())
async def list_policies(who: Principal, svc: ServiceDep, rid: RequestId) -> PolicyList:
    """The latest version of every policy template."""
    return await svc.list_policies(who, request_id=rid)


@router.get("/policies/{policy_id}", response_model=Policy, responses=errors(404))
async def show_policy(policy_id: Identifier, who: Principal, svc: ServiceDep, rid: RequestId,
                      version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None) -> Policy:
    """One policy template (the latest version unless ``version`` is given)."""
    return await svc.show_policy(who, policy_id, version, request_id=rid)
