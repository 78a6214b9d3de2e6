"""`dawsos notifications send`: deliver pending outbox notifications by SMTP (one ``notifications.send`` call).

The server is ``SmtpSettings()`` (``DAWSOS_SMTP_HOST``, ``_PORT``, ``_FROM``, ``_TIMEOUT``). Exit 0 when every
pending notification was sent (or none was pending), 1 when any failed (each stays pending for the next
run), so a cron job fails loudly; 2 for a bad ``DAWSOS_SMTP_*`` value.
"""

from __future__ import annotations

from typing import Any

import typer

from app.cli.common import JSON_OPTION, call_capability, emit

notifications_app = typer.Typer(help="The notification outbox (e-mail by SMTP).", no_args_is_help=True)


def _render(result: Any) -> None:
    for notification_id in result.sent:
        typer.echo(f"sent {notification_id}")
    for f in result.failed:
        typer.echo(f"failed {f.notification_id}: {f.error}")
    for f in result.skipped:
        typer.echo(f"skipped {f.notification_id}: {f.error}")
    for f in result.undeliverable:
        typer.echo(f"undeliverable {f.notification_id}: {f.error}")
    typer.echo(f"{len(result.sent)} sent, {len(result.failed)} failed, {len(result.skipped)} skipped, "
               f"{len(result.undeliverable)} undeliverable via {result.smtp_server}")


@notifications_app.command("send")
def send(
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="Most notifications sent, oldest first."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Send pending notifications, rendered from each proposal's state now; exit 1 when any delivery failed (it
    stays pending for the next run) or was undeliverable (its user has no e-mail address)."""
    result = call_capability("notifications.send", limit=limit)
    emit(result, json_out, _render)
    if result.failed:
        typer.echo(f"error: {len(result.failed)} of {len(result.failed) + len(result.sent)} notifications failed; "
                   "they stay pending for the next run", err=True)
    if result.undeliverable:
        typer.echo(f"error: {len(result.undeliverable)} notification(s) undeliverable (no e-mail address): "
                   + ", ".join(f.notification_id for f in result.undeliverable), err=True)
    if result.failed or result.undeliverable:
        raise typer.Exit(1)
