"""`dawsos proposals ...` and `dawsos history PORTFOLIO`: the one proposal record at the command line.

Every command is one orchestrator call (``proposals.list|show|approve|reject|execute|history``), whichever
command (``dawsos rebalance`` or ``dawsos rebalancing propose``) made the proposal. Refusals (an unauthorised
user, a proposal that is not approved, an unknown id, a fill that does not match the proposal) exit 3 with one
line on stderr; a bad fills file exits 2 naming the file, the line, the field and the value.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from app.cli.common import JSON_OPTION, call_capability, emit, fail
from app.cli.output import money, new_console, number_column, plural, price, show, text_column

proposals_app = typer.Typer(help="Proposals of every command: list, show, approve, reject, execute.",
                            no_args_is_help=True)


def _acting_user(user: str | None) -> str | None:
    """The optional ``--user`` of an approval, rejection or execution: who acts is the signed-in identity
    (``DAWSOS_TOKEN``'s user, else ``local``); ``--user`` may only repeat it (exit 2 otherwise), never blank."""
    from app.core.errors import InputError

    if user is not None and not user.strip():
        raise fail(InputError(
            f"--user: give the id of the signed-in user, or leave --user out (value={user!r})"))
    return user.strip() if user is not None else None


#: ``--user`` of approve, reject and execute: optional; only the signed-in identity acts
USER_OPTION: Any = typer.Option(None, "--user", help="Optional: the signed-in user (DAWSOS_TOKEN's, else local); "
                                                     "any other user is refused (exit 2).")


def utc(moment: Any) -> str:
    """A timestamp as ``2026-12-01 17:45:03`` in UTC (the column header or the line says UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _render_list(result: Any) -> None:
    table = Table(title="Proposals (an id prefix of 6+ characters is enough for proposals show)",
                  title_justify="left")
    text_column(table, "proposal\ncreated (UTC)")
    text_column(table, "portfolio\nmade by")
    text_column(table, "pack")
    text_column(table, "status")
    number_column(table, "trades")
    number_column(table, "value\ncost\ntax")
    for p in result.proposals:
        table.add_row(f"{p.proposal_id[:12]}\n{utc(p.created_at)}", f"{p.portfolio_id}\n{p.source.value}",
                      p.pricing_pack_id, p.status.value, str(len(p.trades)),
                      f"{money(p.total_trade_value)}\n{money(p.total_cost)}\n{money(p.estimated_tax)}")
    show(new_console(), table)


def _trade_table(trades: Any) -> Table:
    table = Table()
    text_column(table, "action")
    text_column(table, "symbol")
    for col in ("held", "shares", "price", "value", "cost"):
        number_column(table, col)
    text_column(table, "lots", wrap=True)
    for t in trades:
        table.add_row(t.action.value, t.symbol, str(t.current_shares), str(t.shares), price(t.price),
                      money(t.trade_value), money(t.estimated_cost),
                      ", ".join(f"{x.lot_id} x{x.quantity}" for x in t.lots))
    return table


def _render_fills(c: Any, fills: Any) -> None:
    for f in fills:
        where = f"line {f.line}" if f.line is not None else "as proposed"
        c.print(f"  filled {f.action.value} {f.shares} of {f.proposed_shares} {f.symbol} at {price(f.price)} on "
                f"{f.fill_date} ({where}); fees {money(f.fees)}; realised {money(f.realised_gain)}", highlight=False)


def _render_one(p: Any) -> None:
    c = new_console()
    c.print(f"[bold]{p.proposal_id}[/bold]  portfolio {p.portfolio_id}  made by {p.source.value}  "
            f"status [bold]{p.status.value}[/bold]" + ("  (needs approval)" if p.requires_approval else ""),
            highlight=False)
    c.print(f"pack {p.pricing_pack_id} (as of {p.asof_date}); value {money(p.portfolio_value)}; cash "
            f"{money(p.cash_before)} -> {money(p.cash_after)}; trades {money(p.total_trade_value)}, cost "
            f"{money(p.total_cost)}, tax {money(p.estimated_tax)}", highlight=False)
    show(c, _trade_table(p.trades))
    _render_fills(c, p.fills)
    for t in p.transitions:
        c.print(f"  {utc(t.at)} UTC  {t.from_status.value if t.from_status else '-'} -> "
                f"{t.to_status.value}  by {t.actor}" + (f"  ({t.reason})" if t.reason else ""), highlight=False)


def _render_execution(result: Any) -> None:
    _render_one(result.proposal)
    c = new_console()
    c.print(f"portfolio {result.proposal.portfolio_id} now: cash {money(result.cash)}; "
            + "  ".join(f"{s} {q}" for s, q in result.holdings.items()), highlight=False)


def _render_history(h: Any) -> None:
    c = new_console()
    count = plural(len(h.entries), "proposal or run", "proposals and runs")
    c.print(f"[bold]History of {h.portfolio_id}[/bold] ({count})", highlight=False)
    for e in h.entries:
        by = next((f" by {t.actor}" for t in reversed(e.approvals) if t.actor != "system"), "")
        what = f"proposal {e.proposal_id[:12]}" if e.proposal_id else "run without trades"
        c.print(f"{utc(e.created_at)} UTC  {what} ({e.source.value}, {e.policy_id or '-'})  "
                f"pack {e.pricing_pack_id}  {plural(e.n_trades, 'trade')}  value {money(e.total_trade_value)}  "
                f"cost {money(e.total_cost)}  tax {money(e.estimated_tax)}  [bold]{e.outcome}[/bold]{by}",
                highlight=False)
        if e.triggers:
            c.print("  triggers: " + "; ".join(t.detail for t in e.triggers), highlight=False)
        c.print("  before %: " + "  ".join(f"{k} {v}" for k, v in e.before_pct.items()), highlight=False)
        c.print("  after %:  " + "  ".join(f"{k} {v}" for k, v in e.after_pct.items()), highlight=False)
        if e.trades:
            c.print("  trades: " + "  ".join(f"{t.action.value} {t.shares} {t.symbol} @ {price(t.price)}"
                                             for t in e.trades), highlight=False)
        _render_fills(c, e.fills)


@proposals_app.command("list")
def proposals_list(
    portfolio: str | None = typer.Option(None, "--portfolio", help="Only this portfolio's proposals."),
    status: str | None = typer.Option(
        None, "--status", help="proposed|pending_approval|approved|rejected|executed|expired|superseded"),
    json_out: bool = JSON_OPTION,
) -> None:
    """List proposals of every command, newest first."""
    emit(call_capability("proposals.list", portfolio_id=portfolio, status=status), json_out, _render_list)


@proposals_app.command("show")
def proposals_show(proposal_id: str = typer.Argument(..., help="Proposal id or a unique prefix (6+ characters)."),
                   json_out: bool = JSON_OPTION) -> None:
    """Show one proposal: trades, lots, costs, taxes, transitions."""
    emit(call_capability("proposals.show", proposal_id=proposal_id), json_out, _render_one)


@proposals_app.command("approve")
def proposals_approve(
    proposal_id: str = typer.Argument(..., help="Proposal id or a unique prefix."),
    user: str | None = USER_OPTION,
    reason: str = typer.Option("", "--reason"),
    json_out: bool = JSON_OPTION,
) -> None:
    """Approve a proposal as the signed-in user (approver or owner of its portfolio; anyone else is refused,
    exit 3)."""
    emit(call_capability("proposals.approve", as_user=_acting_user(user), proposal_id=proposal_id, reason=reason),
         json_out, _render_one)


@proposals_app.command("reject")
def proposals_reject(
    proposal_id: str = typer.Argument(..., help="Proposal id or a unique prefix."),
    user: str | None = USER_OPTION,
    reason: str = typer.Option("", "--reason", help="Why (recorded with the transition)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Reject a proposal as the signed-in user (approver or owner of its portfolio; anyone else is refused,
    exit 3)."""
    emit(call_capability("proposals.reject", as_user=_acting_user(user), proposal_id=proposal_id, reason=reason),
         json_out, _render_one)


@proposals_app.command("execute")
def proposals_execute(
    proposal_id: str = typer.Argument(..., help="Proposal id or a unique prefix."),
    user: str | None = USER_OPTION,
    as_proposed: bool = typer.Option(False, "--as-proposed", help="Every trade filled in full at its price."),
    fills: Path | None = typer.Option(None, "--fills", help="CSV: symbol,shares,price,date[,fees]; shares + bought, "
                                                             "- sold; partial fills allowed."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Record what an approved proposal filled: holdings, cash, tax lots and the ledger in one transaction."""
    from app.core.errors import DawsosError, InputError
    from app.rebalancing.fills_file import read_fills

    if as_proposed == (fills is not None):
        raise fail(InputError("give either --as-proposed or --fills FILE.csv"))
    args: dict[str, Any] = {"as_proposed": True}
    if fills is not None:
        try:
            args = {"fills": read_fills(fills), "fills_source": str(fills)}
        except DawsosError as exc:
            raise fail(exc) from None
    emit(call_capability("proposals.execute", as_user=_acting_user(user), proposal_id=proposal_id, **args), json_out,
         _render_execution)


def history(portfolio: str = typer.Argument(..., help="Portfolio id."),
            json_out: bool = JSON_OPTION) -> None:
    """Every proposal of a portfolio (from `dawsos rebalance` or `dawsos rebalancing`): allocations before/after,
    trades, costs, taxes, approvals, fills and outcome."""
    emit(call_capability("proposals.history", portfolio_id=portfolio), json_out, _render_history)
