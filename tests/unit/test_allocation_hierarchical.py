"""HRP against a small reference recursive bisection; HERC by its intra-cluster inverse-variance property."""

from __future__ import annotations

import numpy as np
from allocation_fixtures import pack_model
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform

from app.analytics.allocation import OptimizationSpec, optimize_portfolio
from app.domain.enums import Model


def reference_hrp(cov: np.ndarray) -> np.ndarray:
    """López de Prado (2016): single-linkage tree on √((1−ρ)/2), quasi-diagonal order, bisection of the order
    into halves, each half's variance at its inverse-variance weights, split α = 1 − v_L/(v_L + v_R)."""
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    dist = np.sqrt(np.clip((1 - corr) / 2, 0, 1))
    np.fill_diagonal(dist, 0.0)
    order = list(leaves_list(linkage(squareform(dist, checks=False), method="single", optimal_ordering=True)))

    def cluster_var(idx):
        sub = cov[np.ix_(idx, idx)]
        ivp = 1 / np.diag(sub)
        ivp /= ivp.sum()
        return ivp @ sub @ ivp

    w = np.ones(len(cov))
    stack = [order]
    while stack:
        items = stack.pop()
        if len(items) < 2:
            continue
        left, right = items[: len(items) // 2], items[len(items) // 2:]
        vl, vr = cluster_var(left), cluster_var(right)
        a = 1 - vl / (vl + vr)
        w[left] *= a
        w[right] *= 1 - a
        stack += [left, right]
    return w


def test_hrp_matches_reference_bisection():
    model = pack_model()
    res = optimize_portfolio(risk_model=model, spec=OptimizationSpec(model=Model.HRP))
    np.testing.assert_allclose(res.weights.to_numpy(), reference_hrp(np.asarray(model.cov)), rtol=1e-10)


def test_herc_is_inverse_variance_inside_each_cluster():
    model = pack_model()
    res = optimize_portfolio(risk_model=model, spec=OptimizationSpec(model=Model.HERC))
    w = res.weights
    var = dict(zip(model.symbols, np.diag(model.cov)))
    clusters = res.details["clusters"]
    assert sorted(s for c in clusters for s in c) == sorted(model.symbols) and len(clusters) > 1
    for c in clusters:
        scaled = np.array([w[s] * var[s] for s in c])  # w_i ∝ 1/σ_i² ⇔ w_i σ_i² constant
        np.testing.assert_allclose(scaled, scaled[0], rtol=1e-9)
    assert abs(w.sum() - 1) < 1e-12


def test_caps_are_met_by_projection():
    res = optimize_portfolio(risk_model=pack_model(), spec=OptimizationSpec(model=Model.HRP, max_weight=0.08))
    assert res.weights.max() <= 0.08 + 1e-9 and res.satisfied
