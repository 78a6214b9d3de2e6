"""Working-set targets (app.analytics.working_set): the certificate is a true bound, and a certified working-set
solve gives the target of the solve over every name."""

from __future__ import annotations

import numpy as np
import pytest
from analytics_builders import synthetic_universe

from app.analytics import target as target_mod
from app.analytics import working_set
from app.analytics.target import _bounds, solve_target
from app.analytics.working_set import Polytope, certify
from app.domain.enums import Objective


def _polytope(universe, lower, upper):
    idx = np.flatnonzero(upper > 0)
    sectors = np.array(universe.sectors)[idx]
    groups = tuple((np.flatnonzero(sectors == s), universe.sector_cap(s)) for s in sorted(set(sectors)))
    return idx, Polytope(lower=lower[idx], upper=upper[idx], groups=groups, budget=universe.capacity)


def _sharpe(w, mu, cov, rf):
    return (mu @ w - rf) / np.sqrt(w @ cov @ w)


@pytest.fixture(scope="module")
def big():
    """220 names (above the working-set threshold of 150), 10 % single cap, 35 % sector caps."""
    return synthetic_universe(n=220, seed=5, max_single=0.10)


@pytest.mark.parametrize("objective", [Objective.SHARPE, Objective.MIN_RISK, Objective.UTILITY])
def test_certified_working_set_target_equals_the_solve_over_every_name(big, objective, monkeypatch):
    universe, model, _ = big
    kw = dict(risk_model=model, universe=universe, objective=objective, risk_free_rate=0.02, risk_aversion=2.0)
    fast = solve_target(**kw)
    assert fast.working_set is not None and "certified relative gap" in fast.working_set, fast.working_set
    monkeypatch.setattr(target_mod, "WORKING_SET_MIN_ASSETS", 10**9)
    full = solve_target(**kw)
    assert full.working_set is None
    w_fast, w_full = fast.weights.to_numpy(), full.weights.to_numpy()
    np.testing.assert_allclose(w_fast, w_full, atol=5e-4)
    mu, cov, rf = np.asarray(model.mu), np.asarray(model.cov), 0.02 / 252
    if objective is Objective.SHARPE:
        assert _sharpe(w_fast, mu, cov, rf) == pytest.approx(_sharpe(w_full, mu, cov, rf), rel=1e-5)
    elif objective is Objective.MIN_RISK:
        assert w_fast @ cov @ w_fast == pytest.approx(w_full @ cov @ w_full, rel=1e-5)
    # the support is small next to the universe: that is what makes the working set pay
    assert (w_fast > 1e-6).sum() < universe.n / 3


def test_no_certificate_falls_back_to_the_solve_over_every_name(big, monkeypatch):
    universe, model, _ = big
    monkeypatch.setattr(working_set, "CERTIFY_REL_GAP", -1.0)  # nothing is ever certified
    tried = solve_target(risk_model=model, universe=universe, risk_free_rate=0.02)
    assert tried.working_set is not None and "solved over every name" in tried.working_set
    monkeypatch.setattr(target_mod, "WORKING_SET_MIN_ASSETS", 10**9)
    full = solve_target(risk_model=model, universe=universe, risk_free_rate=0.02)
    np.testing.assert_array_equal(tried.weights.to_numpy(), full.weights.to_numpy())


def test_small_universes_are_solved_over_every_name():
    universe, model, _ = synthetic_universe(n=40)
    assert solve_target(risk_model=model, universe=universe, risk_free_rate=0.02).working_set is None


def test_gap_bounds_the_suboptimality_and_vanishes_at_the_optimum(big):
    """For points of the feasible set: MinRisk ``f(x) − f* ≤ gap``, Sharpe ``S* − S(x) ≤ gap/σ(x)`` (with the
    gap measured at x); and the optimum's own gap is (numerically) zero."""
    universe, model, _ = big
    lower, upper = _bounds(universe)
    idx, poly = _polytope(universe, lower, upper)
    mu, cov = np.asarray(model.mu)[idx], np.asarray(model.cov)[np.ix_(idx, idx)]
    rf = 0.02 / 252
    opt = {}
    for obj in (Objective.MIN_RISK, Objective.SHARPE):
        tw = solve_target(risk_model=model, universe=universe, objective=obj, risk_free_rate=0.02)
        opt[obj] = tw.weights.to_numpy()[idx]
        assert certify(objective=obj.value, x=opt[obj], mu=mu, cov=cov, rf=rf, risk_aversion=2.0,
                       polytope=poly).rel_gap <= 1e-6
    rng = np.random.default_rng(0)
    f_star = opt[Objective.MIN_RISK] @ cov @ opt[Objective.MIN_RISK]
    s_star = _sharpe(opt[Objective.SHARPE], mu, cov, rf)
    for _ in range(6):  # feasible points: vertices of the polytope for random directions, mixed with the optima
        vertex = poly.maximise(rng.normal(size=idx.size))
        for obj, star in opt.items():
            x = 0.5 * vertex + 0.5 * star
            cert = certify(objective=obj.value, x=x, mu=mu, cov=cov, rf=rf, risk_aversion=2.0, polytope=poly)
            assert not cert.optimal
            if obj is Objective.MIN_RISK:
                var = x @ cov @ x
                assert var - f_star <= cert.rel_gap * var * (1 + 1e-9)
            else:
                excess = mu @ x - rf
                if excess > 0:
                    assert s_star - _sharpe(x, mu, cov, rf) <= cert.rel_gap * excess / np.sqrt(x @ cov @ x) + 1e-9


def test_polytope_capacity_and_lp_respect_the_caps():
    groups = (np.array([0, 1, 2]), 0.25), (np.array([3, 4]), 0.5)
    poly = Polytope(lower=np.zeros(5), upper=np.full(5, 0.1), groups=groups, budget=0.45)
    assert poly.capacity(np.ones(5, dtype=bool)) == pytest.approx(0.25 + 0.2)
    assert poly.capacity(np.array([True, False, False, True, False])) == pytest.approx(0.2)
    x = poly.maximise(np.array([5.0, 4.0, 3.0, 2.0, 1.0]))
    np.testing.assert_allclose(x, [0.1, 0.1, 0.05, 0.1, 0.1], atol=1e-12)


def test_capacity_below_the_budget_of_one_still_certifies(monkeypatch):
    """Sector caps of 20 % over 4 sectors: the target can hold at most 80 % (the rest is cash), so the
    working set must be able to fill every sector to its cap."""
    universe, model, _ = synthetic_universe(n=200, seed=8, max_single=0.10, max_sector=0.20)
    assert universe.capacity == pytest.approx(0.8)
    fast = solve_target(risk_model=model, universe=universe, risk_free_rate=0.02)
    assert fast.working_set is not None and "certified" in fast.working_set, fast.working_set
    assert fast.cash_weight == pytest.approx(0.2, abs=1e-6)
    monkeypatch.setattr(target_mod, "WORKING_SET_MIN_ASSETS", 10**9)
    full = solve_target(risk_model=model, universe=universe, risk_free_rate=0.02)
    np.testing.assert_allclose(fast.weights.to_numpy(), full.weights.to_numpy(), atol=5e-4)


def test_a_target_without_positive_excess_return_is_not_certified_but_solved_over_every_name():
    universe, model, _ = synthetic_universe(n=180, seed=2)
    negative = type(model)(**{**model.__dict__, "mu": np.full(universe.n, -1e-3)})
    tw = solve_target(risk_model=negative, universe=universe, risk_free_rate=0.02)
    assert tw.working_set is not None and "could not be certified" in tw.working_set, tw.working_set
