"""Mean-risk models against closed forms and plain-cvxpy re-solves of the same problems."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
import seedpack
from allocation_fixtures import COV, MU, SYMS, pack_model, sample_model, synthetic_model
from scipy.optimize import minimize

from app.analytics.allocation import GroupCap, OptimizationSpec, group_caps, optimize_portfolio
from app.core.errors import InputError
from app.domain.enums import Model, Objective, RiskMeasure

RF = 0.02


def test_min_variance_closed_form():
    inv1 = np.linalg.solve(COV, np.ones(len(SYMS)))
    expected = inv1 / inv1.sum()
    assert (expected > 0).all()
    for spec in (OptimizationSpec(model=Model.MIN_VARIANCE),
                 OptimizationSpec(objective=Objective.MIN_RISK, risk_measure=RiskMeasure.MV)):
        res = optimize_portfolio(risk_model=synthetic_model(), spec=spec)
        np.testing.assert_allclose(res.weights.to_numpy(), expected, atol=1e-6)
        assert res.volatility == pytest.approx(np.sqrt(252 / inv1.sum()), rel=1e-6)


def test_tangency_closed_form():
    raw = np.linalg.solve(COV, MU - RF / 252)
    assert (raw > 0).all()
    res = optimize_portfolio(risk_model=synthetic_model(), spec=OptimizationSpec(risk_free_rate=RF))
    np.testing.assert_allclose(res.weights.to_numpy(), raw / raw.sum(), atol=1e-6)
    best = np.sqrt((MU - RF / 252) @ raw) * np.sqrt(252)  # max Sharpe = √((μ−rf)ᵀΣ⁻¹(μ−rf)), annualised
    assert res.sharpe == pytest.approx(best, rel=1e-7)


def test_utility_closed_form():
    lam = 20.0  # Riskfolio's Utility on MV: μᵀw − λ wᵀΣw, Σw = 1 → w = Σ⁻¹(μ − γ1)/(2λ)
    inv_mu, inv_1 = np.linalg.solve(COV, MU), np.linalg.solve(COV, np.ones(len(SYMS)))
    gamma = (inv_mu.sum() - 2 * lam) / inv_1.sum()
    expected = (inv_mu - gamma * inv_1) / (2 * lam)
    assert (expected > 0).all() and expected.sum() == pytest.approx(1.0)
    res = optimize_portfolio(risk_model=synthetic_model(),
                             spec=OptimizationSpec(objective=Objective.UTILITY, risk_aversion=lam))
    np.testing.assert_allclose(res.weights.to_numpy(), expected, atol=1e-6)


def test_max_return_fills_best_names_to_their_caps():
    res = optimize_portfolio(risk_model=synthetic_model(),
                             spec=OptimizationSpec(objective=Objective.MAX_RET, max_weight=0.4))
    order = np.argsort(-MU)
    expected = np.zeros(len(SYMS))
    expected[order[:2]] = 0.4
    expected[order[2]] = 0.2
    np.testing.assert_allclose(res.weights.to_numpy(), expected, atol=1e-6)


def test_real_pack_max_sharpe_matches_plain_cvxpy():
    """Acceptance 2: 20 stocks, long only, 0–10 %: weights to 1e-4, Sharpe to 1e-6."""
    model = pack_model()
    res = optimize_portfolio(risk_model=model, spec=OptimizationSpec(max_weight=0.10, risk_free_rate=RF))
    mu, cov, n = np.asarray(model.mu), np.asarray(model.cov), model.n_assets
    # Cornuejols–Tütüncü homogenisation: min yᵀΣy s.t. (μ − rf)ᵀy = 1, y ≥ 0, y ≤ 0.10·Σy; w = y/Σy
    y = cp.Variable(n)
    prob = cp.Problem(cp.Minimize(cp.quad_form(y, cov)),
                      [(mu - RF / 252) @ y == 1, y >= 0, y <= 0.10 * cp.sum(y)])
    prob.solve(solver="CLARABEL")
    w = y.value / y.value.sum()
    np.testing.assert_allclose(res.weights.to_numpy(), w, atol=1e-4)
    sharpe = ((mu @ w) * 252 - RF) / np.sqrt(w @ cov @ w * 252)
    assert res.sharpe == pytest.approx(sharpe, abs=1e-6)
    assert res.satisfied and res.weights.max() <= 0.10 + 1e-9


def _scenario_min_risk(rm: RiskMeasure, R: np.ndarray, ub: float, alpha: float = 0.05) -> float:
    """The minimum of ``rm`` over long-only, fully invested, w ≤ ub portfolios, written directly in cvxpy."""
    T, n = R.shape
    w = cp.Variable(n)
    x = R @ w
    cons = [cp.sum(w) == 1, w >= 0, w <= ub]
    if rm is RiskMeasure.CVAR:
        var = cp.Variable()
        obj = var + cp.sum(cp.pos(-x - var)) / (alpha * T)
    elif rm is RiskMeasure.MAD:
        obj = cp.sum(cp.abs(x - R.mean(axis=0) @ w)) / T
    elif rm is RiskMeasure.MSV:
        obj = cp.norm(cp.neg(x - R.mean(axis=0) @ w), 2) / np.sqrt(T - 1)
    else:  # drawdowns of uncompounded cumulative returns, peak including the start at 0
        cum = cp.cumsum(x)
        peak = cp.Variable(T)
        cons += [peak >= cum, peak >= 0, peak[1:] >= peak[:-1]]
        dd = peak - cum
        if rm is RiskMeasure.MDD:
            obj = cp.max(dd)
        else:
            z = cp.Variable()
            obj = z + cp.sum(cp.pos(dd - z)) / (alpha * T)
    prob = cp.Problem(cp.Minimize(obj), cons)
    prob.solve(solver="CLARABEL")
    return float(prob.value)


@pytest.mark.parametrize("rm", [RiskMeasure.CVAR, RiskMeasure.MAD, RiskMeasure.MSV, RiskMeasure.CDAR,
                                RiskMeasure.MDD])
def test_scenario_measures_min_risk_match_cvxpy(rm):
    model = sample_model(n_obs=250)
    res = optimize_portfolio(risk_model=model, spec=OptimizationSpec(objective=Objective.MIN_RISK,
                                                                     risk_measure=rm, max_weight=0.5))
    oracle = _scenario_min_risk(rm, model.returns.to_numpy(), 0.5)
    daily = res.risk if rm in (RiskMeasure.CDAR, RiskMeasure.MDD) else res.risk / np.sqrt(252)
    assert daily == pytest.approx(oracle, rel=1e-5)
    # Euler contributions (finite differences) add up to the measure; drawdowns are not smooth: looser
    smooth = rm not in (RiskMeasure.CDAR, RiskMeasure.MDD)
    assert res.risk_contributions.sum() == pytest.approx(res.risk, rel=1e-3 if smooth else 5e-2)


def test_max_information_ratio_matches_scipy():
    model = synthetic_model()
    bench = {"AAA": 0.3, "BBB": 0.1, "CCC": 0.2, "DDD": 0.3, "EEE": 0.1}
    res = optimize_portfolio(risk_model=model, spec=OptimizationSpec(model=Model.MAX_IR, benchmark_weights=bench,
                                                                     max_weight=0.4))
    b = np.array([bench[s] for s in SYMS])

    def neg_ir(w):
        a = w - b
        return -(MU @ a) / np.sqrt(a @ COV @ a)

    best = None
    for start in (np.full(5, 0.2), np.array([0.1, 0.4, 0.3, 0.1, 0.1])):
        r = minimize(neg_ir, start, method="SLSQP", bounds=[(0, 0.4)] * 5,
                     constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}], options={"ftol": 1e-14,
                                                                                           "maxiter": 500})
        best = r if best is None or r.fun < best.fun else best
    assert -neg_ir(res.weights.to_numpy()) == pytest.approx(-best.fun, rel=1e-6)
    # the IR is constant along w = b + t·a, so only the active direction is unique
    a_ours, a_ref = res.weights.to_numpy() - b, best.x - b
    np.testing.assert_allclose(a_ours / np.linalg.norm(a_ours), a_ref / np.linalg.norm(a_ref), atol=1e-3)
    assert res.details["information_ratio"] == pytest.approx(-best.fun * np.sqrt(252), rel=1e-6)


def test_sector_caps_and_bounds_hold_and_are_reported():
    model = pack_model()
    sectors = {s: sec.sector for s, sec in seedpack.securities().items()}
    spec = OptimizationSpec(max_weight=0.10, risk_free_rate=RF, bounds={"JNJ": (0.02, 0.05)},
                            group_caps=group_caps(kind="sector", membership=sectors, cap=0.25))
    res = optimize_portfolio(risk_model=model, spec=spec)
    w = res.weights
    assert res.satisfied and w.sum() == pytest.approx(1.0)
    assert 0.02 - 1e-9 <= w["JNJ"] <= 0.05 + 1e-9
    for cap in spec.group_caps:
        assert w[list(cap.symbols)].sum() <= 0.25 + 1e-9
    names = {c.name for c in res.constraints}
    assert {"budget", "max_weight", "bounds[JNJ]", "sector[Energy]"} <= names


@pytest.mark.parametrize("spec, message", [
    (OptimizationSpec(max_weight=0.10, bounds={s: (0.0, 0.0) for s in list(seedpack.history().columns)[:12]}),
     "max_weight 0.10 x 8 eligible names = 0.80 < 1.00 budget"),
    (OptimizationSpec(max_weight=0.10, max_holdings=8), "max_holdings 8 x max_weight 0.10 = 0.80 < 1.00 budget"),
    (OptimizationSpec(group_caps=(GroupCap("sector", "All", tuple(seedpack.history().columns), 0.9),)),
     "sector caps: All 0.90 = 0.90 < 1.00 budget"),
    (OptimizationSpec(bounds={"AAPL": (0.6, 1.0), "MSFT": (0.6, 1.0)}), "lower bounds sum to 1.20 > 1.00"),
])
def test_infeasible_requests_name_the_conflict(spec, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        optimize_portfolio(risk_model=pack_model(), spec=spec)


def test_min_position_and_max_holdings_by_pruning():
    spec = OptimizationSpec(max_weight=0.3, min_position=0.05, max_holdings=4, risk_free_rate=RF)
    res = optimize_portfolio(risk_model=pack_model(), spec=spec)
    held = res.weights[res.weights > 0]
    assert len(held) <= 4 and held.min() >= 0.05 - 1e-9 and res.satisfied
    assert any("pruning" in w for w in res.warnings)


def test_unknown_option_and_fm_without_factor_model_are_input_errors():
    with pytest.raises(InputError, match="model='Markowitz' is not one of"):
        OptimizationSpec(model="Markowitz")
    with pytest.raises(InputError, match="factor-model risk model"):
        optimize_portfolio(risk_model=synthetic_model(), spec=OptimizationSpec(model=Model.FM))
