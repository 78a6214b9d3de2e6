"""The exact shortcuts behind the benchmark figures (issue 3, acceptance 5), each against the plain formulation.

* the trade path's reduced risk terms (buyable names only, Cholesky of Σ_BB, completed square) equal the
  full quadratic forms for every weight vector the hard constraints allow;
* Riskfolio's ``sqrtm`` replaced by a Cholesky / eigh root for our Σ gives the same target as its own
  Schur ``sqrtm``, and nothing outside our call (other matrices, other contexts) is affected;
* the target's TE through ``R = √k·[F; 0]`` over the active names equals the ex-ante TE on Σ;
* the trade path's direct stage (c) at the policy bounds, when optimal, gives bit for bit the weights and
  bounds of the full lexicographic sequence.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from analytics_builders import synthetic_universe as _setup

from app.analytics.engine import PathObjective, solve_trade_path
from app.analytics.engine.reduction import Reduction
from app.analytics.target import _psd_sqrtm_for, _riskfolio_uses_root_transposed, solve_target
from app.domain.enums import ObjectiveMode


def test_reduced_risk_terms_equal_the_full_quadratic_form():
    universe, model, _ = _setup()
    red = Reduction(universe, model.cov, 252)
    rng = np.random.default_rng(0)
    for a in (universe.bench, rng.uniform(0, 0.1, universe.n)):
        c, rho = red.centre(a)
        for _ in range(5):
            w = red.full(rng.uniform(0, 0.1, red.B.size))  # any weights with the fixed names fixed
            full = 252 * (w - a) @ model.cov @ (w - a)
            reduced = float(np.sum((red.G @ w[red.B] - c) ** 2) + rho**2)
            assert reduced == pytest.approx(full, rel=1e-10, abs=1e-14)


def test_trade_path_meets_the_hierarchy_with_the_reduced_problem():
    universe, model, policy = _setup()
    target = pd.Series(np.where(universe.buyable, 1.0 / universe.buyable.sum(), 0.0), index=list(universe.symbols))
    path = solve_trade_path(universe=universe, risk_model=model, target=target, max_turnover=policy.max_turnover_pct,
                            max_tracking_error=policy.max_tracking_error_pct, market_impact_bps=15.0,
                            commission_per_trade=5.0)
    w = path.weights.to_numpy()
    # TE limit out of reach: the full sequence ran (the direct attempt only when turnover was reachable)
    assert path.statuses.pop("c_direct", None) == ("infeasible" if path.turnover_limit_met else None)
    assert not path.te_limit_met and path.turnover_needed_for_te is not None
    assert all(s == "optimal" for s in path.statuses.values()), path.statuses
    assert (w >= 0).all()
    np.testing.assert_array_equal(w[universe.halted], universe.w0[universe.halted])
    assert (w[~universe.buyable & ~universe.halted] == 0).all()
    assert (w[universe.buyable] <= policy.max_single_position_pct + 1e-9).all()
    te = np.sqrt((w - universe.bench) @ model.cov @ (w - universe.bench) * 252)
    assert te <= path.te_bound + 1e-7
    assert path.turnover <= path.turnover_bound + 1e-7


def test_riskfolio_root_override_gives_the_same_target_and_stays_local():
    universe, model, policy = _setup(te=1.0)
    assert _riskfolio_uses_root_transposed(), "Riskfolio's MV cone changed: re-check target._psd_sqrtm_for"
    fast = solve_target(risk_model=model, universe=universe, risk_free_rate=0.02)
    mod = sys.modules["riskfolio.src.Portfolio"]
    hooked = mod.sqrtm
    calls: list[tuple[int, ...]] = []

    def plain_sqrtm(a, *args, **kwargs):  # Riskfolio's own Schur sqrtm, counted, never the hook
        calls.append(np.shape(a))
        return hooked._dawsos_original(a, *args, **kwargs)

    plain_sqrtm._dawsos_psd_hook = True  # so solve_target does not wrap it again
    mod.sqrtm = plain_sqrtm
    try:
        plain = solve_target(risk_model=model, universe=universe, risk_free_rate=0.02)
    finally:
        mod.sqrtm = hooked
    assert calls, "the plain run used Riskfolio's sqrtm"
    np.testing.assert_allclose(fast.weights.to_numpy(), plain.weights.to_numpy(), atol=2e-5)
    # outside the block (and for other matrices inside it) sqrtm is the original
    cov = np.asarray(model.cov)
    other = cov + np.eye(len(cov)) * 1e-4
    with _psd_sqrtm_for(cov):
        g = mod.sqrtm(np.array(cov))
        np.testing.assert_allclose(g @ g.T, cov, rtol=1e-10, atol=1e-16)
        np.testing.assert_allclose(np.real(mod.sqrtm(other)) @ np.real(mod.sqrtm(other)), other, atol=1e-10)
    s = np.real(mod.sqrtm(cov))
    np.testing.assert_allclose(s, s.T, atol=1e-10)  # the symmetric principal root again
    np.testing.assert_allclose(s @ s, cov, atol=1e-12)


def test_target_te_through_the_factor_is_the_ex_ante_te():
    universe, model, _ = _setup(te=0.03)
    tw = solve_target(risk_model=model, universe=universe, risk_free_rate=0.02, max_tracking_error=0.03)
    assert tw.te_constrained
    w = tw.weights.to_numpy()
    te = np.sqrt((w - universe.bench) @ model.cov @ (w - universe.bench) * 252)
    assert te <= 0.03 * (1 + 1e-4)
    assert (w[~universe.buyable & ~universe.halted] == 0).all()


@pytest.mark.parametrize("te", [0.05, 1.0])
def test_direct_stage_c_equals_the_lexicographic_sequence_when_limits_are_reachable(te):
    universe, model, policy = _setup(te=te)
    rng = np.random.default_rng(11)
    raw = np.where(universe.buyable, rng.uniform(0.5, 1.5, universe.n), 0.0)
    target = pd.Series(raw, index=list(universe.symbols))
    target = 0.97 * target / target.sum()
    kw = dict(universe=universe, risk_model=model, target=target, max_turnover=1.5,
              max_tracking_error=policy.max_tracking_error_pct, market_impact_bps=15.0,
              commission_per_trade=5.0)
    fast = solve_trade_path(**kw)
    full = solve_trade_path(**kw, direct_attempt=False)
    skipped = "skipped (limits reachable)"
    assert fast.statuses == {"a_min_turnover": "optimal", "b_min_te": skipped, "c_direct": "optimal"}
    assert full.turnover_limit_met and full.te_limit_met and "c_direct" not in full.statuses
    np.testing.assert_array_equal(fast.weights.to_numpy(), full.weights.to_numpy())
    assert (fast.turnover, fast.cash_weight, fast.turnover_bound, fast.te_bound) == (
        full.turnover, full.cash_weight, full.turnover_bound, full.te_bound)
    assert fast.min_turnover_needed == full.min_turnover_needed and fast.te_min_achievable is None
    assert fast.turnover_needed_for_te is None and fast.te_min_unbounded is None
    assert fast.warnings == full.warnings


class _InlineExecutor:
    """Runs every submitted stage at once in the calling thread (the one-thread schedule)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        pass

    def __enter__(self) -> _InlineExecutor:
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        return None

    def submit(self, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
        from concurrent.futures import Future

        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_trade_path_answer_does_not_depend_on_the_thread_schedule(monkeypatch):
    """(c) runs in a second thread beside the TE reports; run inline instead, every bit is the same."""
    import app.analytics.engine.path as path_module

    universe, model, policy = _setup(n=120, seed=9, te=0.001)  # TE limit out of reach: the full sequence
    target = pd.Series(np.where(universe.buyable, 1.0 / universe.buyable.sum(), 0.0), index=list(universe.symbols))
    kw = dict(universe=universe, risk_model=model, target=target, max_turnover=policy.max_turnover_pct,
              max_tracking_error=policy.max_tracking_error_pct, market_impact_bps=15.0, commission_per_trade=5.0)
    threaded = solve_trade_path(**kw)
    assert "b_turnover_for_te" in threaded.statuses  # the report ran beside (c)
    monkeypatch.setattr(path_module, "ThreadPoolExecutor", _InlineExecutor)
    inline = solve_trade_path(**kw)
    np.testing.assert_array_equal(threaded.weights.to_numpy(), inline.weights.to_numpy())
    assert threaded.statuses == inline.statuses
    assert (threaded.te_bound, threaded.turnover_needed_for_te, threaded.te_min_unbounded) == (
        inline.te_bound, inline.turnover_needed_for_te, inline.te_min_unbounded)


def _reachable(n: int = 240, seed: int = 4):
    """A universe above the path's working-set threshold whose policy limits are reachable (direct attempt)."""
    universe, model, policy = _setup(n=n, seed=seed, te=0.2, max_single=0.05)
    target = pd.Series(np.where(universe.buyable, 1.0 / universe.buyable.sum(), 0.0), index=list(universe.symbols))
    # cost-aware with λ = 1 (TE² + impact cost): an objective that leaves most names untraded, so that working
    # sets are small (the closest mode moves every name of this equal-weight target a little)
    kw = dict(universe=universe, risk_model=model, target=target, max_turnover=0.5,
              max_tracking_error=policy.max_tracking_error_pct, market_impact_bps=15.0, commission_per_trade=5.0,
              objective=PathObjective(mode=ObjectiveMode.COST_AWARE, te_aversion=1.0))
    return universe, model, kw


def test_direct_attempt_on_a_certified_working_set_equals_the_solve_over_every_name(monkeypatch):
    import app.analytics.engine.working_set as working_set  # where the working-set constants are read

    universe, model, kw = _reachable()
    fast = solve_trade_path(**kw)
    note = fast.notes.get("c_direct_working_set", "")
    assert fast.statuses["c_direct"] == "optimal" and "certified relative gap" in note, fast.statuses
    monkeypatch.setattr(working_set, "PATH_WORKING_SET_MIN", 10**9)
    full = solve_trade_path(**kw)
    assert "c_direct_working_set" not in full.notes
    np.testing.assert_allclose(fast.weights.to_numpy(), full.weights.to_numpy(), atol=2e-5)
    assert fast.turnover <= 0.5 + 1e-7
    te = np.sqrt((fast.weights.to_numpy() - universe.bench) @ model.cov @ (fast.weights.to_numpy() - universe.bench)
                 * 252)
    assert te <= fast.te_bound + 1e-7


def test_uncertified_working_set_falls_back_to_every_name(monkeypatch):
    import app.analytics.engine.working_set as working_set  # where the working-set constants are read

    _, _, kw = _reachable()
    monkeypatch.setattr(working_set, "PATH_CERTIFY_REL_GAP", -1.0)
    tried = solve_trade_path(**kw)
    assert "solved over every buyable name" in tried.notes["c_direct_working_set"]
    monkeypatch.setattr(working_set, "PATH_WORKING_SET_MIN", 10**9)
    full = solve_trade_path(**kw)
    np.testing.assert_array_equal(tried.weights.to_numpy(), full.weights.to_numpy())


def test_path_certificate_bounds_the_suboptimality_of_a_restricted_answer(monkeypatch):
    """A working set far too small: its answer is feasible but worse, and f(w) − f* <= gap (both objectives)."""
    import cvxpy as cp

    import app.analytics.engine.working_set as working_set
    from app.analytics.engine import PathObjective
    from app.analytics.engine.objective import RIDGE
    from app.analytics.engine.rules import StageProblem, reserve_and_floor
    from app.analytics.engine.stages import solve_stage
    from app.analytics.engine.working_set import certify_toward_target
    from app.domain.enums import ObjectiveMode

    universe, model, kw = _reachable(n=200, seed=6)
    monkeypatch.setattr(working_set, "PATH_WORKING_SET_MIN", 10**9)
    red = Reduction(universe, model.cov, 252)
    t = kw["target"].to_numpy()
    ct, cb = red.centre(t), red.centre(universe.bench)
    kappa = 15.0 / 1e4
    reserve, floor = reserve_and_floor(universe, commission_per_trade=5.0, kappa=kappa)
    buy = np.asarray(universe.buyable)
    free = np.zeros(universe.n, dtype=bool)
    free[np.flatnonzero(buy)[:40]] = True
    red_s = Reduction(universe, model.cov, 252, free=free)
    cts, cbs = red_s.centre(t), red_s.centre(universe.bench)
    for objective in (PathObjective(), PathObjective(mode=ObjectiveMode.COST_AWARE, te_aversion=10.0)):
        full = solve_trade_path(**{**kw, "objective": objective})  # reference f*: the same problem, every name free
        lam, mu = objective.risk_weight, objective.turnover_weight(kappa, 0.5 - full.min_turnover_needed)

        def objective_value(w, to, lam=lam, mu=mu):  # noqa: ANN001 - bound per objective
            wb = w[red.B]
            r = red.G @ wb - ct[0]
            return float(lam * (r @ r + ct[1] ** 2) + mu * to + RIDGE * np.sum((wb - t[red.B]) ** 2))

        f_star = objective_value(full.weights.to_numpy(), full.turnover)
        p = StageProblem(cp, universe, red_s, impact=kappa, reserve=reserve, floor=floor)
        st = solve_stage(cp, cp.Minimize(lam * p.risk_distance_sq(cts) + mu * p.to
                                    + RIDGE * cp.sum_squares(p.w - t[red_s.B])),
                    p.constraints + [p.to <= 0.5, p.te(cbs) <= kw["max_tracking_error"] * 0.995], "c", {}, problem=p)
        assert st.solved
        w = red_s.full(np.asarray(p.w.value).reshape(-1))
        f_w = objective_value(w, float(p.to.value))
        p_lp = StageProblem(cp, universe, red, impact=kappa, reserve=reserve, floor=floor, with_risk=False)
        cert = certify_toward_target(cp, p_lp, red, w=w, to=float(p.to.value), t=t, c_target=ct, c_bench=cb,
                                      risk_weight=lam, turnover_weight=mu, to_bound=0.5,
                                      te_bound=kw["max_tracking_error"] * 0.995, options={})
        assert cert.value == pytest.approx(f_w, rel=1e-9)
        assert f_w > f_star * (1 + 1e-4)  # the small set really is worse
        assert f_w - f_star <= cert.gap * (1 + 1e-6) + 1e-12 and not cert.accepted()
        assert cert.lp_weights is not None and (np.abs(cert.lp_weights - universe.w0)[buy & ~free] > 1e-9).any()
