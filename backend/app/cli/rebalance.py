"""`dawsos rebalance`: propose trades that bring a portfolio to its policy (one ``optimizer.propose_trades``
call), or run a scenario file with everything inline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from app.cli.common import JSON_OPTION, call_capability, fail, print_json, run
from app.core.errors import InputError


def rebalance(
    portfolio: str | None = typer.Option(None, "--portfolio", help="Portfolio id (e.g. P1)."),
    policy: str | None = typer.Option(None, "--policy", help="Policy template id (e.g. quality_focused)."),
    pack: str | None = typer.Option(None, "--pack", help="Pricing pack id; default the newest sealed pack."),
    strict: bool = typer.Option(False, "--strict", help="Refuse (exit 3) when a policy limit cannot hold."),
    scenario: Path | None = typer.Option(None, "--scenario", help="Scenario JSON: everything inline."),
    model: str | None = typer.Option(
        None, "--model", help="Target model: Classic (default), MinVar, MaxIR, BL, RP, HRP, HERC, EW, IV, WC."
    ),
    lookback_days: int | None = typer.Option(None, "--lookback-days", help="Daily returns used (default 756)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Propose trades that bring a portfolio to its policy (nothing is sent to a broker)."""
    from app.cli.render import render_proposal

    if scenario is not None:
        if portfolio or policy or pack or model or lookback_days:
            raise fail(InputError(
                "--scenario carries portfolio, policy, pack and options: do not combine it with them"
            ))
        proposal = _run_scenario(scenario, strict)
    else:
        missing = [flag for flag, val in (("--portfolio", portfolio), ("--policy", policy)) if not val]
        if missing:
            raise fail(InputError(f"{' and '.join(missing)} required (or give --scenario FILE.json)"))
        options: dict[str, Any] = {}
        if model is not None:
            options["model"] = model
        if lookback_days is not None:
            options["lookback_days"] = lookback_days
        extra = {"options": options} if options else {}
        proposal = call_capability("optimizer.propose_trades", pack=pack, portfolio_id=portfolio, policy_id=policy,
                                   strict=strict, **extra)
    if json_out:
        print_json(proposal.model_dump(mode="json"))
    else:
        render_proposal(proposal)


def _run_scenario(scenario: Path, strict: bool) -> Any:
    async def body() -> Any:
        from app.scenarios.runner import run_scenario

        return await run_scenario(scenario, strict=strict or None)

    return run(body)
