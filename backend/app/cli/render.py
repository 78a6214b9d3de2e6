"""Readable terminal output shared by several commands (Rich tables): packs, policies, proposals, impact,
pattern results and rebalance plans. Widths and number formats come from :mod:`app.cli.output`; JSON
output does not come through here."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from app.cli.output import (
    money,
    new_console,
    number_column,
    pct,
    plural,
    price,
    readable,
    show,
    table_width,
    text_column,
)

__all__ = [
    "new_console",
    "render_constraints",
    "render_impact",
    "render_pack",
    "render_packs",
    "render_pattern",
    "render_plan",
    "render_policies",
    "render_proposal",
]


def pct_of_fraction(value: float) -> str:
    """A fraction of 1 (``0.10``) as a percent (``10.00 %``)."""
    return f"{value * 100:.2f} %"


def render_packs(packs: Iterable[Any]) -> None:
    table = Table(title="Pricing packs", title_justify="left")
    for col in ("id", "as of", "sealed"):
        text_column(table, col)
    for col in ("dates", "symbols"):
        number_column(table, col)
    for col in ("from", "content hash"):
        text_column(table, col)
    for p in packs:
        table.add_row(
            p.id, str(p.asof_date), "yes" if p.sealed else "NO", str(p.n_dates), str(p.n_symbols),
            str(p.first_date or ""), (p.content_hash or "")[:16],
        )
    show(new_console(), table)


def render_pack(pack: Any, prices: dict[str, Decimal] | None) -> None:
    console = new_console()
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
        text_column(table, "symbol")
        number_column(table, "close")
        for sym in sorted(prices):
            table.add_row(sym, price(prices[sym]))
        show(console, table)


def render_policies(policies: Iterable[Any], title: str = "Policy templates") -> None:
    table = Table(title=title, title_justify="left")
    text_column(table, "id\nname")
    number_column(table, "ver")
    for col in ("min\nquality", "max\nposition", "max\nsector", "max\nTE", "max\nturnover"):
        number_column(table, col)
    text_column(table, "method")
    for p in policies:
        table.add_row(
            f"{p.id}\n{p.name}", str(p.version), f"{p.min_quality_score:g}", pct_of_fraction(p.max_single_position_pct),
            pct_of_fraction(p.max_sector_pct), pct_of_fraction(p.max_tracking_error_pct),
            pct_of_fraction(p.max_turnover_pct), p.method_version,
        )
    show(new_console(), table)


def proposal_header(proposal: Any) -> str:
    """One line: proposal id, portfolio, policy version and method, target model, pack."""
    options = proposal.metadata.get("options", {}) if isinstance(proposal.metadata, dict) else {}
    model = options.get("model")
    objective = options.get("objective")
    target = f"target model {model}" + (f"/{objective}" if objective else "") if model else ""
    return (f"[bold]Proposal {proposal.proposal_id[:16]}…[/bold]  portfolio {proposal.portfolio_id}  "
            f"policy {proposal.policy_id} version {proposal.policy_version} (method {proposal.method_version})\n"
            f"{target}{'  ' if target else ''}pack {proposal.pricing_pack_id} as of {proposal.asof_date}")


def trades_table(trades: list[Any], *, with_rationale: bool) -> Table:
    table = Table(title="Trades (proposed; nothing is sent to a broker)", title_justify="left")
    text_column(table, "symbol")
    text_column(table, "action")
    for col in ("shares\nnow", "delta", "target", "price", "value", "weight\nnow", "weight\nafter", "cost"):
        number_column(table, col)
    if with_rationale:
        text_column(table, "why", wrap=True)
    for t in trades:
        colour = "red" if t.action == "SELL" else "green"
        row = [t.symbol, f"[{colour}]{t.action}[/{colour}]", str(t.current_shares), str(t.delta_shares),
               str(t.target_shares), price(t.price), money(t.trade_value), pct(t.current_weight_pct),
               pct(t.target_weight_pct), money(t.estimated_cost)]
        table.add_row(*row, *([t.rationale] if with_rationale else []))
    return table


#: the rationale column is kept only when it gets at least this many columns; else it is listed below
MIN_RATIONALE_WIDTH = 24


def render_trades(console: Console, trades: list[Any]) -> None:
    """The trades table; the rationale is a column when it fits, else one line per trade under the table."""
    table = trades_table(trades, with_rationale=False)
    longest = max((len(t.rationale) for t in trades), default=0)
    room = console.width - table_width(table) - 3
    if trades and room >= min(longest, MIN_RATIONALE_WIDTH):
        show(console, trades_table(trades, with_rationale=True))
        return
    show(console, table)
    for t in trades:
        console.print(f"  {t.symbol}: {t.rationale}", highlight=False)


def summary_table(s: Any) -> Table:
    table = Table(title="Summary", title_justify="left")
    text_column(table, "metric")
    number_column(table, "before")
    number_column(table, "after")
    table.add_row("portfolio value", money(s.portfolio_value), "")
    table.add_row("cash", money(s.cash_before), money(s.cash_after))
    table.add_row("expected return", pct(s.expected_return_before_pct), pct(s.expected_return_after_pct))
    table.add_row("volatility", pct(s.volatility_before_pct), pct(s.volatility_after_pct))
    table.add_row("Sharpe", str(s.sharpe_before), str(s.sharpe_after))
    table.add_row("tracking error", pct(s.te_before_pct), pct(s.te_after_pct))
    table.add_row("average quality", str(s.avg_quality_before), str(s.avg_quality_after))
    table.add_row("turnover", "", pct(s.turnover_pct))
    table.add_row("estimated cost", "", money(s.estimated_total_cost))
    return table


def constraints_table(constraints: list[Any]) -> Table:
    table = Table(title="Constraints (recomputed from the final whole-share trades)", title_justify="left")
    text_column(table, "constraint")
    for col in ("limit", "before", "after"):
        number_column(table, col)
    text_column(table, "ok")
    text_column(table, "binding")
    text_column(table, "detail", wrap=True)
    for c in constraints:
        unit = " %" if c.unit == "pct" else ""

        def shown(value: Any, unit: str = unit) -> str:
            return "" if value is None else f"{value}{unit}"

        ok = "[green]yes[/green]" if c.satisfied else "[red]NO[/red]"
        table.add_row(c.name, shown(c.limit), shown(c.before), shown(c.after), ok, "yes" if c.binding else "",
                      c.detail)
    return table


def render_proposal(proposal: Any) -> None:
    console = new_console()
    s = proposal.summary
    console.print(proposal_header(proposal), highlight=False)
    render_trades(console, list(proposal.trades))
    show(console, summary_table(s))
    show(console, constraints_table(list(proposal.constraints)))
    for w in proposal.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
    verdict = "all policy limits hold" if s.all_constraints_satisfied else "some limits cannot hold (see NO above)"
    console.print(f"{plural(len(proposal.trades), 'trade')}; {verdict}.", highlight=False)


def render_constraints(proposal: Any) -> None:
    """The proposal's constraint report (one row per line, recomputed from the final trades)."""
    show(new_console(), constraints_table(list(proposal.constraints)))


def render_impact(impact: Any) -> None:
    """Before/after metrics of a list of trades (``optimizer.analyze_impact``)."""
    console = new_console()
    table = Table(title=f"Impact of {plural(len(impact.trades), 'trade')} on {impact.portfolio_id} "
                        f"({impact.pricing_pack_id})", title_justify="left")
    text_column(table, "metric")
    number_column(table, "before")
    number_column(table, "after")
    for field, shown in (("value", money), ("cash", money), ("te_pct", pct), ("volatility_pct", pct),
                         ("expected_return_pct", pct), ("sharpe", str), ("avg_quality", str),
                         ("max_position_pct", pct), ("max_sector_pct", pct)):
        before, after = getattr(impact.before, field), getattr(impact.after, field)
        table.add_row(field, "" if before is None else shown(before), "" if after is None else shown(after))
    show(console, table)
    console.print(f"turnover {pct(impact.turnover_pct)}, estimated cost {money(impact.estimated_total_cost)}",
                  highlight=False)
    for check in impact.limits:
        mark = "ok" if check.satisfied else "UNMET"
        console.print(f"  {check.name}: {pct(check.after_pct)} (limit {pct(check.limit_pct)}) {mark}", highlight=False)


def render_pattern(result: Any) -> None:
    """Each output of a pattern run, with the renderer its type has (others as readable text)."""
    from app.domain.impact import ImpactAnalysis
    from app.domain.proposal import RebalanceProposal

    console = new_console()
    console.print(f"[bold]pattern {result.pattern}[/bold]  trace {result.ctx.request_id}  "
                  f"pack {result.ctx.pricing_pack_id}  {result.duration_ms:.0f} ms", highlight=False)
    for name, value in result.outputs.items():
        if isinstance(value, RebalanceProposal):
            render_proposal(value)
        elif isinstance(value, ImpactAnalysis):
            render_impact(value)
        else:
            shown = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
            console.print(f"{name}: {readable(shown)}", highlight=False)


def render_plan(c: Console, plan: Any) -> None:
    """A rebalance plan on console ``c``: pack, triggers, trades, totals, warnings (money in currency units)."""
    c.print(f"pack {plan.pricing_pack_id} (as of {plan.asof_date}), trades for {plan.execute_on}"
            + ("" if plan.market_open else " (market closed on the pack date)"), highlight=False)
    c.print("triggers: " + ("; ".join(t.detail for t in plan.triggers) or "none"), highlight=False)
    table = Table()
    text_column(table, "action")
    text_column(table, "symbol")
    for col in ("shares", "price", "value", "cost"):
        number_column(table, col)
    text_column(table, "purpose")
    for col in ("ST gain", "LT gain"):
        number_column(table, col)
    for t in plan.trades:
        table.add_row(t.action.value, t.symbol, str(t.quantity), price(t.price), money(t.trade_value),
                      money(t.estimated_cost), t.purpose.value, money(t.realised_gain_short),
                      money(t.realised_gain_long))
    show(c, table)
    r = plan.realised
    c.print(f"total {money(plan.total_trade_value)}, cost {money(plan.total_cost)}; gains short "
            f"{money(r.short_term)} long {money(r.long_term)}; tax {money(r.tax_total)}; cash "
            f"{money(plan.cash_before)} -> {money(plan.cash_after)}; TE {pct(plan.te_before_pct)} -> "
            f"{pct(plan.te_after_pct)}", highlight=False)
    for w in plan.warnings:
        c.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
