"""`dawsos packs list|show|import`: immutable pricing packs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer

from app.cli.common import JSON_OPTION, call_capability, cli_user, fail, print_json, run, settings
from app.core.errors import InputError

packs_app = typer.Typer(help="Immutable pricing packs.", no_args_is_help=True)


@packs_app.command("list")
def packs_list(json_out: bool = JSON_OPTION) -> None:
    """List pricing packs."""
    from app.cli.render import render_packs

    async def body() -> list[Any]:
        from app.bootstrap import bootstrap
        from app.db.repositories import PricingPackRepository

        async with bootstrap(settings()) as running:
            await cli_user(running.session_factory)  # reference data, for any signed-in user
            async with running.session_factory() as session:
                return await PricingPackRepository(session).list()

    packs = run(body)
    if json_out:
        print_json({"pricing_packs": [p.model_dump(mode="json") for p in packs]})
    else:
        render_packs(packs)


@packs_app.command("show")
def packs_show(
    pack_id: str = typer.Argument(..., help="Pricing pack id."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Show one pricing pack and its as-of prices."""
    from app.cli.render import render_pack

    async def body() -> tuple[Any, dict[str, Any]]:
        from app.bootstrap import bootstrap
        from app.db.repositories import PricingPackRepository

        async with bootstrap(settings()) as running:
            await cli_user(running.session_factory)
            async with running.session_factory() as session:
                repo = PricingPackRepository(session)
                pack = await repo.get(pack_id)
                return pack, await repo.asof_prices(pack_id)

    pack, prices = run(body)
    if json_out:
        print_json({"pricing_pack": pack.model_dump(mode="json"), "asof_prices": prices})
    else:
        render_pack(pack, prices)


@packs_app.command("import")
def packs_import(
    pack_id: str = typer.Option(..., "--id", help="New pack id (packs are immutable; ids are never reused)."),
    prices: Path = typer.Option(..., "--prices", help="CSV: first column Date, one column per symbol."),
    asof: str | None = typer.Option(None, "--asof", help="As-of date (YYYY-MM-DD); default the last date."),
    create_securities: bool = typer.Option(
        False, "--create-securities", help="Create unknown symbols as securities (sector 'Unclassified')."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Build and seal a pricing pack from a CSV file (an admin only)."""
    from app.cli.render import render_pack

    asof_date: date | None = None
    if asof is not None:
        try:
            asof_date = date.fromisoformat(asof)
        except ValueError:
            raise fail(InputError(f"--asof: not a date in YYYY-MM-DD form (value={asof!r})")) from None

    pack = call_capability("packs.import", pack_id=pack_id, csv_path=prices, asof=asof_date,
                           create_securities=create_securities)
    if json_out:
        print_json({"pricing_pack": pack.model_dump(mode="json")})
    else:
        render_pack(pack, None)
