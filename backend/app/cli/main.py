"""The `dawsos` root command: global options, logging set-up (the CLI's one place), and every command group.

Each command group is its own module (``app.cli.packs``, ``policies``, ``patterns``, ``proposals``,
``rebalancing``, ``notifications``, ``users``, ``allocation``; top-level commands in ``seed``, ``rebalance``,
``serve``); shared helpers and options are in :mod:`app.cli.common`, shared tables in :mod:`app.cli.render`.
No command module imports another or this one. Heavy libraries (riskfolio, cvxpy, matplotlib, and the
service's fastapi, uvicorn, grpc) are imported only by the commands that use them.
"""

from __future__ import annotations

import typer

from app.cli import (
    allocation,
    notifications,
    packs,
    patterns,
    policies,
    proposals,
    rebalance,
    rebalancing,
    seed,
    serve,
    users,
)
from app.cli.common import set_database_url, settings

app = typer.Typer(
    name="dawsos",
    help="DawsOS policy rebalancer: policy templates, pricing packs and reproducible trade proposals.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    database_url: str | None = typer.Option(
        None, "--database-url", envvar="DATABASE_URL", help="SQLAlchemy URL (default: var/dawsos.sqlite3)."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", help="Logs on stderr (default: appended to DAWSOS_LOG_FILE, var/dawsos.log)."
    ),
) -> None:
    """Global options; configures logging once for every command (errors are one line on stderr; logs go
    to the log file unless --verbose)."""
    from app.core.logging import LogFile, configure_logging

    set_database_url(database_url)
    current = settings(database_url)
    sink = None if verbose else LogFile(current.log_file)
    configure_logging(level=current.log_level, json=current.log_json, sink=sink)


app.command("seed")(seed.seed)
app.add_typer(packs.packs_app, name="packs")
app.add_typer(policies.policies_app, name="policies")
app.command("rebalance")(rebalance.rebalance)
app.add_typer(patterns.pattern_app, name="pattern")
app.add_typer(proposals.proposals_app, name="proposals")
app.command("history")(proposals.history)
app.add_typer(rebalancing.rebalancing_app, name="rebalancing")
app.add_typer(notifications.notifications_app, name="notifications")
app.add_typer(users.users_app, name="users")
app.command("optimize")(allocation.optimize)
app.command("frontier")(allocation.frontier)
app.command("serve")(serve.serve)


def main() -> None:
    """Console-script entry point."""
    app()
