"""`dawsos` command line (Typer + Rich).

Contract (DESIGN.md): ``--json`` prints exactly one JSON document on stdout; without it, readable
tables. Exit codes: 0 success, 2 bad usage or invalid input, 3 a domain refusal, 4 a solver failure.
Errors are one clear line on stderr; never a traceback. Heavy libraries (riskfolio, cvxpy) are imported
only by the commands that solve.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import Any, Callable, Coroutine, Optional, TypeVar

import typer

from app.core.errors import DawsosError, InputError

T = TypeVar("T")

app = typer.Typer(
    name="dawsos",
    help="DawsOS policy rebalancer: policy templates, pricing packs and reproducible trade proposals.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
packs_app = typer.Typer(help="Immutable pricing packs.", no_args_is_help=True)
policies_app = typer.Typer(help="Policy templates (versioned).", no_args_is_help=True)
pattern_app = typer.Typer(help="Patterns: named sequences of capability calls.", no_args_is_help=True)
app.add_typer(packs_app, name="packs")
app.add_typer(policies_app, name="policies")
app.add_typer(pattern_app, name="pattern")

_state: dict[str, Any] = {"database_url": None}


def _fail(exc: BaseException) -> "typer.Exit":
    """Print one line for ``exc`` on stderr and return the Exit carrying its code."""
    code = exc.exit_code if isinstance(exc, DawsosError) else 1
    kind = "error" if code != 3 else "refused"
    typer.echo(f"{kind}: {exc}", err=True)
    return typer.Exit(code)


def _run(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an async command body, mapping our errors to exit codes (never a traceback)."""
    try:
        return asyncio.run(coro_fn())
    except DawsosError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None


def _settings(database_url: Optional[str] = None):  # noqa: ANN202 - Settings, imported lazily
    from pydantic import ValidationError

    from app.core.settings import Settings

    url = database_url or _state["database_url"]
    try:
        return Settings(database_url=url) if url else Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        raise _fail(InputError(f"{field}: {err['msg'].removeprefix('Value error, ')}")) from None


def _print_json(document: Any) -> None:
    from app.domain.canonical import canonical_json

    sys.stdout.write(canonical_json(document, indent=2) + "\n")


@app.callback()
def _root(
    database_url: Optional[str] = typer.Option(
        None, "--database-url", envvar="DATABASE_URL", help="SQLAlchemy URL (default: var/dawsos.sqlite3)."
    ),
) -> None:
    _state["database_url"] = database_url
    from app.core.logging import configure_logging

    settings = _settings(database_url)
    configure_logging(level=settings.log_level, json=settings.log_json)


# ---- seed ---------------------------------------------------------------------------------------
@app.command()
def seed(
    database_url: Optional[str] = typer.Option(None, "--database-url", help="Overrides DATABASE_URL."),
    seeds_dir: Optional[Path] = typer.Option(None, "--seeds-dir", help="Default: data/SEEDS/optimizer."),
) -> None:
    """Validate every seed file, then load them in one transaction (idempotent)."""
    from app.seeding import seed_database

    settings = _settings(database_url)
    report = _run(lambda: seed_database(settings.database_url, seeds_dir or settings.seeds_dir))
    for line in report.lines():
        typer.echo(line)


# ---- packs --------------------------------------------------------------------------------------
@packs_app.command("list")
def packs_list(json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout.")) -> None:
    """List pricing packs."""
    from app.cli_render import render_packs

    async def body() -> list[Any]:
        from app.bootstrap import bootstrap
        from app.db.repositories import PricingPackRepository

        async with bootstrap(_settings()) as running:
            async with running.session_factory() as session:
                return await PricingPackRepository(session).list()

    packs = _run(body)
    if json_out:
        _print_json({"pricing_packs": [p.model_dump(mode="json") for p in packs]})
    else:
        render_packs(packs)


@packs_app.command("show")
def packs_show(
    pack_id: str = typer.Argument(..., help="Pricing pack id."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Show one pricing pack and its as-of prices."""
    from app.cli_render import render_pack

    async def body() -> tuple[Any, dict[str, Any]]:
        from app.bootstrap import bootstrap
        from app.db.repositories import PricingPackRepository

        async with bootstrap(_settings()) as running:
            async with running.session_factory() as session:
                repo = PricingPackRepository(session)
                pack = await repo.get(pack_id)
                return pack, await repo.asof_prices(pack_id)

    pack, prices = _run(body)
    if json_out:
        _print_json({"pricing_pack": pack.model_dump(mode="json"), "asof_prices": prices})
    else:
        render_pack(pack, prices)


@packs_app.command("import")
def packs_import(
    pack_id: str = typer.Option(..., "--id", help="New pack id (packs are immutable; ids are never reused)."),
    prices: Path = typer.Option(..., "--prices", help="CSV: first column Date, one column per symbol."),
    asof: Optional[str] = typer.Option(None, "--asof", help="As-of date (YYYY-MM-DD); default the last date."),
    create_securities: bool = typer.Option(
        False, "--create-securities", help="Create unknown symbols as securities (sector 'Unclassified')."
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Build and seal a pricing pack from a CSV file."""
    from app.cli_render import render_pack

    asof_date: date | None = None
    if asof is not None:
        try:
            asof_date = date.fromisoformat(asof)
        except ValueError:
            raise _fail(InputError(f"--asof: not a date in YYYY-MM-DD form (value={asof!r})")) from None

    async def body() -> Any:
        from app.bootstrap import bootstrap
        from app.seeding.packs import import_pack

        async with bootstrap(_settings()) as running:
            async with running.session_factory() as session:
                async with session.begin():
                    return await import_pack(
                        session, pack_id=pack_id, csv_path=prices, asof=asof_date,
                        create_securities=create_securities,
                    )

    pack = _run(body)
    if json_out:
        _print_json({"pricing_pack": pack.model_dump(mode="json")})
    else:
        render_pack(pack, None)


# ---- policies -----------------------------------------------------------------------------------
@policies_app.command("list")
def policies_list(json_out: bool = typer.Option(False, "--json")) -> None:
    """List policy templates (latest version of each)."""
    from app.cli_render import render_policies

    async def body() -> list[Any]:
        from app.bootstrap import bootstrap
        from app.db.repositories import PolicyRepository

        async with bootstrap(_settings()) as running:
            async with running.session_factory() as session:
                return await PolicyRepository(session).list_latest()

    policies = _run(body)
    if json_out:
        _print_json({"policies": [p.model_dump(mode="json") for p in policies]})
    else:
        render_policies(policies)


@policies_app.command("show")
def policies_show(
    policy_id: str = typer.Argument(..., help="Policy template id."),
    version: Optional[int] = typer.Option(None, "--version", min=1, help="Default: the latest."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Show one policy template; every stored version is listed."""
    from app.cli_render import render_policies

    async def body() -> tuple[Any, list[Any]]:
        from app.bootstrap import bootstrap
        from app.db.repositories import PolicyRepository

        async with bootstrap(_settings()) as running:
            async with running.session_factory() as session:
                repo = PolicyRepository(session)
                return await repo.get(policy_id, version=version), await repo.versions(policy_id)

    policy, versions = _run(body)
    if json_out:
        _print_json({"policy": policy.model_dump(mode="json"), "versions": [v.model_dump(mode="json") for v in versions]})
    else:
        render_policies(versions, title=f"Policy {policy_id} (all versions)")


# ---- rebalance ----------------------------------------------------------------------------------
@app.command()
def rebalance(
    portfolio: Optional[str] = typer.Option(None, "--portfolio", help="Portfolio id (e.g. P1)."),
    policy: Optional[str] = typer.Option(None, "--policy", help="Policy template id (e.g. quality_focused)."),
    pack: Optional[str] = typer.Option(None, "--pack", help="Pricing pack id; default the newest sealed pack."),
    strict: bool = typer.Option(False, "--strict", help="Refuse (exit 3) when a policy limit cannot hold."),
    scenario: Optional[Path] = typer.Option(None, "--scenario", help="Scenario JSON: everything inline."),
    model: Optional[str] = typer.Option(
        None, "--model", help="Target model: Classic (default), MinVar, MaxIR, BL, RP, HRP, HERC, EW, IV, WC."
    ),
    lookback_days: Optional[int] = typer.Option(None, "--lookback-days", help="Daily returns used (default 756)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Propose trades that bring a portfolio to its policy (nothing is sent to a broker)."""
    from app.cli_render import render_proposal

    if scenario is not None:
        if portfolio or policy or pack or model or lookback_days:
            raise _fail(InputError(
                "--scenario carries portfolio, policy, pack and options: do not combine it with them"
            ))

        async def body():  # noqa: ANN202
            from app.scenarios.runner import run_scenario

            return await run_scenario(scenario, strict=strict or None)

    else:
        missing = [flag for flag, val in (("--portfolio", portfolio), ("--policy", policy)) if not val]
        if missing:
            raise _fail(InputError(f"{' and '.join(missing)} required (or give --scenario FILE.json)"))
        options: dict[str, Any] = {}
        if model is not None:
            options["model"] = model
        if lookback_days is not None:
            options["lookback_days"] = lookback_days

        async def body():  # noqa: ANN202
            from app.bootstrap import bootstrap

            async with bootstrap(_settings()) as running:
                orchestrator = running.orchestrator
                ctx = await orchestrator.new_context(pricing_pack_id=pack)
                extra = {"options": options} if options else {}
                envelope = await orchestrator.call(
                    "optimizer.propose_trades", ctx, portfolio_id=portfolio, policy_id=policy, strict=strict,
                    **extra,
                )
                return envelope.data

    proposal = _run(body)
    if json_out:
        _print_json(proposal.model_dump(mode="json"))
    else:
        render_proposal(proposal)


# ---- patterns -----------------------------------------------------------------------------------
def _parse_inputs(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a VALUE starting with ``{`` or ``[`` is read as JSON."""
    import json

    inputs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise _fail(InputError(f"--input: expected KEY=VALUE (value={pair!r})"))
        if key in inputs:
            raise _fail(InputError(f"--input {key}: given twice"))
        if value.lstrip().startswith(("{", "[")):
            try:
                inputs[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise _fail(InputError(f"--input {key}: not valid JSON: {exc.msg} (value={value!r})")) from None
        else:
            inputs[key] = value
    return inputs


@pattern_app.command("run")
def pattern_run(
    name: str = typer.Argument(..., help="Pattern name (e.g. policy_rebalance) or a path to a pattern .json."),
    inputs: list[str] = typer.Option([], "--input", help="KEY=VALUE, repeatable (JSON for {...} / [...])."),
    pack: Optional[str] = typer.Option(None, "--pack", help="Pricing pack id; default the newest sealed pack."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Run a pattern through the orchestrator (each step one capability call)."""
    from app.cli_render import render_pattern

    values = _parse_inputs(inputs)

    async def body():  # noqa: ANN202
        from app.bootstrap import bootstrap

        async with bootstrap(_settings()) as running:
            orchestrator = running.orchestrator
            pattern = orchestrator.pattern(name)
            needs_pack = any(orchestrator.registry.spec(s.capability).needs_pack for s in pattern.steps)
            if needs_pack:
                ctx = await orchestrator.new_context(pricing_pack_id=pack)
            else:
                from app.core.context import RequestCtx

                ctx = RequestCtx(pricing_pack_id=pack)
            return await orchestrator.run_pattern(pattern, ctx, **values)

    result = _run(body)
    if json_out:
        _print_json(result.to_dict())
    else:
        render_pattern(result)


@pattern_app.command("list")
def pattern_list(json_out: bool = typer.Option(False, "--json")) -> None:
    """List the patterns shipped with the application."""

    def body() -> list[dict[str, Any]]:
        from app.bootstrap import build_orchestrator

        # patterns are validated against the registry only: no capability is called, no database opened
        orchestrator = build_orchestrator(None)  # type: ignore[arg-type]
        return [
            {"name": n, "description": orchestrator.pattern(n).description,
             "inputs": list(orchestrator.pattern(n).inputs)}
            for n in orchestrator.pattern_names()
        ]

    try:
        rows = body()
    except DawsosError as exc:
        raise _fail(exc) from None
    if json_out:
        _print_json({"patterns": rows})
    else:
        for row in rows:
            typer.echo(f"{row['name']}: {row['description']} (inputs: {', '.join(row['inputs'])})")


from app.cli_rebalancing import register as _register_rebalancing  # noqa: E402 - after the root app exists
_register_rebalancing(app)
from app.cli_rebalancing_setup import register as _register_rebalancing_setup  # noqa: E402
_register_rebalancing_setup(app)
from app.cli_notifications import register as _register_notifications  # noqa: E402
_register_notifications(app)
from app.cli_allocation import register as _register_allocation  # noqa: E402 - after the root app exists
_register_allocation(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
