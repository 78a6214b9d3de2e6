"""`dawsos packs list|show|import`: immutable pricing packs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from app.cli.common import JSON_OPTION, call_capability, emit, fail, print_json
from app.core.errors import InputError

packs_app = typer.Typer(help="Immutable pricing packs.", no_args_is_help=True)


@packs_app.command("list")
def packs_list(json_out: bool = JSON_OPTION) -> None:
    """List pricing packs."""
    from app.cli.render import render_packs

    emit(call_capability("packs.list"), json_out, lambda listed: render_packs(listed.pricing_packs))


@packs_app.command("show")
def packs_show(
    pack_id: str = typer.Argument(..., help="Pricing pack id."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Show one pricing pack and its as-of prices."""
    from app.cli.render import render_pack

    emit(call_capability("packs.show", pack_id=pack_id), json_out,
         lambda shown: render_pack(shown.pricing_pack, shown.asof_prices))


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
