"""`dawsos proposals ...` and `dawsos history PORTFOLIO`: the one proposal record at the command line.

Every command is one orchestrator call (``proposals.list|show|approve|reject|execute|history``), whichever
command (``dawsos rebalance`` or ``dawsos rebalancing propose``) made the proposal. Refusals (an unauthorised
user, a proposal that is not approved, an unknown id, a fill that does not match the proposal) exit 3 with one
line on stderr; a bad fills file exits 2 naming the file, the line, the field and the value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from app.cli.common import JSON_OPTION, call_capability, emit, fail
from app.cli.render import new_console

proposals_app = typer.Typer(help="Proposals of every command: list, show, approve, reject, execute.",
                            no_args_is_help=True)


def _acting_user(user: str) -> str:
    """The ``--user`` of an approval, rejection or execution: a user id, never blank (exit 2 when it is)."""
    from app.core.errors import InputError

    if not user.strip():
        raise fail(InputError(f"--user: give the id of the user who acts, e.g. --user bob@example.com (value={user!r})"))
    return user.strip()


def _render_list(result: Any) -> None:
    from rich.table import Table

    table = Table(title="Proposals")
    for col in ("proposal", "portfolio", "made by", "pack", "status", "trades", "value", "cost", "tax", "created"):
        table.add_column(col)
    for p in result.proposals:
        table.add_row(p.proposal_id[:12], p.portfolio_id, p.source.value, p.pricing_pack_id, p.status.value,
                      str(len(p.trades)), str(p.total_trade_value), str(p.total_cost), str(p.estimated_tax),
                      p.created_at.isoformat(timespec="seconds"))
    new_console().print(table)


def _trade_table(trades: Any) -> Any:
    from rich.table import Table

    table = Table()
    for col in ("action", "symbol", "held", "shares", "price", "value", "cost", "lots"):
        table.add_column(col)
    for t in trades:
        table.add_row(t.action.value, t.symbol, str(t.current_shares), str(t.shares), str(t.price), str(t.trade_value),
                      str(t.estimated_cost), ", ".join(f"{x.lot_id} x{x.quantity}" for x in t.lots))
    return table


def _render_fills(c: Any, fills: Any) -> None:
    for f in fills:
        where = f"line {f.line}" if f.line is not None else "as proposed"
        c.print(f"  filled {f.action.value} {f.shares} of {f.proposed_shares} {f.symbol} at {f.price} on "
                f"{f.fill_date} ({where}); fees {f.fees}; realised {f.realised_gain}")


def _render_one(p: Any) -> None:
    c = new_console()
    c.print(f"[bold]{p.proposal_id}[/bold]  portfolio {p.portfolio_id}  made by {p.source.value}  "
            f"status [bold]{p.status.value}[/bold]" + ("  (needs approval)" if p.requires_approval else ""))
    c.print(f"pack {p.pricing_pack_id} (as of {p.asof_date}); value {p.portfolio_value}; cash {p.cash_before} -> "
            f"{p.cash_after}; trades {p.total_trade_value}, cost {p.total_cost}, tax {p.estimated_tax}")
    c.print(_trade_table(p.trades))
    _render_fills(c, p.fills)
    for t in p.transitions:
        c.print(f"  {t.at.isoformat(timespec='seconds')}  {t.from_status.value if t.from_status else '-'} -> "
                f"{t.to_status.value}  by {t.actor}" + (f"  ({t.reason})" if t.reason else ""))


def _render_execution(result: Any) -> None:
    _render_one(result.proposal)
    c = new_console()
    c.print(f"portfolio {result.proposal.portfolio_id} now: cash {result.cash}; "
            + "  ".join(f"{s} {q}" for s, q in result.holdings.items()))


def _render_history(h: Any) -> None:
    c = new_console()
    c.print(f"[bold]History of {h.portfolio_id}[/bold] ({len(h.entries)} proposals and runs)")
    for e in h.entries:
        by = next((f" by {t.actor}" for t in reversed(e.approvals) if t.actor != "system"), "")
        what = f"proposal {e.proposal_id[:12]}" if e.proposal_id else "run without trades"
        c.print(f"{e.created_at.isoformat(timespec='seconds')}  {what} ({e.source.value}, {e.policy_id or '-'})  "
                f"pack {e.pricing_pack_id}  {e.n_trades} trades  value {e.total_trade_value}  cost {e.total_cost}  "
                f"tax {e.estimated_tax}  [bold]{e.outcome}[/bold]{by}")
        if e.triggers:
            c.print("  triggers: " + "; ".join(t.detail for t in e.triggers))
        c.print("  before %: " + "  ".join(f"{k} {v}" for k, v in e.before_pct.items()))
        c.print("  after %:  " + "  ".join(f"{k} {v}" for k, v in e.after_pct.items()))
        if e.trades:
            c.print("  trades: " + "  ".join(f"{t.action.value} {t.shares} {t.symbol} @ {t.price}" for t in e.trades))
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
    user: str = typer.Option(..., "--user", help="Who approves (owner or approver of the portfolio)."),
    reason: str = typer.Option("", "--reason"),
    json_out: bool = JSON_OPTION,
) -> None:
    """Approve a proposal (owner or approver only; anyone else is refused, exit 3)."""
    emit(call_capability("proposals.approve", _acting_user(user), proposal_id=proposal_id, reason=reason), json_out, _render_one)


@proposals_app.command("reject")
def proposals_reject(
    proposal_id: str = typer.Argument(..., help="Proposal id or a unique prefix."),
    user: str = typer.Option(..., "--user", help="Who rejects (owner or approver of the portfolio)."),
    reason: str = typer.Option("", "--reason", help="Why (recorded with the transition)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Reject a proposal (owner or approver only; anyone else is refused, exit 3)."""
    emit(call_capability("proposals.reject", _acting_user(user), proposal_id=proposal_id, reason=reason), json_out, _render_one)


@proposals_app.command("execute")
def proposals_execute(
    proposal_id: str = typer.Argument(..., help="Proposal id or a unique prefix."),
    user: str = typer.Option(..., "--user", help="Who records it (owner or approver of the portfolio)."),
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
    emit(call_capability("proposals.execute", _acting_user(user), proposal_id=proposal_id, **args), json_out, _render_execution)


def history(portfolio: str = typer.Argument(..., help="Portfolio id."),
            json_out: bool = JSON_OPTION) -> None:
    """Every proposal of a portfolio (from `dawsos rebalance` or `dawsos rebalancing`): allocations before/after,
    trades, costs, taxes, approvals, fills and outcome."""
    emit(call_capability("proposals.history", portfolio_id=portfolio), json_out, _render_history)
