"""`dawsos policies list|show`: policy templates (versioned)."""

from __future__ import annotations

from typing import Any

import typer

from app.cli.common import JSON_OPTION, call_capability, cli_user, emit, print_json, run, settings

policies_app = typer.Typer(help="Policy templates (versioned).", no_args_is_help=True)


@policies_app.command("list")
def policies_list(json_out: bool = JSON_OPTION) -> None:
    """List policy templates (latest version of each)."""
    from app.cli.render import render_policies

    emit(call_capability("policies.list"), json_out, lambda listed: render_policies(listed.policies))


@policies_app.command("show")
def policies_show(
    policy_id: str = typer.Argument(..., help="Policy template id."),
    version: int | None = typer.Option(None, "--version", min=1, help="Default: the latest."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Show one policy template; every stored version is listed."""
    from app.cli.render import render_policies

    async def body() -> tuple[Any, list[Any]]:
        from app.bootstrap import bootstrap
        from app.db.repositories import PolicyRepository

        async with bootstrap(settings()) as running:
            await cli_user(running.session_factory)
            async with running.session_factory() as session:
                repo = PolicyRepository(session)
                policy = await repo.get(policy_id, version=version)
                return policy, [await repo.get(policy_id, version=v) for v in await repo.versions(policy_id)]

    policy, versions = run(body)
    if json_out:
        print_json({"policy": policy.model_dump(mode="json"),
                    "versions": [v.model_dump(mode="json") for v in versions]})
    else:
        render_policies(versions, title=f"Policy {policy_id} (all versions)")
