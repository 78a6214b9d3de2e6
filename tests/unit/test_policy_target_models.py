"""Policy targets from the allocation menu (options.model): the same hierarchy, every line checked by the oracle."""

from __future__ import annotations

import numpy as np
import pytest
import seedpack as sp
from oracle import check_proposal

from app.analytics import build_proposal
from app.analytics.inputs import RebalanceOptions
from app.core.errors import InputError
from app.domain.enums import Model


@pytest.mark.parametrize("model", [Model.HRP, Model.RP, Model.EW, Model.IV, Model.MIN_VARIANCE, Model.BL])
def test_allocation_model_target_under_policy(model: Model) -> None:
    """P2 under aggressive_growth (caps absorb the whole budget) with a non-Classic target model."""
    inputs = sp.make_inputs(portfolio_id="P2", policy_id="aggressive_growth", options=RebalanceOptions(model=model))
    prop = build_proposal(inputs)
    check_proposal(inputs, prop)  # structural rules and every report line, recomputed independently
    target = {s: float(w) / 100 for s, w in prop.target_weights.items()}
    assert abs(sum(target.values()) - 1.0) < 1e-3  # fully invested target
    assert max(target.values()) <= 0.15 + 1e-4  # the policy's single-name cap
    assert target.get("RRC", 0.0) == 0.0  # quality 3.2 < 4.0: never a target
    assert prop.metadata["options"]["model"] == model.value


def test_equal_weight_target_is_equal_over_eligible_names() -> None:
    inputs = sp.make_inputs(portfolio_id="P2", policy_id="aggressive_growth", options=RebalanceOptions(model=Model.EW))
    weights = np.array([float(w) for s, w in build_proposal(inputs).target_weights.items() if float(w) > 0])
    assert len(weights) == 19 and np.allclose(weights, 100 / 19, atol=0.01)


def test_full_investment_model_refused_when_caps_hold_cash() -> None:
    """conservative_income's caps absorb 64 %: only Classic (whose target may hold cash) applies."""
    inputs = sp.make_inputs(portfolio_id="P2", policy_id="conservative_income",
                            options=RebalanceOptions(model=Model.HRP))
    with pytest.raises(InputError, match="use model 'Classic'"):
        build_proposal(inputs)
