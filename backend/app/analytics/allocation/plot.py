"""A picture of an efficient frontier (matplotlib, Agg backend, written to a PNG file)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.analytics.allocation.frontier import Frontier
from app.analytics.allocation.measures import DRAWDOWN_MEASURES

_MEASURE_NAMES = {
    "MV": "volatility", "MSV": "semi-deviation", "MAD": "mean absolute deviation", "CVaR": "CVaR",
    "CDaR": "CDaR", "MDD": "maximum drawdown",
}


def plot_frontier(frontier: Frontier | Mapping[str, Any], path: str | Path, *, title: str | None = None) -> Path:
    """Write the frontier (risk and return axes in percent, special points labelled) to ``path`` (PNG).

    ``frontier``: a :class:`Frontier` or its ``to_dict()`` form (the capability's JSON result).
    """
    if not isinstance(frontier, Frontier):
        frontier = Frontier.from_dict(frontier)
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    rm = frontier.risk_measure
    measure = _MEASURE_NAMES.get(rm.value, rm.value)
    xlabel = (f"{measure} over the window (%)" if rm in DRAWDOWN_MEASURES
              else f"annualised {measure} (%)")
    fig, ax = plt.subplots(figsize=(9, 6), dpi=110)
    xs = [p.risk for p in frontier.points]
    ys = [p.ret for p in frontier.points]
    sc = ax.scatter(xs, ys, c=[p.sharpe for p in frontier.points], cmap="viridis", s=28, zorder=3)
    ax.plot(xs, ys, color="0.4", lw=1.2, zorder=2, label="efficient frontier")
    cbar = fig.colorbar(sc, ax=ax)
    cbar.set_label("Sharpe ratio" if rm.value == "MV" else f"return / {measure}")
    specials = [("min risk", frontier.min_risk, "s", "tab:blue"),
                ("max Sharpe", frontier.max_sharpe, "*", "tab:red"),
                ("max return", frontier.max_return, "^", "tab:green")]
    if frontier.current is not None:
        specials.append(("current", frontier.current, "o", "tab:orange"))
    ratio = "SR" if rm.value == "MV" else "ratio"
    for name, p, marker, color in specials:
        ax.scatter([p.risk], [p.ret], marker=marker, s=160 if marker == "*" else 90, color=color,
                   edgecolor="black", zorder=4, label=name)
        right_edge = name == "max return"
        ax.annotate(f"{name}\n{p.risk:.1%}, {p.ret:.1%} ({ratio} {p.sharpe:.2f})", (p.risk, p.ret),
                    textcoords="offset points", xytext=(0, -40) if right_edge else (8, 6),
                    ha="center" if right_edge else "left", fontsize=8)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("expected annual return (%)")
    ax.set_title(title or f"Efficient frontier ({frontier.model.value}, {rm.value}, "
                          f"rf {frontier.risk_free_rate:.2%})")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.margins(x=0.12, y=0.08)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, format="png")
    plt.close(fig)
    return out
