"""Patterns: JSON files naming a sequence of capability calls with templated arguments.

A pattern file (``backend/app/patterns/<name>.json``)::

    {"name": "policy_rebalance",
     "description": "...",
     "inputs": {"portfolio_id": {"description": "e.g. P1"},
                "options": {"description": "engine options", "default": {}}},
     "steps": [
       {"name": "policy", "capability": "policies.get", "args": {"policy_id": "{{inputs.policy_id}}"}},
       {"name": "proposal", "capability": "optimizer.propose_trades", "output": "proposal",
        "args": {"portfolio_id": "{{inputs.portfolio_id}}", "policy_id": "{{steps.policy.id}}"}}]}

Templates: ``{{inputs.<name>}}``, ``{{ctx.<field>}}`` (a :class:`RequestCtx` field) and
``{{steps.<step>[.<field>...]}}`` (a field of an earlier step's result; dict keys, attributes and list
indexes). A string that is exactly one template takes the value itself (a list of trades stays a list);
templates inside a longer string are replaced by their text. An input with a ``default`` is optional.
``output`` (default: the step's name) is the key of the step's result in :attr:`PatternResult.outputs`.

Validation when a pattern is loaded (:class:`~app.core.errors.PatternError` naming the file and step):
unknown capability, unknown or missing argument of the capability, a reference to a missing or later step,
to an undeclared input, to an unknown ctx field or to a field the step's declared result does not have,
duplicate step or output names.
"""

from __future__ import annotations

import json
import re
import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.core.context import RequestCtx
from app.core.errors import ArgumentError, PatternError
from app.orchestrator.envelope import Envelope, json_ready
from app.orchestrator.registry import CapabilityRegistry

if TYPE_CHECKING:
    from app.orchestrator.orchestrator import Orchestrator

log = structlog.get_logger()

TEMPLATE_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
NAME_RE = r"^[a-z][a-z0-9_]*$"


class PatternInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = ""
    required: bool = True
    default: Any = None

    @model_validator(mode="before")
    @classmethod
    def _optional_when_defaulted(cls, data: Any) -> Any:
        if isinstance(data, dict) and "default" in data and "required" not in data:
            data = {**data, "required": False}
        return data


class PatternStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_RE)
    capability: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)
    output: str | None = Field(default=None, pattern=NAME_RE)
    description: str = ""

    @property
    def output_name(self) -> str:
        return self.output or self.name


class Pattern(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_RE)
    description: str = ""
    inputs: dict[str, PatternInput] = Field(default_factory=dict)
    steps: tuple[PatternStep, ...] = Field(min_length=1)
    source: str = Field(default="<pattern>", exclude=True, description="the file it was loaded from")


class PatternResult(BaseModel):
    """A pattern run: each step's envelope, the named outputs, the run's context and duration."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    pattern: str
    ctx: RequestCtx
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    steps: dict[str, Envelope] = Field(description="step name -> its envelope, in run order")
    duration_ms: float
    warnings: tuple[str, ...] = ()

    def __getitem__(self, output: str) -> Any:
        return self.outputs[output]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "ctx": self.ctx.model_dump(mode="json"),
            "inputs": json_ready(self.inputs),
            "outputs": json_ready(self.outputs),
            "steps": [
                {"name": name, "capability": e.capability, "request_id": e.ctx.request_id,
                 "duration_ms": round(e.duration_ms, 3)}
                for name, e in self.steps.items()
            ],
            "duration_ms": round(self.duration_ms, 3),
            "warnings": list(self.warnings),
        }


# ---- locating and loading -------------------------------------------------------------------------
def default_patterns_dir() -> Path:
    return Path(str(resources.files("app").joinpath("patterns")))


def pattern_names(patterns_dir: Path | None = None) -> tuple[str, ...]:
    folder = patterns_dir or default_patterns_dir()
    return tuple(sorted(p.stem for p in folder.glob("*.json")))


def pattern_path(name: str | Path, patterns_dir: Path | None = None) -> Path:
    """``<patterns_dir>/<name>.json``, or ``name`` itself when it is a path to a ``.json`` file."""
    candidate = Path(name)
    if candidate.suffix == ".json":
        if not candidate.is_file():
            raise PatternError(str(candidate), None, "file not found")
        return candidate
    if not re.match(NAME_RE, str(name)):
        raise PatternError(str(name), None, "a pattern name is lower-case letters, digits and '_'")
    folder = patterns_dir or default_patterns_dir()
    path = folder / f"{name}.json"
    if not path.is_file():
        known = ", ".join(pattern_names(folder)) or "none"
        raise PatternError(str(name), None, f"no such pattern in {folder} (known: {known})")
    return path


def _references(value: Any) -> list[str]:
    if isinstance(value, str):
        return TEMPLATE_RE.findall(value)
    if isinstance(value, dict):
        return [r for v in value.values() for r in _references(v)]
    if isinstance(value, (list, tuple)):
        return [r for v in value for r in _references(v)]
    return []


def _result_has(result: Any, field: str) -> bool:
    if not (isinstance(result, type) and issubclass(result, BaseModel)):
        return True  # undeclared or not a model: checked when the pattern runs
    return field in result.model_fields or hasattr(result, field)


def validate_pattern(pattern: Pattern, registry: CapabilityRegistry) -> Pattern:
    """Check every step against the registry and every template against what precedes it."""
    file = pattern.source
    step_index = {s.name: i for i, s in enumerate(pattern.steps)}
    seen_outputs: set[str] = set()
    for i, step in enumerate(pattern.steps):
        if step_index[step.name] != i:
            raise PatternError(file, step.name, "duplicate step name")
        if step.output_name in seen_outputs:
            raise PatternError(file, step.name, f"duplicate output name {step.output_name!r}")
        seen_outputs.add(step.output_name)
        if step.capability not in registry:
            raise PatternError(file, step.name, f"unknown capability {step.capability!r} "
                                                f"(known: {', '.join(registry.names())})")
        spec = registry.spec(step.capability)
        unknown = sorted(set(step.args) - set(spec.argument_names()))
        if unknown:
            raise PatternError(file, step.name, f"{step.capability} has no argument {', '.join(map(repr, unknown))} "
                                                f"(accepted: {', '.join(spec.argument_names())})")
        missing = [a for a in spec.required_arguments() if a not in step.args]
        if missing:
            raise PatternError(file, step.name, f"{step.capability} needs argument {', '.join(map(repr, missing))}")
        for ref in _references(step.args):
            parts = ref.split(".")
            root = parts[0]
            if root == "inputs":
                if len(parts) != 2 or parts[1] not in pattern.inputs:
                    raise PatternError(file, step.name, f"{{{{{ref}}}}}: missing input: declare it under \"inputs\" "
                                                        f"(declared: {', '.join(pattern.inputs) or 'none'})")
            elif root == "ctx":
                if len(parts) != 2 or parts[1] not in RequestCtx.model_fields:
                    raise PatternError(file, step.name, f"{{{{{ref}}}}}: unknown context field "
                                                        f"(known: {', '.join(RequestCtx.model_fields)})")
            elif root == "steps":
                if len(parts) < 2:
                    raise PatternError(file, step.name, f"{{{{{ref}}}}}: name a step: steps.<step>.<field>")
                target = step_index.get(parts[1])
                if target is None:
                    raise PatternError(file, step.name, f"{{{{{ref}}}}}: missing step {parts[1]!r}")
                if target >= i:
                    raise PatternError(file, step.name, f"{{{{{ref}}}}}: step {parts[1]!r} does not run before "
                                                        f"this one (a step can only use earlier steps)")
                result = registry.spec(pattern.steps[target].capability).result
                if len(parts) > 2 and not _result_has(result, parts[2]):
                    raise PatternError(file, step.name, f"{{{{{ref}}}}}: the result of step {parts[1]!r} "
                                                        f"({result.__name__}) has no field {parts[2]!r}")
            else:
                raise PatternError(file, step.name, f"{{{{{ref}}}}}: a template starts with inputs., ctx. or steps.")
    return pattern


def load_pattern(path: Path, registry: CapabilityRegistry) -> Pattern:
    """Read, parse and validate a pattern file."""
    file = str(path)
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PatternError(file, None, f"cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise PatternError(file, None, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(raw, dict):
        raise PatternError(file, None, "a pattern is a JSON object")
    try:
        pattern = Pattern.model_validate({**raw, "source": file})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        step = None
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
            steps = raw.get("steps") or []
            entry = steps[loc[1]] if loc[1] < len(steps) else None
            step = entry.get("name") if isinstance(entry, dict) and entry.get("name") else f"#{loc[1] + 1}"
            loc = loc[2:]
        where = ".".join(str(p) for p in loc)
        raise PatternError(file, step, f"{where + ': ' if where else ''}{err['msg']}") from None
    return validate_pattern(pattern, registry)


# ---- running --------------------------------------------------------------------------------------
def _lookup(value: Any, path: list[str], ref: str, pattern: Pattern, step: str) -> Any:
    for part in path:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, (list, tuple)) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, BaseModel) and (part in type(value).model_fields or hasattr(value, part)):
            value = getattr(value, part)
        else:
            raise PatternError(pattern.source, step, f"{{{{{ref}}}}}: no field {part!r} in {type(value).__name__}")
    return value


def _render(value: Any, scope: dict[str, Any], pattern: Pattern, step: str) -> Any:
    if isinstance(value, dict):
        return {k: _render(v, scope, pattern, step) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, scope, pattern, step) for v in value]
    if not isinstance(value, str):
        return value

    def resolve(ref: str) -> Any:
        root, *rest = ref.split(".")
        return _lookup(scope[root], rest, ref, pattern, step)

    whole = TEMPLATE_RE.fullmatch(value)
    if whole:
        return resolve(whole.group(1))
    return TEMPLATE_RE.sub(lambda m: str(resolve(m.group(1))), value)


def resolve_inputs(pattern: Pattern, given: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(pattern.inputs))
    if unknown:
        raise ArgumentError(f"pattern {pattern.name}: unknown input {', '.join(map(repr, unknown))} "
                            f"(declared: {', '.join(pattern.inputs)})")
    missing = [k for k, spec in pattern.inputs.items() if spec.required and k not in given]
    if missing:
        raise ArgumentError(f"pattern {pattern.name}: missing input {', '.join(map(repr, missing))}")
    return {k: given[k] if k in given else spec.default for k, spec in pattern.inputs.items()}


async def run_pattern(
    orchestrator: Orchestrator, pattern: Pattern, ctx: RequestCtx, inputs: dict[str, Any]
) -> PatternResult:
    """Run ``pattern``'s steps in order under children of ``ctx`` (same trace, one request per step)."""
    values = resolve_inputs(pattern, inputs)
    started = time.perf_counter()
    results: dict[str, Any] = {}
    envelopes: dict[str, Envelope] = {}
    outputs: dict[str, Any] = {}
    warnings: list[str] = []
    portfolio = values.get("portfolio_id")
    with ctx.bind(pattern=pattern.name, portfolio_id=portfolio if isinstance(portfolio, str) else None):
        log.info("orchestrator.pattern.started", steps=[s.name for s in pattern.steps])
        for step in pattern.steps:
            scope = {"inputs": values, "ctx": ctx.model_dump(), "steps": results}
            args = _render(step.args, scope, pattern, step.name)
            envelope = await orchestrator.call(step.capability, ctx.child(), **args)
            envelopes[step.name] = envelope
            results[step.name] = envelope.data
            outputs[step.output_name] = envelope.data
            warnings.extend(f"{step.name}: {w}" for w in envelope.warnings)
        duration_ms = round((time.perf_counter() - started) * 1000.0, 3)
        log.info("orchestrator.pattern.finished", duration_ms=duration_ms)
    return PatternResult(pattern=pattern.name, ctx=ctx, inputs=values, outputs=outputs, steps=envelopes,
                         duration_ms=duration_ms, warnings=tuple(warnings))
