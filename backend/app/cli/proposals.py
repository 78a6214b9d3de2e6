"""`dawsos proposals ...` and `dawsos history PORTFOLIO`: the rebalancing record at the command line.

Every command is one orchestrator call (``rebalance.list|show|approve|reject|history``). Refusals (an
unauthorised approver, an expired proposal, an unknown id) exit 3 with one line on stderr.
"""

from __future__ import annotations

from typing import Any

import typer

from app.cli.common import JSON_OPTION, call_capability, emit, fail
from app.cli.render import new_console, render_plan

proposals_app = typer.Typer(help="Rebalance proposals: list, show, approve, reject.", no_args_is_help=True)


def _acting_user(user: str) -> str:
    """The ``--user`` of an approval or rejection: a user id, never blank (exit 2 when it is)."""
    from app.core.errors import InputError

    if not user.strip():
        raise fail(InputError(f"--user: give the id of the user who acts, e.g. --user bob@example.com (value={user!r})"))
    return user.strip()


def _render_list(result: Any) -> None:
    from rich.table import Table

    table = Table(title="Rebalance proposals")
    for col in ("proposal", "portfolio", "pack", "execute on", "status", "trades", "value", "tax", "created"):
        table.add_column(col)
    for p in result.proposals:
        table.add_row(p.proposal_id[:12], p.portfolio_id, p.pricing_pack_id, str(p.plan.execute_on), p.status.value,
                      str(len(p.plan.trades)), str(p.plan.total_trade_value), str(p.plan.realised.tax_total),
                      p.created_at.isoformat(timespec="seconds"))
    new_console().print(table)


def _render_one(p: Any) -> None:
    c = new_console()
    c.print(f"[bold]{p.proposal_id}[/bold]  portfolio {p.portfolio_id}  status {p.status.value}")
    render_plan(c, p.plan)
    for t in p.transitions:
        c.print(f"  {t.at.isoformat(timespec='seconds')}  {t.from_status.value if t.from_status else '-'} -> "
                f"{t.to_status.value}  by {t.actor}" + (f"  ({t.reason})" if t.reason else ""))


def _render_history(h: Any) -> None:
    c = new_console()
    c.print(f"[bold]Rebalance history of {h.portfolio_id}[/bold] ({len(h.entries)} runs)")
    for e in h.entries:
        by = f" by {e.approvals[-1].actor}" if e.approvals and e.approvals[-1].actor != "system" else ""
        c.print(f"{e.created_at.isoformat(timespec='seconds')}  pack {e.pricing_pack_id}  "
                f"{', '.join(sorted({t.kind.value for t in e.triggers})) or 'no trigger'}  {e.n_trades} trades  "
                f"value {e.total_trade_value}  cost {e.total_cost}  tax {e.estimated_tax}  {e.outcome.value}{by}")
        c.print("  before %: " + "  ".join(f"{k} {v}" for k, v in e.before_pct.items()))
        c.print("  after %:  " + "  ".join(f"{k} {v}" for k, v in e.after_pct.items()))


@proposals_app.command("list")
def proposals_list(
    portfolio: str | None = typer.Option(None, "--portfolio", help="Only this portfolio's proposals."),
    status: str | None = typer.Option(None, "--status", help="proposed|pending_approval|approved|rejected|expired"),
    json_out: bool = JSON_OPTION,
) -> None:
    """List rebalance proposals, newest first."""
    emit(call_capability("rebalance.list", portfolio_id=portfolio, status=status), json_out, _render_list)


@proposals_app.command("show")
def proposals_show(proposal_id: str = typer.Argument(..., help="Proposal id or a unique prefix (6+ characters)."),
                   json_out: bool = JSON_OPTION) -> None:
    """Show one proposal: trades, lots, costs, taxes, transitions."""
    emit(call_capability("rebalance.show", proposal_id=proposal_id), json_out, _render_one)


@proposals_app.command("approve")
def proposals_approve(
    proposal_id: str = typer.Argument(..., help="Proposal id or a unique prefix."),
    user: str = typer.Option(..., "--user", help="Who approves (owner or approver of the portfolio)."),
    reason: str = typer.Option("", "--reason"),
    json_out: bool = JSON_OPTION,
) -> None:
    """Approve a proposal (owner or approver only; anyone else is refused, exit 3)."""
    emit(call_capability("rebalance.approve", _acting_user(user), proposal_id=proposal_id, reason=reason), json_out, _render_one)


@proposals_app.command("reject")
def proposals_reject(
    proposal_id: str = typer.Argument(..., help="Proposal id or a unique prefix."),
    user: str = typer.Option(..., "--user", help="Who rejects (owner or approver of the portfolio)."),
    reason: str = typer.Option("", "--reason", help="Why (recorded with the transition)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Reject a proposal (owner or approver only; anyone else is refused, exit 3)."""
    emit(call_capability("rebalance.reject", _acting_user(user), proposal_id=proposal_id, reason=reason), json_out, _render_one)


def history(portfolio: str = typer.Argument(..., help="Portfolio id."),
            json_out: bool = JSON_OPTION) -> None:
    """Every rebalance of a portfolio: triggers, allocations before/after, trades, costs, taxes, approvals, outcome."""
    emit(call_capability("rebalance.history", portfolio_id=portfolio), json_out, _render_history)
