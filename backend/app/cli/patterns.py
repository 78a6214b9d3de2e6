"""`dawsos pattern run|list`: patterns, named sequences of capability calls."""

from __future__ import annotations

import json
from typing import Any

import typer

from app.cli.common import JSON_OPTION, PACK_OPTION, cli_user, fail, print_json, run, settings
from app.core.errors import DawsosError, InputError

pattern_app = typer.Typer(help="Patterns: named sequences of capability calls.", no_args_is_help=True)


def parse_inputs(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a VALUE starting with ``{`` or ``[`` is read as JSON."""
    inputs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise fail(InputError(f"--input: expected KEY=VALUE (value={pair!r})"))
        if key in inputs:
            raise fail(InputError(f"--input {key}: given twice"))
        if value.lstrip().startswith(("{", "[")):
            try:
                inputs[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise fail(InputError(f"--input {key}: not valid JSON: {exc.msg} (value={value!r})")) from None
        else:
            inputs[key] = value
    return inputs


@pattern_app.command("run")
def pattern_run(
    name: str = typer.Argument(..., help="Pattern name (e.g. policy_rebalance) or a path to a pattern .json."),
    inputs: list[str] = typer.Option([], "--input", help="KEY=VALUE, repeatable (JSON for {...} / [...])."),
    pack: str | None = PACK_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Run a pattern through the orchestrator (each step one capability call)."""
    from app.cli.render import render_pattern

    values = parse_inputs(inputs)

    async def body() -> Any:
        from app.bootstrap import bootstrap
        from app.core.context import RequestCtx

        async with bootstrap(settings()) as running:
            user = await cli_user(running.session_factory)
            orchestrator = running.orchestrator
            pattern = orchestrator.pattern(name)
            needs_pack = any(orchestrator.registry.spec(s.capability).needs_pack for s in pattern.steps)
            if needs_pack:
                ctx = await orchestrator.new_context(pricing_pack_id=pack, user_id=user)
            else:
                ctx = RequestCtx(pricing_pack_id=pack, user_id=user)
            return await orchestrator.run_pattern(pattern, ctx, **values)

    result = run(body)
    if json_out:
        print_json(result.to_dict())
    else:
        render_pattern(result)


@pattern_app.command("list")
def pattern_list(json_out: bool = JSON_OPTION) -> None:
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
        raise fail(exc) from None
    if json_out:
        print_json({"patterns": rows})
    else:
        for row in rows:
            typer.echo(f"{row['name']}: {row['description']} (inputs: {', '.join(row['inputs'])})")
