"""PricingPackAgent: pricing packs as capabilities, and the lookups behind the orchestrator's pack guard."""

from __future__ import annotations

from pydantic import Field

from app.agents.base import Agent, CapabilityArgs, capability
from app.core.context import RequestCtx
from app.core.errors import PricingPackError
from app.domain.models import PricingPack


class GetPackArgs(CapabilityArgs):
    pack_id: str = Field(min_length=1)


class LatestPackArgs(CapabilityArgs):
    pass


class PricingPackAgent(Agent):
    """Pricing packs (read-only). :meth:`get_pack` and :meth:`latest_sealed_pack` serve the pack guard."""

    name = "packs"

    async def get_pack(self, pack_id: str, *, with_counts: bool = True) -> PricingPack:
        """The pack ``pack_id`` (counts as in ``PricingPackRepository.get``); raises UnknownPricingPackError."""
        from app.db.repositories import PricingPackRepository

        async with self.session_factory() as session:
            return await PricingPackRepository(session).get(pack_id, with_counts=with_counts)

    async def latest_sealed_pack(self) -> PricingPack:
        """The newest sealed pack (by as-of date, then id); raises PricingPackError when there is none."""
        from app.db.repositories import PricingPackRepository

        async with self.session_factory() as session:
            packs = [p for p in await PricingPackRepository(session).list() if p.sealed]
        if not packs:
            raise PricingPackError("no sealed pricing pack exists; run `dawsos seed` or `dawsos packs import`")
        return max(packs, key=lambda p: (p.asof_date, p.id))

    @capability("packs.get", args=GetPackArgs, result=PricingPack)
    async def get(self, ctx: RequestCtx, args: GetPackArgs) -> PricingPack:
        """One pricing pack's header (id, as-of date, sealed, content hash)."""
        return await self.get_pack(args.pack_id)

    @capability("packs.latest", args=LatestPackArgs, result=PricingPack)
    async def latest(self, ctx: RequestCtx, args: LatestPackArgs) -> PricingPack:
        """The newest sealed pricing pack."""
        return await self.latest_sealed_pack()
