"""Numbers beyond what storage or the engine can hold are refused where they are given: exit 2, one line
naming the file, the field and the value, and the database left exactly as it was."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli_process import dawsos
from tests.conftest import REPO_ROOT, row_counts
from tests.integration.rebalancing_setup import configure_p1

SCENARIO = REPO_ROOT / "tests" / "golden" / "optimizer" / "quality_policy_rebalance.json"


def assert_refused_input(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-600:])
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr[-600:]
    assert "Traceback" not in result.stderr and "NUMERIC" not in result.stderr and "SQL" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


async def _snapshot(session_factory) -> tuple[dict[str, int], str, str]:  # noqa: ANN001
    from app.bootstrap import build_orchestrator
    from app.core.context import RequestCtx

    orchestrator = build_orchestrator(session_factory)
    settings = (await orchestrator.call("rebalance.settings", RequestCtx(), portfolio_id="P1")).data
    lots = (await orchestrator.call("rebalance.lots", RequestCtx(), portfolio_id="P1")).data
    return await row_counts(session_factory), settings.model_dump_json(), lots.model_dump_json()


ABSURD_SETTINGS = [
    ("commission_per_trade", "1e308"),
    ("approval_threshold", "1e300"),
    ("drift_abs_band", "5"),
    ("market_impact_bps", "1e9"),
    ("min_trade_value", "1e40"),
]


async def test_absurd_settings_and_lots_are_refused_and_write_nothing(  # noqa: ANN001
    seeded_database_url, seeded_session_factory, tmp_path: Path
) -> None:
    await configure_p1(seeded_session_factory)
    before = await _snapshot(seeded_session_factory)
    for field, value in ABSURD_SETTINGS:
        path = tmp_path / f"settings_{field}.json"
        path.write_text(json.dumps({"model_portfolio_id": "M_P1", field: value}))
        assert_refused_input(dawsos(seeded_database_url, "rebalancing", "settings", "set", "P1", "--file", str(path)),
                             str(path), field, value)
    lots = tmp_path / "lots.json"
    lots.write_text(json.dumps({"lots": [
        {"lot_id": "L1", "symbol": "AAPL", "quantity": "1e30", "cost_basis": "80", "acquired": "2020-01-02"}]}))
    assert_refused_input(dawsos(seeded_database_url, "rebalancing", "lots", "set", "P1", "--file", str(lots)),
                         str(lots), "lots[0].quantity", "1e30")
    precise = tmp_path / "precise_lots.json"
    precise.write_text(json.dumps({"lots": [
        {"lot_id": "L1", "symbol": "AAPL", "quantity": "10", "cost_basis": "80.1234567", "acquired": "2020-01-02"}]}))
    assert_refused_input(dawsos(seeded_database_url, "rebalancing", "lots", "set", "P1", "--file", str(precise)),
                         str(precise), "[0].cost_basis", "6 decimal places")
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"weights": {"AAPL": "0.0000000000001"}}))  # 13 places: the column keeps 12
    assert_refused_input(dawsos(seeded_database_url, "rebalancing", "model", "set", "M_TINY", "--file", str(weights)),
                         str(weights), "weights.AAPL", "12 decimal places")
    assert await _snapshot(seeded_session_factory) == before
    proposed = dawsos(seeded_database_url, "rebalancing", "propose", "P1", "--force", "--json")
    assert proposed.returncode == 0, proposed.stderr[-600:]


def _scenario_with(tmp_path: Path, name: str, **portfolio: object) -> Path:
    doc = json.loads(SCENARIO.read_text())
    doc.pop("expected", None)
    doc["pricing_pack"]["prices_csv"] = str((SCENARIO.parent / doc["pricing_pack"]["prices_csv"]).resolve())
    doc["portfolio"].update(portfolio)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(("name", "portfolio", "field", "value"), [
    ("shares_1e20", {"holdings": [{"symbol": "AAPL", "shares": "1e20"}]}, "portfolio.holdings[0].shares", "1e20"),
    ("shares_1e308", {"holdings": [{"symbol": "AAPL", "shares": "1e308"}]}, "portfolio.holdings[0].shares", "1e308"),
    ("cash_1e308", {"cash": "1e308"}, "portfolio.cash", "1e308"),
])
def test_scenario_numbers_beyond_storage_are_one_line(tmp_path: Path, name, portfolio, field, value) -> None:  # noqa: ANN001
    path = _scenario_with(tmp_path, name, **portfolio)
    result = dawsos(f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite3'}", "rebalance", "--scenario", str(path))
    assert_refused_input(result, str(path), field, value)


@pytest.mark.parametrize(("field", "value", "rule"), [
    ("max_tracking_error_pct", 0, "greater than 0"),
    ("max_single_position_pct", -0.1, "greater than 0"),
    ("max_single_position_pct", 1.5, "less than or equal to 1"),
    ("min_quality_score", 11, "less than or equal to 10"),
    ("max_sector_pct", "x", "valid number"),
])
def test_inline_scenario_policy_errors_name_field_rule_and_value(tmp_path: Path, field, value, rule) -> None:  # noqa: ANN001
    path = _scenario_with(tmp_path, "inline_policy")
    doc = json.loads(path.read_text())
    doc["policy"] = {"id": "inline", "name": "inline", "min_quality_score": 6.0, "max_single_position_pct": 0.1,
                     "max_sector_pct": 0.3, "max_tracking_error_pct": 0.05, "max_turnover_pct": 0.2,
                     "method_version": "v1", field: value}
    path.write_text(json.dumps(doc))
    result = dawsos(f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite3'}", "rebalance", "--scenario", str(path))
    assert_refused_input(result, str(path), f"policy.{field}", rule, f"value={value!r}")
