"""Efficient frontier: ordered and monotone, max-Sharpe on top, current portfolio placed; the PNG is written."""

from __future__ import annotations

import numpy as np
import pytest
import seedpack
from allocation_fixtures import COV, MU, pack_model, synthetic_model

from app.analytics.allocation import OptimizationSpec, efficient_frontier, plot_frontier
from app.core.errors import InputError
from app.domain.enums import Model, RiskMeasure

RF = 0.02


def _check_monotone(frontier):
    risks = np.array([p.risk for p in frontier.points])
    rets = np.array([p.ret for p in frontier.points])
    assert np.all(np.diff(risks) > 0)
    assert np.all(np.diff(rets) >= -1e-9)
    best = max(p.sharpe for p in frontier.points)
    assert frontier.max_sharpe.sharpe >= best - 1e-9
    assert frontier.min_risk.risk <= risks[0] + 1e-9 and frontier.max_return.ret >= rets[-1] - 1e-9
    for p in frontier.points:
        assert sum(p.weights.values()) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("rm", [RiskMeasure.MV, RiskMeasure.CVAR])
def test_real_pack_frontier_monotone_with_max_sharpe_on_top(rm):
    f = efficient_frontier(risk_model=pack_model(), spec=OptimizationSpec(max_weight=0.10, risk_free_rate=RF,
                                                                          risk_measure=rm),
                           points=20, current_weights=seedpack.benchmark())
    assert len(f.points) == 20 and f.risk_measure is rm
    _check_monotone(f)
    assert f.current is not None and f.current.ret < f.max_sharpe.ret
    doc = f.to_dict()
    assert set(doc["points"][0]) == {"risk", "return", "sharpe", "volatility", "weights"}


def test_mv_frontier_points_sit_on_the_closed_form_hyperbola():
    """Unconstrained (long-only not binding) MV frontier: σ² = (a r² − 2 b r + c)/(ac − b²) per day."""
    f = efficient_frontier(risk_model=synthetic_model(), spec=OptimizationSpec(), points=8)
    inv = np.linalg.inv(COV)
    one = np.ones(len(MU))
    a, b, c = one @ inv @ one, one @ inv @ MU, MU @ inv @ MU
    checked = 0
    for p in f.points:
        r = p.ret / 252
        g = (a * r - b) / (a * c - b * b)  # w(r) = Σ⁻¹(λ1 + γμ) with the budget and return constraints
        lam = (c - b * r) / (a * c - b * b)
        if (inv @ (lam * one + g * MU) <= 0).any():
            continue  # long-only binds here: not on the unconstrained hyperbola
        sigma = np.sqrt((a * r * r - 2 * b * r + c) / (a * c - b * b) * 252)
        assert p.risk == pytest.approx(sigma, rel=1e-6)
        checked += 1
    assert checked >= 2


def test_frontier_refuses_non_mean_risk_models():
    with pytest.raises(InputError, match="mean-risk"):
        efficient_frontier(risk_model=synthetic_model(), spec=OptimizationSpec(model=Model.HRP))


def test_plot_writes_a_png(tmp_path):
    f = efficient_frontier(risk_model=synthetic_model(), spec=OptimizationSpec(risk_free_rate=RF), points=10,
                           current_weights={"AAA": 0.5, "BBB": 0.5})
    out = plot_frontier(f, tmp_path / "frontier.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
