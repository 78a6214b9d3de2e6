"""`dawsos users ...`: users, their API tokens, their roles per portfolio and their e-mail addresses.

Each command is one orchestrator call (``users.create|token|revoke_token|grant|revoke|list|show|set``) as the
command line's identity, so the orchestrator decides who may: an admin manages users and tokens (a user their
own tokens and address), an owner of a portfolio or an admin grants and revokes roles on it. A new token is
printed once (stdout, or the ``token`` field with ``--json``); only its Argon2id hash is stored, and nothing
prints a hash.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import typer

from app.cli.common import JSON_OPTION, call_capability, emit, fail
from app.core.errors import InputError
from app.domain.identity import LOCAL_USER

users_app = typer.Typer(help="Users, API tokens, roles per portfolio, e-mail addresses.", no_args_is_help=True)
USER_ARG: Any = typer.Argument(..., help="User id (letters, digits and . _ @ + -).")


def _when(moment: Any) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else "-"


def _render_token(t: Any) -> None:
    typer.echo(f"new API token {t.token_id} for {t.user_id}" + (f" ({t.label})" if t.label else ""))
    typer.echo(t.token)
    typer.echo("(shown this once; only its hash is stored: use it as DAWSOS_TOKEN=... or "
               "'Authorization: Bearer ...')")


def _render_user(u: Any) -> None:
    from app.cli.output import new_console

    c = new_console()
    flags = "admin" if u.is_admin else "user"
    unset = "(none: it gets no notifications)" if u.user_id == LOCAL_USER else "(none: notifications are undeliverable)"
    c.print(f"[bold]{u.user_id}[/bold] ({flags}), e-mail {u.email or unset}, since {_when(u.created_at)}",
            highlight=False)
    for g in u.roles:
        c.print(f"  {g.role.value:<8} on {g.portfolio_id}  (granted by {g.granted_by or '-'}, "
                f"{_when(g.granted_at)})", highlight=False)
    if not u.roles:
        c.print("  no role on any portfolio", highlight=False)
    for t in u.tokens:
        state = f"revoked {_when(t.revoked_at)}" if t.revoked_at else f"last used {_when(t.last_used_at)}"
        c.print(f"  token {t.token_id}  {t.label or '-'}  created {_when(t.created_at)}  {state}", highlight=False)


def _render_users(result: Any) -> None:
    for u in result.users:
        _render_user(u)
    if not result.users:
        typer.echo("no users yet (dawsos users create USER)")


def _render_change(r: Any) -> None:
    done = (f"{r.user_id} is now {r.role.value} on {r.portfolio_id}" if r.role is not None
            else f"{r.user_id} holds no role on {r.portfolio_id} now")
    typer.echo(done + (f" (was {r.previous.value})" if r.previous is not None else ""))
    for g in r.roles:
        typer.echo(f"  {g.user_id}: {g.role.value}")


def _render_created(result: Any) -> None:
    _render_user(result.user)
    _render_token(result.token)


@users_app.command("create")
def users_create(
    user: str = USER_ARG,
    email: str | None = typer.Option(None, "--email", help="E-mail address for notifications."),
    admin: bool = typer.Option(False, "--admin", help="Manages users, tokens and pricing packs; grants anywhere."),
    label: str = typer.Option("first token", "--label", help="Label of the first token."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Create a user and print their first API token (once). Admins only."""
    emit(call_capability("users.create", user_id=user, email=email, is_admin=admin, label=label), json_out,
         _render_created)


@users_app.command("token")
def users_token(
    user: str = USER_ARG,
    label: str = typer.Option("", "--label", help="What the token is for (e.g. the host using it)."),
    revoke: str | None = typer.Option(None, "--revoke", metavar="TOKEN_ID", help="Revoke this token instead."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Issue a new API token (printed once), or --revoke one by its id. Admins, or the user themself."""
    if revoke is not None:
        if label:
            raise fail(InputError("--label names a new token: do not combine it with --revoke"))
        emit(call_capability("users.revoke_token", user_id=user, token_id=revoke), json_out,
             lambda t: typer.echo(f"token {t.token_id} of {t.user_id} revoked at {_when(t.revoked_at)}"))
        return
    emit(call_capability("users.token", user_id=user, label=label), json_out, _render_token)


@users_app.command("grant")
def users_grant(
    user: str = USER_ARG,
    portfolio: str = typer.Option(..., "--portfolio", help="Portfolio id."),
    role: str = typer.Option(..., "--role", help="viewer | manager | approver | owner"),
    json_out: bool = JSON_OPTION,
) -> None:
    """Give a user a role on a portfolio (replacing theirs there). An owner of the portfolio, or an admin."""
    emit(call_capability("users.grant", user_id=user, portfolio_id=portfolio, role=role), json_out, _render_change)


@users_app.command("revoke")
def users_revoke(
    user: str = USER_ARG,
    portfolio: str = typer.Option(..., "--portfolio", help="Portfolio id."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Take a user's role on a portfolio away. An owner of the portfolio, or an admin."""
    emit(call_capability("users.revoke", user_id=user, portfolio_id=portfolio), json_out, _render_change)


@users_app.command("show")
def users_show(user: str = USER_ARG, json_out: bool = JSON_OPTION) -> None:
    """One user: address, admin flag, roles, token ids (never a hash). Admins, or the user themself."""
    emit(call_capability("users.show", user_id=user), json_out, _render_user)


@users_app.command("list")
def users_list(json_out: bool = JSON_OPTION) -> None:
    """Every user with roles and token ids. Admins only."""
    emit(call_capability("users.list"), json_out, _render_users)


@users_app.command("set")
def users_set(
    user: str = typer.Argument(..., help="User id (a new id becomes a user)."),
    email: str | None = typer.Option(None, "--email", help="E-mail address for notifications."),
    clear: bool = typer.Option(False, "--clear", help="Remove the address (notifications become undeliverable)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Set (or --clear) a user's e-mail address. Admins, or the user themself."""
    if clear == (email is not None):
        raise fail(InputError("give either --email ADDRESS or --clear"))
    emit(call_capability("users.set", user_id=user, email=email), json_out,
         lambda u: typer.echo(f"{u.user_id}: {u.email or '(no e-mail address: notifications are undeliverable)'}"))
