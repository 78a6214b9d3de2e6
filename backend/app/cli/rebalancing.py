"""`dawsos rebalancing ...`: set a portfolio up for rebalancing, then check, propose and run the schedule.

Every command is one orchestrator call (``rebalance.settings|configure|approvers|restricted|set_restricted|model|
set_model|lots|set_lots|check|propose|scheduled``; ``approvers set`` is ``users.grant``, then the list).
A ``--file`` holds a JSON object of the capability's arguments other than those on the command line (the
settings fields; ``{"symbols": {...}}``; ``{"weights": {...}}``; ``{"lots": [...]}``); it is validated with
the capability's own argument model before anything is called, so a bad file exits 2 with one line naming the
file, the field and the value, and writes nothing. Refusals (unknown portfolio, model, policy or symbol; a
role the signed-in user does not hold) exit 3 with one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from app.cli.common import JSON_OPTION, PACK_OPTION, call_capability, emit, fail
from app.cli.output import new_console, number_column, plural, price, readable, show, text_column
from app.cli.render import render_constraints, render_plan

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")

rebalancing_app = typer.Typer(help="Rebalancing set-up (settings, approvers, restricted symbols, models, lots), "
                                   "check, propose, scheduled runs.", no_args_is_help=True)
settings_app = typer.Typer(help="A portfolio's rebalancing settings.", no_args_is_help=True)
approvers_app = typer.Typer(help="Owners and approvers of a portfolio's proposals.", no_args_is_help=True)
restricted_app = typer.Typer(help="Symbols a portfolio may not buy.", no_args_is_help=True)
model_app = typer.Typer(help="Model portfolios (target weights).", no_args_is_help=True)
lots_app = typer.Typer(help="A portfolio's tax lots.", no_args_is_help=True)
for _sub, _name in ((settings_app, "settings"), (approvers_app, "approvers"), (restricted_app, "restricted"),
                    (model_app, "model"), (lots_app, "lots")):
    rebalancing_app.add_typer(_sub, name=_name)


def _args_from_file(path: Path, args_model: type[M], **given: Any) -> M:
    """``args_model`` from the JSON object in ``path`` plus ``given`` (the command line's values). Exit 2 with
    one line naming the file, the field and the value when the file is unreadable or invalid."""
    from app.core.errors import DawsosError, JsonFileError
    from app.seeding.json_files import read_json, shown, validate

    name = str(path)
    try:
        doc = read_json(path, name, error=JsonFileError)
        if isinstance(doc, dict):
            for key, value in given.items():
                if key in doc and doc[key] != value:
                    raise JsonFileError(name, key, f"the command line gives {value!r}", shown(doc[key]))
            doc = {**doc, **given}
        return validate(args_model, doc, name, error=JsonFileError)
    except DawsosError as exc:
        raise fail(exc) from None


def _table(title: str, columns: tuple[str, ...], rows: Any, *, numbers: tuple[str, ...] = ()) -> None:
    """A titled table; ``numbers`` name the right-aligned columns; every cell is shown whole."""
    from rich.table import Table

    console = new_console()
    console.print(title, highlight=False)
    table = Table()
    for col in columns:
        if col in numbers:
            number_column(table, col)
        else:
            text_column(table, col, wrap=col in ("value", "reason"))
    for row in rows:
        table.add_row(*(readable(v) for v in row))
    show(console, table)


def _render_settings(s: Any) -> None:
    _table(f"Rebalancing settings of {s.portfolio_id}", ("setting", "value"),
           ((k, v) for k, v in s.model_dump(mode="json").items() if k != "portfolio_id"))


def _render_approvers(a: Any) -> None:
    _table(f"Roles on {a.portfolio_id}", ("user", "role"), ((x.user_id, x.role.value) for x in a.approvers))


def _render_restricted(r: Any) -> None:
    _table(f"Restricted symbols of {r.portfolio_id}", ("symbol", "reason"), r.symbols.items())


def _render_model(m: Any) -> None:
    _table(f"Model portfolio {m.id} ({m.name}, {m.source.value}, pack {m.pricing_pack_id})", ("symbol", "weight %"),
           ((s, f"{w * 100:.2f}") for s, w in m.weights.items()), numbers=("weight %",))


def _render_lots(result: Any) -> None:
    _table(f"Tax lots of {result.portfolio_id}", ("lot", "symbol", "shares", "cost basis", "acquired"),
           ((x.lot_id, x.symbol, x.quantity, price(x.cost_basis), x.acquired) for x in result.lots),
           numbers=("shares", "cost basis"))
    for w in result.warnings:
        new_console().print(f"[yellow]warning:[/yellow] {w}", highlight=False)


def _render_check(check: Any) -> None:
    c = new_console()
    c.print(f"[bold]{check.portfolio_id}[/bold] as of {check.asof_date}: rebalance "
            + ("[bold]due[/bold]" if check.due else "not due")
            + (f" (next calendar date {check.next_calendar_date})" if check.next_calendar_date else ""))
    for r in check.reasons:
        c.print(f"  {r.kind.value}: {r.detail}")


def _render_propose(result: Any) -> None:
    _render_check(result.check)
    c = new_console()
    if result.plan is None:
        c.print("no proposal (not due; --force proposes anyway)")
        return
    if result.proposal_id is None:
        c.print("nothing to trade: the run is recorded without a proposal")
    else:
        c.print(f"proposal [bold]{result.proposal_id}[/bold] {result.status.value}; "
                f"{plural(result.notifications, 'notification')} queued")
    render_plan(c, result.plan)
    if result.proposal is not None:  # the one engine's report: the same lines as `dawsos rebalance`
        render_constraints(result.proposal)
        c.print(f"engine {result.proposal.metadata.get('engine_version')}", highlight=False)


def _render_scheduled(result: Any) -> None:
    c = new_console()
    for e in result.expired:
        c.print(f"expired {e.proposal_id[:12]} ({e.reason})")
    for r in result.results:
        outcome = (f"proposal {r.proposal_id[:12]} {r.status.value}" if r.proposal_id
                   else "no trades" if r.plan is not None else "not due")
        c.print(f"{r.check.portfolio_id}: {outcome}")
    for f in result.failed:
        c.print(f"{f.portfolio_id}: FAILED, nothing written: {f.error}")
    if not result.results and not result.failed:
        c.print("no portfolio has rebalancing settings")


# ---- settings, approvers, restricted, model, lots --------------------------------------------------------
@settings_app.command("show")
def settings_show(portfolio: str = typer.Argument(..., help="Portfolio id."), json_out: bool = JSON_OPTION) -> None:
    """Show a portfolio's rebalancing settings."""
    emit(call_capability("rebalance.settings", portfolio_id=portfolio), json_out, _render_settings)


@settings_app.command("set")
def settings_set(
    portfolio: str = typer.Argument(..., help="Portfolio id."),
    file: Path = typer.Option(..., "--file", help="JSON object of settings fields; omitted ones take defaults."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Store a portfolio's rebalancing settings (replacing them) from a JSON file."""
    from app.agents.rebalancing_setup import ConfigureArgs

    args = _args_from_file(file, ConfigureArgs, portfolio_id=portfolio)
    emit(call_capability("rebalance.configure", **args.model_dump()), json_out, _render_settings)


@approvers_app.command("list")
def approvers_list(portfolio: str = typer.Argument(..., help="Portfolio id."), json_out: bool = JSON_OPTION) -> None:
    """List who holds which role on a portfolio (viewer, manager, approver, owner)."""
    emit(call_capability("rebalance.approvers", portfolio_id=portfolio), json_out, _render_approvers)


@approvers_app.command("set")
def approvers_set(
    portfolio: str = typer.Argument(..., help="Portfolio id."),
    user: str = typer.Argument(..., help="User id (an existing user: dawsos users create)."),
    role: str = typer.Option(..., "--role", help="viewer | manager | approver | owner (owners hear of every "
                                                 "proposal)"),
    json_out: bool = JSON_OPTION,
) -> None:
    """Give a user a role on a portfolio, then list its roles (the same as `dawsos users grant USER --portfolio
    PORTFOLIO --role ROLE`: an owner of the portfolio or an admin may)."""
    call_capability("users.grant", user_id=user, portfolio_id=portfolio, role=role)
    emit(call_capability("rebalance.approvers", portfolio_id=portfolio), json_out, _render_approvers)


@restricted_app.command("list")
def restricted_list(portfolio: str = typer.Argument(..., help="Portfolio id."), json_out: bool = JSON_OPTION) -> None:
    """List a portfolio's restricted symbols and why."""
    emit(call_capability("rebalance.restricted", portfolio_id=portfolio), json_out, _render_restricted)


@restricted_app.command("set")
def restricted_set(
    portfolio: str = typer.Argument(..., help="Portfolio id."),
    file: Path | None = typer.Option(None, "--file", help='JSON: {"symbols": {"XOM": "reason", ...}}; {} empties.'),
    symbols: list[str] = typer.Option([], "--symbol", help="Restricted symbol (repeatable)."),
    reasons: list[str] = typer.Option([], "--reason", help="Why (repeatable: one per --symbol, in order)."),
    replace: bool = typer.Option(False, "--replace", help="Replace the whole list instead of adding to it."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Add restricted symbols to a portfolio (from --file, or repeated --symbol/--reason); --replace replaces
    the whole list."""
    from app.agents.rebalancing_setup import SetRestrictedArgs
    from app.core.errors import InputError

    if file is None and not symbols:
        raise fail(InputError("no symbols given: add them with --symbol SYMBOL [--reason WHY] (repeatable) or "
                              '--file FILE.json ({"symbols": {"XOM": "why"}}); '
                              "--replace --file with {} empties the list"))
    if file is not None and symbols:
        raise fail(InputError("give the symbols with --symbol or with --file, not both"))
    if file is not None:
        given = _args_from_file(file, SetRestrictedArgs, portfolio_id=portfolio).symbols
    else:
        if reasons and len(reasons) != len(symbols):
            raise fail(InputError(f"--reason: give one per --symbol ({len(symbols)}) or none (got {len(reasons)})"))
        given = dict(zip(symbols, reasons or [""] * len(symbols)))
    emit(call_capability("rebalance.set_restricted", portfolio_id=portfolio, symbols=given, replace=replace),
         json_out, _render_restricted)


@model_app.command("show")
def model_show(model_id: str = typer.Argument(..., help="Model portfolio id."), json_out: bool = JSON_OPTION) -> None:
    """Show a model portfolio's weights."""
    emit(call_capability("rebalance.model", model_portfolio_id=model_id), json_out, _render_model)


@model_app.command("set")
def model_set(
    model_id: str = typer.Argument(..., help="Model portfolio id."),
    file: Path = typer.Option(..., "--file", help='JSON: {"weights": {"AAPL": 0.25, ...}} (fractions; rest cash).'),
    name: str | None = typer.Option(None, "--name", help="Display name (default: the id)."),
    pack: str | None = PACK_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Store a model portfolio's target weights, made on a pricing pack."""
    from app.agents.rebalancing_setup import SetModelArgs

    given: dict[str, Any] = {"model_portfolio_id": model_id, **({"name": name} if name is not None else {})}
    args = _args_from_file(file, SetModelArgs, **given)
    emit(call_capability("rebalance.set_model", pack=pack, **args.model_dump()), json_out, _render_model)


@lots_app.command("list")
def lots_list(portfolio: str = typer.Argument(..., help="Portfolio id."), json_out: bool = JSON_OPTION) -> None:
    """List a portfolio's tax lots."""
    emit(call_capability("rebalance.lots", portfolio_id=portfolio), json_out, _render_lots)


@lots_app.command("set")
def lots_set(
    portfolio: str = typer.Argument(..., help="Portfolio id."),
    file: Path = typer.Option(..., "--file", help='JSON: {"lots": [{"lot_id", "symbol", "quantity", "cost_basis", '
                                                  '"acquired"}, ...]}'),
    json_out: bool = JSON_OPTION,
) -> None:
    """Replace a portfolio's tax lots from a JSON file."""
    from app.agents.rebalancing_setup import SetLotsArgs

    args = _args_from_file(file, SetLotsArgs, portfolio_id=portfolio)
    emit(call_capability("rebalance.set_lots", **args.model_dump()), json_out, _render_lots)


# ---- check, propose, scheduled ---------------------------------------------------------------------------
@rebalancing_app.command("check")
def check(portfolio: str = typer.Argument(..., help="Portfolio id."), pack: str | None = PACK_OPTION,
          json_out: bool = JSON_OPTION) -> None:
    """Whether a rebalance is due on a pricing pack, and every reason why."""
    emit(call_capability("rebalance.check", pack=pack, portfolio_id=portfolio), json_out, _render_check)


@rebalancing_app.command("propose")
def propose(
    portfolio: str = typer.Argument(..., help="Portfolio id."),
    pack: str | None = PACK_OPTION,
    force: bool = typer.Option(False, "--force", help="Propose even when no trigger fires."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Check, and when due propose cost- and tax-aware trades (stored with their notifications)."""
    emit(call_capability("rebalance.propose", pack=pack, portfolio_id=portfolio, force=force), json_out,
         _render_propose)


@rebalancing_app.command("scheduled")
def scheduled(
    pack: str | None = PACK_OPTION,
    portfolios: list[str] = typer.Option([], "--portfolio", help="Only these (repeatable); default every configured."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Expire superseded proposals, then check every configured portfolio and propose where due; each portfolio is
    its own transaction. Prints what happened to each; exit 1 naming the portfolios that failed."""
    extra = {"portfolio_ids": tuple(portfolios)} if portfolios else {}
    result = call_capability("rebalance.scheduled", pack=pack, **extra)
    emit(result, json_out, _render_scheduled)
    if result.failed:
        typer.echo(f"error: {len(result.failed)} portfolio(s) failed, nothing written for them: "
                   + "; ".join(f"{f.portfolio_id}: {f.error}" for f in result.failed), err=True)
        raise typer.Exit(1)
