"""Charts as inline SVG, drawn on the server (no script, nothing from the internet).

Each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` (what it shows) and is always placed
beside a table holding the same numbers (the accessible form). Colours come from the stylesheet's classes
(``.c-current``, ``.c-target``, ``.c-point-*``), so contrast is set in one place.

* :func:`paired_bars` — current vs target percent per label (horizontal bars).
* :func:`frontier` — the efficient frontier (risk → return) with its named points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from markupsafe import Markup

ROW_H, BAR_H, LABEL_W, WIDTH = 36, 14, 130, 480


def _num(value: Decimal | float | None) -> float:
    return float(value) if value is not None else 0.0


def paired_bars(rows: Sequence[tuple[str, Decimal | None, Decimal | None]], *, title: str, chart_id: str) -> Markup:
    """``rows``: (label, current %, target %); a None target draws no target bar. Widths scale to the largest."""
    top = max([_num(c) for _, c, _ in rows] + [_num(t) for _, _, t in rows] + [1.0])
    plot_w = WIDTH - LABEL_W - 70
    height = 34 + ROW_H * len(rows)
    out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{chart_id}-t '
           f'{chart_id}-d" preserveAspectRatio="xMinYMin meet">',
           f'<title id="{chart_id}-t">{escape(title)}</title>',
           f'<desc id="{chart_id}-d">Horizontal bars, percent of portfolio value: the upper bar of each row is the '
           f'current weight, the lower the target. The table beside it has the same numbers.</desc>',
           f'<g class="legend"><rect class="c-current" x="{LABEL_W}" y="6" width="12" height="12"/>'
           f'<text x="{LABEL_W + 18}" y="16">current</text>'
           f'<rect class="c-target" x="{LABEL_W + 100}" y="6" width="12" height="12"/>'
           f'<text x="{LABEL_W + 118}" y="16">target</text></g>']
    for i, (label, current, target) in enumerate(rows):
        y = 28 + i * ROW_H
        out.append(f'<text class="label" x="{LABEL_W - 6}" y="{y + BAR_H + 3}" text-anchor="end">'
                   f'{escape(label if len(label) <= 15 else label[:14] + "…")}</text>')
        for j, (value, cls) in enumerate(((current, "c-current"), (target, "c-target"))):
            if value is None:
                continue
            w = max(_num(value) / top * plot_w, 0.5 if _num(value) > 0 else 0)
            yy = y + j * (BAR_H + 1)
            out.append(f'<rect class="{cls}" x="{LABEL_W}" y="{yy}" width="{w:.1f}" height="{BAR_H}"/>'
                       f'<text class="value" x="{LABEL_W + w + 4:.1f}" y="{yy + BAR_H - 1}">{_num(value):.2f}%</text>')
    out.append("</svg>")
    return Markup("".join(out))


@dataclass(frozen=True)
class NamedPoint:
    """A special point of a frontier chart: ``key`` picks its marker class (current, optimal, min_risk, ...)."""

    key: str
    label: str
    risk: float
    return_: float


def _scale(values: Sequence[float], lo_px: float, hi_px: float) -> tuple[float, float, float, float]:
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.08 or 0.01
    return lo - pad, hi + pad, lo_px, hi_px


def _to_px(v: float, s: tuple[float, float, float, float]) -> float:
    lo, hi, lo_px, hi_px = s
    return lo_px + (v - lo) / (hi - lo) * (hi_px - lo_px)


def _axis_labels(sx: tuple[float, float, float, float], sy: tuple[float, float, float, float],
                 height: int) -> list[str]:
    out = []
    for k in range(5):
        xv = sx[0] + (sx[1] - sx[0]) * k / 4
        yv = sy[0] + (sy[1] - sy[0]) * k / 4
        x, y = _to_px(xv, sx), _to_px(yv, sy)
        out.append(f'<line class="grid" x1="{x:.1f}" y1="{sy[2]}" x2="{x:.1f}" y2="{sy[3]}"/>'
                   f'<text class="tick" x="{x:.1f}" y="{height - 26}" text-anchor="middle">{xv * 100:.1f}%</text>'
                   f'<line class="grid" x1="{sx[2]}" y1="{y:.1f}" x2="{sx[3]}" y2="{y:.1f}"/>'
                   f'<text class="tick" x="{sx[2] - 6}" y="{y + 4:.1f}" text-anchor="end">{yv * 100:.1f}%</text>')
    return out


def frontier(curve: Sequence[tuple[float, float]], points: Sequence[NamedPoint], *, title: str,
             chart_id: str, risk_label: str = "risk (annualised)") -> Markup:
    """``curve``: (risk, return) fractions ordered by risk; ``points``: the named points drawn on top."""
    width, height = 480, 340
    xs = [r for r, _ in curve] + [p.risk for p in points]
    ys = [m for _, m in curve] + [p.return_ for p in points]
    sx, sy = _scale(xs, 64, width - 30), _scale(ys, height - 50, 24)
    path = " ".join(f"{'M' if i == 0 else 'L'}{_to_px(r, sx):.1f},{_to_px(m, sy):.1f}"
                    for i, (r, m) in enumerate(curve))
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-t '
           f'{chart_id}-d" preserveAspectRatio="xMinYMin meet">',
           f'<title id="{chart_id}-t">{escape(title)}</title>',
           f'<desc id="{chart_id}-d">Expected annual return against {escape(risk_label)}, the frontier as a line with '
           f'{len(curve)} points; marked: {escape(", ".join(p.label for p in points))}. The table beside it has '
           f'the same numbers.</desc>', *_axis_labels(sx, sy, height),
           f'<text class="axis" x="{width / 2}" y="{height - 4}" text-anchor="middle">{escape(risk_label)}</text>',
           f'<text class="axis" x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" '
           f'text-anchor="middle">expected return</text>',
           f'<path class="frontier-line" d="{path}"/>']
    out += [f'<circle class="frontier-dot" cx="{_to_px(r, sx):.1f}" cy="{_to_px(m, sy):.1f}" r="3"/>' for r, m in curve]
    for p in points:
        x, y = _to_px(p.risk, sx), _to_px(p.return_, sy)
        right = x > width * 0.6  # labels of points on the right side end at the point, inside the chart
        out.append(f'<g class="c-point-{escape(p.key)}"><circle cx="{x:.1f}" cy="{y:.1f}" r="7"/>'
                   f'<text x="{x - 10 if right else x + 10:.1f}" y="{y - 10:.1f}" '
                   f'text-anchor="{"end" if right else "start"}">{escape(p.label)}</text></g>')
    out.append("</svg>")
    return Markup("".join(out))


def sector_rows(current: Mapping[str, Decimal], target: Mapping[str, Decimal]) -> list[tuple[str, Decimal | None,
                                                                                             Decimal | None]]:
    """Rows for :func:`paired_bars` over the union of labels, largest current first (None where absent)."""
    labels = sorted(set(current) | set(target), key=lambda k: (-_num(current.get(k)), -_num(target.get(k)), k))
    return [(k, current.get(k, Decimal(0)), target.get(k) if target else None) for k in labels]
