"""`dawsos proposals ...` and `dawsos history PORTFOLIO`: the rebalancing record at the command line.

Every command is one orchestrator call (``rebalance.list|show|approve|reject|history``). Refusals (an
unauthorised approver, an expired proposal, an unknown id) exit 3 with one line on stderr.
"""

from __future__ import annotations

from typing import Any, Optional

import typer

proposals_app = typer.Typer(help="Rebalance proposals: list, show, approve, reject.", no_args_is_help=True)


def _call(capability: str, user: str | None = None, *, pack: str | None = None, **args: Any) -> Any:
    """One orchestrator call as ``user``; a capability that needs a pricing pack runs on ``pack`` (default:
    the newest sealed pack). Our errors exit with their code and one line on stderr."""
    from app.cli import _run, _settings

    async def body() -> Any:
        from app.bootstrap import bootstrap
        from app.core.context import RequestCtx

        async with bootstrap(_settings()) as running:
            orchestrator = running.orchestrator
            if orchestrator.registry.spec(capability).needs_pack:
                ctx = await orchestrator.new_context(pricing_pack_id=pack, user_id=user)
            else:
                ctx = RequestCtx(user_id=user, pricing_pack_id=pack)
            return (await orchestrator.call(capability, ctx, **args)).data

    return _run(body)


def _emit(result: Any, json_out: bool, render) -> None:  # noqa: ANN001
    from app.cli import _print_json

    if json_out:
        _print_json(result.model_dump(mode="json"))
    else:
        render(result)


def _console():  # noqa: ANN202
    from rich.console import Console

    return Console()


def _render_list(result: Any) -> None:
    from rich.table import Table

    table = Table(title="Rebalance proposals")
    for col in ("proposal", "portfolio", "pack", "execute on", "status", "trades", "value", "tax", "created"):
        table.add_column(col)
    for p in result.proposals:
        table.add_row(p.proposal_id[:12], p.portfolio_id, p.pricing_pack_id, str(p.plan.execute_on), p.status.value,
                      str(len(p.plan.trades)), str(p.plan.total_trade_value), str(p.plan.realised.tax_total),
                      p.created_at.isoformat(timespec="seconds"))
    _console().print(table)


def _render_one(p: Any) -> None:
    c = _console()
    c.print(f"[bold]{p.proposal_id}[/bold]  portfolio {p.portfolio_id}  status {p.status.value}")
    _render_plan(c, p.plan)
    for t in p.transitions:
        c.print(f"  {t.at.isoformat(timespec='seconds')}  {t.from_status.value if t.from_status else '-'} -> "
                f"{t.to_status.value}  by {t.actor}" + (f"  ({t.reason})" if t.reason else ""))


def _render_plan(c: Any, plan: Any) -> None:
    """A rebalance plan on console ``c``: pack, triggers, trades, totals, warnings."""
    from rich.table import Table

    c.print(f"pack {plan.pricing_pack_id} (as of {plan.asof_date}), trades for {plan.execute_on}"
            + ("" if plan.market_open else " (market closed on the pack date)"))
    c.print("triggers: " + ("; ".join(t.detail for t in plan.triggers) or "none"))
    table = Table()
    for col in ("action", "symbol", "shares", "price", "value", "cost", "purpose", "ST gain", "LT gain"):
        table.add_column(col)
    for t in plan.trades:
        table.add_row(t.action.value, t.symbol, str(t.quantity), str(t.price), str(t.trade_value), str(t.estimated_cost),
                      t.purpose.value, str(t.realised_gain_short), str(t.realised_gain_long))
    c.print(table)
    r = plan.realised
    c.print(f"total {plan.total_trade_value}, cost {plan.total_cost}; gains short {r.short_term} long {r.long_term}; "
            f"tax {r.tax_total}; cash {plan.cash_before} -> {plan.cash_after}; TE {plan.te_before_pct} % -> {plan.te_after_pct} %")
    for w in plan.warnings:
        c.print(f"[yellow]warning:[/yellow] {w}")


def _render_history(h: Any) -> None:
    c = _console()
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
    portfolio: Optional[str] = typer.Option(None, "--portfolio", help="Only this portfolio's proposals."),
    status: Optional[str] = typer.Option(None, "--status", help="proposed|pending_approval|approved|rejected|expired"),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """List rebalance proposals, newest first."""
    _emit(_call("rebalance.list", portfolio_id=portfolio, status=status), json_out, _render_list)


@proposals_app.command("show")
def proposals_show(proposal_id: str = typer.Argument(..., help="Proposal id or a unique prefix (6+ characters)."),
                   json_out: bool = typer.Option(False, "--json")) -> None:
    """Show one proposal: trades, lots, costs, taxes, transitions."""
    _emit(_call("rebalance.show", proposal_id=proposal_id), json_out, _render_one)


@proposals_app.command("approve")
def proposals_approve(
    proposal_id: str = typer.Argument(..., help="Proposal id or a unique prefix."),
    user: str = typer.Option(..., "--user", help="Who approves (owner or approver of the portfolio)."),
    reason: str = typer.Option("", "--reason"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Approve a proposal (owner or approver only; anyone else is refused, exit 3)."""
    _emit(_call("rebalance.approve", user, proposal_id=proposal_id, reason=reason), json_out, _render_one)


@proposals_app.command("reject")
def proposals_reject(
    proposal_id: str = typer.Argument(..., help="Proposal id or a unique prefix."),
    user: str = typer.Option(..., "--user", help="Who rejects (owner or approver of the portfolio)."),
    reason: str = typer.Option("", "--reason", help="Why (recorded with the transition)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Reject a proposal (owner or approver only; anyone else is refused, exit 3)."""
    _emit(_call("rebalance.reject", user, proposal_id=proposal_id, reason=reason), json_out, _render_one)


def history(portfolio: str = typer.Argument(..., help="Portfolio id."),
            json_out: bool = typer.Option(False, "--json")) -> None:
    """Every rebalance of a portfolio: triggers, allocations before/after, trades, costs, taxes, approvals, outcome."""
    _emit(_call("rebalance.history", portfolio_id=portfolio), json_out, _render_history)


def register(app: typer.Typer) -> None:
    """Add ``proposals`` and ``history`` to the root ``dawsos`` app."""
    app.add_typer(proposals_app, name="proposals")
    app.command("history")(history)
