"""to_dict / to_frame helpers on results: no effect on the proposal's fields or JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from app.domain import RebalanceProposal, compare_proposals

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "optimizer"


@pytest.fixture(scope="module")
def proposals() -> list[RebalanceProposal]:
    return [RebalanceProposal.model_validate(json.loads(p.read_text())["expected"])
            for p in sorted(GOLDEN.glob("p2_*.json"))]


def test_to_dict_is_the_json_output_and_fields_are_unchanged(proposals) -> None:  # noqa: ANN001
    p = proposals[0]
    assert p.to_dict() == p.model_dump(mode="json")
    assert list(RebalanceProposal.model_fields) == [
        "proposal_id", "portfolio_id", "policy_id", "policy_version", "method_version", "pricing_pack_id",
        "asof_date", "request_id", "trades", "summary", "constraints", "warnings", "target_weights", "metadata",
        "account",
    ]


def test_frames(proposals) -> None:  # noqa: ANN001
    p = proposals[0]
    trades = p.to_frame()
    assert list(trades.index) == [t.symbol for t in p.trades]
    assert trades["delta_shares"].dtype == float and set(trades["action"]) <= {"BUY", "SELL"}
    assert trades.loc[p.trades[0].symbol, "trade_value"] == float(p.trades[0].trade_value)
    exact = p.to_frame(exact=True)
    assert isinstance(exact["trade_value"].iloc[0], Decimal)
    assert list(p.to_frame("constraints").index) == [c.name for c in p.constraints]
    assert p.to_frame("summary").loc["turnover_pct", "value"] == float(p.summary.turnover_pct)
    assert p.to_frame("target_weights")["target_weight_pct"].sum() == pytest.approx(
        float(sum(p.target_weights.values())))
    with pytest.raises(ValueError, match="part must be one of"):
        p.to_frame("nope")


def test_compare_proposals_side_by_side(proposals) -> None:  # noqa: ANN001
    table = compare_proposals(proposals)
    assert list(table.columns) == [p.policy_id for p in proposals]
    assert isinstance(table, pd.DataFrame) and "te_after_pct" in table.index
    assert list(compare_proposals(proposals, part="constraints").index) == [c.name for c in proposals[0].constraints]
