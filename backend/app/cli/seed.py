"""`dawsos seed`: validate every seed file, then load them in one transaction."""

from __future__ import annotations

from pathlib import Path

import typer

from app.cli.common import run, settings


def seed(
    database_url: str | None = typer.Option(None, "--database-url", help="Overrides DATABASE_URL."),
    seeds_dir: Path | None = typer.Option(None, "--seeds-dir", help="Default: data/SEEDS/optimizer."),
) -> None:
    """Validate every seed file, then load them in one transaction (idempotent)."""
    from app.seeding import seed_database

    current = settings(database_url)
    report = run(lambda: seed_database(current.database_url, seeds_dir or current.seeds_dir))
    for line in report.lines():
        typer.echo(line)
