"""PricingPackAgent: pricing packs as capabilities, and the lookups behind the orchestrator's pack guard."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import structlog
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.agents.base import Agent, CapabilityArgs, capability
from app.core.context import RequestCtx
from app.core.errors import PricingPackError
from app.domain.bounds import MIN_PACK_DATES
from app.domain.identity import Access
from app.domain.models import PricingPack


def default_pack(sealed: list[PricingPack]) -> PricingPack:
    """The newest usable pack of ``sealed`` (see :meth:`PricingPackAgent.latest_sealed_pack`)."""
    usable = [p for p in sealed if p.n_dates >= MIN_PACK_DATES]
    if not usable:
        short = ", ".join(f"{p.id} ({p.n_dates} dates)" for p in sorted(sealed, key=lambda p: p.id))
        hint = f"; too short for any lookback (fewer than {MIN_PACK_DATES} dates): {short}" if short else ""
        raise PricingPackError(
            f"no usable sealed pricing pack{hint}; run `dawsos seed` or `dawsos packs import`"
        )
    return max(usable, key=lambda p: (p.asof_date, p.sealed_at or datetime.min.replace(tzinfo=UTC), p.id))


class GetPackArgs(CapabilityArgs):
    pack_id: str = Field(min_length=1)


class LatestPackArgs(CapabilityArgs):
    pass


class ImportPackArgs(CapabilityArgs):
    """A pack from CSV text (first column ``Date``, one column per symbol; ``source_name`` names it in errors),
    or from ``csv_path``, a file on the machine the orchestrator runs on (in-process callers such as the command
    line: the file is streamed, never read whole). Exactly one of the two."""

    pack_id: str = Field(min_length=1, max_length=64)
    prices_csv: str | None = Field(default=None, min_length=1, max_length=50_000_000)
    csv_path: Path | None = None
    asof: date | None = None
    create_securities: bool = False
    source_name: str = Field(default="upload.csv", min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_source(self) -> ImportPackArgs:
        if (self.prices_csv is None) == (self.csv_path is None):
            raise ValueError("give exactly one of prices_csv (the CSV text) and csv_path (a file)")
        return self


class PackList(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pricing_packs: tuple[PricingPack, ...]


class PackWithPrices(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pricing_pack: PricingPack
    asof_prices: dict[str, Decimal] = Field(description="symbol -> close at the as-of date, currency per share")


log = structlog.get_logger()


class PricingPackAgent(Agent):
    """Pricing packs (read-only). :meth:`get_pack` and :meth:`latest_sealed_pack` serve the pack guard."""

    name = "packs"

    async def get_pack(self, pack_id: str, *, with_counts: bool = True) -> PricingPack:
        """The pack ``pack_id`` (counts as in ``PricingPackRepository.get``); raises UnknownPricingPackError."""
        from app.db.repositories import PricingPackRepository

        async with self.session_factory() as session:
            return await PricingPackRepository(session).get(pack_id, with_counts=with_counts)

    async def latest_sealed_pack(self) -> PricingPack:
        """The default pack: the newest sealed pack that a rebalance can use — the latest as-of date, then the
        latest sealing time, then the highest id. Packs with fewer than ``MIN_PACK_DATES`` dates (too short
        for the shortest lookback) are never the default. Raises PricingPackError when no pack qualifies."""
        from app.db.repositories import PricingPackRepository

        async with self.session_factory() as session:
            sealed = [p for p in await PricingPackRepository(session).list() if p.sealed]
        return default_pack(sealed)

    @capability("packs.get", args=GetPackArgs, result=PricingPack, access=Access.signed_in())
    async def get(self, ctx: RequestCtx, args: GetPackArgs) -> PricingPack:
        """One pricing pack's header (id, as-of date, sealed, content hash)."""
        return await self.get_pack(args.pack_id)

    @capability("packs.latest", args=LatestPackArgs, result=PricingPack, access=Access.signed_in())
    async def latest(self, ctx: RequestCtx, args: LatestPackArgs) -> PricingPack:
        """The newest sealed pricing pack."""
        return await self.latest_sealed_pack()

    @capability("packs.list", args=LatestPackArgs, result=PackList, access=Access.signed_in())
    async def list_packs(self, ctx: RequestCtx, args: LatestPackArgs) -> PackList:
        """Every pricing pack (as `dawsos packs list`)."""
        from app.db.repositories import PricingPackRepository

        async with self.session_factory() as session:
            return PackList(pricing_packs=tuple(await PricingPackRepository(session).list()))

    @capability("packs.show", args=GetPackArgs, result=PackWithPrices, access=Access.signed_in())
    async def show(self, ctx: RequestCtx, args: GetPackArgs) -> PackWithPrices:
        """One pack and its as-of prices (as `dawsos packs show`)."""
        from app.db.repositories import PricingPackRepository

        async with self.session_factory() as session:
            repo = PricingPackRepository(session)
            pack = await repo.get(args.pack_id)
            return PackWithPrices(pricing_pack=pack, asof_prices=await repo.asof_prices(args.pack_id))

    @capability("packs.import", args=ImportPackArgs, result=PricingPack, access=Access.admin_only())
    async def import_csv(self, ctx: RequestCtx, args: ImportPackArgs) -> PricingPack:
        """Build and seal a pack from CSV text, in one transaction (as `dawsos packs import`)."""
        from app.seeding.packs import import_pack

        async with self.session_factory() as session, session.begin():
            if args.csv_path is not None:
                pack = await import_pack(session, pack_id=args.pack_id, csv_path=args.csv_path, asof=args.asof,
                                         create_securities=args.create_securities)
            else:
                pack = await import_pack(session, pack_id=args.pack_id, csv_path=Path(args.source_name),
                                         csv_text=args.prices_csv, asof=args.asof,
                                         create_securities=args.create_securities,
                                         source=f"imported from {args.source_name}")
        log.info("packs.imported_by", pack_id=pack.id, user=ctx.user_id)
        return pack
