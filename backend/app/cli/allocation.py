"""`dawsos optimize` and `dawsos frontier`: allocation models and the efficient frontier at the command line.

Each command is one orchestrator call (``optimizer.optimize`` / ``optimizer.efficient_frontier``) on a
pricing pack. ``--json`` prints one JSON document: ``weights`` (symbol → fraction of 1) and ``metrics``
(annualised fractions) for ``optimize``; ``points`` ordered by risk plus ``min_risk``, ``max_sharpe``,
``max_return`` and ``current`` for ``frontier``. ``--plot FILE.png`` draws the frontier (matplotlib, loaded
only then).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from app.cli.common import JSON_OPTION, PACK_OPTION, call_capability, fail, print_json
from app.core.errors import InputError


def given_options(**kw: Any) -> dict[str, Any]:
    """The options the user gave (``None`` means: the capability's default)."""
    return {k: v for k, v in kw.items() if v is not None}


def render_optimize(result: Any) -> None:
    from rich.table import Table

    from app.cli.output import new_console, number_column, show, text_column

    console = new_console()
    m = result.metrics
    objective = f"/{result.objective}" if result.objective else ""
    table = Table(title=f"{result.model}{objective} on {result.risk_measure} — pack {result.pricing_pack_id}")
    text_column(table, "symbol")
    number_column(table, "weight %")
    number_column(table, "risk share %")
    total_rc = sum(result.risk_contributions.values()) or 1.0
    for s, w in sorted(result.weights.items(), key=lambda kv: -kv[1]):
        table.add_row(s, f"{w * 100:.2f}", f"{result.risk_contributions.get(s, 0.0) / total_rc * 100:.2f}")
    show(console, table)
    console.print(
        f"expected return {m['expected_return']:.2%}  volatility {m['volatility']:.2%}  Sharpe {m['sharpe']:.2f}  "
        f"{result.risk_measure} {m['risk']:.2%}  holdings {m['holdings']}  "
        f"constraints {'all met' if result.constraints_satisfied else 'NOT all met'}"
    )
    for w in result.warnings:
        console.print(f"warning: {w}", highlight=False)


def render_frontier(result: Any) -> None:
    from rich.table import Table

    from app.cli.output import new_console, number_column, show

    table = Table(title=f"Efficient frontier ({result.model}, {result.risk_measure}) — pack {result.pricing_pack_id}")
    for col in ("point", "risk %", "return %", "sharpe", "holdings"):
        number_column(table, col)
    rows = [(str(i + 1), p) for i, p in enumerate(result.points)]
    rows += [(name, p) for name, p in (("min risk", result.min_risk), ("max Sharpe", result.max_sharpe),
                                       ("max return", result.max_return), ("current", result.current)) if p]
    for name, p in rows:
        table.add_row(name, f"{p.risk * 100:.2f}", f"{p.return_ * 100:.2f}", f"{p.sharpe:.3f}", str(len(p.weights)))
    show(new_console(), table)


def optimize(
    pack: str | None = PACK_OPTION,
    model: str = typer.Option("Classic", "--model", help="Classic|MinVar|MaxIR|BL|FM|RP|HRP|HERC|EW|IV|WC."),
    objective: str = typer.Option("Sharpe", "--objective", help="Sharpe|MinRisk|MaxRet|Utility."),
    risk_measure: str = typer.Option("MV", "--risk-measure", help="MV|MSV|MAD|CVaR|CDaR|MDD."),
    max_weight: float | None = typer.Option(None, "--max-weight", help="Per-asset cap, fraction (0.10)."),
    max_sector_weight: float | None = typer.Option(None, "--max-sector-weight", help="Cap per sector."),
    max_holdings: int | None = typer.Option(None, "--max-holdings", help="At most this many names."),
    min_position: float | None = typer.Option(None, "--min-position", help="No weight below this (>0)."),
    cov: str | None = typer.Option(None, "--cov", help="hist|ledoit|oas|ewma1|denoise."),
    mean: str | None = typer.Option(None, "--mean", help="hist|ewma1|capm."),
    lookback_days: int | None = typer.Option(None, "--lookback-days", help="Daily returns used (756)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Target weights of an allocation model on a pricing pack (no holdings; nothing is written)."""
    result = call_capability("optimizer.optimize", pack=pack, **given_options(
        model=model, objective=objective, risk_measure=risk_measure, max_weight=max_weight,
        max_sector_weight=max_sector_weight, max_holdings=max_holdings, min_position=min_position,
        cov_estimator=cov, mean_estimator=mean, lookback_days=lookback_days))
    if json_out:
        print_json(result.json_document())
    else:
        render_optimize(result)


def frontier(
    pack: str | None = PACK_OPTION,
    points: int = typer.Option(20, "--points", help="Number of frontier points (2-200)."),
    risk_measure: str = typer.Option("MV", "--risk-measure", help="MV|MSV|MAD|CVaR|CDaR|MDD."),
    model: str = typer.Option("Classic", "--model", help="Classic|BL|FM."),
    max_weight: float | None = typer.Option(None, "--max-weight", help="Per-asset cap, fraction (0.10)."),
    portfolio: str | None = typer.Option(None, "--portfolio", help="Add this portfolio's point."),
    plot: Path | None = typer.Option(None, "--plot", help="Write the picture to FILE.png."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Efficient frontier with min-risk, max-Sharpe, max-return (and current-portfolio) points."""
    if plot is not None and plot.suffix.lower() != ".png":
        raise fail(InputError(f"--plot: the picture is a PNG file, got {str(plot)!r}"))
    if plot is not None and not plot.resolve().parent.is_dir():
        raise fail(InputError(f"--plot: folder {str(plot.resolve().parent)!r} does not exist"))
    result = call_capability("optimizer.efficient_frontier", pack=pack, **given_options(
        points=points, risk_measure=risk_measure, model=model, max_weight=max_weight, portfolio_id=portfolio))
    if plot is not None:
        from app.analytics.allocation.plot import plot_frontier

        plot_frontier(result.to_dict(), plot)
    if json_out:
        print_json(result.json_document())
    else:
        render_frontier(result)
        if plot is not None:
            typer.echo(f"plot written to {plot}")
