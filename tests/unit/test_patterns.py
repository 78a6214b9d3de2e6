"""Pattern files: validation when loaded (file and step named) and template rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.bootstrap import build_orchestrator
from app.core.errors import ArgumentError, PatternError
from app.orchestrator.patterns import _render, load_pattern, pattern_names, resolve_inputs


@pytest.fixture(scope="module")
def registry():  # noqa: ANN201
    return build_orchestrator(None).registry  # type: ignore[arg-type]


def _write(tmp_path: Path, steps: list[dict], inputs: dict | None = None, name: str = "p") -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"name": name, "inputs": inputs or {"portfolio_id": {}}, "steps": steps}))
    return path


def test_shipped_patterns_are_valid(registry) -> None:  # noqa: ANN001
    names = pattern_names()
    assert "policy_rebalance" in names
    for name in names:
        pattern = load_pattern(Path(__file__).resolve().parents[2] / "backend/app/patterns" / f"{name}.json",
                               registry)
        assert pattern.steps


PROPOSE = {"name": "proposal", "capability": "optimizer.propose_trades",
           "args": {"portfolio_id": "{{inputs.portfolio_id}}", "policy_id": "quality_focused"}}


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"name": "a", "capability": "optimizer.nope", "args": {}}],
         r"step 'a': unknown capability 'optimizer\.nope'"),
        ([PROPOSE, {**PROPOSE, "output": "other"}], r"step 'proposal': duplicate step name"),
        ([{**PROPOSE, "args": {**PROPOSE["args"], "colour": "red"}}],
         r"step 'proposal': optimizer\.propose_trades has no argument 'colour'"),
        ([{**PROPOSE, "args": {"portfolio_id": "P1"}}], r"step 'proposal': .* needs argument 'policy_id'"),
        ([{**PROPOSE, "args": {**PROPOSE["args"], "policy_id": "{{inputs.policy_id}}"}}],
         r"step 'proposal': \{\{inputs\.policy_id\}\}: missing input"),
        ([{**PROPOSE, "args": {**PROPOSE["args"], "policy_id": "{{steps.policy.id}}"}}],
         r"step 'proposal': \{\{steps\.policy\.id\}\}: missing step 'policy'"),
        ([{**PROPOSE, "args": {**PROPOSE["args"], "policy_id": "{{steps.policy.id}}"}},
          {"name": "policy", "capability": "policies.get", "args": {"policy_id": "x"}}],
         r"step 'proposal': \{\{steps\.policy\.id\}\}: step 'policy' does not run before this one"),
        ([{"name": "policy", "capability": "policies.get", "args": {"policy_id": "x"}},
          {**PROPOSE, "args": {**PROPOSE["args"], "policy_id": "{{steps.policy.colour}}"}}],
         r"the result of step 'policy' \(Policy\) has no field 'colour'"),
        ([{**PROPOSE, "args": {**PROPOSE["args"], "policy_id": "{{ctx.colour}}"}}], r"unknown context field"),
        ([{**PROPOSE, "args": {**PROPOSE["args"], "policy_id": "{{env.HOME}}"}}], r"starts with inputs\., ctx\."),
        ([{"capability": "policies.get", "args": {}}], r"step '#1': name: Field required"),
    ],
)
def test_invalid_patterns_are_refused_naming_file_and_step(tmp_path, registry, steps, message) -> None:  # noqa: ANN001
    path = _write(tmp_path, steps)
    with pytest.raises(PatternError, match=message) as info:
        load_pattern(path, registry)
    assert str(info.value).startswith(str(path))


def test_not_json_is_refused(tmp_path, registry) -> None:  # noqa: ANN001
    path = tmp_path / "broken.json"
    path.write_text("{\"name\": ")
    with pytest.raises(PatternError, match=r"broken\.json: not valid JSON"):
        load_pattern(path, registry)


def test_inputs_missing_unknown_and_defaults(tmp_path, registry) -> None:  # noqa: ANN001
    pattern = load_pattern(_write(tmp_path, [PROPOSE], inputs={"portfolio_id": {}, "strict": {"default": False}}),
                           registry)
    assert resolve_inputs(pattern, {"portfolio_id": "P1"}) == {"portfolio_id": "P1", "strict": False}
    with pytest.raises(ArgumentError, match=r"pattern p: missing input 'portfolio_id'"):
        resolve_inputs(pattern, {})
    with pytest.raises(ArgumentError, match=r"pattern p: unknown input 'colour'"):
        resolve_inputs(pattern, {"portfolio_id": "P1", "colour": "red"})


def test_templates_keep_whole_values_and_interpolate_inside_text(tmp_path, registry) -> None:  # noqa: ANN001
    pattern = load_pattern(_write(tmp_path, [PROPOSE]), registry)
    scope = {"inputs": {"n": 3, "items": [{"a": 1}, {"a": 2}]}, "ctx": {"pricing_pack_id": "PP_1"},
             "steps": {"s": {"deep": {"list": [10, 20]}}}}
    assert _render("{{inputs.n}}", scope, pattern, "x") == 3
    assert _render("{{ inputs.items }}", scope, pattern, "x") == [{"a": 1}, {"a": 2}]
    assert _render("{{inputs.items.1.a}}", scope, pattern, "x") == 2
    assert _render("pack {{ctx.pricing_pack_id}} n={{inputs.n}}", scope, pattern, "x") == "pack PP_1 n=3"
    assert _render({"k": ["{{steps.s.deep.list.0}}"]}, scope, pattern, "x") == {"k": [10]}
    with pytest.raises(PatternError, match=r"step 'x': \{\{steps\.s\.nope\}\}: no field 'nope'"):
        _render("{{steps.s.nope}}", scope, pattern, "x")
