"""Risk parity and risk budgeting by their defining property: contributions w_i(Σw)_i ∝ budgets."""

from __future__ import annotations

import numpy as np
import pytest
from allocation_fixtures import COV, SYMS, pack_model, synthetic_model

from app.analytics.allocation import OptimizationSpec, optimize_portfolio
from app.core.errors import InputError
from app.domain.enums import Model


def contributions(w, cov):
    return w * (cov @ w)


def test_equal_risk_contributions_to_1e_6():
    for model in (synthetic_model(), pack_model()):
        res = optimize_portfolio(risk_model=model, spec=OptimizationSpec(model=Model.RP))
        rc = contributions(res.weights.to_numpy(), np.asarray(model.cov))
        assert np.max(np.abs(rc / rc.mean() - 1.0)) < 1e-6
        np.testing.assert_allclose(res.risk_contribution_shares.to_numpy(), 1 / model.n_assets, rtol=1e-6)


def test_risk_budgets_give_proportional_contributions():
    budgets = dict(zip(SYMS, [0.1, 0.3, 0.2, 0.25, 0.15]))
    res = optimize_portfolio(risk_model=synthetic_model(),
                             spec=OptimizationSpec(model=Model.RP, risk_budgets=budgets))
    rc = contributions(res.weights.to_numpy(), COV)
    np.testing.assert_allclose(rc / rc.sum(), list(budgets.values()), rtol=1e-6)


def test_binding_cap_is_kept_and_said():
    res = optimize_portfolio(risk_model=synthetic_model(), spec=OptimizationSpec(model=Model.RP, max_weight=0.22))
    assert res.weights.max() <= 0.22 + 1e-9 and res.satisfied
    assert any("constraints bind" in w for w in res.warnings)


def test_budgets_must_cover_every_name():
    with pytest.raises(InputError, match="missing"):
        optimize_portfolio(risk_model=synthetic_model(),
                           spec=OptimizationSpec(model=Model.RP, risk_budgets={"AAA": 1.0}))
