"""Readable terminal output shared by several commands (Rich tables): packs, policies, proposals, impact,
pattern results and rebalance plans. JSON output does not come through here."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

#: a pipe or a file gets a wide table (Rich would assume 80 columns); a terminal keeps its own width
console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160)


def _pct_of_fraction(value: float) -> str:
    return f"{value * 100:.2f} %"


def render_packs(packs: Iterable[Any]) -> None:
    table = Table(title="Pricing packs", title_justify="left")
    for col in ("id", "as of", "sealed", "dates", "symbols", "from", "content hash"):
        table.add_column(col)
    for p in packs:
        table.add_row(
            p.id, str(p.asof_date), "yes" if p.sealed else "NO", str(p.n_dates), str(p.n_symbols),
            str(p.first_date or ""), (p.content_hash or "")[:16],
        )
    console.print(table)


def render_pack(pack: Any, prices: dict[str, Decimal] | None) -> None:
    console.print(
        f"[bold]{pack.id}[/bold]  as of {pack.asof_date}  sealed={'yes' if pack.sealed else 'NO'}  "
        f"{pack.n_dates} dates x {pack.n_symbols} symbols from {pack.first_date}"
    )
    if pack.content_hash:
        console.print(f"content hash {pack.content_hash}")
    if pack.source:
        console.print(f"source: {pack.source}")
    if prices:
        table = Table(title=f"As-of prices ({pack.asof_date})", title_justify="left")
        table.add_column("symbol")
        table.add_column("close", justify="right")
        for sym in sorted(prices):
            table.add_row(sym, str(prices[sym]))
        console.print(table)


def render_policies(policies: Iterable[Any], title: str = "Policy templates") -> None:
    table = Table(title=title, title_justify="left")
    for col in ("id", "version", "name", "min quality", "max position", "max sector", "max TE", "max turnover",
                "method"):
        table.add_column(col, justify="right" if col not in ("id", "name", "method") else "left")
    for p in policies:
        table.add_row(
            p.id, str(p.version), p.name, f"{p.min_quality_score:g}", _pct_of_fraction(p.max_single_position_pct),
            _pct_of_fraction(p.max_sector_pct), _pct_of_fraction(p.max_tracking_error_pct),
            _pct_of_fraction(p.max_turnover_pct), p.method_version,
        )
    console.print(table)


def render_proposal(proposal: Any) -> None:
    s = proposal.summary
    console.print(
        f"[bold]Proposal {proposal.proposal_id[:16]}…[/bold]  portfolio {proposal.portfolio_id}  "
        f"policy {proposal.policy_id} v{proposal.policy_version} ({proposal.method_version})  "
        f"pack {proposal.pricing_pack_id} as of {proposal.asof_date}"
    )
    trades = Table(title="Trades (proposed; nothing is sent to a broker)", title_justify="left")
    for col, just in (("symbol", "left"), ("action", "left"), ("shares now", "right"), ("delta", "right"),
                      ("target", "right"), ("price", "right"), ("value", "right"), ("weight now", "right"),
                      ("weight after", "right"), ("cost", "right"), ("why", "left")):
        trades.add_column(col, justify=just)  # type: ignore[arg-type]
    for t in proposal.trades:
        colour = "red" if t.action == "SELL" else "green"
        trades.add_row(
            t.symbol, f"[{colour}]{t.action}[/{colour}]", str(t.current_shares), str(t.delta_shares),
            str(t.target_shares), str(t.price), f"{t.trade_value:,}", f"{t.current_weight_pct} %",
            f"{t.target_weight_pct} %", str(t.estimated_cost), t.rationale,
        )
    console.print(trades)
    summary = Table(title="Summary", title_justify="left")
    summary.add_column("metric")
    summary.add_column("before", justify="right")
    summary.add_column("after", justify="right")
    summary.add_row("portfolio value", f"{s.portfolio_value:,}", "")
    summary.add_row("cash", f"{s.cash_before:,}", f"{s.cash_after:,}")
    summary.add_row("expected return", f"{s.expected_return_before_pct} %", f"{s.expected_return_after_pct} %")
    summary.add_row("volatility", f"{s.volatility_before_pct} %", f"{s.volatility_after_pct} %")
    summary.add_row("Sharpe", str(s.sharpe_before), str(s.sharpe_after))
    summary.add_row("tracking error", f"{s.te_before_pct} %", f"{s.te_after_pct} %")
    summary.add_row("average quality", str(s.avg_quality_before), str(s.avg_quality_after))
    summary.add_row("turnover", "", f"{s.turnover_pct} %")
    summary.add_row("estimated cost", "", f"{s.estimated_total_cost:,}")
    console.print(summary)
    render_constraints(proposal)
    for w in proposal.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    verdict = "all policy limits hold" if s.all_constraints_satisfied else "some limits cannot hold (see NO above)"
    console.print(f"{len(proposal.trades)} trades; {verdict}.")


def render_constraints(proposal: Any) -> None:
    """The proposal's constraint report (one row per line, recomputed from the final trades)."""
    cons = Table(title="Constraints (recomputed from the final whole-share trades)", title_justify="left")
    for col in ("constraint", "limit", "before", "after", "ok", "binding", "detail"):
        cons.add_column(col)
    for c in proposal.constraints:
        unit = " %" if c.unit == "pct" else ""
        fmt = lambda v: "" if v is None else f"{v}{unit}"  # noqa: E731
        ok = "[green]yes[/green]" if c.satisfied else "[red]NO[/red]"
        cons.add_row(c.name, fmt(c.limit), fmt(c.before), fmt(c.after), ok, "yes" if c.binding else "", c.detail)
    console.print(cons)


def render_impact(impact: Any) -> None:
    """Before/after metrics of a list of trades (``optimizer.analyze_impact``)."""
    table = Table(title=f"Impact of {len(impact.trades)} trades on {impact.portfolio_id} ({impact.pricing_pack_id})",
                  title_justify="left")
    for col in ("metric", "before", "after"):
        table.add_column(col, justify="right" if col != "metric" else "left")
    for field in ("value", "cash", "te_pct", "volatility_pct", "expected_return_pct", "sharpe", "avg_quality",
                  "max_position_pct", "max_sector_pct"):
        table.add_row(field, str(getattr(impact.before, field)), str(getattr(impact.after, field)))
    console.print(table)
    console.print(f"turnover {impact.turnover_pct} %, estimated cost {impact.estimated_total_cost}")
    for check in impact.limits:
        mark = "ok" if check.satisfied else "UNMET"
        console.print(f"  {check.name}: {check.after_pct} % (limit {check.limit_pct} %) {mark}")


def render_pattern(result: Any) -> None:
    """Each output of a pattern run, with the renderer its type has (others as one line)."""
    from app.domain.impact import ImpactAnalysis
    from app.domain.proposal import RebalanceProposal

    console.print(f"[bold]pattern {result.pattern}[/bold]  trace {result.ctx.request_id}  "
                  f"pack {result.ctx.pricing_pack_id}  {result.duration_ms:.0f} ms")
    for name, value in result.outputs.items():
        if isinstance(value, RebalanceProposal):
            render_proposal(value)
        elif isinstance(value, ImpactAnalysis):
            render_impact(value)
        else:
            shown = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
            console.print(f"{name}: {shown}")


def render_plan(c: Any, plan: Any) -> None:
    """A rebalance plan on console ``c``: pack, triggers, trades, totals, warnings."""
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


def new_console() -> Console:
    """A Rich console of the terminal's own width (the rebalancing commands' tables)."""
    return Console()
