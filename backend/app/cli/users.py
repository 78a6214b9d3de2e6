"""`dawsos users ...`: where each user's notifications go (one ``users.set`` / ``users.list`` call)."""

from __future__ import annotations

from typing import Any

import typer

from app.cli.common import JSON_OPTION, call_capability, emit

users_app = typer.Typer(help="Users and their e-mail addresses (for notifications).", no_args_is_help=True)


def _render_user(u: Any) -> None:
    typer.echo(f"{u.user_id}: {u.email or '(no e-mail address: notifications are undeliverable)'}")


def _render_users(result: Any) -> None:
    for u in result.users:
        _render_user(u)
    if not result.users:
        typer.echo("no users yet (dawsos users set USER --email ADDRESS)")


@users_app.command("set")
def users_set(
    user: str = typer.Argument(..., help="User id (as given to --user and to the approvers set-up)."),
    email: str | None = typer.Option(None, "--email", help="E-mail address for notifications."),
    clear: bool = typer.Option(False, "--clear", help="Remove the address (notifications become undeliverable)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Set (or --clear) a user's e-mail address."""
    from app.cli.common import fail
    from app.core.errors import InputError

    if clear == (email is not None):
        raise fail(InputError("give either --email ADDRESS or --clear"))
    emit(call_capability("users.set", user_id=user, email=email), json_out, _render_user)


@users_app.command("list")
def users_list(json_out: bool = JSON_OPTION) -> None:
    """List users and their e-mail addresses."""
    emit(call_capability("users.list"), json_out, _render_users)
